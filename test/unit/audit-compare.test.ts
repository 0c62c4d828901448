import { describe, expect, it } from 'vitest';
import type { ProviderBalance, ProviderHistoryEntry } from '../../src/providers/adapter.js';
import { balanceDrift, matchProviderRecord } from '../../src/services/audit/compare.js';
import type { TransactionRecord } from '../../src/store/transaction-record.js';

const CARD = 'hl:100000-000-001';
let n = 0;
const rec = (over: Partial<TransactionRecord>): TransactionRecord =>
  ({
    id: `txn_01ARZ3NDEKTSV4RRFFQ69G${String(n++).padStart(4, '0')}`,
    type: 'award',
    status: 'succeeded',
    card_id: CARD,
    connection: 'hl',
    unit: 'points',
    points: 5,
    delta: 5,
    balance_after: null,
    created_at: 1_000,
    completed_at: 1_100,
    ...over,
  }) as TransactionRecord;
const op = (txnId: string | null, ref: string, over: Partial<ProviderHistoryEntry> = {}): ProviderHistoryEntry => ({
  providerReference: ref,
  operation: 'award',
  unit: 'points',
  delta: 5,
  balanceAfter: 10,
  comment: txnId ? `Order [lgw:${txnId}]` : 'at the till',
  txnId,
  createdAt: 1_050,
  ...over,
});

describe('matchProviderRecord', () => {
  it('finds nothing when every transaction is there once and the rest is untagged', () => {
    const a = rec({});
    const b = rec({});
    expect(matchProviderRecord(CARD, [a, b], [op(a.id, '1'), op(b.id, '2'), op(null, '3')], new Map())).toEqual([]);
  });

  it('reports a double application, a failed one applied, and an id the gateway does not know', () => {
    const twice = rec({});
    const failed = rec({ status: 'failed' });
    const out = matchProviderRecord(
      CARD,
      [twice, failed],
      [op(twice.id, '1'), op(twice.id, '2'), op(failed.id, '3'), op('txn_01ARZ3NDEKTSV4RRFFQ69GZZZZ', '4')],
      new Map([['txn_01ARZ3NDEKTSV4RRFFQ69GZZZZ', null]]),
    );
    expect(out.map((f) => [f.kind, f.transaction_id, f.confirmable])).toEqual([
      ['applied_twice', twice.id, false],
      ['applied_not_succeeded', failed.id, false],
      ['unknown_to_gateway', 'txn_01ARZ3NDEKTSV4RRFFQ69GZZZZ', false],
    ]);
  });

  it('judges a tagged operation of a transaction created outside the window by its record', () => {
    const outside = rec({ status: 'needs_review' });
    const fine = rec({});
    const out = matchProviderRecord(
      CARD,
      [],
      [op(outside.id, '1'), op(fine.id, '2')],
      new Map([
        [outside.id, outside],
        [fine.id, fine],
      ]),
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'applied_not_succeeded', transaction_id: outside.id, confirmable: true });
  });
});

describe('balanceDrift', () => {
  const balance = (stamps: number): ProviderBalance => ({
    nativeUnit: 'stamps',
    units: { stamps },
    totalEarned: null,
    totalRedeemed: null,
  });

  it("compares with the balance the latest write left, whatever the list's order", () => {
    const older = rec({ unit: 'stamps', balance_after: 4, completed_at: 100 });
    const latest = rec({ unit: 'stamps', balance_after: 6, completed_at: 200 });
    expect(balanceDrift(CARD, [latest, older], balance(6))).toBeNull();
    expect(balanceDrift(CARD, [older, latest], balance(9))).toMatchObject({
      kind: 'balance_drift',
      transaction_id: latest.id,
      expected: 6,
      actual: 9,
    });
  });

  it('says nothing without a write that recorded a balance, and names a needs_review that may explain it', () => {
    expect(balanceDrift(CARD, [rec({ unit: 'stamps' })], balance(3))).toBeNull();
    const last = rec({ unit: 'stamps', balance_after: 2, created_at: 100, completed_at: 110 });
    const open = rec({ unit: 'stamps', status: 'needs_review', created_at: 120 });
    expect(balanceDrift(CARD, [last, open], balance(4))?.detail).toContain(open.id);
  });
});
