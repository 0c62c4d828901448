import type { ErrorCode } from '../../domain/errors.js';
import { ProviderError } from '../../domain/errors.js';
import type { EarnedReward } from '../../domain/programs.js';
import { isoTime } from '../../lib/time.js';
import type { ProviderCard, ProviderCustomer, ProviderProgram } from '../adapter.js';
import { badResponse } from '../http/provider-http.js';
import { isObject, readUser, type WireProgram, type WireUser } from './wire.js';

/**
 * References and conversions. A Coupontools card is a user ("stat") of one loyalty card
 * (program): its reference is `<loyaltyCardId>.<userId>`. A Coupontools customer IS that user,
 * so a customer reference is the same string as the card reference.
 */

/** A refusal decided here, before anything was sent: never applied at the provider. */
export function refused(
  code: ErrorCode,
  detail: string,
  extra: ConstructorParameters<typeof ProviderError>[3] = {},
): ProviderError {
  return new ProviderError(code, detail, 'no', extra);
}

const REF = /^[A-Za-z0-9._~@+=!$*()-]{1,200}$/;
const SEGMENT = /^[A-Za-z0-9_~@+=!$*()-]+$/;

export interface CardRef {
  programId: string;
  userId: string;
}

/** Splits `<loyaltyCardId>.<userId>` at the first dot (program ids are integers; a user id may hold dots). */
export function parseRef(ref: string): CardRef | null {
  if (!REF.test(ref)) return null;
  const dot = ref.indexOf('.');
  if (dot <= 0 || dot === ref.length - 1) return null;
  const programId = ref.slice(0, dot);
  if (!SEGMENT.test(programId)) return null;
  return { programId, userId: ref.slice(dot + 1) };
}

export function refOrThrow(ref: string, code: 'card_not_found' | 'customer_not_found'): CardRef {
  const r = parseRef(ref);
  if (!r) {
    const what = code === 'card_not_found' ? 'card' : 'customer';
    throw refused(
      code,
      `"${ref.slice(0, 60)}" is not a Coupontools ${what} reference (expected <loyaltyCardId>.<userId>).`,
    );
  }
  return r;
}

/** The reference of a user, or null when the provider's ids cannot form one. */
export function makeRef(programId: string, userId: string): string | null {
  const ref = `${programId}.${userId}`;
  return REF.test(ref) && SEGMENT.test(programId) ? ref : null;
}

/** Ids go back to Coupontools as numbers when they are integers (the documented program ids are), else as strings. */
export function wireId(id: string): number | string {
  return /^(0|[1-9][0-9]{0,14})$/.test(id) ? Number(id) : id;
}

const iso = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));

export function toProgram(p: WireProgram): ProviderProgram {
  return { reference: p.id, name: p.name, card_type: p.type, rewards: [] };
}

export function toCard(ref: string, programId: string, cardType: string, u: WireUser): ProviderCard {
  const customer: NonNullable<ProviderCard['customer']> = {};
  if (u.firstName) customer.first_name = u.firstName;
  if (u.lastName) customer.last_name = u.lastName;
  if (u.email) customer.email = u.email;
  if (u.phone) customer.phone = u.phone;
  return {
    reference: ref,
    cardType,
    status: u.voided ? 'voided' : 'active',
    providerStatus: u.status ?? (u.voided ? 'voided' : null),
    programReference: programId,
    customerReference: ref,
    customer: Object.keys(customer).length > 0 ? customer : null,
    links: u.links,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

export function toCustomer(ref: string, u: WireUser): ProviderCustomer {
  return {
    reference: ref,
    first_name: u.firstName,
    last_name: u.lastName,
    email: u.email,
    phone: u.phone,
    birthday: null,
    external_reference: null,
    metadata: null,
    created_at: iso(u.createdAt),
    updated_at: iso(u.updatedAt),
    cardReferences: [ref],
  };
}

export function toRewards(u: WireUser): EarnedReward[] {
  return (u.rewards ?? []).map((r) => ({
    id: r.id,
    name: r.name,
    status: r.status,
    cost: null,
    unit: null,
    count: r.status === 'available' ? 1 : 0,
  }));
}

/** The user fields of Coupontools (create / update / bulk). */
export const USER_FIELDS = [
  'first_name',
  'last_name',
  'address',
  'zip',
  'city',
  'phone',
  'email',
  'custom_1',
  'custom_2',
  'custom_3',
  'custom_4',
  'custom_5',
  'custom_6',
  'custom_7',
  'custom_8',
] as const;
export type UserFields = Partial<Record<(typeof USER_FIELDS)[number], string>>;

/**
 * The gateway's customer fields as a Coupontools user body. Coupontools users have no birthday,
 * metadata or external reference: those are refused rather than dropped.
 */
export function userBody(fields: Record<string, unknown>): UserFields {
  for (const k of ['birthday', 'metadata', 'external_reference']) {
    if (fields[k] !== undefined && fields[k] !== null) {
      throw refused(
        'validation_failed',
        `Coupontools users have no ${k.replace('_', ' ')} field; leave ${k} out for this connection.`,
        {
          errors: [{ field: `/${k}`, message: 'is not supported by Coupontools' }],
        },
      );
    }
  }
  const out: UserFields = {};
  for (const k of ['first_name', 'last_name', 'email', 'phone'] as const) {
    const v = fields[k];
    if (typeof v === 'string' && v.length > 0) out[k] = v;
  }
  return out;
}

/** Keeps only Coupontools user fields with string values (bulk input). */
export function cleanUserFields(u: Record<string, unknown>): UserFields {
  const out: UserFields = {};
  for (const k of USER_FIELDS) {
    const v = u[k];
    if (typeof v === 'string' && v.length > 0) out[k] = v;
  }
  return out;
}

/** Local filtering of users (in case the provider ignores `filter`). */
export function matchesUser(u: WireUser, f: { email?: string; phone?: string; search?: string }): boolean {
  const digits = (s: string): string => s.replace(/\D/g, '');
  if (f.email && (u.email ?? '').toLowerCase() !== f.email.toLowerCase()) return false;
  if (f.phone && (!u.phone || digits(u.phone) !== digits(f.phone))) return false;
  if (f.search) {
    const q = f.search.toLowerCase();
    const hay = [u.firstName, u.lastName, [u.firstName, u.lastName].filter(Boolean).join(' '), u.email, u.phone, u.id];
    if (!hay.some((h) => h?.toLowerCase().includes(q))) return false;
  }
  return true;
}

/** The balance in `unit` from a write's answer when it is a user; null when the answer says nothing readable. */
export function afterOf(body: unknown, unit: 'stamps' | 'rewards', what: string): number | null {
  if (body === undefined || body === null) return null;
  if (!isObject(body)) throw badResponse(what, 'not a JSON object', true);
  const u = readUser(body);
  if (!u) return null;
  return unit === 'stamps' ? u.stamps : u.rewardsCount;
}

export function emptyUser(id: string): WireUser {
  return {
    id,
    firstName: null,
    lastName: null,
    email: null,
    phone: null,
    stamps: null,
    rewards: null,
    rewardsCount: null,
    totalEarned: null,
    totalRedeemed: null,
    voided: true,
    status: null,
    links: null,
    createdAt: null,
    updatedAt: null,
  };
}
