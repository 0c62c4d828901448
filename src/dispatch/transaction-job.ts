import type { FastifyBaseLogger } from 'fastify';
import { GatewayError, ProviderError } from '../domain/errors.js';
import { referenceOf } from '../domain/ids.js';
import { isFinal } from '../domain/transactions.js';
import type { Metrics } from '../metrics/metrics.js';
import type { MoveResult } from '../providers/adapter.js';
import { balanceCacheMsOf, timeoutMsOf } from '../providers/settings.js';
import type { BalanceCache } from '../store/balance-cache.js';
import type { TransactionRecord } from '../store/transaction-record.js';
import type { TransactionStore } from '../store/transaction-store.js';
import type { DoneSignal } from './done-signal.js';
import { type Holds, LaterError } from './holds.js';
import { isTransient } from './job-errors.js';
import { movementOf, successFields } from './movement.js';
import type { ConnectionLane } from './queues.js';

/**
 * A transaction job: what a worker does with one queued transaction, and the exactly-once rules.
 *
 *   queued --(a worker takes it)--> processing --> succeeded | failed | needs_review
 *
 * - The move is sent only by the worker that moved the transaction from queued to processing
 *   (a compare-and-set in the store); the job's id is the transaction id, so BullMQ never runs
 *   two jobs for it at once.
 * - Certainly not applied (a 4xx, a 429, no connection): a 429 puts it back in the queue and holds
 *   the connection; a connection failure is tried again with backoff; a refusal fails it.
 * - Outcome unknown (a timeout or a 5xx after sending, a dropped connection, a worker killed
 *   mid-call: the transaction is found `processing` when its job runs again): never sent again
 *   blindly. The provider's reconcile strategy (its descriptor) decides: 'lookup' searches the
 *   provider's records for the transaction id (found: succeeded; not found: it may be sent
 *   again), 'resend' relies on the provider's de-duplication, 'none' keeps it as needs_review.
 * - A lookup waits until the earlier request can no longer be running at the provider, as a delayed
 *   job (no worker slot held meanwhile); a lookup that fails is tried again later, with a backoff
 *   that grows with how long the outcome has been unknown, until the reconcile deadline
 *   (RECONCILE_DEADLINE_HOURS from the transaction's creation). Only then, or where the provider
 *   cannot be searched, does an unknown outcome go to needs_review. None of this uses an attempt:
 *   attempts count sends that certainly failed (no connection, a 5xx on a read).
 */
export class TransactionJobs {
  constructor(
    private readonly store: TransactionStore,
    private readonly balances: BalanceCache,
    private readonly holds: Holds,
    private readonly signal: DoneSignal,
    private readonly log: FastifyBaseLogger,
    private readonly options: { reconcileDeadlineMs: number },
    private readonly metrics?: Metrics,
    private readonly onSettled?: (txnId: string) => Promise<void>,
  ) {}

  /** Settles the transaction in the store, counted (lgw_transactions_settled_total) and told (its event). */
  private async settle(lane: ConnectionLane, ...args: Parameters<TransactionStore['settle']>) {
    const out = await this.store.settle(...args);
    this.metrics?.transactionsSettled.inc({ connection: lane.settings.id, status: args[1] });
    if (out) await this.onSettled?.(args[0].id);
    return out;
  }

  private reconciled(lane: ConnectionLane, outcome: string): void {
    this.metrics?.reconciliations.inc({ connection: lane.settings.id, outcome });
  }

  async process(lane: ConnectionLane, txnId: string, job: { attemptsMade: number; attempts: number }): Promise<void> {
    const rec = await this.store.get(txnId);
    if (!rec || isFinal(rec.status)) return;
    const last = job.attemptsMade + 1 >= job.attempts;

    if (rec.status === 'processing') {
      // An earlier attempt was sent (or its worker died after taking it): find out first.
      const found = await this.reconcile(lane, rec);
      if (found === 'settled') return;
    }
    // Only if no other worker took it (or, for one found processing, sent it again) meanwhile.
    const attemptAt = Date.now();
    const taken = await this.store.transition(
      rec,
      'processing',
      rec.status === 'processing' ? { attempt: true, attempts: rec.attempts } : { attempt: true },
    );
    if (!taken.ok) return;
    // As it now stands: when this attempt was sent is when an unknown outcome of it can be looked for.
    const current: TransactionRecord = { ...rec, status: 'processing', attempt_at: attemptAt };
    await this.invalidateBalance(lane, rec.card_id);

    let res: MoveResult;
    try {
      res = await lane.adapter.move(referenceOf(rec.card_id), movementOf(rec, lane.settings));
    } catch (err) {
      await this.failed(lane, current, err, last);
      return;
    }
    await this.settle(lane, current, 'succeeded', { now: Date.now(), fields: successFields(rec, res) });
    await this.done(lane, rec);
  }

  /** Every write the gateway makes to a card ends its cached balance (and any read already on its way). */
  private async invalidateBalance(lane: ConnectionLane, cardId: string): Promise<void> {
    if (balanceCacheMsOf(lane.settings) > 0) await this.balances.invalidate(cardId);
  }

  private async done(lane: ConnectionLane, rec: TransactionRecord): Promise<void> {
    await this.invalidateBalance(lane, rec.card_id);
    await this.signal.announce(rec.id);
  }

  private async failed(lane: ConnectionLane, rec: TransactionRecord, err: unknown, last: boolean): Promise<void> {
    const { id, provider } = lane.settings;
    const error =
      err instanceof GatewayError
        ? err
        : new ProviderError(
            'provider_bad_response',
            `${provider} (connection ${id}): the adapter failed on the provider's answer.`,
            'unknown',
          );
    if (!(err instanceof GatewayError)) {
      this.log.error({ connection: id, transaction_id: rec.id, err }, 'adapter failed');
    }
    const errorFields = { error_code: error.code, error_detail: error.message };
    const definite = err instanceof ProviderError ? err.applied === 'no' : err instanceof GatewayError;

    const hold = await this.holds.holdFor(id, err);
    if (hold) {
      // Certainly not applied: back to the queue, without using an attempt.
      await this.store.transition(rec, 'queued', { fields: errorFields });
      throw hold;
    }
    if (definite) {
      if (isTransient(err, true) && !last) {
        await this.store.transition(rec, 'queued', { fields: errorFields });
        throw error;
      }
      await this.settle(lane, rec, 'failed', { fields: errorFields });
      await this.done(lane, rec);
      return;
    }
    // It may have been applied. Where the provider can be searched, a lookup settles it once the request can no
    // longer be running there (reconcile): a delayed job, however many attempts are left.
    if (this.searchable(lane, rec)) {
      await this.store.transition(rec, 'processing', { fields: errorFields });
      throw new LaterError(this.settledBy(lane, rec));
    }
    if (this.strategyOf(lane, rec) === 'none' || last) {
      await this.settle(lane, rec, 'needs_review', { fields: errorFields });
      await this.done(lane, rec);
      return;
    }
    // Kept processing: the next attempt (after the backoff) reconciles before anything is sent.
    await this.store.transition(rec, 'processing', { fields: errorFields });
    throw error;
  }

  private strategyOf(lane: ConnectionLane, rec: TransactionRecord) {
    return lane.descriptor.reconcile(movementOf(rec, lane.settings));
  }

  /** Whether an unknown outcome of `rec` can be found out by searching the provider's records. */
  private searchable(lane: ConnectionLane, rec: TransactionRecord): boolean {
    return this.strategyOf(lane, rec) === 'lookup' && lane.adapter.findApplied !== undefined;
  }

  /**
   * When the last request sent for `rec` can no longer be running at the provider: it may have waited up to a
   * timeout at the rate-limit gate before it was sent, then run up to a timeout; a second of slack.
   */
  private settledBy(lane: ConnectionLane, rec: TransactionRecord): number {
    return (rec.attempt_at ?? 0) + 2 * timeoutMsOf(lane.settings) + 1000;
  }

  /**
   * When to look again after a lookup failed: a quarter of the time the outcome has been unknown (1 s at least,
   * 5 min at most), jittered, so a provider that is down is asked less and less often.
   */
  private nextLookup(rec: TransactionRecord, now: number): number {
    const unknownFor = now - (rec.attempt_at ?? rec.created_at);
    const wait = Math.min(300_000, Math.max(1000, unknownFor / 4));
    return now + Math.round(wait * (0.5 + Math.random() / 2));
  }

  /**
   * A transaction found processing: its last attempt's outcome is unknown. 'settled' when that
   * is now decided (succeeded, or needs_review), 'send' when it certainly was not applied.
   */
  private async reconcile(lane: ConnectionLane, rec: TransactionRecord): Promise<'settled' | 'send'> {
    const { adapter, settings } = lane;
    /** To needs_review, with the error it has, `detail` added to it (`keep`: only when it has none). */
    const review = async (detail: string, keep = true) => {
      const had = rec.error_detail;
      const error = had === null ? detail : keep ? had : `${had} ${detail}`;
      await this.settle(lane, rec, 'needs_review', {
        fields: { error_code: rec.error_code ?? 'provider_timeout', error_detail: error },
      });
      await this.done(lane, rec);
      return 'settled' as const;
    };
    const how = this.strategyOf(lane, rec);
    if (how === 'resend') {
      this.reconciled(lane, 'resend');
      return 'send';
    }
    if (how === 'none' || !adapter.findApplied) {
      this.reconciled(lane, 'unverifiable');
      return review(
        `The gateway process sending this transaction to ${settings.provider} stopped before it recorded the ` +
          `answer, and ${settings.provider} offers no way to check it.`,
      );
    }
    // A request that timed out may still be running at the provider: look only once it cannot be.
    const now = Date.now();
    const settleBy = this.settledBy(lane, rec);
    if (settleBy > now) throw new LaterError(settleBy);
    const deadline = rec.created_at + this.options.reconcileDeadlineMs;
    let found: MoveResult | null;
    try {
      found = await adapter.findApplied(referenceOf(rec.card_id), movementOf(rec, settings), rec.created_at);
    } catch (err) {
      const hold = await this.holds.holdFor(settings.id, err);
      if (hold) throw hold;
      this.reconciled(lane, 'lookup_failed');
      if (Date.now() < deadline) throw new LaterError(this.nextLookup(rec, Date.now()));
      return review(
        `The outcome is unknown and ${settings.provider}'s records could not be read to check it before the ` +
          'reconcile deadline (RECONCILE_DEADLINE_HOURS).',
        false,
      );
    }
    const where = { connection: settings.id, transaction_id: rec.id };
    if (found) {
      this.log.info(where, 'reconciled: the provider had applied it');
      this.reconciled(lane, 'applied');
      await this.settle(lane, rec, 'succeeded', {
        now: Date.now(),
        fields: { ...successFields(rec, found), error_code: null, error_detail: null },
      });
      await this.done(lane, rec);
      return 'settled';
    }
    this.reconciled(lane, 'not_applied');
    if (Date.now() >= deadline) {
      // Certainly not applied, and it has been tried for long enough: it fails, its keys given up.
      this.log.info(where, 'reconciled: the provider has no record of it; past the reconcile deadline, it fails');
      await this.settle(lane, rec, 'failed', {
        fields: {
          error_code: rec.error_code ?? 'provider_timeout',
          error_detail:
            `${settings.provider} never confirmed it before the reconcile deadline (RECONCILE_DEADLINE_HOURS), and ` +
            'its records show it was not applied.',
        },
      });
      await this.done(lane, rec);
      return 'settled';
    }
    this.log.info(where, 'reconciled: the provider has no record of it; sending again');
    return 'send';
  }
}
