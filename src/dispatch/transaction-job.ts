import { statusOf } from '../api/problem.js';
import type { FastifyBaseLogger } from 'fastify';
import { GatewayError } from '../domain/errors.js';
import type { TransactionStore } from '../store/transaction-store.js';
import type { TransactionRecord } from '../store/transaction-record.js';
import { ProviderError } from '../domain/errors.js';
import type { MoveResult } from '../providers/adapter.js';
import { ProviderConnection } from '../services/connections/provider-connection.js';
import { referenceOf } from '../domain/ids.js';
import type { ConnectionRegistry } from '../services/connections/registry.js';
import type { Dispatcher, TxnProcessor } from './dispatcher.js';
import { isTransient } from './job-errors.js';

const TERMINAL = new Set(['succeeded', 'failed', 'needs_review']);

/**
 * A transaction job: what a worker does with one queued transaction, and the exactly-once rules.
 *
 *   queued --(a worker takes it)--> processing --> succeeded | failed | needs_review
 *
 * - The move is sent only by the worker that moved the transaction from queued to processing
 *   (a compare-and-set in the ledger); the job's id is the transaction id, so BullMQ never runs
 *   two jobs for it at once.
 * - Certainly not applied (a 4xx, a 429, no connection): a 429 puts it back in the queue and holds
 *   the connection; a connection failure is tried again with backoff; a refusal fails it.
 * - Outcome unknown (a timeout or a 5xx after sending, a dropped connection, a worker killed
 *   mid-call: the transaction is found `processing` when its job runs again): never sent again
 *   blindly. The adapter's `reconcile` decides: 'lookup' searches the provider's records for the
 *   transaction id (found: succeeded; not found: it may be sent again), 'resend' relies on the
 *   provider's de-duplication, 'none' keeps it as needs_review for a person.
 */
export class TransactionJobs implements TxnProcessor {
  constructor(
    private readonly ledger: TransactionStore,
    private readonly providers: ConnectionRegistry,
    private readonly dispatch: Dispatcher,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Where the last sweep stopped in each status index: each sweep reads on from there, a page at a time, then wraps. */
  private readonly sweepCursor: Record<'queued' | 'processing', string | undefined> = {
    queued: undefined,
    processing: undefined,
  };

  async stranded(olderThanMs: number): Promise<{ connection: string; id: string }[]> {
    const out: { connection: string; id: string }[] = [];
    const cutoff = Date.now() - olderThanMs;
    for (const status of ['queued', 'processing'] as const) {
      const page = await this.ledger.listByStatus(status, { limit: 1000, after: this.sweepCursor[status] });
      this.sweepCursor[status] = page.length === 1000 ? page[page.length - 1]!.id : undefined;
      for (const r of page)
        if ((r.attempt_at ?? r.created_at) < cutoff) out.push({ connection: r.connection, id: r.id });
    }
    return out;
  }

  async process(connectionId: string, txnId: string, job: { attemptsMade: number; attempts: number }): Promise<void> {
    const rec = await this.ledger.get(txnId);
    if (!rec || TERMINAL.has(rec.status)) return;
    const provider = this.providers.get(connectionId);
    if (!(provider instanceof ProviderConnection)) return;
    const last = job.attemptsMade + 1 >= job.attempts;

    let current: TransactionRecord = rec;
    if (rec.status === 'processing') {
      // An earlier attempt was sent (or its worker died after taking it): find out first.
      const found = await this.reconcile(provider, rec, last);
      if (found === 'settled') return;
      // Only if no other worker sent it again meanwhile (the attempts it had when read).
      const again = await this.ledger.transition(rec, 'processing', { attempt: true, attempts: rec.attempts });
      if (!again.ok) return;
    } else {
      const taken = await this.ledger.transition(rec, 'processing', { attempt: true });
      if (!taken.ok) return;
      current = { ...rec, status: 'processing' };
    }
    await provider.invalidateBalance(rec.card_id);

    let res: MoveResult;
    try {
      res = await provider.direct.move(referenceOf(rec.card_id), provider.movementOf(rec));
    } catch (err) {
      await this.failed(provider, current, err, last);
      return;
    }
    await this.succeed(provider, current, res);
  }

  private async succeed(provider: ProviderConnection, rec: TransactionRecord, res: MoveResult): Promise<void> {
    await this.ledger.settle(rec, 'succeeded', { now: Date.now(), fields: provider.successFields(rec, res) });
    await this.done(provider, rec);
  }

  private async done(provider: ProviderConnection, rec: TransactionRecord): Promise<void> {
    await provider.invalidateBalance(rec.card_id);
    await this.dispatch.announce(rec.id);
  }

  private async failed(
    provider: ProviderConnection,
    rec: TransactionRecord,
    err: unknown,
    last: boolean,
  ): Promise<void> {
    const error =
      err instanceof GatewayError
        ? err
        : new ProviderError(
            'provider_bad_response',
            `${provider.connection.provider} (connection ${provider.connection.id}): the adapter failed on the provider's answer.`,
            'unknown',
          );
    if (!(err instanceof GatewayError))
      this.log.error({ connection: provider.connection.id, transaction_id: rec.id, err }, 'adapter failed');
    const errorFields = { error_code: error.code, error_detail: error.message };
    const definite = err instanceof ProviderError ? err.applied === 'no' : err instanceof GatewayError;

    const hold = await this.dispatch.holdFor(provider.connection.id, err);
    if (hold) {
      // Certainly not applied: back to the queue, without using an attempt.
      await this.ledger.transition(rec, 'queued', { fields: errorFields });
      throw hold;
    }
    if (definite) {
      if (isTransient(err, true) && !last) {
        await this.ledger.transition(rec, 'queued', { fields: errorFields });
        throw error;
      }
      await this.ledger.settle(rec, 'failed', { httpStatus: statusOf(error.code), fields: errorFields });
      await this.done(provider, rec);
      return;
    }
    // It may have been applied.
    if (this.reconcileOf(provider, rec) === 'none' || last) {
      await this.ledger.settle(rec, 'needs_review', { httpStatus: statusOf(error.code), fields: errorFields });
      await this.done(provider, rec);
      return;
    }
    // Kept processing: the next attempt (after the backoff) reconciles before anything is sent.
    await this.ledger.transition(rec, 'processing', { fields: errorFields });
    throw error;
  }

  private reconcileOf(provider: ProviderConnection, rec: TransactionRecord): 'lookup' | 'resend' | 'none' {
    return provider.direct.reconcileFor?.(provider.movementOf(rec)) ?? provider.direct.reconcile;
  }

  /**
   * A transaction found processing: its last attempt's outcome is unknown. 'settled' when that
   * is now decided (succeeded, or needs_review), 'send' when it certainly was not applied.
   */
  private async reconcile(
    provider: ProviderConnection,
    rec: TransactionRecord,
    last: boolean,
  ): Promise<'settled' | 'send'> {
    const adapter = provider.direct;
    const review = async (detail: string) => {
      await this.ledger.settle(rec, 'needs_review', {
        httpStatus: 504,
        fields: { error_code: rec.error_code ?? 'provider_timeout', error_detail: rec.error_detail ?? detail },
      });
      await this.done(provider, rec);
      return 'settled' as const;
    };
    const how = this.reconcileOf(provider, rec);
    if (how === 'resend') return 'send';
    if (how === 'none' || !adapter.findApplied) {
      return review(
        `The gateway process sending this transaction to ${provider.connection.provider} stopped before it recorded the answer, and ${provider.connection.provider} offers no way to check it.`,
      );
    }
    // A request that timed out may still be running at the provider: look only once it cannot be
    // (it may have waited up to a timeout at the rate-limit gate before it was sent, then a timeout).
    const settleBy = (rec.attempt_at ?? 0) + 2 * (provider.connection.timeoutMs ?? 10_000) + 1000;
    if (settleBy > Date.now()) await new Promise((r) => setTimeout(r, settleBy - Date.now()));
    let found: MoveResult | null;
    try {
      found = await adapter.findApplied(referenceOf(rec.card_id), provider.movementOf(rec), rec.created_at);
    } catch (err) {
      const hold = await this.dispatch.holdFor(provider.connection.id, err);
      if (hold) throw hold;
      if (!last) throw err;
      return review(
        `The outcome is unknown and ${provider.connection.provider}'s records could not be read to check it.`,
      );
    }
    if (found) {
      this.log.info(
        { connection: provider.connection.id, transaction_id: rec.id },
        'reconciled: the provider had applied it',
      );
      await this.ledger.settle(rec, 'succeeded', {
        now: Date.now(),
        fields: { ...provider.successFields(rec, found), error_code: null, error_detail: null },
      });
      await this.done(provider, rec);
      return 'settled';
    }
    this.log.info(
      { connection: provider.connection.id, transaction_id: rec.id },
      'reconciled: the provider has no record of it; sending again',
    );
    return 'send';
  }
}
