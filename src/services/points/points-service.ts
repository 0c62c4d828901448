import { GatewayError } from '../../domain/errors.js';
import type { HistoryEntry, HistoryQuery, Transaction } from '../../domain/transactions.js';
import type { Unit } from '../../domain/units.js';
import { scopeOf } from '../../idempotency/key.js';
import type { KeySpace } from '../../redis/keys.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { CallContext, PointsConnections, ReversalInput, TransactionInput, TransactionOutcome } from './engine.js';
import { newTransaction, reversalTransaction } from './transaction-input.js';
import { transactionView } from './transaction-view.js';

/**
 * Points on any connection: award, redeem, adjust, expire and the card operations (visits,
 * purchases, rewards, coupons), reversals, balances and history. What is the same everywhere is
 * here (the card's capabilities, the checks, the transaction's ids and keys); applying it is the
 * connection's engine's (engine.ts).
 */
export class PointsService {
  /** Points held on a card by active holds at checkout (set by the gateway: src/services/holds/). */
  heldOn: ((cardId: string, unit: Unit) => Promise<number>) | null = null;
  /** Points of shop orders still in their return window (set by the gateway: src/services/orders/). */
  pendingOn: ((cardId: string) => Promise<number>) | null = null;

  constructor(
    private readonly store: TransactionStore,
    private readonly keys: KeySpace,
    private readonly connections: PointsConnections,
  ) {}

  /** A transaction on a card, applied once whatever the retries. `idemSuffix` names one item of a bulk. */
  async transact(input: TransactionInput, ctx: CallContext, idemSuffix = ''): Promise<TransactionOutcome> {
    const { conn, caps } = await this.connections.requireOperation(input.card_id, input.type, input.unit);
    const txn = newTransaction(input, { connection: conn.id, caps, engine: conn.engine, clientId: ctx.clientId });
    const naturalKey =
      input.reference_id !== undefined
        ? this.keys.naturalKey(input.card_id, input.type, input.reference_id)
        : undefined;
    return conn.engine.submit({ txn, idem: scopeOf(this.keys, ctx, idemSuffix), naturalKey, ctx });
  }

  /** A compensating transaction for an order cancelled or refunded: full or partial. */
  async reverse(originalId: string, body: ReversalInput, ctx: CallContext): Promise<TransactionOutcome> {
    const orig = await this.store.get(originalId);
    if (!orig) throw new GatewayError('transaction_not_found', `No transaction ${originalId}.`);
    if (
      !['award', 'redeem', 'adjust'].includes(orig.type) ||
      orig.reversal_of !== null ||
      orig.status !== 'succeeded'
    ) {
      throw new GatewayError(
        'transaction_not_reversible',
        orig.reversal_of !== null
          ? `Transaction ${originalId} is itself a reversal; make an adjustment instead.`
          : orig.status !== 'succeeded'
            ? `Transaction ${originalId} is ${orig.status}; only succeeded transactions can be reversed.`
            : `Only award, redeem and adjust transactions can be reversed; ${originalId} is an ${orig.type}.`,
      );
    }
    const { conn } = await this.connections.requireOperation(orig.card_id, 'reverse');
    const txn = reversalTransaction(orig, body, { engine: conn.engine, clientId: ctx.clientId });
    // A full reversal happens once; a partial one is keyed by its reference_id.
    const natural =
      body.points === undefined
        ? `${originalId}:full`
        : body.reference_id !== undefined
          ? `${originalId}:ref:${body.reference_id}`
          : undefined;
    const naturalKey = natural !== undefined ? this.keys.naturalKey(orig.card_id, 'reversal', natural) : undefined;
    return conn.engine.submit({ txn, idem: scopeOf(this.keys, ctx), naturalKey, ctx });
  }

  /** Whether a transaction on this card goes to a provider's queue (false for an unknown connection). */
  isDispatched(cardId: unknown): boolean {
    if (typeof cardId !== 'string') return false;
    try {
      return this.connections.forCard(cardId).engine.dispatched;
    } catch {
      return false;
    }
  }

  async balance(cardId: string) {
    const { conn } = await this.connections.requireOperation(cardId, 'balance');
    const balance = await conn.balance(cardId);
    if (!balance) throw new GatewayError('card_not_found', `No card ${cardId}.`);
    const [held, pending] = await Promise.all([
      this.heldOn ? this.heldOn(cardId, balance.unit) : 0,
      this.pendingOn ? this.pendingOn(cardId) : 0,
    ]);
    return { ...balance, held, pending };
  }

  /** One page of a card's history, newest first, with where the next one starts. */
  async history(cardId: string, q: HistoryQuery): Promise<{ data: HistoryEntry[]; next: string | null }> {
    const { conn } = await this.connections.requireOperation(cardId, 'history');
    const page = await conn.history(cardId, q);
    if (!page) throw new GatewayError('card_not_found', `No card ${cardId}.`);
    const data = page.entries ?? (await this.views(page.ids)).map((t) => ({ ...t, recorded_by: 'gateway' as const }));
    return { data, next: page.next };
  }

  /** Transactions as they stand now (those that no longer exist are left out). */
  async views(ids: string[]): Promise<Transaction[]> {
    return (await this.store.getMany(ids)).map(transactionView);
  }

  /** One transaction as it stands now, with its attempts (dispatched) and its audit trail. */
  async getTransaction(id: string): Promise<Transaction> {
    const rec = await this.store.get(id);
    if (!rec) throw new GatewayError('transaction_not_found', `No transaction ${id}.`);
    const audit = await this.store.auditOf(id);
    return {
      ...transactionView(rec),
      ...(rec.idem_key !== null || rec.attempts > 0 || rec.status === 'queued' ? { attempts: rec.attempts } : {}),
      ...(audit.length ? { audit } : {}),
    };
  }
}
