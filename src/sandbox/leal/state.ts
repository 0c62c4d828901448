import { randomUUID } from 'node:crypto';

/** In-memory state of the Leal sandbox: plain maps keyed by id, restored from the seed on reset. */

export interface Account {
  id: number;
  name: string;
}

export interface CardTemplate {
  id: number;
  account_id: number;
  name: string;
  description: string;
  stamps_required: number;
  created_at: string;
  updated_at: string;
}

export interface Reward {
  id: number;
  account_id: number;
  card_id: number;
  name: string;
  description: string;
  stamps_required: number;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface ExternalReference {
  source: string;
  external_id: string;
}

export interface Customer {
  id: number;
  account_id: number;
  first_name: string;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  birthday: string | null;
  metadata: Record<string, unknown>;
  external_references: ExternalReference[];
  created_at: string;
  updated_at: string;
}

export interface CustomerCard {
  id: number;
  account_id: number;
  customer_id: number;
  card_id: number;
  uuid: string;
  stamps_count: number;
  status: string;
  pass_installed: boolean;
  issued_at: string;
  created_at: string;
  updated_at: string;
}

export interface LedgerEntry {
  id: number;
  account_id: number;
  customer_id: number;
  customer_card_id: number;
  event: 'stamp.earned' | 'reward.redeemed';
  /** Signed change of the card's stamps. */
  stamps: number;
  balance_after: number;
  reward_id: number | null;
  notification: 'sent' | 'skipped';
  created_at: string;
}

export interface Redemption {
  id: number;
  account_id: number;
  customer_id: number;
  customer_card_id: number;
  reward_id: number;
  reward_name: string;
  stamps_spent: number;
  stamps_remaining: number;
  redeemed_at: string;
}

/** Readings the documents leave open; the simulator serves either (createLealSandbox options). */
export interface Readings {
  /** The reward field, on the wire, that holds its stamp cost. */
  rewardCostField: 'stamps_required' | 'stamps_cost';
  /** Whether the redeem answer carries stamps_spent and stamps_remaining (seed 004 shows no answer body). */
  redemptionStamps: boolean;
}

export const DEFAULT_READINGS: Readings = { rewardCostField: 'stamps_required', redemptionStamps: true };

/** Push notifications and card-link messages the real service would have sent. */
export interface Notifications {
  sent: number;
  skipped: number;
  card_links_sent: number;
}

export const SEED = {
  accountId: 4242,
  cardId: 7,
  rewardActiveId: 71,
  rewardInactiveId: 72,
  /** Enrolled in card 7 with 12 stamps (a "Free coffee" is redeemable). */
  customerWithStampsId: 301,
  customerCardWithStampsId: 501,
  /** Enrolled fresh in card 7 (0 stamps). */
  customerFreshId: 302,
  customerCardFreshId: 502,
  customerWithStamps: { email: 'ana.silva@example.com', phone: '+15550100001', source: 'pos', external_id: 'POS-0001' },
  customerFresh: { email: 'ben.okafor@example.com', source: 'shopify', external_id: 'SHOP-0002' },
  customerCardUuids: { 501: '5e1d0000-0000-4000-8000-000000000501', 502: '5e1d0000-0000-4000-8000-000000000502' },
} as const;

const T0 = '2025-01-15T10:00:00.000Z';

export class LealStore {
  accounts = new Map<number, Account>();
  cards = new Map<number, CardTemplate>();
  rewards = new Map<number, Reward>();
  customers = new Map<number, Customer>();
  customerCards = new Map<number, CustomerCard>();
  ledger: LedgerEntry[] = [];
  redemptions: Redemption[] = [];
  notifications: Notifications = { sent: 0, skipped: 0, card_links_sent: 0 };
  private next = { customer: 303, customerCard: 503, ledger: 1, redemption: 9001 };

  constructor(readonly readings: Readings = DEFAULT_READINGS) {
    this.load();
  }

  /** Restores the seed (drops everything created since). */
  load(): void {
    this.accounts = new Map([[SEED.accountId, { id: SEED.accountId, name: 'Sandbox Coffee Shop' }]]);
    this.cards = new Map([
      [
        SEED.cardId,
        {
          id: SEED.cardId,
          account_id: SEED.accountId,
          name: 'Coffee card',
          description: 'Collect 10 stamps for a free coffee',
          stamps_required: 10,
          created_at: T0,
          updated_at: T0,
        },
      ],
    ]);
    const reward = (id: number, name: string, stamps: number, active: boolean): [number, Reward] => [
      id,
      {
        id,
        account_id: SEED.accountId,
        card_id: SEED.cardId,
        name,
        description: name,
        stamps_required: stamps,
        active,
        created_at: T0,
        updated_at: T0,
      },
    ];
    this.rewards = new Map([
      reward(SEED.rewardActiveId, 'Free coffee', 10, true),
      reward(SEED.rewardInactiveId, 'Free cake', 15, false),
    ]);
    const a = SEED.customerWithStamps;
    const b = SEED.customerFresh;
    this.customers = new Map<number, Customer>([
      [
        SEED.customerWithStampsId,
        {
          id: SEED.customerWithStampsId,
          account_id: SEED.accountId,
          first_name: 'Ana',
          last_name: 'Silva',
          email: a.email,
          phone: a.phone,
          birthday: '1990-04-12',
          metadata: { tier: 'gold' },
          external_references: [{ source: a.source, external_id: a.external_id }],
          created_at: T0,
          updated_at: T0,
        },
      ],
      [
        SEED.customerFreshId,
        {
          id: SEED.customerFreshId,
          account_id: SEED.accountId,
          first_name: 'Ben',
          last_name: 'Okafor',
          email: b.email,
          phone: null,
          birthday: null,
          metadata: {},
          external_references: [{ source: b.source, external_id: b.external_id }],
          created_at: T0,
          updated_at: T0,
        },
      ],
    ]);
    const cc = (id: 501 | 502, customerId: number, stamps: number, installed: boolean): [number, CustomerCard] => [
      id,
      {
        id,
        account_id: SEED.accountId,
        customer_id: customerId,
        card_id: SEED.cardId,
        uuid: SEED.customerCardUuids[id],
        stamps_count: stamps,
        status: 'active',
        pass_installed: installed,
        issued_at: T0,
        created_at: T0,
        updated_at: T0,
      },
    ];
    this.customerCards = new Map([
      cc(501, SEED.customerWithStampsId, 12, true),
      cc(502, SEED.customerFreshId, 0, false),
    ]);
    this.ledger = [];
    this.redemptions = [];
    this.notifications = { sent: 0, skipped: 0, card_links_sent: 0 };
    this.next = { customer: 303, customerCard: 503, ledger: 1, redemption: 9001 };
  }

  nextId(kind: keyof LealStore['next']): number {
    const id = this.next[kind];
    this.next[kind] += 1;
    return id;
  }

  cardsOfCustomer(customerId: number): CustomerCard[] {
    return [...this.customerCards.values()].filter((c) => c.customer_id === customerId).sort((x, y) => x.id - y.id);
  }

  enrol(customer: Customer, card: CardTemplate): CustomerCard {
    const now = new Date().toISOString();
    const cc: CustomerCard = {
      id: this.nextId('customerCard'),
      account_id: customer.account_id,
      customer_id: customer.id,
      card_id: card.id,
      uuid: randomUUID(),
      stamps_count: 0,
      status: 'active',
      pass_installed: false,
      issued_at: now,
      created_at: now,
      updated_at: now,
    };
    this.customerCards.set(cc.id, cc);
    return cc;
  }

  snapshot(): unknown {
    return {
      accounts: [...this.accounts.values()],
      cards: [...this.cards.values()],
      rewards: [...this.rewards.values()],
      customers: [...this.customers.values()],
      customer_cards: [...this.customerCards.values()],
      ledger: this.ledger,
      redemptions: this.redemptions,
      notifications: this.notifications,
    };
  }
}

/** Email compared case-insensitively; phone by its digits only (uniqueness per store). */
export const emailKey = (e: string | null): string | null => (e ? e.trim().toLowerCase() : null);
export const phoneKey = (p: string | null): string | null => (p ? p.replace(/\D/g, '') : null);
