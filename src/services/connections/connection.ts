import type { ConnectionConfig } from '../../config/connections.js';
import type { Capabilities } from '../../domain/capabilities.js';
import type { Card, CreateCardBody } from '../../domain/cards.js';
import type { Balance, HistoryPage, HistoryQuery } from '../../domain/transactions.js';
import type { ProviderAdapter } from '../../providers/adapter.js';
import type { PointsEngine } from '../points/engine.js';
import type { ViewContext } from './views.js';

/**
 * One configured connection, whatever holds its points: the built-in ledger
 * (builtin-connection.ts) or a provider (provider-connection.ts). The services use this and
 * never ask which it is; what differs is behind `engine` (how a transaction is applied) and the
 * optional parts each kind has.
 */
export interface Connection {
  readonly id: string;
  readonly config: ConnectionConfig;
  /** Everything any of its cards supports, plus what the connection itself offers. */
  readonly capabilities: Capabilities;
  /** How its transactions are applied: in the request, or through its provider's queue. */
  readonly engine: PointsEngine;
  /** Capabilities of one card (a provider may support less on some card types). */
  cardCapabilities(cardId: string): Promise<Capabilities>;
  balance(cardId: string): Promise<Balance | null>;
  history(cardId: string, query: HistoryQuery): Promise<HistoryPage | null>;
  getCard(cardId: string): Promise<Card | null>;
  /** Forgets what was remembered of a card (deleted, voided). */
  forgetCard(cardId: string): void;
  /**
   * A write the gateway made to the card outside a transaction job (an admin's resolution): no cached balance survives
   * it.
   */
  invalidateBalance(cardId: string): Promise<void>;
  /** Cards the gateway issues and blocks itself (the built-in ledger). */
  readonly ownCards?: {
    issue(cardId: string, body: CreateCardBody, now: number): Promise<{ card: Card; created: boolean }>;
    setStatus(cardId: string, status: 'active' | 'blocked', reason: string | null): Promise<Card | null>;
  };
  /** The provider behind a provider connection: its adapter with every call queued, and how its objects are shown. */
  readonly provider?: { api: ProviderAdapter; view: ViewContext };
}
