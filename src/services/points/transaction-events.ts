import type { FastifyBaseLogger } from 'fastify';
import type { EventLog } from '../../events/event-log.js';
import type { TransactionRecord } from '../../store/transaction-record.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import { transactionView } from './transaction-view.js';

/** Told of a transaction that reached a final status: its record, or its id (read back). */
export type SettledHook = (txn: TransactionRecord | string) => Promise<void>;

/**
 * The events of a transaction reaching a final status: `transaction.succeeded`, `.failed`,
 * `.needs_review` (data: the transaction), and, when a reversal succeeds, `transaction.reversed`
 * (data: the original as it stands after, with `reversal_id`). An event that cannot be written
 * is logged, never the transaction's failure: the transaction happened.
 */
export function transactionEvents(store: TransactionStore, events: EventLog, log: FastifyBaseLogger): SettledHook {
  return async (txn) => {
    try {
      const rec = typeof txn === 'string' ? await store.get(txn) : txn;
      if (!rec || (rec.status !== 'succeeded' && rec.status !== 'failed' && rec.status !== 'needs_review')) return;
      await events.record(`transaction.${rec.status}`, { ...transactionView(rec) });
      if (rec.status === 'succeeded' && rec.reversal_of !== null) {
        const original = await store.get(rec.reversal_of);
        if (original)
          await events.record('transaction.reversed', { ...transactionView(original), reversal_id: rec.id });
      }
    } catch (err) {
      log.warn(
        { err: (err as Error).message, txn: typeof txn === 'string' ? txn : txn.id },
        'transaction event not recorded',
      );
    }
  };
}
