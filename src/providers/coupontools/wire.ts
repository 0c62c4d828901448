/**
 * Coupontools v4 response bodies, read defensively. Only the program list is documented
 * (a bare array of {id, code, name, domain, type}); user ("stat") bodies, list wrappers and
 * reward entries are UNKNOWN, so each reader accepts several plausible field names and
 * returns null when a body cannot be read (the caller turns that into badResponse).
 */
import { readAll } from '../../lib/lists.js';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An id as a string: integers and non-empty strings only. */
function idOf(v: unknown): string | null {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && v.trim().length > 0) return v.trim();
  return null;
}

function str(o: Json, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v.length > 0) return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return null;
}

/**
 * A whole non-negative count: a number or a numeric string. `undefined` when absent, `NaN` when present but unreadable.
 */
function countOf(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : NaN;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return NaN;
}

function flagOf(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === '1' || v === 'true' || v === 'yes') return true;
  if (v === 0 || v === '0' || v === 'false' || v === 'no') return false;
  return undefined;
}

/** Epoch ms of a date field: ISO / "YYYY-MM-DD hh:mm:ss" strings or unix seconds / ms. */
export function timeOf(o: Json, ...keys: string[]): number | null {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v < 1e11 ? v * 1000 : v;
    if (typeof v === 'string' && v.length > 0) {
      const t = Date.parse(/^\d{4}-\d\d-\d\d \d/.test(v) ? v.replace(' ', 'T') : v);
      if (Number.isFinite(t)) return t;
    }
  }
  return null;
}

// ---------------------------------------------------------------- programs (loyalty cards)

export interface WireProgram {
  id: string;
  code: string | null;
  name: string | null;
  /** Lower case (stamp, membership, ...). */
  type: string;
}

export function readProgram(v: unknown): WireProgram | null {
  const o = unwrap(v, ['loyalty_card', 'loyaltyCard', 'data']);
  if (!o) return null;
  const id = idOf(o.id);
  const type = o.type ?? o.card_type ?? o.loyalty_type;
  if (id === null || typeof type !== 'string' || type.length === 0) return null;
  return { id, code: str(o, 'code'), name: str(o, 'name', 'title'), type: type.toLowerCase() };
}

export function readProgramList(v: unknown): WireProgram[] | null {
  return readAll(listOf(v, ['loyalty_cards', 'loyaltyCards', 'data', 'items', 'results']), readProgram);
}

// ---------------------------------------------------------------- users ("stats")

export interface WireReward {
  /** The id exactly as the provider typed it (number or string), to send back in reward_ids. */
  rawId: string | number;
  id: string;
  name: string | null;
  status: 'available' | 'used';
}

export interface WireUser {
  id: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  /** Current stamps; null when the body carries no stamp count. */
  stamps: number | null;
  /** The rewards list, or null when the body has none (then `rewardsCount` may say how many are available). */
  rewards: WireReward[] | null;
  rewardsCount: number | null;
  totalEarned: number | null;
  totalRedeemed: number | null;
  voided: boolean;
  status: string | null;
  links: Record<string, string> | null;
  createdAt: number | null;
  updatedAt: number | null;
}

const STAMP_KEYS = [
  'stamps',
  'stamps_count',
  'current_stamps',
  'stamp_count',
  'stampsCount',
  'currentStamps',
  'saved_stamps',
  'number_of_stamps',
];
const REWARD_LIST_KEYS = ['rewards', 'available_rewards', 'user_rewards', 'earned_rewards'];
const USED_LIST_KEYS = ['used_rewards', 'redeemed_rewards'];
const REWARD_COUNT_KEYS = ['rewards_count', 'available_rewards_count', 'rewards_available', 'reward_count'];
const USED_STATUSES = new Set(['used', 'redeemed', 'claimed', 'consumed', 'spent', 'expired', 'void', 'voided']);
const LINK_KEYS: Record<string, string> = {
  url: 'card',
  card_url: 'card',
  link: 'card',
  wallet_url: 'wallet',
  apple_wallet_url: 'apple',
  google_wallet_url: 'google',
};

function readReward(v: unknown, defaultStatus: 'available' | 'used'): WireReward | null {
  if (typeof v === 'number' || typeof v === 'string') {
    const id = idOf(v);
    return id === null ? null : { rawId: v, id, name: null, status: defaultStatus };
  }
  if (!isObject(v)) return null;
  const raw = v.id ?? v.reward_id ?? v.rewardId;
  const id = idOf(raw);
  if (id === null || (typeof raw !== 'number' && typeof raw !== 'string')) return null;
  let status = defaultStatus;
  const s = str(v, 'status', 'state');
  if (s !== null) status = USED_STATUSES.has(s.toLowerCase()) ? 'used' : 'available';
  const usedFlag = flagOf(v.used ?? v.redeemed ?? v.is_used);
  if (usedFlag !== undefined) status = usedFlag ? 'used' : 'available';
  if (timeOf(v, 'used_at', 'redeemed_at') !== null) status = 'used';
  return { rawId: raw, id, name: str(v, 'name', 'title', 'description', 'reward'), status };
}

/** Reads a user body (bare, or wrapped in data / user / stat). `pathId` stands in when the body names no id. */
export function readUser(v: unknown): WireUser | null {
  const o = unwrap(v, ['data', 'user', 'stat', 'loyalty_user']);
  if (!o) return null;
  const id = idOf(o.id ?? o.stat_id ?? o.user_id ?? o.userId ?? o.uid);
  if (id === null) return null;

  let stamps: number | null = null;
  for (const k of STAMP_KEYS) {
    if (!(k in o) || o[k] === null) continue;
    const raw = o[k];
    const n = Array.isArray(raw) ? raw.length : countOf(raw);
    if (n === undefined || Number.isNaN(n)) return null;
    stamps = n;
    break;
  }

  let rewards: WireReward[] | null = null;
  let rewardsCount: number | null = null;
  for (const [keys, status] of [
    [REWARD_LIST_KEYS, 'available'],
    [USED_LIST_KEYS, 'used'],
  ] as const) {
    for (const k of keys) {
      const raw = o[k];
      if (raw === undefined || raw === null) continue;
      if (!Array.isArray(raw)) {
        const n = countOf(raw);
        if (n === undefined || Number.isNaN(n)) return null;
        if (status === 'available') rewardsCount ??= n;
        continue;
      }
      rewards ??= [];
      for (const item of raw) {
        const r = readReward(item, status);
        if (!r) return null;
        if (!rewards.some((x) => x.id === r.id && x.status === r.status)) rewards.push(r);
      }
    }
  }
  for (const k of REWARD_COUNT_KEYS) {
    const n = countOf(o[k]);
    if (n !== undefined && !Number.isNaN(n)) {
      rewardsCount ??= n;
      break;
    }
  }
  if (rewards) rewardsCount = rewards.filter((r) => r.status === 'available').length;

  const status = str(o, 'status', 'state');
  const voidFlag = flagOf(o.voided ?? o.is_voided ?? o.void ?? o.isVoided);
  const voided = voidFlag === true || (status !== null && /^void/i.test(status)) || timeOf(o, 'voided_at') !== null;

  const links: Record<string, string> = {};
  for (const [k, name] of Object.entries(LINK_KEYS)) {
    const u = o[k];
    if (typeof u === 'string' && /^https?:\/\//.test(u) && !(name in links)) links[name] = u;
  }

  const total = (...keys: string[]): number | null => {
    for (const k of keys) {
      const n = countOf(o[k]);
      if (n !== undefined && !Number.isNaN(n)) return n;
    }
    return null;
  };

  // Personal data may sit beside the counters or in a nested object.
  const nested = [o.user_data, o.data, o.customer, o.profile, o.user].find(isObject);
  const person = nested ? { ...nested, ...o } : o;
  return {
    id,
    firstName: str(person, 'first_name', 'firstname', 'firstName'),
    lastName: str(person, 'last_name', 'lastname', 'lastName'),
    email: str(person, 'email', 'email_address'),
    phone: str(person, 'phone', 'phone_number', 'mobile'),
    stamps,
    rewards,
    rewardsCount,
    totalEarned: total('total_stamps', 'stamps_total', 'total_stamps_earned', 'stamps_earned'),
    totalRedeemed: total('total_rewards_used', 'rewards_used', 'used_rewards_count'),
    voided,
    status,
    links: Object.keys(links).length > 0 ? links : null,
    createdAt: timeOf(o, 'created_at', 'created', 'date_created', 'registered_at', 'createdAt'),
    updatedAt: timeOf(o, 'updated_at', 'updated', 'date_updated', 'updatedAt'),
  };
}

export interface WireUserPage {
  users: WireUser[];
  total: number | null;
  /** The provider's own "more pages" signal, when it gives one. */
  hasMore: boolean | null;
}

/** Pagination headers some APIs send beside a bare array (X-Pagination-Total, X-Total-Count, ...). */
export function headerTotals(h: Record<string, string | string[] | undefined>): {
  total: number | null;
  pages: number | null;
  page: number | null;
} {
  const num = (...names: string[]): number | null => {
    for (const n of names) {
      const v = h[n];
      const s = Array.isArray(v) ? v[0] : v;
      if (s !== undefined && /^\d{1,15}$/.test(s.trim())) return Number(s.trim());
    }
    return null;
  };
  return {
    total: num('x-pagination-total', 'x-total-count', 'x-total'),
    pages: num('x-pagination-total-pages', 'x-pagination-pages', 'x-total-pages'),
    page: num('x-pagination-page', 'x-page'),
  };
}

/** A user list: a bare array, or {data|users|stats|items: [...], total?, pagination?/meta?}. */
export function readUserList(v: unknown): WireUserPage | null {
  const users = readAll(listOf(v, ['data', 'users', 'stats', 'items', 'results']), readUser);
  if (!users) return null;
  let total: number | null = null;
  let hasMore: boolean | null = null;
  if (isObject(v)) {
    for (const meta of [v, v.pagination, v.meta, v.paging]) {
      if (!isObject(meta)) continue;
      const t = countOf(meta.total ?? meta.total_count ?? meta.count_total ?? meta.total_items);
      if (t !== undefined && !Number.isNaN(t)) total ??= t;
      const more = flagOf(meta.has_more ?? meta.hasMore);
      if (more !== undefined) hasMore ??= more;
      const page = countOf(meta.page ?? meta.current_page);
      const pages = countOf(meta.pages ?? meta.total_pages ?? meta.last_page);
      if (hasMore === null && page !== undefined && pages !== undefined && !Number.isNaN(page) && !Number.isNaN(pages))
        hasMore = page < pages;
    }
  }
  return { users, total, hasMore };
}

// ---------------------------------------------------------------- errors

export interface WireError {
  code: string | null;
  message: string | null;
  /** True when the body itself says the call failed (v3 `status.status: "failed"`, `success: false`). */
  failed: boolean;
}

/**
 * Reads an error body. Shapes tried: v3 `{"status": {"status": "failed", "errors": {"error_code",
 * "error_message"}}}` (errors also as an array), `{status: "failed"|"error", message}`,
 * `{success: false, ...}`, `{error: "..."}`, `{error: {code, message}}`, `{message}`, `{errors: [...]|{field: [..]}}`.
 */
export function readError(v: unknown): WireError {
  if (!isObject(v)) return { code: null, message: null, failed: false };
  let code: string | null = null;
  let message: string | null = null;
  let failed = false;

  const take = (e: unknown): void => {
    if (Array.isArray(e)) {
      for (const x of e) take(x);
      return;
    }
    if (typeof e === 'string') {
      message ??= e;
      return;
    }
    if (!isObject(e)) return;
    code ??= str(e, 'error_code', 'code', 'errorCode');
    message ??= str(e, 'error_message', 'message', 'errorMessage', 'detail', 'description');
    if (code === null && message === null) {
      // {field: ["msg"]}: the first message.
      for (const [field, msgs] of Object.entries(e)) {
        const first = Array.isArray(msgs) ? msgs.find((m) => typeof m === 'string') : msgs;
        if (typeof first === 'string') {
          message = `${field}: ${first}`;
          break;
        }
      }
    }
  };

  const st = v.status;
  if (isObject(st)) {
    if (typeof st.status === 'string' && /^(failed|error|fail)$/i.test(st.status)) failed = true;
    take(st.errors ?? st.error);
    message ??= str(st, 'message');
  } else if (typeof st === 'string' && /^(failed|error|fail)$/i.test(st)) {
    failed = true;
  }
  if (v.success === false || v.ok === false) failed = true;
  take(v.errors);
  take(v.error);
  code ??= str(v, 'error_code', 'code');
  message ??= str(v, 'error_message', 'message', 'detail');
  return { code, message, failed };
}

// ---------------------------------------------------------------- helpers

/** The object itself when it names an id, else the first wrapper found under `keys`. */
function unwrap(v: unknown, keys: string[]): Json | null {
  if (!isObject(v)) return null;
  if (['id', 'stat_id', 'user_id', 'userId', 'uid'].some((k) => k in v)) return v;
  for (const k of keys) if (isObject(v[k])) return v[k] as Json;
  return v;
}

function listOf(v: unknown, keys: string[]): unknown[] | null {
  if (Array.isArray(v)) return v;
  if (!isObject(v)) return null;
  for (const k of keys) {
    const x = v[k];
    if (Array.isArray(x)) return x;
    if (isObject(x)) for (const k2 of keys) if (Array.isArray(x[k2])) return x[k2] as unknown[];
  }
  return null;
}
