import type { BuiltinLedger } from '../../builtin-ledger/builtin-ledger.js';
import { fieldError } from '../../domain/errors.js';
import { once } from '../../idempotency/once.js';
import { claimedRecord, type TransactionRecord } from '../../store/transaction-record.js';
import type { IdempotencyScope, TransactionStore } from '../../store/transaction-store.js';
import type { PointsEngine, Submission, TransactionInput, TransactionOutcome } from './engine.js';
import { claimOf, outcomeOf, type TransactionClaimOutcome } from './outcome.js';
import type { SettledHook } from './transaction-events.js';

/**
 * Transactions on the built-in ledger: claimed in the store, then applied in the request by one
 * script that moves the points and records the outcome together (src/builtin-ledger).
 */
export class BuiltinEngine implements PointsEngine {
  readonly dispatched = false;

  constructor(
    private readonly ledger: BuiltinLedger,
    private readonly store: TransactionStore,
    /** How long a request waits for another one holding the same key (IDEMPOTENCY_WAIT_MS). */
    private readonly inFlightWaitMs: number,
    /** Told of each transaction it applied (its event). */
    private readonly onSettled?: SettledHook,
  ) {}

  check(input: TransactionInput): void {
    if (input.amount !== undefined) throw fieldError('amount', 'applies only to external provider connections');
  }

  defaultExpiry(now: number): number | null {
    return this.ledger.defaultExpiry(now);
  }

  /** What its script finds due when it is applied. */
  expireDelta(): number {
    return 0;
  }

  /** "All that is left" is settled atomically by the script, so a full reversal names no amount. */
  reversal(orig: TransactionRecord, asked: number | undefined) {
    return { points: asked ?? null, delta: orig.delta > 0 ? -1 : 1 };
  }

  async submit({ txn, idem, naturalKey }: Submission): Promise<TransactionOutcome> {
    const claimed = () => claimedRecord(txn, { queued: false });
    const claim = async () =>
      claimOf(await this.store.claim(txn, { idem, naturalKey }), claimed, (r, kind): TransactionClaimOutcome => {
        if (r && r.status !== 'processing') return { kind: 'replay', answer: r };
        // A transaction whose claimer stopped before applying it: applying is idempotent, so finish its work.
        if (kind === 'existing' && r && r.lease_until !== null && r.lease_until < Date.now()) {
          return { kind: 'takeover', resource: r };
        }
        return { kind: 'in_flight' };
      });
    const res = await once(
      {
        claim,
        run: (record: TransactionRecord) => this.apply(record, idem, naturalKey),
        takeover: 'resume',
        naming: idem ? 'key' : 'reference',
      },
      this.inFlightWaitMs,
    );
    return outcomeOf(res.answer, res.replayed || res.resumed);
  }

  /** Has the ledger apply a claimed transaction; throws its refusal. Null if it vanished meanwhile. */
  private async apply(
    record: TransactionRecord,
    idem: IdempotencyScope | undefined,
    naturalKey: string | undefined,
  ): Promise<TransactionRecord | null> {
    const outcome = await this.ledger.apply(record, { idempotencyKey: idem?.key, naturalKey });
    if (outcome.kind === 'rejected') throw outcome.error;
    const applied = await this.appliedRecord(record, outcome);
    if (applied?.status === 'succeeded') await this.onSettled?.(applied);
    return applied;
  }

  private async appliedRecord(
    record: TransactionRecord,
    outcome: Exclude<Awaited<ReturnType<BuiltinLedger['apply']>>, { kind: 'rejected' }>,
  ): Promise<TransactionRecord | null> {
    if (outcome.kind === 'applied' && record.reversed_points === 0) {
      // The script returned everything that changed: no need to read the record back.
      return {
        ...record,
        status: 'succeeded',
        balance_after: outcome.balanceAfter,
        delta: outcome.delta,
        points: record.type === 'adjust' && record.reversal_of === null ? record.points : outcome.points,
        completed_at: outcome.completedAt,
        lease_until: null,
      };
    }
    return this.store.get(record.id);
  }
}
