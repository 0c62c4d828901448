import type { Dispatch } from '../../dispatch/dispatch.js';
import { GatewayError } from '../../domain/errors.js';
import type { Transaction, TransactionStatus } from '../../domain/transactions.js';
import type { TransactionRecord } from '../../store/transaction-record.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { CallContext, PointsConnection, PointsConnections } from './engine.js';
import type { PointsService } from './points-service.js';
import type { SettledHook } from './transaction-events.js';
import { transactionView } from './transaction-view.js';

/**
 * The review of dispatched transactions (admin): the lists by status (the review queue is
 * `needs_review`), an admin's retry of a failed or needs_review transaction, and the hand
 * resolution of one in review. Every action leaves an audit entry on the transaction.
 */
export class TransactionReview {
  constructor(
    private readonly store: TransactionStore,
    private readonly connections: PointsConnections,
    private readonly dispatch: Dispatch,
    private readonly points: PointsService,
    /** Told of each transaction an admin settled (its event). */
    private readonly onSettled?: SettledHook,
  ) {}

  /** Dispatched transactions in a status, oldest first; `after` is the last id of the previous page. */
  async list(q: {
    status: TransactionStatus;
    connection?: string;
    limit: number;
    after?: string;
  }): Promise<{ data: Transaction[]; next: string | null }> {
    const data: Transaction[] = [];
    let after = q.after;
    // A connection filter may skip entries: read on until the page is full or the status is exhausted.
    for (let rounds = 0; rounds < 20 && data.length < q.limit; rounds++) {
      const page = await this.store.listByStatus(q.status, { limit: q.limit, after });
      if (page.length === 0) return { data, next: null };
      for (const r of page) {
        after = r.id;
        if (q.connection !== undefined && r.connection !== q.connection) continue;
        data.push({ ...transactionView(r), attempts: r.attempts });
        if (data.length === q.limit) break;
      }
      if (page.length < q.limit && data.length < q.limit) return { data, next: null };
    }
    return { data, next: data.length === q.limit ? (after ?? null) : null };
  }

  /**
   * An admin sends a failed or needs_review transaction again (for needs_review: after checking at
   * the provider that it was not applied). Same transaction id. Waits for it like a write: `done`
   * when it is final again (succeeded, failed or needs_review), `accepted` while it runs.
   */
  async retry(
    id: string,
    by: string,
    note: string | null,
    ctx: Pick<CallContext, 'respondAsync' | 'waitMs'>,
  ): Promise<{ state: 'done' | 'accepted'; transaction: Transaction }> {
    const { rec, conn } = await this.dispatched(id);
    if (rec.status !== 'failed' && rec.status !== 'needs_review') {
      throw new GatewayError(
        'transaction_not_retryable',
        `Transaction ${id} is ${rec.status}; only failed and needs_review transactions can be retried.`,
      );
    }
    if (rec.status === 'failed' && rec.reversal_of !== null) {
      throw new GatewayError(
        'transaction_not_retryable',
        `Transaction ${id} is a failed reversal; make a new reversal of ${rec.reversal_of} instead.`,
      );
    }
    const res = await this.store.transition(rec, 'queued', {
      clear: ['error_code', 'error_detail', 'completed_at'],
      audit: { at: new Date().toISOString(), action: 'retry', by, from: rec.status, to: 'queued', note },
      // A failed transaction gave up its reference_id and Idempotency-Key: take them back, unless
      // another transaction has one of them now (the client sent the order again).
      retakeNaturalKey: rec.status === 'failed' && rec.natural_key ? rec.natural_key : undefined,
      retakeIdempotency:
        rec.status === 'failed' && rec.idem_key && rec.idem_fp
          ? { key: rec.idem_key, fingerprint: rec.idem_fp }
          : undefined,
    });
    if (!res.ok) {
      throw new GatewayError(
        'transaction_not_retryable',
        res.takenBy
          ? `Transaction ${id}'s reference_id or Idempotency-Key was used by transaction ${res.takenBy} since it ` +
              `failed; retrying it could apply the order twice.`
          : `Transaction ${id} is ${res.status ?? 'gone'} now; only failed and needs_review transactions can be ` +
              `retried.`,
      );
    }
    await this.dispatch.enqueueTxn(conn.id, id, 'write', { fresh: true });
    if (ctx.respondAsync) {
      return { state: 'accepted', transaction: transactionView((await this.store.get(id)) ?? rec) };
    }
    const done = await this.dispatch.settled(id, ctx.waitMs);
    return { state: done ? 'done' : 'accepted', transaction: await this.points.getTransaction(id) };
  }

  /**
   * An admin settles a needs_review transaction after checking at the provider: `succeeded` (it
   * was applied) or `failed` (it was not; its keys are released).
   */
  async resolve(
    id: string,
    by: string,
    body: { outcome: 'succeeded' | 'failed'; note?: string; provider_reference?: string; balance_after?: number },
  ): Promise<Transaction> {
    const { rec, conn } = await this.dispatched(id);
    if (rec.status !== 'needs_review') {
      throw new GatewayError(
        'transaction_not_retryable',
        `Transaction ${id} is ${rec.status}; only needs_review transactions are resolved by hand.`,
      );
    }
    const audit = {
      at: new Date().toISOString(),
      action: 'resolve' as const,
      by,
      from: rec.status,
      to: body.outcome,
      note: body.note ?? null,
    };
    const fields: Record<string, string | number | null> =
      body.outcome === 'succeeded'
        ? {
            provider_reference: body.provider_reference ?? rec.provider_reference,
            balance_after: body.balance_after ?? null,
            error_code: null,
            error_detail: null,
          }
        : {};
    const ok = await this.store.settle(rec, body.outcome, { from: 'needs_review', fields, audit });
    if (!ok) {
      throw new GatewayError('transaction_not_retryable', `Transaction ${id} was settled by someone else meanwhile.`);
    }
    await conn.invalidateBalance(rec.card_id);
    await this.onSettled?.(id);
    return this.points.getTransaction(id);
  }

  /** A transaction at a provider: the built-in ledger applies or refuses at once, leaving nothing to retry. */
  private async dispatched(id: string): Promise<{ rec: TransactionRecord; conn: PointsConnection }> {
    const rec = await this.store.get(id);
    if (!rec) throw new GatewayError('transaction_not_found', `No transaction ${id}.`);
    const conn = this.connections.get(rec.connection);
    if (!conn.engine.dispatched) {
      throw new GatewayError(
        'transaction_not_retryable',
        `Transaction ${id} is on the built-in ledger, which applies or refuses a transaction at once; there is ` +
          `nothing to retry or resolve.`,
      );
    }
    return { rec, conn };
  }
}
