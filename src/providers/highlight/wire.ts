/**
 * Highlight (Boomerangme API v2) response shapes, checked by hand-written guards before use.
 * Field names come from the spec-generated Boomerangme SDK (see README). Guards require only
 * what the adapter reads; everything else is optional and type-checked when present.
 */

export type Json = Record<string, unknown>;

export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const optNum = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'number' && Number.isFinite(v));
const optStr = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';
const optBool = (v: unknown): boolean => v === undefined || v === null || typeof v === 'boolean';
const isId = (v: unknown): v is string | number =>
  (typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isFinite(v));

export interface WireBalance {
  balance?: number | null;
  bonusBalance?: number | null;
  currentNumberOfUses?: number | null;
  numberStampsTotal?: number | null;
  stampsBeforeReward?: number | null;
  numberRewardsUnused?: number | null;
  discountPercentage?: number | null;
  discountAmount?: number | null;
}

export interface WireRewardTier {
  id: number | string;
  name?: string | null;
  threshold?: number | null;
  value?: number | null;
  type?: number | null;
}

export interface WireCustomer {
  id: string | number;
  firstName?: string | null;
  surname?: string | null;
  email?: string | null;
  phone?: string | null;
  dateOfBirth?: string | null;
  externalUserId?: string | null;
  createdAt?: string | null;
  updatedAt?: string | null;
}

export interface WireCard {
  id: string;
  type: string | number;
  templateId: number | string;
  customerId?: string | number | null;
  customer?: Partial<WireCustomer> | null;
  balance?: WireBalance | null;
  availableRewardTiers?: WireRewardTier[] | null;
  status?: string | null;
  couponRedeemed?: boolean | null;
  installLink?: string | null;
  shareLink?: string | null;
  qrLink?: string | null;
  directInstallLink?: Record<string, unknown> | null;
  totalRewardsEarned?: number | null;
  totalRewardsRedeemed?: number | null;
  createdAt?: string | null;
  updatedAt?: string | null;
}

export interface WireTemplate {
  id: number | string;
  type: number | string;
  name?: string | null;
  rewardTiers?: WireRewardTier[] | null;
}

export interface WireOperation {
  id: string | number;
  eventId?: number | null;
  amount?: number | null;
  balance?: number | null;
  purchaseSum?: number | null;
  comment?: string | null;
  createdAt?: string | null;
}

export interface WirePush {
  id: string | number;
  message?: string | null;
  status?: string | null;
  createdAt?: string | null;
  scheduledAt?: string | null;
  sentAmount?: number | null;
}

export interface WireMeta {
  currentPage?: number;
  itemsPerPage?: number;
  totalItems?: number;
}

const BALANCE_FIELDS = [
  'balance',
  'bonusBalance',
  'currentNumberOfUses',
  'numberStampsTotal',
  'stampsBeforeReward',
  'numberRewardsUnused',
  'discountPercentage',
  'discountAmount',
];

export function isBalance(v: unknown): v is WireBalance {
  return isObj(v) && BALANCE_FIELDS.every((k) => optNum(v[k]));
}

export function isRewardTier(v: unknown): v is WireRewardTier {
  return isObj(v) && isId(v.id) && optStr(v.name) && optNum(v.threshold) && optNum(v.value) && optNum(v.type);
}

const optTiers = (v: unknown): boolean => v === undefined || v === null || (Array.isArray(v) && v.every(isRewardTier));

function isCustomerFields(v: Json): boolean {
  return ['firstName', 'surname', 'email', 'phone', 'dateOfBirth', 'externalUserId', 'createdAt', 'updatedAt'].every(
    (k) => optStr(v[k]),
  );
}

export function isCustomer(v: unknown): v is WireCustomer {
  return isObj(v) && isId(v.id) && isCustomerFields(v);
}

export function isCard(v: unknown): v is WireCard {
  if (!isObj(v)) return false;
  return (
    typeof v.id === 'string' &&
    v.id.length > 0 &&
    (typeof v.type === 'string' || typeof v.type === 'number') &&
    isId(v.templateId) &&
    (v.customerId === undefined || v.customerId === null || isId(v.customerId)) &&
    (v.customer === undefined || v.customer === null || (isObj(v.customer) && isCustomerFields(v.customer))) &&
    (v.balance === undefined || v.balance === null || isBalance(v.balance)) &&
    optTiers(v.availableRewardTiers) &&
    optStr(v.status) &&
    optBool(v.couponRedeemed) &&
    optStr(v.installLink) &&
    optStr(v.shareLink) &&
    optStr(v.qrLink) &&
    (v.directInstallLink === undefined || v.directInstallLink === null || isObj(v.directInstallLink)) &&
    optNum(v.totalRewardsEarned) &&
    optNum(v.totalRewardsRedeemed) &&
    optStr(v.createdAt) &&
    optStr(v.updatedAt)
  );
}

export function isTemplate(v: unknown): v is WireTemplate {
  return (
    isObj(v) &&
    isId(v.id) &&
    (typeof v.type === 'number' || typeof v.type === 'string') &&
    optStr(v.name) &&
    optTiers(v.rewardTiers)
  );
}

export function isOperation(v: unknown): v is WireOperation {
  return (
    isObj(v) &&
    isId(v.id) &&
    optNum(v.eventId) &&
    optNum(v.amount) &&
    optNum(v.balance) &&
    optNum(v.purchaseSum) &&
    optStr(v.comment) &&
    optStr(v.createdAt)
  );
}

export function isPush(v: unknown): v is WirePush {
  return (
    isObj(v) &&
    isId(v.id) &&
    optStr(v.message) &&
    optStr(v.status) &&
    optStr(v.createdAt) &&
    optStr(v.scheduledAt) &&
    optNum(v.sentAmount)
  );
}

function isMeta(v: unknown): v is WireMeta {
  return isObj(v) && optNum(v.currentPage) && optNum(v.itemsPerPage) && optNum(v.totalItems);
}

/** `{ data: T }` (the single-item envelope): the item, or null when the body is not that. */
export function itemOf<T>(body: unknown, guard: (v: unknown) => v is T): T | null {
  return isObj(body) && guard(body.data) ? body.data : null;
}

/** `{ data: T[], meta? }` (the list envelope), or null. */
export function listOf<T>(body: unknown, guard: (v: unknown) => v is T): { data: T[]; meta: WireMeta | null } | null {
  if (!isObj(body) || !Array.isArray(body.data) || !body.data.every(guard)) return null;
  if (body.meta !== undefined && body.meta !== null && !isMeta(body.meta)) return null;
  return { data: body.data as T[], meta: (body.meta as WireMeta | undefined) ?? null };
}

/** The error text a Highlight error body carries (clients read `message`; other common forms too). */
export function errorMessageOf(body: unknown): string | null {
  if (typeof body === 'string') return body || null;
  if (!isObj(body)) return null;
  for (const k of ['message', 'error', 'detail', 'title']) {
    const v = body[k];
    if (typeof v === 'string' && v) return v;
    if (isObj(v) && typeof v.message === 'string') return v.message;
  }
  if (Array.isArray(body.errors)) {
    const parts = body.errors
      .map((e) => (typeof e === 'string' ? e : isObj(e) && typeof e.message === 'string' ? e.message : null))
      .filter((s) => s);
    if (parts.length) return parts.join('; ');
  }
  if (isObj(body.errors)) {
    const parts = Object.entries(body.errors).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
    if (parts.length) return parts.join('; ');
  }
  return null;
}
