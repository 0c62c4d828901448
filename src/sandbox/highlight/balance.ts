/**
 * The card balance operations, POST /cards/{serial}/<op>: which card types (and template
 * mechanics) each one applies to, its body, and its effect. Refusals never change state.
 */
import type { SimResponse } from '../harness.js';
import { CARD_TYPES, type Card, isExpired, type Store, type Template } from './state.js';
import { balanceJson, type FieldErrors, fail, rewardProgress, validation, visitsLimit } from './wire.js';

type Kind = 'int' | 'decimal' | 'none';

interface OpDef {
  /** Required numeric body field, if any. */
  field: string | null;
  kind: Kind;
  /** Operation.eventId recorded in the ledger. */
  eventId: number;
  appliesTo: (t: Template) => boolean;
  /** For the refusal message. */
  allowed: string;
}

const typeOf = (t: Template) => CARD_TYPES[t.type];
const isType =
  (...names: string[]) =>
  (t: Template) =>
    names.includes(typeOf(t) ?? '');
const withMech =
  (mech: string, ...names: string[]) =>
  (t: Template) =>
    names.includes(typeOf(t) ?? '') && t.mechanics === mech;

export const OPS: Record<string, OpDef> = {
  'add-stamp': { field: 'stamps', kind: 'int', eventId: 1, appliesTo: isType('stamp'), allowed: 'stamp cards' },
  'subtract-stamp': { field: 'stamps', kind: 'int', eventId: 2, appliesTo: isType('stamp'), allowed: 'stamp cards' },
  'add-reward': { field: 'rewards', kind: 'int', eventId: 3, appliesTo: isType('stamp'), allowed: 'stamp cards' },
  'subtract-reward': { field: 'rewards', kind: 'int', eventId: 42, appliesTo: isType('stamp'), allowed: 'stamp cards' },
  'add-point': {
    field: 'points',
    kind: 'decimal',
    eventId: 5,
    appliesTo: isType('cashback', 'discount', 'gift'),
    allowed: 'cashback, discount and gift cards',
  },
  'subtract-point': {
    field: 'points',
    kind: 'decimal',
    eventId: 8,
    appliesTo: isType('cashback', 'discount', 'gift'),
    allowed: 'cashback, discount and gift cards',
  },
  'add-transaction-amount': {
    field: 'amount',
    kind: 'decimal',
    eventId: 6,
    appliesTo: isType('cashback'),
    allowed: 'cashback cards',
  },
  'subtract-transaction-amount': {
    field: 'amount',
    kind: 'decimal',
    eventId: 9,
    appliesTo: isType('cashback'),
    allowed: 'cashback cards',
  },
  'add-scores': {
    field: 'scores',
    kind: 'decimal',
    eventId: 10,
    appliesTo: (t) => isType('multipass')(t) || withMech('points', 'reward')(t),
    allowed: 'multipass cards and reward cards with points mechanics',
  },
  'subtract-scores': {
    field: 'scores',
    kind: 'decimal',
    eventId: 11,
    appliesTo: isType('multipass', 'reward'),
    allowed: 'multipass and reward cards',
  },
  'add-visit': {
    field: 'visits',
    kind: 'int',
    eventId: 7,
    appliesTo: (t) =>
      isType('multipass')(t) || (isType('membership')(t) && !t.limits) || withMech('visit', 'stamp', 'reward')(t),
    allowed: 'multipass cards, membership cards without limits, stamp and reward cards with visit mechanics',
  },
  'subtract-visit': {
    field: 'visits',
    kind: 'int',
    eventId: 12,
    appliesTo: (t) => isType('multipass')(t) || (isType('membership')(t) && t.limits === true),
    allowed: 'multipass cards and membership cards with limits',
  },
  'add-purchase': {
    field: 'amount',
    kind: 'decimal',
    eventId: 13,
    appliesTo: withMech('spend', 'stamp', 'reward'),
    allowed: 'stamp and reward cards with spend mechanics',
  },
  'subtract-purchase': {
    field: 'amount',
    kind: 'decimal',
    eventId: 14,
    appliesTo: withMech('spend', 'stamp', 'reward'),
    allowed: 'stamp and reward cards with spend mechanics',
  },
  'receive-reward': { field: 'id', kind: 'int', eventId: 44, appliesTo: isType('reward'), allowed: 'reward cards' },
  'redeem-coupon': { field: null, kind: 'none', eventId: 43, appliesTo: isType('coupon'), allowed: 'coupon cards' },
  'set-expiration-date': { field: null, kind: 'none', eventId: 20, appliesTo: () => true, allowed: 'all cards' },
  'set-membership-tier': {
    field: null,
    kind: 'none',
    eventId: 21,
    appliesTo: isType('membership'),
    allowed: 'membership cards',
  },
};

const MAX_QTY = 10_000_000;
const hasTwoDecimals = (v: number) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6;
const PERIODS = ['day', 'week', 'month', 'year'];

/** A positive quantity: an integer, or a number with at most two decimals (returned in cents). */
function quantity(v: unknown, kind: Kind, field: string, errors: FieldErrors): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) errors[field] = ['This value should be a number.'];
  else if (v <= 0) errors[field] = ['This value should be positive.'];
  else if (v > MAX_QTY) errors[field] = [`This value should be less than or equal to ${MAX_QTY}.`];
  else if (kind === 'int' && !Number.isInteger(v)) errors[field] = ['This value should be an integer.'];
  else if (!hasTwoDecimals(v)) errors[field] = ['This value should have at most 2 decimals.'];
  else return kind === 'int' ? v : Math.round(v * 100);
  return 0;
}

export interface Applied {
  amount: number | null;
  balance: number | null;
  purchaseSumCents: number | null;
  comment: string | null;
}

const insufficient = (have: number | string, what: string, want: number | string) =>
  fail(400, `Insufficient balance: the card has ${have} ${what}, cannot subtract ${want}`);

/** Date-only values mean the end of that day (UTC); full timestamps are taken as given. */
function parseExpiry(v: string): string | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) v = `${v}T23:59:59.000Z`;
  else if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * Validates and applies `op` to `card`. Returns the refusal, or what to record in the ledger.
 * Nothing is mutated unless the whole request is valid and the balance allows it.
 */
export function applyOp(
  store: Store,
  card: Card,
  t: Template,
  op: string,
  body: Record<string, unknown>,
): SimResponse | Applied {
  const def = OPS[op]!;
  const type = typeOf(t);
  if (!def.appliesTo(t)) {
    const mech =
      type === 'stamp' || type === 'reward'
        ? ` with ${t.mechanics} mechanics`
        : type === 'membership'
          ? t.limits
            ? ' with limits'
            : ' without limits'
          : '';
    return fail(
      400,
      `Operation "${op}" is not available for this card (${type} card${mech}); it applies to ${def.allowed}`,
    );
  }

  const errors: FieldErrors = {};
  const qty = def.field ? quantity(body[def.field], def.kind, def.field, errors) : 0;
  const comment = body.comment ?? null;
  if (comment !== null && (typeof comment !== 'string' || comment.length > 255))
    errors.comment = ['This value should be a string of at most 255 characters.'];
  const ps = body.purchaseSum ?? null;
  if (
    ps !== null &&
    (typeof ps !== 'number' || !Number.isFinite(ps) || ps < 0 || ps > MAX_QTY || !hasTwoDecimals(ps))
  ) {
    errors.purchaseSum = ['This value should be a non-negative number with at most 2 decimals.'];
  }
  let expiresAt: string | null = null;
  if (op === 'set-expiration-date' && body.expiresAt != null) {
    expiresAt = typeof body.expiresAt === 'string' ? parseExpiry(body.expiresAt) : null;
    if (expiresAt === null) errors.expiresAt = ['This value should be a date (Y-m-d) or a date-time (ISO 8601).'];
  }
  const tier = op === 'set-membership-tier' ? t.membershipTiers?.find((m) => m.id === body.tierId) : undefined;
  if (op === 'set-membership-tier') {
    if (!PERIODS.includes(body.period as string))
      errors.period = ['The value should be one of: day, week, month, year.'];
    if (!Number.isInteger(body.tierId)) errors.tierId = ['This value should be an integer.'];
    else if (!tier) errors.tierId = ["Membership tier not found for this card's template."];
  }
  const rewardTier = op === 'receive-reward' && !errors.id ? t.rewardTiers.find((r) => r.id === qty) : undefined;
  if (op === 'receive-reward' && !errors.id && !rewardTier)
    errors.id = ["Reward tier not found for this card's template."];
  if (Object.keys(errors).length > 0) return validation(errors);

  if (op !== 'set-expiration-date' && isExpired(card)) return fail(400, 'Card has expired');

  const now = new Date().toISOString();
  const sign = op.startsWith('subtract') ? -1 : 1;
  const pointsField = store.readings.cashbackPointsField;
  const moneyField = pointsField === 'balance' ? 'bonusBalance' : 'balance';
  let amount: number | null = def.kind === 'decimal' ? (sign * qty) / 100 : def.kind === 'int' ? sign * qty : null;
  let balanceField: string | null = 'balance';

  const addStamps = (n: number) => {
    const total = t.stampsPerReward ?? 10;
    const earned = Math.floor((card.stamps + n) / total);
    card.stamps = (card.stamps + n) % total;
    if (earned > 0) {
      card.rewards += earned;
      card.totalRewardsEarned += earned;
      card.lastRewardEarnedAt = now;
    }
  };
  const visit = (n: number) => {
    card.countVisits += n;
    card.lastVisitAt = now;
  };

  switch (op) {
    case 'add-stamp':
      addStamps(qty);
      balanceField = 'currentNumberOfUses';
      break;
    case 'subtract-stamp':
      if (card.stamps < qty) return insufficient(card.stamps, 'stamps', qty);
      card.stamps -= qty;
      balanceField = 'currentNumberOfUses';
      break;
    case 'add-reward':
      card.rewards += qty;
      card.totalRewardsEarned += qty;
      card.lastRewardEarnedAt = now;
      balanceField = 'numberRewardsUnused';
      break;
    case 'subtract-reward':
      if (card.rewards < qty) return insufficient(card.rewards, 'rewards', qty);
      card.rewards -= qty;
      card.totalRewardsRedeemed += qty;
      card.lastRewardRedeemedAt = now;
      balanceField = 'numberRewardsUnused';
      break;
    case 'add-point':
    case 'add-scores':
      card.pointsCents += qty;
      if (type === 'cashback') balanceField = pointsField;
      break;
    case 'subtract-point':
    case 'subtract-scores':
      if (card.pointsCents < qty) return insufficient(card.pointsCents / 100, def.field!, qty / 100);
      card.pointsCents -= qty;
      if (type === 'cashback') balanceField = pointsField;
      break;
    case 'add-transaction-amount':
    case 'subtract-transaction-amount': {
      // The cashback moved: the amount itself, or (reading "rate") the template's percentage of it.
      const moved =
        store.readings.transactionAmountCredit === 'rate' ? Math.round((qty * (t.cashbackPercent ?? 0)) / 100) : qty;
      if (sign < 0 && card.cashCents < moved) return insufficient(card.cashCents / 100, 'cashback', moved / 100);
      card.cashCents += sign * moved;
      amount = (sign * moved) / 100;
      balanceField = moneyField;
      break;
    }
    case 'add-visit':
      balanceField = 'currentNumberOfUses';
      // A reward card with visit mechanics counts visits (currentNumberOfUses), not scores.
      if (type === 'stamp') addStamps(qty);
      else card.visits += qty;
      visit(qty);
      break;
    case 'subtract-visit': {
      balanceField = 'currentNumberOfUses';
      if (type === 'multipass') {
        if (card.visits < qty) return insufficient(card.visits, 'visits', qty);
        card.visits -= qty;
        break;
      }
      // Membership with limits: a visit uses up the tier's allowance for the period.
      const remaining = (visitsLimit(card, t) ?? 0) - card.visits;
      if (remaining < qty) return insufficient(remaining, 'visits left', qty);
      card.visits += qty;
      visit(qty);
      balanceField = 'balance';
      break;
    }
    case 'add-purchase':
    case 'subtract-purchase': {
      if (type === 'reward') {
        if (sign < 0 && card.pointsCents < qty) return insufficient(card.pointsCents / 100, 'spend', qty / 100);
        card.pointsCents += sign * qty;
        break;
      }
      // Stamp card with spend mechanics: one stamp per spendPerStampCents, remainder carried.
      const per = t.spendPerStampCents ?? 1000;
      const progress = card.stamps * per + card.spendRemainderCents;
      if (sign < 0) {
        if (progress < qty) return insufficient(progress / 100, 'spend towards stamps', qty / 100);
        card.stamps = Math.floor((progress - qty) / per);
        card.spendRemainderCents = (progress - qty) % per;
      } else {
        const rem = card.spendRemainderCents + qty;
        card.spendRemainderCents = rem % per;
        addStamps(Math.floor(rem / per));
      }
      balanceField = 'currentNumberOfUses';
      break;
    }
    case 'receive-reward': {
      // The tier's threshold, in what the card's mechanics count: visits, else scores (or spend).
      const byVisits = t.mechanics === 'visit';
      const progress = rewardProgress(card, t);
      if (progress < rewardTier!.threshold) {
        return fail(
          400,
          `Insufficient balance: the card has ${progress}${byVisits ? ' visits' : ''}, reward "${rewardTier!.name}" ` +
            `needs ${rewardTier!.threshold}`,
        );
      }
      if (byVisits) card.visits -= rewardTier!.threshold;
      else card.pointsCents -= rewardTier!.threshold * 100;
      card.totalRewardsRedeemed += 1;
      card.lastRewardRedeemedAt = now;
      amount = -rewardTier!.threshold;
      if (byVisits) balanceField = 'currentNumberOfUses';
      break;
    }
    case 'redeem-coupon':
      if (card.couponRedeemed) return fail(400, 'Coupon has already been redeemed');
      card.couponRedeemed = true;
      card.totalRewardsRedeemed += 1;
      card.lastRewardRedeemedAt = now;
      balanceField = null;
      break;
    case 'set-expiration-date':
      card.expiresAt = expiresAt;
      balanceField = null;
      break;
    case 'set-membership-tier':
      card.membershipTierId = tier!.id;
      card.membershipPeriod = body.period as string;
      card.membershipStartedAt = now;
      card.visits = 0; // a new subscription period starts with its full allowance
      balanceField = null;
      break;
  }

  card.updatedAt = now;
  const purchaseSumCents = ps === null ? null : Math.round((ps as number) * 100);
  const customer = store.customers.get(card.customerId);
  if (customer && purchaseSumCents !== null) customer.ltvCents += purchaseSumCents;
  return {
    amount,
    balance: balanceField === null ? null : (balanceJson(card, t, store.readings)[balanceField] ?? null),
    purchaseSumCents,
    comment: comment as string | null,
  };
}
