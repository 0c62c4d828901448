/**
 * The Highlight/Boomerangme wire format: the `{code, createdAt, responseId, data}` envelope,
 * list `meta`, error bodies, and the JSON shapes of each object.
 */
import { randomUUID } from 'node:crypto';
import type { SimRequest, SimResponse } from '../harness.js';
import {
  CARD_TYPES,
  type Card,
  COMPANY_ID,
  type Customer,
  isExpired,
  type Operation,
  type Push,
  type Readings,
  type Store,
  type Template,
} from './state.js';

const envelope = (code: number) => ({ code, createdAt: new Date().toISOString(), responseId: randomUUID() });

export const ok = (data: unknown, status = 200): SimResponse => ({ status, body: { ...envelope(status), data } });

export const noContent = (): SimResponse => ({ status: 204 });

export function list<T>(items: T[], page: Paging, map: (x: T) => unknown): SimResponse {
  const slice = items.slice((page.page - 1) * page.itemsPerPage, page.page * page.itemsPerPage);
  return {
    status: 200,
    body: {
      ...envelope(200),
      data: slice.map(map),
      meta: { currentPage: page.page, itemsPerPage: page.itemsPerPage, totalItems: items.length },
    },
  };
}

export type FieldErrors = Record<string, string[]>;

/** Error body: the envelope without `data`, plus `message` (what clients read) and, for 422, `errors`. */
export function fail(status: number, message: string, errors?: FieldErrors): SimResponse {
  return { status, body: errors ? { ...envelope(status), message, errors } : { ...envelope(status), message } };
}

export const validation = (errors: FieldErrors): SimResponse => fail(422, 'Validation failed', errors);

/** The JSON object body, or a 400 when the body is not JSON / not an object. */
export function objectBody(
  req: SimRequest,
  optional = false,
): { body: Record<string, unknown> } | { error: SimResponse } {
  if (req.rawBody.trim() === '')
    return optional ? { body: {} } : { error: fail(400, 'Request body must be a JSON object') };
  if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body))
    return { error: fail(400, 'Malformed JSON body') };
  return { body: req.body as Record<string, unknown> };
}

export interface Paging {
  page: number;
  itemsPerPage: number;
}

const MAX_PER_PAGE = 100;

/** page (>= 1, default 1) and itemsPerPage (>= 1, default 20, capped at 100). */
export function paging(req: SimRequest, errors: FieldErrors): Paging {
  const num = (name: string, dflt: number): number => {
    const raw = req.query.get(name);
    if (raw === null || raw === '') return dflt;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) {
      errors[name] = ['This value should be a positive integer.'];
      return dflt;
    }
    return Number(raw);
  };
  return { page: num('page', 1), itemsPerPage: Math.min(num('itemsPerPage', 20), MAX_PER_PAGE) };
}

const cents = (n: number): number => n / 100;

export function customerJson(c: Customer): Record<string, unknown> {
  return {
    id: c.id,
    firstName: c.firstName,
    surname: c.surname,
    email: c.email,
    phone: c.phone,
    dateOfBirth: c.dateOfBirth,
    gender: c.gender,
    externalUserId: c.externalUserId,
    segments: [],
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export function templateJson(t: Template): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: t.id,
    companyId: COMPANY_ID,
    type: t.type,
    name: t.name,
    status: 'active',
    rewardTiers: t.rewardTiers,
    createdAt: t.createdAt,
    updatedAt: t.createdAt,
  };
  if (t.membershipTiers) out.membershipTiers = t.membershipTiers;
  return out;
}

/** Membership visits allowed in the card's current tier; null = unlimited. */
export function visitsLimit(card: Card, t: Template): number | null {
  if (!t.limits) return null;
  return t.membershipTiers?.find((m) => m.id === card.membershipTierId)?.visitsLimit ?? null;
}

/** A reward card's progress towards its tiers, in the tiers' unit: visits (visit mechanics), else scores or spend. */
export const rewardProgress = (card: Card, t: Template): number =>
  t.mechanics === 'visit' ? card.visits : card.pointsCents / 100;

/** Per-type meaning of the eight generic balance fields (documented in simulator.ts). */
export function balanceJson(card: Card, t: Template, readings: Readings): Record<string, number | null> {
  const b: Record<string, number | null> = {
    balance: null,
    bonusBalance: null,
    currentNumberOfUses: null,
    numberStampsTotal: null,
    stampsBeforeReward: null,
    numberRewardsUnused: null,
    discountPercentage: null,
    discountAmount: null,
  };
  switch (CARD_TYPES[t.type]) {
    case 'stamp': {
      const total = t.stampsPerReward ?? 10;
      Object.assign(b, {
        currentNumberOfUses: card.stamps,
        numberStampsTotal: total,
        stampsBeforeReward: total - card.stamps,
        numberRewardsUnused: card.rewards,
      });
      break;
    }
    case 'cashback': {
      // Points in the field the readings name, the cashback money in the other.
      const money = readings.cashbackPointsField === 'balance' ? 'bonusBalance' : 'balance';
      Object.assign(b, { [money]: cents(card.cashCents), [readings.cashbackPointsField]: cents(card.pointsCents) });
      break;
    }
    case 'multipass':
    case 'reward':
      Object.assign(b, { balance: cents(card.pointsCents), currentNumberOfUses: card.visits });
      break;
    case 'coupon':
      b.discountPercentage = t.couponDiscountPercent ?? null;
      break;
    case 'discount': {
      const points = cents(card.pointsCents);
      const level = [...(t.discountLevels ?? [])].reverse().find((l) => points >= l.threshold);
      Object.assign(b, { balance: points, discountPercentage: level?.percent ?? 0 });
      break;
    }
    case 'gift':
      b.balance = cents(card.pointsCents);
      break;
    case 'membership': {
      const limit = visitsLimit(card, t);
      Object.assign(b, { currentNumberOfUses: card.visits, balance: limit === null ? null : limit - card.visits });
      break;
    }
  }
  return b;
}

const LINK_HOST = 'https://sandbox.highlightcards.invalid';

export function cardJson(store: Store, card: Card, withCounters = true): Record<string, unknown> {
  const t = store.templates.get(card.templateId)!;
  const customer = store.customers.get(card.customerId);
  const tier = t.membershipTiers?.find((m) => m.id === card.membershipTierId);
  const out: Record<string, unknown> = {
    id: card.serial,
    type: CARD_TYPES[t.type],
    templateId: t.id,
    companyId: COMPANY_ID,
    customerId: card.customerId,
    customer: customer ? customerJson(customer) : null,
    balance: balanceJson(card, t, store.readings),
    availableRewardTiers: t.rewardTiers.filter((r) => rewardProgress(card, t) >= r.threshold),
    status: isExpired(card) ? 'expired' : card.status,
    expiresAt: card.expiresAt,
    device: card.status === 'not_installed' ? null : 'apple',
    customFields: card.customFields,
    membershipTier: tier
      ? { id: tier.id, name: tier.name, period: card.membershipPeriod, startedAt: card.membershipStartedAt }
      : null,
    customerSubscription: null,
    couponRedeemed: t.type === 3 ? card.couponRedeemed : null,
    installLink: `${LINK_HOST}/i/${card.serial}`,
    shareLink: `${LINK_HOST}/s/${t.id}`,
    qrLink: `${LINK_HOST}/qr/${card.serial}.png`,
    directInstallLink: {
      apple: `${LINK_HOST}/apple/${card.serial}.pkpass`,
      google: `${LINK_HOST}/google/${card.serial}`,
      pwa: `${LINK_HOST}/pwa/${card.serial}`,
      universal: `${LINK_HOST}/u/${card.serial}`,
    },
    createdAt: card.createdAt,
    updatedAt: card.updatedAt,
  };
  // List responses leave the activity counters empty (as the real API does).
  const counters = {
    countVisits: card.countVisits,
    totalRewardsEarned: card.totalRewardsEarned,
    totalRewardsRedeemed: card.totalRewardsRedeemed,
    lastVisitAt: card.lastVisitAt,
    lastRewardEarnedAt: card.lastRewardEarnedAt,
    lastRewardRedeemedAt: card.lastRewardRedeemedAt,
  };
  for (const [k, v] of Object.entries(counters)) out[k] = withCounters ? v : null;
  return out;
}

export function operationJson(store: Store, op: Operation): Record<string, unknown> {
  const customer = store.customers.get(op.customerId);
  return {
    id: op.id,
    cardId: op.cardId,
    customerId: op.customerId,
    customer: customer ? customerJson(customer) : null,
    templateId: op.templateId,
    companyId: COMPANY_ID,
    eventId: op.eventId,
    amount: op.amount,
    balance: op.balance,
    purchaseSum: op.purchaseSum,
    source: 'api',
    comment: op.comment,
    locationId: null,
    managerId: null,
    cardDevice: null,
    createdAt: op.createdAt,
    updatedAt: op.createdAt,
  };
}

export function pushJson(p: Push): Record<string, unknown> {
  const sent = p.scheduledAt === null || Date.parse(p.scheduledAt) <= Date.now();
  return {
    id: p.id,
    companyId: COMPANY_ID,
    templateId: p.templateId,
    cardId: p.cardId,
    message: p.message,
    scheduledAt: p.scheduledAt,
    status: sent ? 'sent' : 'scheduled',
    createdAt: p.createdAt,
  };
}
