import type { Transaction } from '../../domain/transactions.js';
import { isoTime as iso } from '../../lib/time.js';
import type { TransactionRecord } from '../../store/transaction-record.js';

/** What a client sees of a stored transaction. */
export function transactionView(t: TransactionRecord): Transaction {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    card_id: t.card_id,
    connection: t.connection,
    unit: t.unit,
    points: t.points ?? Math.abs(t.delta),
    amount: t.amount !== null && t.currency !== null ? { amount: t.amount, currency: t.currency } : null,
    reward_id: t.reward_id,
    provider_reference: t.provider_reference,
    error: t.error_code !== null ? { code: t.error_code, detail: t.error_detail ?? '' } : null,
    delta: t.delta,
    balance_after: t.balance_after,
    reason: t.reason,
    reference_id: t.reference_id,
    staff: t.staff,
    metadata: t.metadata,
    expires_at: t.expires_at === null ? null : iso(t.expires_at),
    reversal_of: t.reversal_of,
    reversed_points: t.reversed_points,
    source: t.source,
    created_at: iso(t.created_at),
    completed_at: t.completed_at === null ? null : iso(t.completed_at),
  };
}
