import type { HistoryEntry, HistoryQuery } from '../../domain/transactions.js';
import type { Unit } from '../../domain/units.js';
import { isoTime as iso } from '../../lib/time.js';
import type { ProviderHistoryEntry } from '../../providers/adapter.js';
import type { TransactionRecord } from '../../store/transaction-record.js';
import { transactionView } from '../points/transaction-view.js';

/**
 * How much of each side a provider card's history merges: the latest entries of the gateway and
 * of the provider (documented: an external card's history reaches back this far).
 */
export const HISTORY_GATEWAY_WINDOW = 500;
export const HISTORY_PROVIDER_WINDOW = 200;

/**
 * The gateway's transactions on a provider's card merged with the provider's own record: an
 * operation found in both (by the txn id the adapter wrote into the provider's comment) is one
 * entry, recorded_by "both"; operations made outside the gateway appear with source "provider".
 * One page of it, newest first, after the position `q.after`.
 */
export async function mergedHistory(
  card: { id: string; connection: string; nativeUnit: () => Promise<Unit> },
  records: TransactionRecord[],
  provided: ProviderHistoryEntry[],
  q: HistoryQuery,
): Promise<{ entries: HistoryEntry[]; next: string | null }> {
  // One provider operation matches one gateway transaction (the first carrying its id); any other
  // operation, even one quoting a known id, is shown as the provider's own.
  const known = new Set(records.map((r) => r.id));
  const byTxn = new Map<string, ProviderHistoryEntry>();
  const unmatched: ProviderHistoryEntry[] = [];
  for (const p of provided) {
    if (p.txnId && known.has(p.txnId) && !byTxn.has(p.txnId)) byTxn.set(p.txnId, p);
    else unmatched.push(p);
  }
  const entries: HistoryEntry[] = records.map((r) => {
    const p = byTxn.get(r.id);
    const t = transactionView(r);
    return {
      ...t,
      provider_reference: t.provider_reference ?? p?.providerReference ?? null,
      recorded_by: p ? 'both' : 'gateway',
    };
  });
  // Read only when needed: it may be a call to the provider.
  const nativeUnit = unmatched.length > 0 ? await card.nativeUnit() : 'points';
  for (const p of unmatched) entries.push(providerOnly(card.id, card.connection, nativeUnit, p));

  const matching = entries.filter((e) => {
    const at = Date.parse(e.created_at);
    return (
      (q.type === undefined || q.type === 'all' || e.type === q.type) &&
      (q.referenceId === undefined || e.reference_id === q.referenceId) &&
      (q.staff === undefined || e.staff === q.staff) &&
      (q.fromMs === undefined || at >= q.fromMs) &&
      (q.toMs === undefined || at <= q.toMs)
    );
  });
  const key = (e: HistoryEntry) => `${String(Date.parse(e.created_at)).padStart(15, '0')}|${e.id}`;
  matching.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
  const start = q.after !== undefined ? matching.findIndex((e) => key(e) < q.after!) : 0;
  const rest = start === -1 ? [] : matching.slice(start);
  const page = rest.slice(0, q.limit);
  const next = rest.length > q.limit ? key(page[page.length - 1]!) : null;
  return { entries: page, next };
}

/** An operation found only in the provider's record. */
function providerOnly(cardId: string, connection: string, nativeUnit: Unit, p: ProviderHistoryEntry): HistoryEntry {
  const at = iso(p.createdAt);
  // The gateway counts whole units; a provider's fractional figure is rounded, never a failed answer.
  const whole = (n: number) => (Number.isFinite(n) ? Math.round(n) : 0);
  const delta = whole(p.delta);
  return {
    id: `prv_${p.providerReference}`,
    type: p.operation === 'other' ? 'adjust' : p.operation,
    status: 'succeeded',
    card_id: cardId,
    connection,
    unit: p.unit ?? nativeUnit,
    points: Math.abs(delta),
    amount: null,
    reward_id: null,
    provider_reference: p.providerReference,
    error: null,
    delta,
    balance_after: p.balanceAfter === null ? null : whole(p.balanceAfter),
    reason: p.comment ?? '',
    reference_id: null,
    staff: null,
    metadata: null,
    expires_at: null,
    reversal_of: null,
    reversed_points: 0,
    source: 'provider',
    created_at: at,
    completed_at: at,
    recorded_by: 'provider',
  };
}
