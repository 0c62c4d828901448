import type { BuiltinLedger } from '../../builtin-ledger/builtin-ledger.js';
import { fieldError } from '../../domain/errors.js';
import { type Claim, once } from '../../idempotency/once.js';
import { claimedRecord, type TransactionRecord } from '../../store/transaction-record.js';
import type { IdempotencyScope, TransactionStore } from '../../store/transaction-store.js';
import type { PointsEngine, Submission, TransactionInput, TransactionOutcome } from './engine.js';
import { claimOf, outcomeOf } from './outcome.js';

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
    // A transaction whose claimer stopped before applying it: applying is idempotent, so finish its work.
    let stranded: TransactionRecord | null = null;
    const claim = async () =>
      claimOf(await this.store.claim(txn, { idem, naturalKey }), txn, (r, kind): Claim<TransactionRecord> => {
        if (r && r.status !== 'processing') return { kind: 'replay', answer: r };
        if (kind === 'existing' && r && r.lease_until !== null && r.lease_until < Date.now()) {
          stranded = r;
          return { kind: 'takeover', resource: r.id };
        }
        return { kind: 'in_flight' };
      });
    const res = await once<TransactionRecord>(
      {
        claim,
        run: (_id, resumed) =>
          this.apply(resumed && stranded ? stranded : claimedRecord(txn, { queued: false }), idem, naturalKey),
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
