import { GatewayError, storedErrorCode } from '../../domain/errors.js';
import type { Claim } from '../../idempotency/once.js';
import type { NewTransaction, TransactionRecord } from '../../store/transaction-record.js';
import type { TransactionClaim } from '../../store/transaction-store.js';
import type { TransactionOutcome } from './engine.js';
import { transactionView } from './transaction-view.js';

/**
 * The answer to a transaction request: the transaction as it was when it completed, so that a
 * replay (Idempotency-Key or reference_id) is identical to the first answer even after later
 * reversals; GET /v1/transactions/{id} shows it as it stands now. A transaction that failed or
 * waits for review is answered with its error.
 */
export function outcomeOf(record: TransactionRecord, replayed: boolean): TransactionOutcome {
  if (record.status === 'needs_review' || record.status === 'failed') {
    const why =
      record.status === 'needs_review'
        ? 'the provider may have applied it, so the gateway will not send it again by itself'
        : "the provider did not apply it; a new request (or an admin's retry) may send it again";
    throw new GatewayError(
      storedErrorCode(record.error_code),
      `${record.error_detail ?? 'The provider call failed.'} Transaction ${record.id} is ${record.status}: ${why}; ` +
        `GET /v1/transactions/${record.id} shows it.`,
      { transaction_id: record.id },
    );
  }
  return { state: 'done', transaction: transactionView({ ...record, reversed_points: 0 }), replayed };
}

/** A reversal that asks for more than is left of its original (others took, or are taking, the rest). */
export function reversalRefused(left: number, txn: Pick<NewTransaction, 'reversal_of' | 'delta'>): GatewayError {
  return left <= 0
    ? new GatewayError(
        'already_reversed',
        `Transaction ${txn.reversal_of} is already fully reversed (or its reversals are still being applied).`,
      )
    : new GatewayError(
        'reversal_exceeds_original',
        `Only ${left} of ${txn.reversal_of} are left to reverse; ${Math.abs(txn.delta)} were asked for.`,
      );
}

/** A transaction claim as the idempotency flow sees it: the write works on the claimed record itself. */
export type TransactionClaimOutcome = Claim<TransactionRecord, TransactionRecord>;

/**
 * A store claim as the idempotency flow sees it. `claimed` makes the record the claim has just
 * written (only then: replays, the hot path, skip building it). What a transaction already claimed
 * under the key or reference_id means (a replay, one to wait for, one to take over) is the engine's: `found`.
 */
export function claimOf(
  c: TransactionClaim,
  claimed: () => TransactionRecord,
  found: (record: TransactionRecord | null, kind: 'done' | 'existing') => TransactionClaimOutcome,
): TransactionClaimOutcome {
  switch (c.kind) {
    case 'claimed':
      return { kind: 'claimed', resource: claimed() };
    case 'exceeds':
      throw reversalRefused(c.left, claimed());
    case 'mismatch':
      return c;
    case 'takeover':
      // The store took it over from a process that is gone (src/idempotency/instance.ts); vanished meanwhile: look again.
      return c.record ? { kind: 'takeover', resource: c.record } : { kind: 'in_flight' };
    default:
      return found(c.record, c.kind);
  }
}
