/** In-memory state of the Loyalty.lt sandbox: users, loyalty cards, the transaction ledger and the order_id index. */
import { GATEWAY_TXN_ID, tallyTxnIds, txnIdInText } from '../harness.js';

export interface User {
  id: number;
  name: string | null;
  email: string;
  phone: string | null;
  created_at: string;
}

export type CardStatus = 'active' | 'inactive' | 'blocked';

export interface Card {
  id: number;
  user_id: number;
  partner_card_id: number;
  card_number: string;
  /** QR code UUID; also accepted wherever a `card_number` is. */
  qr_code: string;
  status: CardStatus;
  /** Available (non-expired) points. */
  points: number;
  total_points_earned: number;
  /** Points that left the card by redemption (`spent`) or deduction (`refund`). */
  total_points_redeemed: number;
  created_at: string;
  updated_at: string;
}

export type TxnType = 'earned' | 'spent' | 'refund' | 'expired';

export interface Txn {
  id: number;
  type: TxnType;
  /** Always positive; `type` gives the direction. */
  points: number;
  balance_after: number;
  loyalty_card_id: number;
  user_id: number;
  order_id: string | null;
  /** Money kept in integer cents so sums stay exact. */
  order_total_cents: number | null;
  currency: string | null;
  points_discount_cents: number | null;
  description: string | null;
  shop_id: number | null;
  cart_items: unknown[] | null;
  meta_data: unknown;
  created_at: string;
}

/** Documented seed ids (also exported through the sandbox's `seed`). */
export const SEED = {
  partnerCardId: 1,
  shopId: 1,
  pointsPerEuro: 1,
  users: {
    alice: { id: 1, email: 'alice@example.com' },
    bob: { id: 2, email: 'bob@example.com' },
    blocked: { id: 3, email: 'blocked@example.com' },
  },
  cards: {
    /** User 1's active card with 500 points (one seeded `earned` transaction, order SEED-ORDER-1001). */
    active: {
      card_id: 101,
      card_number: '100-000-101',
      qr_code: '6f1c2a4e-0101-4d7a-9b1e-000000000101',
      user_id: 1,
      points: 500,
    },
    /** User 2's active card with 0 points. */
    empty: {
      card_id: 102,
      card_number: '100-000-102',
      qr_code: '6f1c2a4e-0102-4d7a-9b1e-000000000102',
      user_id: 2,
      points: 0,
    },
    /** User 3's blocked card (is_active false) with 50 points: earning, redeeming and deducting → 403. */
    inactive: {
      card_id: 103,
      card_number: '100-000-103',
      qr_code: '6f1c2a4e-0103-4d7a-9b1e-000000000103',
      user_id: 3,
      points: 50,
    },
  },
  /** An order_id already processed: creating a transaction with it again → 409. */
  processedOrderId: 'SEED-ORDER-1001',
} as const;

const SEED_TIME = '2025-01-15T10:00:00.000Z';

/** "XXX-XXX-XXX" from the card id, e.g. 104 → "100-000-104". */
export function cardNumberFor(id: number): string {
  const digits = String(100_000_000 + id)
    .padStart(9, '0')
    .slice(-9);
  return `${digits.slice(0, 3)}-${digits.slice(3, 6)}-${digits.slice(6)}`;
}

export class LoyaltyltState {
  users = new Map<number, User>();
  cards = new Map<number, Card>();
  txns: Txn[] = [];
  /** order_id → id of the transaction that processed it (de-duplication of transactions/create). */
  orders = new Map<string, number>();
  private nextUser = 4;
  private nextCard = 104;
  private nextTxn = 5001;

  constructor() {
    this.seed();
  }

  seed(): void {
    this.users.clear();
    this.cards.clear();
    this.txns = [];
    this.orders.clear();
    this.nextUser = 4;
    this.nextCard = 104;
    this.nextTxn = 5001;
    const names: Record<number, string> = { 1: 'Alice Sandbox', 2: 'Bob Sandbox', 3: 'Blocked Sandbox' };
    for (const u of Object.values(SEED.users)) {
      this.users.set(u.id, { id: u.id, name: names[u.id] ?? null, email: u.email, phone: null, created_at: SEED_TIME });
    }
    for (const [key, c] of Object.entries(SEED.cards)) {
      this.cards.set(c.card_id, {
        id: c.card_id,
        user_id: c.user_id,
        partner_card_id: SEED.partnerCardId,
        card_number: c.card_number,
        qr_code: c.qr_code,
        status: key === 'inactive' ? 'blocked' : 'active',
        // Balances come from the seeded ledger rows below.
        points: 0,
        total_points_earned: 0,
        total_points_redeemed: 0,
        created_at: SEED_TIME,
        updated_at: SEED_TIME,
      });
    }
    // Seed history so balances reconcile with the ledger.
    this.record(
      {
        type: 'earned',
        points: 500,
        card: this.cards.get(101)!,
        order_id: SEED.processedOrderId,
        order_total_cents: 50_000,
        currency: 'EUR',
        description: 'Seed purchase',
        shop_id: SEED.shopId,
      },
      SEED_TIME,
    );
    this.record(
      {
        type: 'earned',
        points: 50,
        card: this.cards.get(103)!,
        order_id: 'SEED-ORDER-1003',
        order_total_cents: 5_000,
        currency: 'EUR',
        description: 'Seed purchase',
        shop_id: SEED.shopId,
      },
      SEED_TIME,
    );
  }

  userByEmail(email: string): User | undefined {
    const e = email.toLowerCase();
    for (const u of this.users.values()) if (u.email.toLowerCase() === e) return u;
    return undefined;
  }

  /** Accepts the human number "XXX-XXX-XXX" or the QR UUID. */
  cardByNumber(num: string): Card | undefined {
    const n = num.trim().toLowerCase();
    for (const c of this.cards.values()) if (c.card_number === n || c.qr_code === n) return c;
    return undefined;
  }

  cardsOfUser(userId: number): Card[] {
    return [...this.cards.values()].filter((c) => c.user_id === userId).sort((a, b) => a.id - b.id);
  }

  createUser(email: string): User {
    const u: User = { id: this.nextUser++, name: null, email, phone: null, created_at: new Date().toISOString() };
    this.users.set(u.id, u);
    return u;
  }

  createCard(userId: number): Card {
    const id = this.nextCard++;
    const now = new Date().toISOString();
    const c: Card = {
      id,
      user_id: userId,
      partner_card_id: SEED.partnerCardId,
      card_number: cardNumberFor(id),
      qr_code: `6f1c2a4e-${String(id).padStart(4, '0').slice(-4)}-4d7a-9b1e-${String(id).padStart(12, '0')}`,
      status: 'active',
      points: 0,
      total_points_earned: 0,
      total_points_redeemed: 0,
      created_at: now,
      updated_at: now,
    };
    this.cards.set(id, c);
    return c;
  }

  /** Appends a ledger row and moves the card's balance and totals accordingly. */
  record(
    t: {
      type: TxnType;
      points: number;
      card: Card;
      order_id?: string | null;
      order_total_cents?: number | null;
      currency?: string | null;
      points_discount_cents?: number | null;
      description?: string | null;
      shop_id?: number | null;
      cart_items?: unknown[] | null;
      meta_data?: unknown;
    },
    at = new Date().toISOString(),
  ): Txn {
    const c = t.card;
    if (t.type === 'earned') {
      c.points += t.points;
      c.total_points_earned += t.points;
    } else {
      c.points -= t.points;
      if (t.type !== 'expired') c.total_points_redeemed += t.points;
    }
    c.updated_at = at;
    const txn: Txn = {
      id: this.nextTxn++,
      type: t.type,
      points: t.points,
      balance_after: c.points,
      loyalty_card_id: c.id,
      user_id: c.user_id,
      order_id: t.order_id ?? null,
      order_total_cents: t.order_total_cents ?? null,
      currency: t.currency ?? null,
      points_discount_cents: t.points_discount_cents ?? null,
      description: t.description ?? null,
      shop_id: t.shop_id ?? null,
      cart_items: t.cart_items ?? null,
      meta_data: t.meta_data ?? null,
      created_at: at,
    };
    this.txns.push(txn);
    if (t.order_id && t.type === 'earned' && !this.orders.has(t.order_id)) this.orders.set(t.order_id, txn.id);
    return txn;
  }

  /**
   * Applied operations per gateway txn id. One operation = one `earned` row (transactions/create; a
   * redemption's `spent` row belongs to the same call and is not counted again) or one `refund` row
   * (deduct-points). The adapter sends the txn id as `order_id` on transactions/create and as a
   * "[lgw:<txnId>]" tag in `description` everywhere (also `meta_data.gateway_txn_id` on create).
   */
  appliedByTxn(): Record<string, number> {
    return tallyTxnIds(this.txns.filter((t) => t.type !== 'spent').map(gatewayTxnIdOf));
  }

  snapshot(): unknown {
    return {
      users: [...this.users.values()],
      cards: [...this.cards.values()],
      transactions: this.txns,
      processed_orders: Object.fromEntries(this.orders),
    };
  }
}

/** The gateway txn id a ledger row carries: its order_id, else the description's tag, else meta_data.gateway_txn_id. */
function gatewayTxnIdOf(t: Txn): string | null {
  if (t.order_id !== null && GATEWAY_TXN_ID.test(t.order_id)) return t.order_id;
  const tagged = txnIdInText(t.description);
  if (tagged) return tagged;
  const meta = t.meta_data as { gateway_txn_id?: unknown } | null;
  const id = meta && typeof meta === 'object' ? meta.gateway_txn_id : undefined;
  return typeof id === 'string' && GATEWAY_TXN_ID.test(id) ? id : null;
}
