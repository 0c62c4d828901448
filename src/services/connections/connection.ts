import type { GatewayError } from '../../domain/errors.js';
import type { Balance, HistoryEntry } from '../../domain/transactions.js';
import type { Card, CreateCardBody } from '../../domain/cards.js';
import type { ConnectionConfig } from '../../config/connections.js';
import type { Unit } from '../../domain/units.js';

/** Normalized operations a connection (and a card on it) can support. */
export const OPERATIONS = [
  'award',
  'redeem',
  'adjust',
  'expire',
  'reverse',
  'balance',
  'history',
  'issue_card',
  'get_card',
  'list_cards',
  'delete_card',
  'block_card',
  'void_card',
  'visit',
  'purchase',
  'refund_purchase',
  'rewards',
  'redeem_reward',
  'redeem_coupon',
  'notify',
  'customers',
  'delete_customer',
  'programs',
  'copy_program',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface Capabilities {
  operations: Operation[];
  units: Unit[];
  native_unit?: Unit;
  card_types?: { card_type: string; operations: Operation[]; units: Unit[]; native_unit: Unit }[];
}

export type ApplyOutcome =
  /** Applied and recorded: the transaction is now succeeded. */
  | {
      kind: 'applied';
      balanceAfter: number | null;
      delta: number;
      points: number;
      completedAt: number;
      providerReference?: string | null;
      unit?: Unit;
    }
  /** Already past processing (a duplicate apply, or a takeover after a crash). */
  | { kind: 'already' }
  /** Refused before anything changed; the claim is released. */
  | { kind: 'rejected'; error: GatewayError };

export interface HistoryQuery {
  type?: string;
  fromMs?: number;
  toMs?: number;
  referenceId?: string;
  staff?: string;
  limit: number;
  /** The last id of the previous page. */
  after?: string;
}

export interface HistoryPage {
  ids: string[];
  /** Entries already rendered (external providers merge their own record in); else `ids` are rendered from the ledger. */
  entries?: HistoryEntry[];
  /** The last id looked at, when older entries remain. */
  next: string | null;
}

/**
 * What the gateway needs of a provider. One instance per configured connection. Applying a
 * transaction is each kind's own: the built-in ledger in the request (BuiltinLedger.apply), an
 * external provider through its connection's queue (src/queue/transaction-job.ts).
 */
export interface Connection {
  readonly connection: ConnectionConfig;
  readonly capabilities: Capabilities;
  /** Capabilities of one card (a provider may support less on some card types). */
  cardCapabilities(cardId: string): Promise<Capabilities>;
  balance(cardId: string): Promise<Balance | null>;
  history(cardId: string, query: HistoryQuery): Promise<HistoryPage | null>;
  issueCard?(cardId: string, body: CreateCardBody, now: number): Promise<{ card: Card; created: boolean }>;
  getCard(cardId: string): Promise<Card | null>;
  setCardStatus?(cardId: string, status: 'active' | 'blocked', reason: string | null): Promise<Card | null>;
}
