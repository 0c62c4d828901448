import type { Capabilities, Operation } from '../../domain/capabilities.js';
import type { Balance, HistoryPage, HistoryQuery, Transaction, TransactionType } from '../../domain/transactions.js';
import type { Money, Unit } from '../../domain/units.js';
import type { WriteRequest } from '../../idempotency/key.js';
import type { NewTransaction, TransactionRecord } from '../../store/transaction-record.js';
import type { IdempotencyScope } from '../../store/transaction-store.js';

/** A transaction request, whichever route it came from (points, card operations, bulk items). */
export interface TransactionInput {
  type: TransactionType;
  card_id: string;
  points?: number;
  unit?: Unit;
  /** Money: a purchase's amount, or the value of a redeemed reward or coupon. */
  amount?: Money;
  reward_id?: string;
  reason?: string;
  reference_id?: string;
  expires_at?: string;
  staff?: string;
  metadata?: Record<string, unknown>;
  before?: string;
}

export interface ReversalInput {
  points?: number;
  reason?: string;
  reference_id?: string;
  staff?: string;
}

/** Who asks, and how: what idempotency is judged on, and how long to wait for a provider. */
export interface CallContext extends WriteRequest {
  /** `Prefer: respond-async`: answer as soon as the transaction is queued. */
  respondAsync?: boolean;
  /** `Prefer: wait=N`: wait at most this long (ms) for a provider (never longer than DISPATCH_WAIT_MS). */
  waitMs?: number;
  /** Bulk items: queued at bulk priority, never waited for. */
  lane?: 'write' | 'bulk';
}

/** What a transaction request comes to. A refusal, a failure or a transaction kept for review is thrown instead. */
export interface TransactionOutcome {
  /** done: the transaction is applied; accepted: queued, or still running at the provider (poll it). */
  state: 'done' | 'accepted';
  transaction: Transaction;
  /** The answer of an earlier request with the same Idempotency-Key or reference_id. */
  replayed: boolean;
  /** Accepted because the client asked for it (Prefer: respond-async). */
  asyncPreferred?: boolean;
}

/** A new transaction and the keys it is claimed under, ready for an engine. */
export interface Submission {
  txn: NewTransaction;
  idem: IdempotencyScope | undefined;
  naturalKey: string | undefined;
  ctx: CallContext;
}

/**
 * How a connection applies transactions: the built-in ledger in the request
 * (builtin-engine.ts), or a provider through its connection's queue (dispatched-engine.ts). What
 * is the same for both (capabilities, validation, ids, idempotency) is points-service.ts's.
 */
export interface PointsEngine {
  /** Whether transactions go to a provider's queue, where a worker applies them. */
  readonly dispatched: boolean;
  /** Refuses the fields this engine has no place for (a provider's expiry, the built-in ledger's money). */
  check(input: TransactionInput): void;
  /** When points awarded now expire, when the request names no date (null: never, or the provider's rule). */
  defaultExpiry(now: number): number | null;
  /** The change an expire of `points` records when it is claimed (the built-in ledger finds it only when applied). */
  expireDelta(points: number | null): number;
  /** The amount and direction of a reversal of `orig` (all that is left without `asked`). */
  reversal(orig: TransactionRecord, asked: number | undefined): { points: number | null; delta: number };
  /** Claims the transaction once (whatever the retries), has it applied, and answers. */
  submit(s: Submission): Promise<TransactionOutcome>;
}

/**
 * What the points services need of a connection and of the connection registry
 * (src/services/connections provides both; the points services name only this).
 */
export interface PointsConnection {
  readonly id: string;
  readonly engine: PointsEngine;
  balance(cardId: string): Promise<Balance | null>;
  history(cardId: string, query: HistoryQuery): Promise<HistoryPage | null>;
  /** A write the gateway made to the card outside a transaction job: no cached balance survives it. */
  invalidateBalance(cardId: string): Promise<void>;
}

export interface PointsConnections {
  get(connectionId: string): PointsConnection;
  forCard(cardId: string): PointsConnection;
  /**
   * The card's connection and capabilities, when the card supports `op` (and counts in `unit`); else
   * unsupported_operation.
   */
  requireOperation(cardId: string, op: Operation, unit?: Unit): Promise<{ conn: PointsConnection; caps: Capabilities }>;
}
