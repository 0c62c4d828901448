import { type CardTypeCapabilities, OPERATIONS, type Operation } from '../../domain/capabilities.js';
import type { TransactionType } from '../../domain/transactions.js';
import type { Unit } from '../../domain/units.js';
import type { Movement } from '../adapter.js';
import type { HighlightSettings } from './settings.js';
import type { WireBalance } from './wire.js';

/**
 * THE operation table of the Highlight adapter (the README has the same table): normalized
 * operation × card type × template mechanics → provider path + body field. Everything the
 * adapter may send to `POST /cards/{serial}/<path>` is a row here; what has no row is refused
 * with unsupported_operation (nothing is converted from one unit to another).
 */

export const CARD_TYPES = [
  'stamp',
  'cashback',
  'multipass',
  'coupon',
  'discount',
  'gift',
  'membership',
  'reward',
] as const;
export type CardType = (typeof CARD_TYPES)[number];
export type Mechanics = 'stamps' | 'visit' | 'spend' | 'points';

/** A template's settings (connection `templates`), the API does not expose them. */
export interface TemplateSettings {
  mechanics: Mechanics;
  limits: boolean;
}

/** Mechanics of a template that is not configured: the plain mechanics of its type. */
export const DEFAULT_MECHANICS: Record<CardType, Mechanics> = {
  stamp: 'stamps',
  cashback: 'points',
  multipass: 'points',
  coupon: 'points',
  discount: 'points',
  gift: 'points',
  membership: 'visit',
  reward: 'points',
};
/** Membership without limits unless configured (add-visit allowed, subtract-visit not). */
export const DEFAULT_LIMITS = false;

/** A template's settings; a template not configured gets its type's default mechanics, no limits. */
export function templateSettings(
  settings: Pick<HighlightSettings, 'templates'>,
  type: CardType,
  templateId: string,
): TemplateSettings {
  const t = settings.templates?.[templateId];
  return { mechanics: t?.mechanics ?? DEFAULT_MECHANICS[type], limits: t?.limits ?? DEFAULT_LIMITS };
}

/** What the cards of a template support: its type with the template's configured mechanics. */
export function programCapabilities(
  settings: Pick<HighlightSettings, 'templates'>,
  program: { reference: string; card_type: string },
): CardTypeCapabilities | null {
  const type = CARD_TYPES.find((t) => t === program.card_type);
  return type ? capabilitiesOf(type, templateSettings(settings, type, program.reference)) : null;
}

/** The native unit of each card type with its default mechanics (a reward card's follows its mechanics). */
export const NATIVE_UNIT: Record<CardType, Unit> = {
  stamp: 'stamps',
  cashback: 'points',
  multipass: 'scores',
  coupon: 'rewards',
  discount: 'points',
  gift: 'points',
  membership: 'visits',
  reward: 'scores',
};

/**
 * The unit a card counts in: its type's, except a reward card, which counts in what its mechanics earn (the seed:
 * "Add visit to card — Reward with visit mechanics"; receive-reward has no mechanics restriction): visits with visit
 * mechanics, else scores (spend mechanics earn the progress Highlight keeps in `balance`).
 */
export function nativeUnitOf(type: CardType, s: TemplateSettings): Unit {
  return type === 'reward' && s.mechanics === 'visit' ? 'visits' : NATIVE_UNIT[type];
}

/** The two readings the documents leave open, as the connection settings choose them. */
export interface Readings {
  cashbackPointsField: 'bonusBalance' | 'balance';
  transactionAmountCredit: 'amount' | 'rate';
}

export function readingsOf(
  settings: Pick<HighlightSettings, 'cashbackPointsField' | 'transactionAmountCredit'>,
): Readings {
  return {
    cashbackPointsField: settings.cashbackPointsField ?? 'bonusBalance',
    transactionAmountCredit: settings.transactionAmountCredit ?? 'amount',
  };
}

/** How one card is read: its type, its template's settings and the connection's readings. */
export interface CardKind {
  type: CardType;
  template: TemplateSettings;
  readings: Readings;
}

/** A movement as the table sees it: adjust split by sign; expire is a subtraction. */
export type MoveKind = Exclude<TransactionType, 'adjust'> | 'adjust+' | 'adjust-';
/** When a row applies: always, for one template mechanics, or by the membership `limits` flag. */
export type Condition = 'any' | Mechanics | 'limits' | 'no-limits';
/** The body field carrying the quantity (amount: a decimal of money; id: the reward tier id). */
export type BodyField = 'stamps' | 'rewards' | 'points' | 'amount' | 'scores' | 'visits' | 'id' | null;

export interface Row {
  ops: MoveKind[];
  type: CardType;
  when: Condition;
  /** The unit moved; matched for award/redeem/adjust/expire (the dedicated operations match on op alone). */
  unit: Unit | null;
  path: string;
  field: BodyField;
}

const ADD: MoveKind[] = ['award', 'adjust+'];
const SUB: MoveKind[] = ['redeem', 'expire', 'adjust-'];
const REFUND: MoveKind[] = ['refund_purchase'];

export const OPERATION_TABLE: readonly Row[] = [
  { ops: ADD, type: 'stamp', when: 'any', unit: 'stamps', path: 'add-stamp', field: 'stamps' },
  { ops: SUB, type: 'stamp', when: 'any', unit: 'stamps', path: 'subtract-stamp', field: 'stamps' },
  { ops: ADD, type: 'stamp', when: 'any', unit: 'rewards', path: 'add-reward', field: 'rewards' },
  { ops: SUB, type: 'stamp', when: 'any', unit: 'rewards', path: 'subtract-reward', field: 'rewards' },
  { ops: ['redeem_reward'], type: 'stamp', when: 'any', unit: 'rewards', path: 'subtract-reward', field: 'rewards' },
  { ops: ['visit'], type: 'stamp', when: 'visit', unit: 'visits', path: 'add-visit', field: 'visits' },
  { ops: ['purchase'], type: 'stamp', when: 'spend', unit: 'amount', path: 'add-purchase', field: 'amount' },
  { ops: REFUND, type: 'stamp', when: 'spend', unit: 'amount', path: 'subtract-purchase', field: 'amount' },

  { ops: ADD, type: 'cashback', when: 'any', unit: 'points', path: 'add-point', field: 'points' },
  { ops: SUB, type: 'cashback', when: 'any', unit: 'points', path: 'subtract-point', field: 'points' },
  { ops: ADD, type: 'cashback', when: 'any', unit: 'amount', path: 'add-transaction-amount', field: 'amount' },
  { ops: SUB, type: 'cashback', when: 'any', unit: 'amount', path: 'subtract-transaction-amount', field: 'amount' },
  { ops: ['purchase'], type: 'cashback', when: 'any', unit: 'amount', path: 'add-transaction-amount', field: 'amount' },
  { ops: REFUND, type: 'cashback', when: 'any', unit: 'amount', path: 'subtract-transaction-amount', field: 'amount' },

  { ops: ADD, type: 'multipass', when: 'any', unit: 'scores', path: 'add-scores', field: 'scores' },
  { ops: SUB, type: 'multipass', when: 'any', unit: 'scores', path: 'subtract-scores', field: 'scores' },
  { ops: [...ADD, 'visit'], type: 'multipass', when: 'any', unit: 'visits', path: 'add-visit', field: 'visits' },
  { ops: SUB, type: 'multipass', when: 'any', unit: 'visits', path: 'subtract-visit', field: 'visits' },

  { ops: ['redeem_coupon'], type: 'coupon', when: 'any', unit: null, path: 'redeem-coupon', field: null },

  { ops: ADD, type: 'discount', when: 'any', unit: 'points', path: 'add-point', field: 'points' },
  { ops: SUB, type: 'discount', when: 'any', unit: 'points', path: 'subtract-point', field: 'points' },

  { ops: ADD, type: 'gift', when: 'any', unit: 'points', path: 'add-point', field: 'points' },
  { ops: SUB, type: 'gift', when: 'any', unit: 'points', path: 'subtract-point', field: 'points' },

  { ops: [...ADD, 'visit'], type: 'membership', when: 'no-limits', unit: 'visits', path: 'add-visit', field: 'visits' },
  { ops: SUB, type: 'membership', when: 'limits', unit: 'visits', path: 'subtract-visit', field: 'visits' },

  { ops: ADD, type: 'reward', when: 'points', unit: 'scores', path: 'add-scores', field: 'scores' },
  // Not with visit mechanics: that card counts visits, and Highlight subtracts visits on no Reward card.
  { ops: SUB, type: 'reward', when: 'points', unit: 'scores', path: 'subtract-scores', field: 'scores' },
  { ops: SUB, type: 'reward', when: 'spend', unit: 'scores', path: 'subtract-scores', field: 'scores' },
  { ops: ['visit'], type: 'reward', when: 'visit', unit: 'visits', path: 'add-visit', field: 'visits' },
  { ops: ['purchase'], type: 'reward', when: 'spend', unit: 'amount', path: 'add-purchase', field: 'amount' },
  {
    ops: ['refund_purchase'],
    type: 'reward',
    when: 'spend',
    unit: 'amount',
    path: 'subtract-purchase',
    field: 'amount',
  },
  { ops: ['redeem_reward'], type: 'reward', when: 'any', unit: null, path: 'receive-reward', field: 'id' },
];

const DEDICATED = new Set<MoveKind>(['visit', 'purchase', 'refund_purchase', 'redeem_reward', 'redeem_coupon']);

export function holds(when: Condition, s: TemplateSettings): boolean {
  if (when === 'any') return true;
  if (when === 'limits') return s.limits;
  if (when === 'no-limits') return !s.limits;
  return s.mechanics === when;
}

export function moveKindOf(m: Pick<Movement, 'operation' | 'quantity'>): MoveKind {
  if (m.operation === 'adjust') return m.quantity < 0 ? 'adjust-' : 'adjust+';
  return m.operation;
}

/** The row for a movement on a card, or null when the card type (with its settings) cannot do it. */
export function findRow(kind: MoveKind, type: CardType, s: TemplateSettings, unit: Unit): Row | null {
  return (
    OPERATION_TABLE.find(
      (r) => r.type === type && r.ops.includes(kind) && holds(r.when, s) && (DEDICATED.has(kind) || r.unit === unit),
    ) ?? null
  );
}

/** Operations every Highlight card supports whatever its type. */
const COMMON: Operation[] = [
  'balance',
  'history',
  'get_card',
  'list_cards',
  'issue_card',
  'delete_card',
  'notify',
  'customers',
  'delete_customer',
  'programs',
];

/** What one card type supports with given template settings. */
export function capabilitiesOf(type: CardType, s: TemplateSettings): CardTypeCapabilities {
  const rows = OPERATION_TABLE.filter((r) => r.type === type && holds(r.when, s));
  const ops = new Set<Operation>(COMMON);
  const native = nativeUnitOf(type, s);
  const units = new Set<Unit>([native]);
  for (const r of rows) {
    for (const k of r.ops) {
      ops.add(k === 'adjust+' || k === 'adjust-' ? 'adjust' : k);
      if (!DEDICATED.has(k) && r.unit) units.add(r.unit);
    }
  }
  // reverse = an adjust of the opposite sign, so it needs both directions of one unit.
  const both = rows.some(
    (a) => a.ops.includes('adjust+') && rows.some((b) => b.unit === a.unit && b.ops.includes('adjust-')),
  );
  if (both) ops.add('reverse');
  if (type === 'stamp' || type === 'reward') ops.add('rewards');
  // Which way an adjust can go in each unit (a membership card with limits only takes visits away): checked
  // before anything is recorded.
  const adjustUnits = (k: MoveKind) => [
    ...new Set(rows.filter((r) => r.ops.includes(k) && r.unit).map((r) => r.unit!)),
  ];
  return {
    cardType: type,
    operations: OPERATIONS.filter((o) => ops.has(o)),
    units: [...units],
    nativeUnit: native,
    adjust: { add: adjustUnits('adjust+'), subtract: adjustUnits('adjust-') },
  };
}

/** What a card type can support at most, over every template setting (the connection-level matrix). */
export function typeCapabilities(type: CardType): CardTypeCapabilities {
  const all: TemplateSettings[] = [];
  for (const mechanics of ['stamps', 'visit', 'spend', 'points'] as const)
    for (const limits of [false, true]) all.push({ mechanics, limits });
  const caps = all.map((s) => capabilitiesOf(type, s));
  const ops = new Set(caps.flatMap((c) => c.operations));
  const units = new Set(caps.flatMap((c) => c.units));
  return {
    cardType: type,
    operations: OPERATIONS.filter((o) => ops.has(o)),
    units: [...units],
    nativeUnit: NATIVE_UNIT[type],
  };
}

/**
 * How the eight generic `balance` fields are read per card type: unit → the fields tried in
 * order (the first that is a number wins). `amount` is a decimal of money, turned into minor units.
 * A coupon holds 1 reward until it is redeemed (`couponRedeemed`).
 */
export const BALANCE_READING: Record<CardType, Partial<Record<Unit, (keyof WireBalance)[]>>> = {
  stamp: { stamps: ['currentNumberOfUses'], rewards: ['numberRewardsUnused'] },
  cashback: { points: ['bonusBalance'], amount: ['balance'] },
  multipass: { scores: ['bonusBalance', 'balance'], visits: ['currentNumberOfUses'] },
  coupon: { rewards: ['numberRewardsUnused'] },
  discount: { points: ['bonusBalance', 'balance'] },
  gift: { points: ['bonusBalance', 'balance'] },
  // With limits `balance` is the visits left (what subtract-visit uses); without, visits are counted up.
  membership: { visits: ['balance', 'currentNumberOfUses'] },
  reward: { scores: ['bonusBalance', 'balance'] },
};

/** BALANCE_READING for one card: a cashback card's fields as the readings say, a reward card's by its mechanics. */
export function balanceReading(kind: CardKind): Partial<Record<Unit, (keyof WireBalance)[]>> {
  if (kind.type === 'cashback') {
    const points = kind.readings.cashbackPointsField;
    return { points: [points], amount: [points === 'balance' ? 'bonusBalance' : 'balance'] };
  }
  // Visits counted towards the tiers, like a multipass's (what receive-reward takes them from).
  if (kind.type === 'reward' && kind.template.mechanics === 'visit') return { visits: ['currentNumberOfUses'] };
  return BALANCE_READING[kind.type];
}

/** Highlight's type (the Card `type` string, or a Template's 0–7 id) as a card type. */
export function cardTypeOf(v: string | number): CardType | null {
  if (typeof v === 'number' || /^[0-7]$/.test(v)) return CARD_TYPES[Number(v)] ?? null;
  const s = v.toLowerCase().replace(/[^a-z]/g, '');
  if (s === 'certificate' || s.startsWith('gift')) return 'gift';
  if (s === 'stamps') return 'stamp';
  return (CARD_TYPES as readonly string[]).includes(s) ? (s as CardType) : null;
}

/**
 * The unit an operation's `eventId` suggests (one public client's guess; Highlight does not
 * document them, so it is only used when that unit is one the card holds).
 */
export const EVENT_UNIT_GUESS: Record<number, Unit> = {
  1: 'stamps',
  2: 'stamps',
  5: 'points',
  6: 'amount',
  7: 'visits',
  42: 'rewards',
};
export const EVENT_COUPON_GUESS = 43;
