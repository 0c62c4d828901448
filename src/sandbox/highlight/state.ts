/**
 * In-memory state of the Highlight Cards (Boomerangme API v2) sandbox: templates, customers,
 * cards, operations and pushes, plus the seed that `reset` restores.
 *
 * Quantities that may carry decimals (cashback, points, scores, spend) are kept in integer
 * hundredths ("cents") so sums stay exact; stamps, rewards and visits are plain integers.
 */
import { randomInt } from 'node:crypto';

export const COMPANY_ID = 4242;
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
export type CardTypeName = (typeof CARD_TYPES)[number];
export type Mechanics = 'stamps' | 'visit' | 'spend' | 'points';

export interface RewardTier {
  id: number;
  templateId: number;
  type: number;
  name: string;
  threshold: number;
  value: number | null;
  valueLimit: number | null;
  usageLimit: number | null;
}

export interface MembershipTier {
  id: number;
  name: string;
  /** Visits allowed per subscription period; null = unlimited. */
  visitsLimit: number | null;
}

export interface Template {
  id: number;
  type: number;
  name: string;
  /** Not exposed on the wire: the real API does not show mechanics (the gateway configures it). */
  mechanics: Mechanics;
  limits?: boolean;
  stampsPerReward?: number;
  /** Stamp cards with spend mechanics: cents of spend per stamp. */
  spendPerStampCents?: number;
  rewardTiers: RewardTier[];
  membershipTiers?: MembershipTier[];
  /** Discount cards: percentage by points threshold (ascending). */
  discountLevels?: { threshold: number; percent: number }[];
  couponDiscountPercent?: number;
  /** Cashback cards: the percentage of a transaction amount credited (readings.transactionAmountCredit "rate"). */
  cashbackPercent?: number;
  createdAt: string;
}

export interface Customer {
  id: string;
  firstName: string;
  surname: string | null;
  email: string | null;
  phone: string | null;
  dateOfBirth: string | null;
  gender: number | null;
  externalUserId: string | null;
  createdAt: string;
  updatedAt: string;
  /** Sum of purchaseSum sent with card operations, in cents (not on the wire). */
  ltvCents: number;
}

export interface Card {
  serial: string;
  templateId: number;
  customerId: string;
  status: 'active' | 'not_installed' | 'expired';
  expiresAt: string | null;
  customFields: { id: number | string; value: unknown }[];
  stamps: number;
  rewards: number;
  /** Cashback balance (cents). */
  cashCents: number;
  /** Points / scores / reward progress (cents). */
  pointsCents: number;
  /** Multipass/reward visits; membership visits used in the current period. */
  visits: number;
  /** Stamp cards with spend mechanics: spend not yet turned into a stamp (cents). */
  spendRemainderCents: number;
  couponRedeemed: boolean;
  membershipTierId: number | null;
  membershipPeriod: string | null;
  membershipStartedAt: string | null;
  countVisits: number;
  totalRewardsEarned: number;
  totalRewardsRedeemed: number;
  lastVisitAt: string | null;
  lastRewardEarnedAt: string | null;
  lastRewardRedeemedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Operation {
  id: number;
  cardId: string;
  customerId: string;
  templateId: number;
  eventId: number;
  /** Op name, kept for debugging (GET /_sandbox/state); not on the wire. */
  op: string;
  amount: number | null;
  balance: number | null;
  purchaseSum: number | null;
  comment: string | null;
  createdAt: string;
}

export interface Push {
  id: number;
  templateId: number;
  cardId: string | null;
  message: string;
  scheduledAt: string | null;
  createdAt: string;
}

/**
 * How the simulator answers where the documents leave two readings open (set by an option or PUT /_sandbox/readings;
 * kept across resets, like the rate limit).
 */
export interface Readings {
  /** The Card balance field that holds a cashback card's points; the other one holds its cashback money. */
  cashbackPointsField: 'bonusBalance' | 'balance';
  /** What add/subtract-transaction-amount move: the amount itself, or the amount times the template's cashback %. */
  transactionAmountCredit: 'amount' | 'rate';
}

export const DEFAULT_READINGS: Readings = { cashbackPointsField: 'bonusBalance', transactionAmountCredit: 'amount' };

export interface Store {
  readings: Readings;
  templates: Map<number, Template>;
  customers: Map<string, Customer>;
  cards: Map<string, Card>;
  operations: Operation[];
  pushes: Push[];
  nextOperationId: number;
  nextPushId: number;
}

const SEEDED_AT = '2024-01-15T09:00:00.000Z';

const tier = (id: number, templateId: number, name: string, threshold: number): RewardTier => ({
  id,
  templateId,
  type: 0,
  name,
  threshold,
  value: null,
  valueLimit: null,
  usageLimit: null,
});

function seedTemplates(): Template[] {
  const t = (
    id: number,
    type: number,
    name: string,
    mechanics: Mechanics,
    extra: Partial<Template> = {},
  ): Template => ({
    id,
    type,
    name,
    mechanics,
    rewardTiers: [],
    createdAt: SEEDED_AT,
    ...extra,
  });
  return [
    t(101, 0, 'Coffee stamps', 'stamps', { stampsPerReward: 8 }),
    t(102, 0, 'Visit stamps', 'visit', { stampsPerReward: 10 }),
    t(103, 1, 'Cashback 5%', 'spend', { cashbackPercent: 5 }),
    t(104, 2, 'Multipass', 'visit'),
    t(105, 3, 'Welcome coupon -20%', 'visit', { couponDiscountPercent: 20 }),
    t(106, 4, 'Discount club', 'points', {
      discountLevels: [
        { threshold: 0, percent: 5 },
        { threshold: 100, percent: 10 },
        { threshold: 500, percent: 15 },
      ],
    }),
    t(107, 5, 'Gift certificate', 'points'),
    t(108, 6, 'Gym membership (limited)', 'visit', {
      limits: true,
      membershipTiers: [
        { id: 801, name: '10 visits', visitsLimit: 10 },
        { id: 802, name: '20 visits', visitsLimit: 20 },
      ],
    }),
    t(109, 6, 'Club membership (unlimited)', 'visit', {
      limits: false,
      membershipTiers: [{ id: 901, name: 'Unlimited', visitsLimit: null }],
    }),
    t(110, 7, 'Spend rewards', 'spend', {
      rewardTiers: [tier(1101, 110, 'Free coffee', 25), tier(1102, 110, 'Free lunch', 100)],
    }),
    t(111, 7, 'Points rewards', 'points', {
      rewardTiers: [tier(1111, 111, 'Free drink', 50), tier(1112, 111, 'Free meal', 200)],
    }),
    t(112, 0, 'Spend stamps', 'spend', { stampsPerReward: 6 }),
    t(113, 7, 'Visit rewards', 'visit', { rewardTiers: [tier(1131, 113, 'Free class', 5)] }),
  ];
}

export const SEED_CUSTOMERS = {
  first: 'cus_00000000000000000000000001',
  second: 'cus_00000000000000000000000002',
} as const;

/** Seeded card serials by key, and the template each one is issued from. */
export const SEED_CARDS = {
  stamp: ['100000-000-001', 101],
  stampVisit: ['100000-000-002', 102],
  cashback: ['100000-000-003', 103],
  multipass: ['100000-000-004', 104],
  coupon: ['100000-000-005', 105],
  discount: ['100000-000-006', 106],
  gift: ['100000-000-007', 107],
  membership: ['100000-000-008', 108],
  membershipUnlimited: ['100000-000-009', 109],
  rewardSpend: ['100000-000-010', 110],
  rewardPoints: ['100000-000-011', 111],
  stampSpend: ['100000-000-012', 112],
  rewardVisit: ['100000-000-013', 113],
} as const;

/** Starting balances of the seeded cards. */
const SEED_BALANCES: Record<keyof typeof SEED_CARDS, Partial<Card>> = {
  stamp: { stamps: 3, rewards: 1, totalRewardsEarned: 1 },
  stampVisit: { stamps: 2, countVisits: 2 },
  cashback: { cashCents: 1250, pointsCents: 4000 },
  multipass: { pointsCents: 10000, visits: 2, countVisits: 2 },
  coupon: {},
  discount: { pointsCents: 15000 },
  gift: { pointsCents: 5000 },
  membership: {
    visits: 3,
    countVisits: 3,
    membershipTierId: 801,
    membershipPeriod: 'month',
    membershipStartedAt: SEEDED_AT,
  },
  membershipUnlimited: {
    visits: 4,
    countVisits: 4,
    membershipTierId: 901,
    membershipPeriod: 'month',
    membershipStartedAt: SEEDED_AT,
  },
  rewardSpend: { pointsCents: 3500 },
  rewardPoints: { pointsCents: 12000 },
  stampSpend: { stamps: 1 },
  rewardVisit: { visits: 7, countVisits: 7 },
};

export const isExpired = (card: Card): boolean => card.expiresAt !== null && Date.parse(card.expiresAt) <= Date.now();

export function newCustomer(id: string, fields: Partial<Customer>, now: string): Customer {
  return {
    id,
    firstName: '',
    surname: null,
    email: null,
    phone: null,
    dateOfBirth: null,
    gender: null,
    externalUserId: null,
    createdAt: now,
    updatedAt: now,
    ltvCents: 0,
    ...fields,
  };
}

export function newCard(serial: string, template: Template, customerId: string, now: string): Card {
  const firstTier = template.membershipTiers?.[0];
  return {
    serial,
    templateId: template.id,
    customerId,
    status: 'not_installed',
    expiresAt: null,
    customFields: [],
    stamps: 0,
    rewards: 0,
    cashCents: 0,
    pointsCents: 0,
    visits: 0,
    spendRemainderCents: 0,
    couponRedeemed: false,
    membershipTierId: firstTier?.id ?? null,
    membershipPeriod: firstTier ? 'month' : null,
    membershipStartedAt: firstTier ? now : null,
    countVisits: 0,
    totalRewardsEarned: 0,
    totalRewardsRedeemed: 0,
    lastVisitAt: null,
    lastRewardEarnedAt: null,
    lastRewardRedeemedAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

export function seedStore(store: Store): void {
  store.templates = new Map(seedTemplates().map((t) => [t.id, t]));
  store.customers = new Map([
    [
      SEED_CUSTOMERS.first,
      newCustomer(
        SEED_CUSTOMERS.first,
        {
          firstName: 'Ada',
          surname: 'Lovelace',
          email: 'ada@example.com',
          phone: '+447700900001',
          dateOfBirth: '1985-12-10',
          gender: 2,
        },
        SEEDED_AT,
      ),
    ],
    [
      SEED_CUSTOMERS.second,
      newCustomer(
        SEED_CUSTOMERS.second,
        {
          firstName: 'Alan',
          surname: 'Turing',
          email: 'alan@example.com',
          phone: '+447700900002',
          gender: 1,
        },
        SEEDED_AT,
      ),
    ],
  ]);
  store.cards = new Map();
  for (const [key, [serial, templateId]] of Object.entries(SEED_CARDS) as [
    keyof typeof SEED_CARDS,
    readonly [string, number],
  ][]) {
    const card = newCard(serial, store.templates.get(templateId)!, SEED_CUSTOMERS.first, SEEDED_AT);
    Object.assign(card, { status: 'active' }, SEED_BALANCES[key]);
    store.cards.set(serial, card);
  }
  store.operations = [];
  store.pushes = [];
  store.nextOperationId = 1;
  store.nextPushId = 1;
}

export function createStore(readings: Partial<Readings> = {}): Store {
  const store = { readings: { ...DEFAULT_READINGS, ...readings } } as Store;
  seedStore(store);
  return store;
}

/** A fresh serial in the provider's "NNNNNN-NNN-NNN" format. */
export function newSerial(store: Store): string {
  for (;;) {
    const three = () => String(randomInt(0, 1000)).padStart(3, '0');
    const s = `${randomInt(200000, 1000000)}-${three()}-${three()}`;
    if (!store.cards.has(s)) return s;
  }
}

/** The mechanics/limits map the gateway needs in its connection settings, keyed by template id. */
export function templateSettings(): Record<string, { mechanics: Mechanics; limits?: boolean }> {
  const out: Record<string, { mechanics: Mechanics; limits?: boolean }> = {};
  for (const t of seedTemplates())
    out[String(t.id)] =
      t.limits === undefined ? { mechanics: t.mechanics } : { mechanics: t.mechanics, limits: t.limits };
  return out;
}
