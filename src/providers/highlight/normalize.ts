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
  balanceReading,
  type CardKind,
  type CardType,
  cardTypeOf,
  EVENT_COUPON_GUESS,
  EVENT_UNIT_GUESS,
  NATIVE_UNIT,
  nativeUnitOf,
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

/** The card's balance by unit, as balanceReading says (amount in minor units). */
export function unitsOf(card: WireCard, kind: CardKind): Partial<Record<Unit, number>> {
  const { type } = kind;
  const out: Partial<Record<Unit, number>> = {};
  const b = card.balance ?? {};
  for (const [unit, fields] of Object.entries(balanceReading(kind)) as [Unit, (keyof typeof b)[]][]) {
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

export function balanceOf(card: WireCard, kind: CardKind): ProviderBalance {
  return {
    nativeUnit: nativeUnitOf(kind.type, kind.template),
    units: unitsOf(card, kind),
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

/** A template as a program; `unitOf` says what its reward tiers cost in (a reward template's follows its mechanics). */
export function toProgram(
  t: WireTemplate,
  unitOf: (type: CardType, templateId: string) => Unit = (type) => NATIVE_UNIT[type],
): ProviderProgram | null {
  const type = cardTypeOf(t.type);
  if (!type) return null;
  const unit = type === 'stamp' || type === 'reward' ? unitOf(type, String(t.id)) : null;
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
 * count what the card holds in its unit (scores, or visits with visit mechanics) divided by the tier's threshold.
 */
export function rewardsOf(card: WireCard, kind: CardKind): EarnedReward[] {
  const { type } = kind;
  const units = unitsOf(card, kind);
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
    const unit = nativeUnitOf(type, kind.template);
    const held = units[unit];
    return tiers
      .map((t): EarnedReward => {
        const cost = t.threshold ?? null;
        const count = held === undefined || !cost || cost <= 0 ? 1 : Math.floor(held / cost);
        return { ...tierReward(t, unit), status: 'available', count };
      })
      .filter((r) => r.count > 0);
  }
  return [];
}

/** The unit an operation names by itself: its eventId's guess when the card holds it, else money, else `native`. */
function guessedUnit(op: WireOperation, cardUnits: Unit[], native: Unit): Unit {
  const guess = op.eventId != null ? EVENT_UNIT_GUESS[op.eventId] : undefined;
  const raw = op.amount ?? 0;
  // eventId meanings are guesses; without one that fits, a fractional amount on a card that counts money is money.
  return guess && cardUnits.includes(guess)
    ? guess
    : !Number.isInteger(raw) && cardUnits.includes('amount')
      ? 'amount'
      : native;
}

/** A provider figure in a unit's scale (amount: minor units). */
const inUnit = (unit: Unit, x: number): number => (unit === 'amount' ? toMinor(x) : x);
const same = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const WHOLE_UNITS = new Set<Unit>(['stamps', 'rewards', 'visits']);

/**
 * The unit each operation moved, read from the balances rather than from the undocumented eventId: walking from the
 * card's current balance back through its operations (newest first), an operation belongs to the unit whose running
 * balance its `balance` (the balance after it) equals, and that unit's running balance becomes the one before it.
 * A tie goes to the eventId's guess (else the native unit); no match, to the guess, and the chain of that unit starts
 * again from the operation. Stamps that rolled over into a reward are followed (before < 0: one more reward).
 * `ops` must reach from the newest operation of the card back, without a gap.
 */
export function unitsByBalance(ops: WireOperation[], card: WireCard, kind: CardKind): Map<WireOperation, Unit> {
  const out = new Map<WireOperation, Unit>();
  const running = unitsOf(card, kind);
  const held = Object.keys(running) as Unit[];
  const native = nativeUnitOf(kind.type, kind.template);
  const perReward = card.balance?.numberStampsTotal ?? null;
  for (const op of ops) {
    if (op.balance == null || op.amount == null) continue;
    const { balance, amount } = op;
    const fits = held.filter(
      (u) =>
        running[u] !== undefined &&
        same(running[u]!, inUnit(u, balance)) &&
        (!WHOLE_UNITS.has(u) || Number.isInteger(amount)),
    );
    const guess = guessedUnit(op, held, native);
    const unit =
      fits.length === 1
        ? fits[0]!
        : fits.includes(guess) || fits.length === 0
          ? guess
          : fits.includes(native)
            ? native
            : fits[0]!;
    out.set(op, unit);
    // A fractional amount in a whole unit is not what moved it (money on a spend card): the chain cannot follow.
    if (WHOLE_UNITS.has(unit) && !Number.isInteger(amount)) continue;
    let before = inUnit(unit, balance) - inUnit(unit, amount);
    if (kind.type === 'stamp' && unit === 'stamps' && before < 0 && perReward && perReward > 0) {
      const rolled = Math.ceil(-before / perReward);
      before += rolled * perReward;
      if (running.rewards !== undefined) running.rewards -= rolled;
    }
    running[unit] = before;
  }
  return out;
}

/**
 * One operation of GET /operations. Unit: `hint.unit` (what unitsByBalance found) when given, else the one `eventId`
 * suggests when the card holds it, else the card's native unit (`hint.native`, else its type's). Operation: by the
 * sign of `amount` (award / redeem), a coupon redemption by eventId on coupon cards, and 'other' when nothing moved.
 */
export function historyEntryOf(
  op: WireOperation,
  type: CardType,
  cardUnits: Unit[],
  hint: { unit?: Unit; native?: Unit } = {},
): ProviderHistoryEntry {
  const raw = op.amount ?? 0;
  const unit: Unit = hint.unit ?? guessedUnit(op, cardUnits, hint.native ?? NATIVE_UNIT[type]);
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
