import type { AuditFinding } from '../../domain/audits.js';
import { isoTime } from '../../lib/time.js';
import type { ProviderBalance, ProviderHistoryEntry } from '../../providers/adapter.js';
import type { TransactionRecord } from '../../store/transaction-record.js';

/**
 * What an audit compares, without any I/O: the gateway's transactions on a card against the
 * provider's record of the card's operations (matched by the transaction id the adapter writes
 * into every operation), or, where the provider keeps no such record, the card's balance against
 * what the gateway's last write left it at.
 */

export type NewFinding = Omit<AuditFinding, 'id' | 'confirmed'>;

const blank = {
  transaction_id: null,
  status_here: null,
  provider_reference: null,
  provider_at: null,
  unit: null,
  expected: null,
  actual: null,
  confirmable: false,
} satisfies Partial<NewFinding>;

/**
 * Both ways, for one card:
 * - each transaction succeeded here must be found there, exactly once;
 * - each operation there carrying a transaction id must be a transaction succeeded here. One that
 *   is `needs_review` here is the evidence an admin confirms it with; one that is `failed` here was
 *   applied though the gateway told its client it was not (a person must look).
 *
 * `records`: the card's transactions created in the audit window. `elsewhere`: the records of the
 * ids found there that are not in `records` (null when the gateway has none).
 */
export function matchProviderRecord(
  cardId: string,
  records: TransactionRecord[],
  entries: ProviderHistoryEntry[],
  elsewhere: Map<string, TransactionRecord | null>,
): NewFinding[] {
  const found = new Map<string, ProviderHistoryEntry[]>();
  for (const e of entries) {
    if (e.txnId === null) continue;
    const list = found.get(e.txnId) ?? [];
    list.push(e);
    found.set(e.txnId, list);
  }
  const out: NewFinding[] = [];
  const judged = new Set<string>();
  for (const r of records) {
    judged.add(r.id);
    const there = found.get(r.id) ?? [];
    if (r.status === 'succeeded' && there.length === 0) {
      out.push({
        ...blank,
        kind: 'missing_at_provider',
        card_id: cardId,
        transaction_id: r.id,
        status_here: r.status,
        unit: r.unit,
        detail:
          `Transaction ${r.id} (${r.type}) succeeded here, but no operation of card ${cardId} at the provider ` +
          'carries its id.',
      });
    } else if (there.length > 0) {
      out.push(...appliedThere(cardId, r, there));
    }
  }
  for (const [txnId, there] of found) {
    if (judged.has(txnId)) continue;
    const r = elsewhere.get(txnId);
    if (r === undefined) continue;
    if (r === null) {
      const e = there[0]!;
      out.push({
        ...blank,
        kind: 'unknown_to_gateway',
        card_id: cardId,
        transaction_id: txnId,
        provider_reference: e.providerReference,
        provider_at: isoTime(e.createdAt),
        unit: e.unit,
        detail:
          `Operation ${e.providerReference} of card ${cardId} carries transaction id ${txnId}, of which the gateway ` +
          'has no record (removed, or made by another gateway on the same provider account).',
      });
    } else if (r.card_id === cardId) {
      out.push(...appliedThere(cardId, r, there));
    }
  }
  return out;
}

/** A transaction the provider applied: fine when it succeeded here once; a finding otherwise. */
function appliedThere(cardId: string, r: TransactionRecord, there: ProviderHistoryEntry[]): NewFinding[] {
  const e = there[0]!;
  const base = {
    ...blank,
    card_id: cardId,
    transaction_id: r.id,
    status_here: r.status,
    provider_reference: e.providerReference,
    provider_at: isoTime(e.createdAt),
    unit: e.unit ?? r.unit,
  };
  const out: NewFinding[] = [];
  if (there.length > 1) {
    out.push({
      ...base,
      kind: 'applied_twice',
      detail:
        `${there.length} operations of card ${cardId} at the provider carry transaction ${r.id} ` +
        `(${there.map((x) => x.providerReference).join(', ')}): it was applied more than once.`,
    });
  }
  if (r.status === 'needs_review') {
    out.push({
      ...base,
      kind: 'applied_not_succeeded',
      expected: null,
      actual: e.balanceAfter,
      confirmable: true,
      detail:
        `Transaction ${r.id} is needs_review here; the provider applied it as operation ${e.providerReference} at ` +
        `${isoTime(e.createdAt)}. Confirming this finding settles it as succeeded.`,
    });
  } else if (r.status === 'failed') {
    out.push({
      ...base,
      kind: 'applied_not_succeeded',
      detail:
        `Transaction ${r.id} failed here (its client was told it was not applied), but the provider applied it as ` +
        `operation ${e.providerReference} at ${isoTime(e.createdAt)}: undo it at the provider, or record it by hand.`,
    });
  }
  return out;
}

/**
 * For providers that keep no record the gateway can match: the card's balance now against the
 * balance its last succeeded write left (the provider's own figure, kept with the transaction).
 * A difference is a change the gateway did not make since (a point of sale, the provider's
 * dashboard) or a write lost or doubled. `recent`: the card's transactions, any order.
 */
export function balanceDrift(cardId: string, recent: TransactionRecord[], balance: ProviderBalance): NewFinding | null {
  let last: TransactionRecord | null = null;
  for (const r of recent) {
    if (r.status !== 'succeeded' || r.balance_after === null) continue;
    if (last === null || (r.completed_at ?? 0) > (last.completed_at ?? 0)) last = r;
  }
  if (last === null) return null;
  const actual = balance.units[last.unit];
  if (actual === undefined || actual === last.balance_after) return null;
  const open = recent.filter((r) => r.status === 'needs_review' && r.created_at >= (last.created_at ?? 0));
  const diff = actual - last.balance_after!;
  return {
    ...blank,
    kind: 'balance_drift',
    card_id: cardId,
    transaction_id: last.id,
    status_here: last.status,
    unit: last.unit,
    expected: last.balance_after,
    actual,
    detail:
      `Card ${cardId} holds ${actual} ${last.unit} at the provider; the gateway's last write (${last.id}, ` +
      `${isoTime(last.completed_at ?? last.created_at)}) left ${last.balance_after}: ${diff > 0 ? '+' : ''}${diff} ` +
      'made elsewhere since, or a write lost or doubled.' +
      (open.length > 0 ? ` ${open.map((r) => r.id).join(', ')} may explain it: needs_review.` : ''),
  };
}
