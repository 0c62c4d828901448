import type {
  CreateCustomerBody,
  CustomerListQuery,
  CustomerResource,
  PageMeta,
  UpdateCustomerBody,
} from '../domain/customers.js';
import type { EarnedReward, Notification, Program } from '../domain/programs.js';
import type { Unit } from '../domain/units.js';
import type { Operation } from '../domain/capabilities.js';

/**
 * What an external provider's adapter (src/providers/<name>/) implements: the translation of the
 * gateway's normalized operations into one provider's HTTP API, and of its answers back.
 *
 * Adapters know nothing of Redis, idempotency or the transaction ledger: ProviderConnection
 * (external-provider.ts) claims each transaction in the ledger, calls `move`, and records the
 * outcome. An adapter only has to translate faithfully and to say, when a call fails, whether
 * the provider may have applied it (ProviderError.applied).
 *
 * References: the part of a gateway id after `<connection>:`. An adapter owns the format of its
 * references (e.g. Leal joins customer and customer card ids as `<customer>.<card>`).
 */

export type { Unit };

/** What one card type supports. */
export interface CardTypeCapabilities {
  /** The provider's card type name, lower case (stamp, cashback, ...; `points` when there is one kind). */
  cardType: string;
  operations: Operation[];
  units: Unit[];
  /** The unit of award/redeem when the request names none. */
  nativeUnit: Unit;
}

/** A money value, exact: `decimal` is the canonical decimal string ("10.50"), `minor` the same in minor units (1050). */
export interface MoneyValue {
  decimal: string;
  minor: number;
  currency: string;
}

/**
 * A change to a card's balance, as the gateway's ledger recorded it. `txnId` must travel in the
 * provider's free-text field where it has one (Highlight `comment`, Loyalty.lt description /
 * order_id), so that an operation can be found again after a timeout.
 */
export interface Movement {
  /** award / redeem / adjust / expire, or the dedicated card operations. */
  operation:
    | 'award'
    | 'redeem'
    | 'adjust'
    | 'expire'
    | 'visit'
    | 'purchase'
    | 'refund_purchase'
    | 'redeem_reward'
    | 'redeem_coupon';
  unit: Unit;
  /** Positive whole quantity in `unit` (award, redeem, expire, visit); signed for adjust; 0 where none applies (purchase, coupon). */
  quantity: number;
  /** Money for `purchase` and `refund_purchase` (the amount spent or refunded) and for unit `amount`; the optional value of a redeemed reward or coupon (added to LTV). */
  money: MoneyValue | null;
  /** The reward to redeem (redeem_reward). */
  rewardId: string | null;
  txnId: string;
  reason: string;
  referenceId: string | null;
  staff: string | null;
  /** A key for providers that de-duplicate (Loyalty.lt order_id): unique to this transaction, the same whenever it is sent. */
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
  /** Normalized: award for additions, redeem for subtractions, or visit/purchase/redeem_reward/redeem_coupon/adjust/expire. */
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

export interface ProviderAdapter {
  /** The connection-level matrix: every card type this provider has, and what each supports. */
  readonly cardTypes: CardTypeCapabilities[];

  /** What this card's type supports (the adapter may cache the card's type). Throws card_not_found. */
  cardCapabilities(reference: string): Promise<CardTypeCapabilities>;

  /** Applies a movement. Throws ProviderError on refusal or failure. */
  move(reference: string, movement: Movement): Promise<MoveResult>;

  /**
   * How a movement whose outcome is unknown (a timeout or a 5xx after it was sent) is settled
   * before anything is sent again (src/queue/transaction-job.ts):
   *  - 'lookup': findApplied searches the provider's records for the movement's txn id; found, it
   *    succeeded; not found, it was not applied and may be sent again;
   *  - 'resend': the provider de-duplicates on `dedupKey`, so sending it again is safe;
   *  - 'none': there is no way to tell; the transaction is kept as needs_review for a person.
   */
  readonly reconcile: 'lookup' | 'resend' | 'none';

  /** Where the answer depends on the movement (Loyalty.lt: only transactions/create de-duplicates); else `reconcile`. */
  reconcileFor?(movement: Movement): 'lookup' | 'resend' | 'none';

  /** For reconcile 'lookup': the provider's record of this movement (by its txn id) made at or after `sinceMs`, or null. */
  findApplied?(reference: string, movement: Movement, sinceMs: number): Promise<MoveResult | null>;

  balance(reference: string): Promise<ProviderBalance>;
  /** The provider's own record, newest first, at most `limit` entries; undefined when the provider keeps none reachable. */
  history?(reference: string, opts: { limit: number; fromMs?: number; toMs?: number }): Promise<ProviderHistoryEntry[]>;

  getCard(reference: string): Promise<ProviderCard | null>;
  listCards?(q: {
    customerReference?: string;
    programReference?: string;
    page: number;
    perPage: number;
  }): Promise<Page<ProviderCard>>;
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
  /** What a card of this program supports, where it depends on the program (Highlight template mechanics). */
  programCapabilities?(program: ProviderProgram): CardTypeCapabilities | null;

  /** Rewards the card has earned (and used, where the provider keeps them). */
  rewards?(reference: string): Promise<EarnedReward[]>;

  listNotifications?(q: { page: number; perPage: number }): Promise<Page<ProviderNotification>>;
  getNotification?(id: string): Promise<ProviderNotification | null>;
  notify?(input: {
    message: string;
    cardReferences?: string[];
    programReference?: string;
    scheduledAt?: string;
  }): Promise<ProviderNotification>;

  close(): Promise<void>;
}
