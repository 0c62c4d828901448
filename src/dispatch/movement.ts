import { decimalToMinor, minorToDecimal } from '../lib/money.js';
import type { Movement, MoveResult } from '../providers/adapter.js';
import type { ProviderSettings } from '../providers/settings.js';
import { currencyOf } from '../providers/settings.js';
import type { TransactionRecord } from '../store/transaction-record.js';

/** A stored transaction as the movement an adapter applies. */
export function movementOf(txn: TransactionRecord, settings: ProviderSettings): Movement {
  const currency = currencyOf(settings);
  const money =
    txn.amount !== null
      ? { decimal: txn.amount, minor: decimalToMinor(txn.amount), currency: txn.currency ?? currency }
      : txn.unit === 'amount' && txn.points !== null
        ? { decimal: minorToDecimal(Math.abs(txn.points)), minor: Math.abs(txn.points), currency }
        : null;
  return {
    operation: txn.type,
    unit: txn.unit,
    quantity: txn.points ?? 0,
    money,
    rewardId: txn.reward_id,
    txnId: txn.id,
    reason: txn.reason,
    referenceId: txn.reference_id,
    staff: txn.staff,
    // The transaction's own id: unique, and the same whenever this transaction is sent (a
    // reference_id is not enough: the same order number may be used on two cards).
    dedupKey: txn.id,
    notify: settings.notifyCustomers ?? true,
  };
}

/** The fields a succeeded transaction records from the provider's answer. */
export function successFields(txn: TransactionRecord, res: MoveResult): Record<string, string | number | null> {
  let { unit, delta } = txn;
  let points = txn.points ?? 0;
  let balanceAfter = res.balanceAfter;
  if (res.effect) {
    // What the provider says the operation moved (a purchase's points, a reward's stamps) is what is recorded.
    ({ unit, delta } = res.effect);
    points = Math.abs(res.effect.delta);
  } else if (txn.type === 'purchase' || txn.type === 'refund_purchase') {
    // A purchase records money spent; its effect on the card is the provider's rule, known only when it says.
    balanceAfter = null;
  }
  return { balance_after: balanceAfter, provider_reference: res.providerReference, unit, points, delta };
}
