/**
 * Leal API v1 answers, checked before use. Shapes come from Leal's Fern-generated SDKs
 * (lealhq/leal-rust-sdk types, leal-csharp-sdk mock-server tests): bare JSON, no envelope.
 * Required fields are checked strictly (a missing id or stamp count is a malformed answer);
 * optional and untyped ones (status values, `available_rewards`, `customer_cards`,
 * `external_references` elements) are read defensively: a wrong type reads as absent.
 */
import { readAll } from '../../lib/lists.js';
import { DEFAULT_REWARD_COST_FIELD, type RewardCostField } from './settings.js';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A customer card (`show`, `stamp` and list answers; also the elements of a customer's `customer_cards`). */
export interface WireCustomerCard {
  id: number;
  customer_id: number;
  card_id: number;
  card_name: string | null;
  stamps_count: number;
  stamps_remaining: number | null;
  available_rewards: unknown[];
  status: string | null;
  apple_wallet_url: string | null;
  google_wallet_url: string | null;
  issued_at: string | null;
  created_at: string | null;
  updated_at: string | null;
}

export function readCustomerCard(v: unknown): WireCustomerCard | null {
  if (!isObject(v)) return null;
  const { id, customer_id, card_id, stamps_count } = v;
  if (!isId(id) || !isId(customer_id) || !isId(card_id) || !isId(stamps_count)) return null;
  if (v.available_rewards !== undefined && v.available_rewards !== null && !Array.isArray(v.available_rewards))
    return null;
  return {
    id,
    customer_id,
    card_id,
    card_name: str(v.card_name),
    stamps_count,
    stamps_remaining: num(v.stamps_remaining),
    available_rewards: Array.isArray(v.available_rewards) ? v.available_rewards : [],
    status: str(v.status),
    apple_wallet_url: str(v.apple_wallet_url),
    google_wallet_url: str(v.google_wallet_url),
    issued_at: str(v.issued_at),
    created_at: str(v.created_at),
    updated_at: str(v.updated_at),
  };
}

/**
 * A list answer. The SDKs document bare arrays (`Vec<ListCardsResponseItem>`); an object
 * wrapping the array under `key` (`{"cards": [...]}`) is accepted too.
 */
export function listOf(body: unknown, key: string): unknown[] | null {
  if (Array.isArray(body)) return body;
  if (isObject(body) && Array.isArray(body[key])) return body[key] as unknown[];
  return null;
}

export interface WireExternalReference {
  source: string;
  external_id: string;
}

export interface WireCustomer {
  id: number;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  birthday: string | null;
  metadata: Json | null;
  external_references: WireExternalReference[];
  /** The customer's cards as given: objects, or bare ids. */
  customer_cards: unknown[];
  created_at: string | null;
  updated_at: string | null;
}

export function readCustomer(v: unknown): WireCustomer | null {
  if (!isObject(v) || !isId(v.id)) return null;
  const refs = Array.isArray(v.external_references) ? v.external_references : [];
  return {
    id: v.id,
    first_name: str(v.first_name),
    last_name: str(v.last_name),
    email: str(v.email),
    phone: str(v.phone),
    birthday: str(v.birthday),
    metadata: isObject(v.metadata) ? v.metadata : null,
    external_references: refs.flatMap((r) => {
      if (!isObject(r)) return [];
      const source = str(r.source);
      const external = typeof r.external_id === 'number' ? String(r.external_id) : str(r.external_id);
      return source !== null && external !== null ? [{ source, external_id: external }] : [];
    }),
    customer_cards: Array.isArray(v.customer_cards) ? v.customer_cards : [],
    created_at: str(v.created_at),
    updated_at: str(v.updated_at),
  };
}

export interface WirePagination {
  count: number;
  items: number;
  page: number;
  pages: number;
}

export function readCustomerList(
  body: unknown,
): { customers: WireCustomer[]; pagination: WirePagination | null } | null {
  const customers = readAll(listOf(body, 'customers'), readCustomer);
  if (customers === null) return null;
  const p = isObject(body) ? body.pagination : undefined;
  const pagination =
    isObject(p) && isId(p.count) && isId(p.items) && isId(p.page) && isId(p.pages)
      ? { count: p.count, items: p.items, page: p.page, pages: p.pages }
      : null;
  return { customers, pagination };
}

/** A card template (Leal "card"; the gateway's program). */
export interface WireCardTemplate {
  id: number;
  name: string | null;
  stamps_required: number | null;
  archived_at: string | null;
}

export function readCardTemplate(v: unknown): WireCardTemplate | null {
  if (!isObject(v) || !isId(v.id)) return null;
  return { id: v.id, name: str(v.name), stamps_required: num(v.stamps_required), archived_at: str(v.archived_at) };
}

export interface WireReward {
  id: number;
  card_id: number | null;
  name: string | null;
  /** The reward's stamp cost, read from the connection's `rewardCostField` only. */
  stamps_required: number | null;
  active: boolean | null;
}

export function readReward(v: unknown, costField: RewardCostField = DEFAULT_REWARD_COST_FIELD): WireReward | null {
  if (!isObject(v) || !isId(v.id)) return null;
  return {
    id: v.id,
    card_id: isId(v.card_id) ? v.card_id : null,
    name: str(v.name),
    stamps_required: num(v[costField]),
    active: typeof v.active === 'boolean' ? v.active : null,
  };
}

/**
 * The `redeem` answer: `{success, redemption: {id, reward_id, reward_name, stamps_spent, stamps_remaining,
 * redeemed_at}}`.
 */
export interface WireRedemption {
  success: boolean | null;
  id: number;
  stamps_spent: number | null;
  /** Stamps left on the card afterwards (not "stamps still needed", as on a customer card). */
  stamps_remaining: number | null;
}

export function readRedemption(body: unknown): WireRedemption | null {
  if (!isObject(body) || !isObject(body.redemption) || !isId(body.redemption.id)) return null;
  const r = body.redemption;
  return {
    success: typeof body.success === 'boolean' ? body.success : null,
    id: r.id as number,
    stamps_spent: num(r.stamps_spent),
    stamps_remaining: num(r.stamps_remaining),
  };
}

/** One element of `available_rewards` (schema untyped): an object, a reward id, or a name. */
export interface WireAvailableReward {
  id: string | null;
  name: string | null;
  cost: number | null;
}

export function readAvailableReward(
  v: unknown,
  costField: RewardCostField = DEFAULT_REWARD_COST_FIELD,
): WireAvailableReward | null {
  if (typeof v === 'number' && isId(v)) return { id: String(v), name: null, cost: null };
  if (typeof v === 'string' && v.length > 0)
    return /^\d{1,15}$/.test(v) ? { id: v, name: null, cost: null } : { id: null, name: v, cost: null };
  if (!isObject(v)) return null;
  const rawId = v.id ?? v.reward_id;
  const id = isId(rawId) ? String(rawId) : typeof rawId === 'string' && /^\d{1,15}$/.test(rawId) ? rawId : null;
  const name = str(v.name) ?? str(v.reward_name) ?? str(v.title);
  // Untyped elements: the configured field first, then the generic names.
  const cost = num(v[costField]) ?? num(v.cost) ?? num(v.stamps);
  return id === null && name === null ? null : { id, name, cost };
}

/** Leal's error body: `{error?: string, errors?: string[] | {field: [messages]}}`, as one sentence. */
export function readErrorMessage(body: unknown): string | null {
  if (!isObject(body)) return null;
  const parts: string[] = [];
  if (typeof body.error === 'string' && body.error.length > 0) parts.push(body.error);
  const errors = body.errors;
  if (Array.isArray(errors)) {
    for (const e of errors) if (typeof e === 'string') parts.push(e);
  } else if (isObject(errors)) {
    for (const [field, msgs] of Object.entries(errors)) {
      const list = Array.isArray(msgs)
        ? msgs.filter((m): m is string => typeof m === 'string')
        : typeof msgs === 'string'
          ? [msgs]
          : [];
      for (const m of list) parts.push(`${field} ${m}`);
    }
  } else if (typeof errors === 'string') {
    parts.push(errors);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}
