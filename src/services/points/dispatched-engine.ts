import type { Dispatch } from '../../dispatch/dispatch.js';
import { fieldError } from '../../domain/errors.js';
import { isFinal } from '../../domain/transactions.js';
import { once } from '../../idempotency/once.js';
import type { ProviderSettings } from '../../providers/settings.js';
import { currencyOf } from '../../providers/settings.js';
import { claimedRecord, type TransactionRecord } from '../../store/transaction-record.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { PointsEngine, Submission, TransactionInput, TransactionOutcome } from './engine.js';
import { claimOf, outcomeOf, type TransactionClaimOutcome } from './outcome.js';
import { transactionView } from './transaction-view.js';

/**
 * Transactions at a provider: claimed in the store as queued, their job put on the connection's
 * queue (src/dispatch), and their outcome awaited up to the dispatch wait; still running then (or
 * with Prefer: respond-async), the answer is `accepted` with the transaction to poll. A retry of
 * the same key or reference_id finds the same transaction, and queues its job again if it was lost.
 */
export class DispatchedEngine implements PointsEngine {
  readonly dispatched = true;

  constructor(
    private readonly settings: ProviderSettings,
    private readonly store: TransactionStore,
    private readonly dispatch: Dispatch,
    private readonly options: { inFlightWaitMs: number },
  ) {}

  get currency(): string {
    return currencyOf(this.settings);
  }

  check(input: TransactionInput): void {
    const kind = this.settings.provider;
    if (input.expires_at !== undefined) {
      throw fieldError('expires_at', `is not supported on ${kind} connections: the provider sets expiry itself`);
    }
    if (input.before !== undefined) {
      throw fieldError('before', `is not supported on ${kind} connections; name the points to expire`);
    }
    if (input.amount !== undefined && input.amount.currency !== this.currency) {
      throw fieldError('amount/currency', `must be ${this.currency}, the currency of connection ${this.settings.id}`);
    }
  }

  defaultExpiry(): null {
    return null;
  }

  /** What was asked: the provider is sent exactly that. */
  expireDelta(points: number | null): number {
    return points === null ? 0 : -points;
  }

  /**
   * A provider is sent an exact opposite movement, so the amount is worked out here. The claim
   * script is the one judge of what is left: it replays a retried reversal (its keys) and refuses
   * one that exceeds the rest, counting reversals still in flight. Nothing left, for a full
   * reversal: ask for the whole original, which the script refuses as already reversed.
   */
  reversal(orig: TransactionRecord, asked: number | undefined) {
    const left = Math.abs(orig.delta) - orig.reversed_points;
    const amount = asked ?? (left > 0 ? left : Math.abs(orig.delta));
    const delta = orig.delta > 0 ? -amount : amount;
    return { points: delta, delta };
  }

  async submit({ txn, idem, naturalKey, ctx }: Submission): Promise<TransactionOutcome> {
    const reserve = txn.reversal_of !== null ? { of: txn.reversal_of, amount: Math.abs(txn.delta) } : undefined;
    const queued = () =>
      claimedRecord(txn, {
        queued: true,
        idem_key: idem?.key ?? null,
        idem_fp: idem?.fingerprint ?? null,
        natural_key: naturalKey ?? null,
      });
    const claim = async () =>
      claimOf(
        await this.store.claim(txn, { idem, naturalKey, reserve, queued: true }),
        queued,
        (r): TransactionClaimOutcome => {
          if (!r) return { kind: 'in_flight' };
          if (isFinal(r.status)) return { kind: 'replay', answer: r };
          // A transaction the key or reference_id already names, still queued or running: queue it (again) below,
          // and wait for it.
          return { kind: 'takeover', resource: r };
        },
      );
    const res = await once(
      {
        claim,
        // The claim itself queued the transaction; its job is added below.
        run: async (record: TransactionRecord) => record,
        takeover: 'resume',
        naming: idem ? 'key' : 'reference',
      },
      this.options.inFlightWaitMs,
    );
    const record = res.answer;
    const replayed = res.replayed || res.resumed;
    if (isFinal(record.status)) return outcomeOf(record, replayed);

    // Queued again on a retry: a no-op while its job exists, a rescue when its first API process died before queueing
    // it.
    await this.dispatch.enqueueTxn(this.settings.id, record.id, ctx.lane ?? 'write');
    if (ctx.respondAsync || ctx.lane === 'bulk') {
      return { state: 'accepted', transaction: transactionView(record), replayed, asyncPreferred: ctx.respondAsync };
    }
    const done = await this.dispatch.settled(record.id, ctx.waitMs);
    if (done) return outcomeOf(done, replayed);
    return { state: 'accepted', transaction: transactionView((await this.store.get(record.id)) ?? record), replayed };
  }
}
