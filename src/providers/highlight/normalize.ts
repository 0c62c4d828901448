import type { EarnedReward } from '../../domain/programs.js';
import type { Unit } from '../../domain/units.js';
import type {
  ProviderBalance,
  ProviderCard,
  ProviderCustomer,
  ProviderHistoryEntry,
  ProviderProgram,
} from '../adapter.js';
import {
  BALANCE_READING,
  type CardType,
  cardTypeOf,
  EVENT_COUPON_GUESS,
  EVENT_UNIT_GUESS,
  NATIVE_UNIT,
} from './mapping.js';
import type { WireCard, WireCustomer, WireOperation, WireRewardTier, WireTemplate } from './wire.js';

/** Highlight answers → the gateway's normalized shapes. */

const TXN = /\[lgw:(txn_[0-9A-Z]{26})\]/;
export const REFERENCE = /^[A-Za-z0-9._~@+=!$*()-]{1,200}$/;

/** A provider decimal of money in minor units (10.5 → 1050). */
export const toMinor = (x: number): number => Math.round(x * 100);

export { minorToDecimal } from '../../lib/money.js';

/** Milliseconds of a provider time (ISO 8601, or "Y-m-d H:i:s" read as UTC); null when unreadable. */
export function timeOf(s: string | null | undefined): number | null {
  if (!s) return null;
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(s) ? `${s.replace(' ', 'T')}Z` : s;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

const isoOf = (s: string | null | undefined): string | null => {
  const t = timeOf(s);
  return t === null ? null : new Date(t).toISOString();
};

const str = (v: string | number | null | undefined): string | null =>
  v === null || v === undefined || v === '' ? null : String(v);

/** The card's type, or null when Highlight names a type this adapter does not know. */
export const typeOfCard = (card: WireCard): CardType | null => cardTypeOf(card.type);

/** The card's balance by unit, as BALANCE_READING says (amount in minor units). */
export function unitsOf(card: WireCard, type: CardType): Partial<Record<Unit, number>> {
  const out: Partial<Record<Unit, number>> = {};
  const b = card.balance ?? {};
  for (const [unit, fields] of Object.entries(BALANCE_READING[type]) as [Unit, (keyof typeof b)[]][]) {
    for (const f of fields) {
      const v = b[f];
      if (typeof v === 'number') {
        out[unit] = unit === 'amount' ? toMinor(v) : v;
        break;
      }
    }
  }
  if (type === 'coupon' && typeof card.couponRedeemed === 'boolean') out.rewards = card.couponRedeemed ? 0 : 1;
  return out;
}

export function balanceOf(card: WireCard, type: CardType): ProviderBalance {
  return {
    nativeUnit: NATIVE_UNIT[type],
    units: unitsOf(card, type),
    // Highlight only counts lifetime rewards (in unit rewards), not the native unit: none for others.
    totalEarned: null,
    totalRedeemed: null,
  };
}

const STATUS: Record<string, ProviderCard['status']> = {
  active: 'active',
  installed: 'active',
  not_installed: 'inactive',
  notinstalled: 'inactive',
  inactive: 'inactive',
  expired: 'expired',
  deleted: 'voided',
  removed: 'voided',
  blocked: 'inactive',
};

export function toProviderCard(card: WireCard, type: CardType): ProviderCard {
  const links: Record<string, string> = {};
  if (card.installLink) links.install = card.installLink;
  if (card.shareLink) links.share = card.shareLink;
  if (card.qrLink) links.qr = card.qrLink;
  for (const [k, v] of Object.entries(card.directInstallLink ?? {})) if (typeof v === 'string' && v) links[k] = v;
  const c = card.customer;
  const customer: NonNullable<ProviderCard['customer']> = {};
  if (c?.firstName) customer.first_name = c.firstName;
  if (c?.surname) customer.last_name = c.surname;
  if (c?.email) customer.email = c.email;
  if (c?.phone) customer.phone = c.phone;
  if (c?.dateOfBirth) customer.birthday = c.dateOfBirth.slice(0, 10);
  const raw = card.status ?? null;
  return {
    reference: card.id,
    cardType: type,
    status: raw === null ? 'active' : (STATUS[raw.toLowerCase()] ?? 'inactive'),
    providerStatus: raw,
    programReference: String(card.templateId),
    customerReference: str(card.customerId ?? c?.id ?? null),
    customer: Object.keys(customer).length ? customer : null,
    links: Object.keys(links).length ? links : null,
    createdAt: timeOf(card.createdAt),
    updatedAt: timeOf(card.updatedAt),
  };
}

export function toCustomer(c: WireCustomer, cardReferences: string[]): ProviderCustomer {
  return {
    reference: String(c.id),
    first_name: c.firstName || null,
    last_name: c.surname || null,
    email: c.email || null,
    phone: c.phone || null,
    birthday: c.dateOfBirth ? c.dateOfBirth.slice(0, 10) : null,
    external_reference: c.externalUserId || null,
    metadata: null,
    cardReferences,
    created_at: isoOf(c.createdAt),
    updated_at: isoOf(c.updatedAt),
  };
}

const tierReward = (t: WireRewardTier, unit: Unit | null) => ({
  id: String(t.id),
  name: t.name ?? null,
  cost: t.threshold ?? null,
  unit,
});

export function toProgram(t: WireTemplate): ProviderProgram | null {
  const type = cardTypeOf(t.type);
  if (!type) return null;
  const unit = type === 'stamp' || type === 'reward' ? NATIVE_UNIT[type] : null;
  return {
    reference: String(t.id),
    name: t.name ?? null,
    card_type: type,
    rewards: (t.rewardTiers ?? []).map((r) => ({ ...tierReward(r, unit), active: null })),
  };
}

/**
 * Rewards a card can redeem now. Stamp: `numberRewardsUnused` rewards (one entry; redeemed with
 * subtract-reward, so its id is only descriptive). Reward: each of `availableRewardTiers`, its
 * count the scores held divided by the tier's threshold.
 */
export function rewardsOf(card: WireCard, type: CardType): EarnedReward[] {
  const units = unitsOf(card, type);
  const tiers = card.availableRewardTiers ?? [];
  if (type === 'stamp') {
    const count = units.rewards ?? 0;
    if (count <= 0) return [];
    const tier = tiers[0];
    const cost = card.balance?.numberStampsTotal ?? tier?.threshold ?? null;
    return [
      {
        id: tier ? String(tier.id) : 'reward',
        name: tier?.name ?? null,
        status: 'available',
        cost,
        unit: 'stamps',
        count,
      },
    ];
  }
  if (type === 'reward') {
    const scores = units.scores;
    return tiers
      .map((t): EarnedReward => {
        const cost = t.threshold ?? null;
        const count = scores === undefined || !cost || cost <= 0 ? 1 : Math.floor(scores / cost);
        return { ...tierReward(t, 'scores'), status: 'available', count };
      })
      .filter((r) => r.count > 0);
  }
  return [];
}

/**
 * One operation of GET /operations. Unit: the one `eventId` suggests when the card holds it,
 * else the card's native unit. Operation: by the sign of `amount` (award / redeem), a coupon
 * redemption by eventId on coupon cards, and 'other' when nothing moved.
 */
export function historyEntryOf(op: WireOperation, type: CardType, cardUnits: Unit[]): ProviderHistoryEntry {
  const guess = op.eventId != null ? EVENT_UNIT_GUESS[op.eventId] : undefined;
  const raw = op.amount ?? 0;
  // eventId meanings are guesses; without one that fits, a fractional amount on a card that counts money is money.
  const unit: Unit =
    guess && cardUnits.includes(guess)
      ? guess
      : !Number.isInteger(raw) && cardUnits.includes('amount')
        ? 'amount'
        : NATIVE_UNIT[type];
  const delta = unit === 'amount' ? toMinor(raw) : raw;
  let operation: ProviderHistoryEntry['operation'] = delta > 0 ? 'award' : delta < 0 ? 'redeem' : 'other';
  if (type === 'coupon' && (op.eventId === EVENT_COUPON_GUESS || delta === 0)) operation = 'redeem_coupon';
  const comment = op.comment ?? null;
  const balance = op.balance ?? null;
  return {
    providerReference: String(op.id),
    operation,
    unit: type === 'coupon' ? null : unit,
    delta,
    balanceAfter: balance === null ? null : unit === 'amount' ? toMinor(balance) : balance,
    comment,
    txnId: comment ? (TXN.exec(comment)?.[1] ?? null) : null,
    createdAt: timeOf(op.createdAt) ?? 0,
  };
}
