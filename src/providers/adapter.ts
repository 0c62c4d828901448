import type { CardTypeCapabilities } from '../domain/capabilities.js';
import type {
  CreateCustomerBody,
  CustomerListQuery,
  CustomerResource,
  PageMeta,
  UpdateCustomerBody,
} from '../domain/customers.js';
import type { EarnedReward, Notification, Program } from '../domain/programs.js';
import type { TransactionType } from '../domain/transactions.js';
import type { Unit } from '../domain/units.js';

/**
 * What a provider's adapter (src/providers/<kind>/) implements: the translation of the gateway's
 * normalized operations into one provider's HTTP API, and of its answers back. What the gateway
 * knows of the provider without calling it (its card types, how it reconciles, its settings) is
 * its descriptor (descriptor.ts).
 *
 * Adapters know nothing of routes, queues, Redis, idempotency or the transaction store: a worker
 * (src/dispatch/transaction-job.ts) claims each transaction, calls `move`, and records the
 * outcome. An adapter only has to translate faithfully and to say, when a call fails, whether
 * the provider may have applied it (ProviderError.applied).
 *
 * References: the part of a gateway id after `<connection>:`. An adapter owns the format of its
 * references (e.g. Leal joins customer and customer card ids as `<customer>.<card>`).
 */

/**
 * A money value, exact: `decimal` is the canonical decimal string ("10.50"), `minor` the same in minor units (1050).
 */
export interface MoneyValue {
  decimal: string;
  minor: number;
  currency: string;
}

/**
 * A change to a card's balance, as the gateway's store recorded it. `txnId` must travel in the
 * provider's free-text field where it has one (Highlight `comment`, Loyalty.lt description /
 * order_id), so that an operation can be found again after a timeout.
 */
export interface Movement {
  /** award / redeem / adjust / expire, or the dedicated card operations. */
  operation: TransactionType;
  unit: Unit;
  /**
   * Positive whole quantity in `unit` (award, redeem, expire, visit); signed for adjust; 0 where none applies
   * (purchase, coupon).
   */
  quantity: number;
  /**
   * Money for `purchase` and `refund_purchase` (the amount spent or refunded) and for unit `amount`; the optional value
   * of a redeemed reward or coupon (added to LTV).
   */
  money: MoneyValue | null;
  /** The reward to redeem (redeem_reward). */
  rewardId: string | null;
  txnId: string;
  reason: string;
  referenceId: string | null;
  staff: string | null;
  /**
   * A key for providers that de-duplicate (Loyalty.lt order_id): unique to this transaction, the same whenever it is
   * sent.
   */
  dedupKey: string;
  /** Notify the customer (push, wallet pass update) where the provider lets the caller choose. */
  notify: boolean;
}

export interface MoveResult {
  /** The card's balance in `unit` right after, when the provider says (amount: minor units). */
  balanceAfter: number | null;
  /** The provider's id for the operation, when it gives one. */
  providerReference: string | null;
  /**
   * What a purchase did to the card, when the provider says: the unit it moved and the signed change
   * (Highlight cashback credits the amount; Loyalty.lt awards points by its rules). `balanceAfter`
   * is then in that unit. Without it a purchase is recorded as money spent, with no balance.
   * Also what a reward redemption cost (Leal: the stamps spent), recorded instead of one reward.
   */
  effect?: { unit: Unit; delta: number };
}

/** The balance of an external card, normalized. */
export interface ProviderBalance {
  nativeUnit: Unit;
  /** Everything the provider reports, by unit (amount: minor units). */
  units: Partial<Record<Unit, number>>;
  totalEarned: number | null;
  totalRedeemed: number | null;
}

/** One entry of the provider's own record of a card's operations. */
export interface ProviderHistoryEntry {
  providerReference: string;
  /**
   * Normalized: award for additions, redeem for subtractions, or
   * visit/purchase/redeem_reward/redeem_coupon/adjust/expire.
   */
  operation: Movement['operation'] | 'other';
  unit: Unit | null;
  /** Signed change in `unit` (0 when unknown). */
  delta: number;
  balanceAfter: number | null;
  /** The provider's free text (e.g. Highlight comment), which carries the gateway's txn id when the gateway made it. */
  comment: string | null;
  /** The gateway transaction id found in it, if any. */
  txnId: string | null;
  createdAt: number;
}

/** A card as the provider describes it, normalized (the gateway adds id, connection, capabilities). */
export interface ProviderCard {
  reference: string;
  cardType: string;
  status: 'active' | 'inactive' | 'expired' | 'voided';
  providerStatus: string | null;
  programReference: string | null;
  customerReference: string | null;
  customer: { first_name?: string; last_name?: string; email?: string; phone?: string; birthday?: string } | null;
  links: Record<string, string> | null;
  createdAt: number | null;
  updatedAt: number | null;
}

export interface Page<T> {
  data: T[];
  meta: PageMeta;
}

/** A customer as the adapter returns it (the gateway adds id and connection, and maps card refs to ids). */
export type ProviderCustomer = Omit<CustomerResource, 'id' | 'connection' | 'card_ids'> & { cardReferences: string[] };
export type ProviderProgram = Omit<Program, 'id' | 'connection' | 'capabilities'>;
export type ProviderNotification = Omit<Notification, 'connection'>;

export type CustomerFieldsInput = {
  first_name?: string;
  last_name?: string;
  email?: string;
  phone?: string;
  birthday?: string;
};

export interface IssueCardInput {
  customerReference: string | null;
  programReference: string | null;
  customer: ProviderCard['customer'];
  externalReference: string | null;
}

/** Cards of a customer or of a program, a page at a time. */
export interface ListCardsInput {
  customerReference?: string;
  programReference?: string;
  page: number;
  perPage: number;
}

/** A push: to some cards, to a program's cards, or (neither) to every card of the connection. */
export interface NotifyInput {
  message: string;
  cardReferences?: string[];
  programReference?: string;
  scheduledAt?: string;
}

export interface ProviderAdapter {
  /** What this card's type supports (the adapter may cache the card's type). Throws card_not_found. */
  cardCapabilities(reference: string): Promise<CardTypeCapabilities>;

  /** Applies a movement. Throws ProviderError on refusal or failure. */
  move(reference: string, movement: Movement): Promise<MoveResult>;

  /**
   * For reconcile 'lookup' (see the descriptor): the provider's record of this movement (by its txn id) made at or
   * after `sinceMs`, or null.
   */
  findApplied?(reference: string, movement: Movement, sinceMs: number): Promise<MoveResult | null>;

  balance(reference: string): Promise<ProviderBalance>;
  /**
   * The provider's own record, newest first, at most `limit` entries; undefined when the provider keeps none reachable.
   */
  history?(reference: string, opts: { limit: number; fromMs?: number; toMs?: number }): Promise<ProviderHistoryEntry[]>;

  getCard(reference: string): Promise<ProviderCard | null>;
  listCards?(q: ListCardsInput): Promise<Page<ProviderCard>>;
  issueCard?(input: IssueCardInput): Promise<ProviderCard>;
  deleteCard?(reference: string): Promise<void>;
  /** Ends a card at the provider (Coupontools void). */
  voidCard?(reference: string): Promise<ProviderCard>;

  listCustomers?(q: CustomerListQuery): Promise<Page<ProviderCustomer>>;
  getCustomer?(reference: string): Promise<ProviderCustomer | null>;
  createCustomer?(body: CreateCustomerBody & { programReference?: string }): Promise<ProviderCustomer>;
  updateCustomer?(reference: string, body: UpdateCustomerBody): Promise<ProviderCustomer>;
  deleteCustomer?(reference: string): Promise<void>;
  /** Creates many customers in one provider call (Coupontools bulk users: each is also a card of the program). */
  bulkCreateCustomers?(
    programReference: string,
    customers: CustomerFieldsInput[],
  ): Promise<{ created: number | null; cards: ProviderCard[] }>;

  listPrograms?(q: { page: number; perPage: number }): Promise<Page<ProviderProgram>>;
  getProgram?(reference: string): Promise<ProviderProgram | null>;
  copyProgram?(reference: string, name: string | undefined): Promise<ProviderProgram>;
  /** Rewards the card has earned (and used, where the provider keeps them). */
  rewards?(reference: string): Promise<EarnedReward[]>;

  listNotifications?(q: { page: number; perPage: number }): Promise<Page<ProviderNotification>>;
  getNotification?(id: string): Promise<ProviderNotification | null>;
  notify?(input: NotifyInput): Promise<ProviderNotification>;

  close(): Promise<void>;
}
