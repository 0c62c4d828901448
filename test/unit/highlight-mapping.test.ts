import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commentOf } from '../../src/providers/highlight/highlight-adapter.js';
import { capabilitiesOf, cardTypeOf, findRow, OPERATION_TABLE } from '../../src/providers/highlight/mapping.js';
import { historyEntryOf, minorToDecimal, timeOf } from '../../src/providers/highlight/normalize.js';

const plain = { mechanics: 'stamps', limits: false } as const;

describe('highlight mapping', () => {
  it('the README holds the same operation table as mapping.ts', () => {
    const readme = readFileSync(new URL('../../src/providers/highlight/README.md', import.meta.url), 'utf8');
    const op = (k: string) => (k === 'adjust+' ? 'adjust (+)' : k === 'adjust-' ? 'adjust (−)' : k);
    const when = (w: string) => (w === 'limits' ? 'limits: true' : w === 'no-limits' ? 'limits: false' : w);
    for (const r of OPERATION_TABLE) {
      const line =
        `| ${r.ops.map(op).join(', ')} | ${r.type} | ${when(r.when)} | ${r.unit ?? '—'} | \`POST ` +
        `/cards/{serial}/${r.path}\` | ${r.field ? `\`${r.field}\`` : '—'} |`;
      expect(readme).toContain(line);
    }
  });

  it('finds rows by operation, type, settings and unit, converting nothing', () => {
    expect(findRow('award', 'stamp', plain, 'stamps')?.path).toBe('add-stamp');
    expect(findRow('award', 'stamp', plain, 'points')).toBeNull();
    expect(findRow('redeem_reward', 'stamp', plain, 'stamps')?.path).toBe('subtract-reward');
    expect(findRow('visit', 'stamp', plain, 'visits')).toBeNull();
    expect(findRow('visit', 'stamp', { mechanics: 'visit', limits: false }, 'visits')?.path).toBe('add-visit');
    expect(findRow('purchase', 'reward', { mechanics: 'spend', limits: false }, 'amount')?.path).toBe('add-purchase');
    expect(findRow('adjust-', 'membership', plain, 'visits')).toBeNull();
    expect(findRow('adjust-', 'membership', { mechanics: 'visit', limits: true }, 'visits')?.path).toBe(
      'subtract-visit',
    );
    expect(findRow('award', 'coupon', plain, 'rewards')).toBeNull();
  });

  it('declares reverse only where both directions of a unit exist', () => {
    expect(capabilitiesOf('reward', { mechanics: 'points', limits: false }).operations).toContain('reverse');
    expect(capabilitiesOf('reward', { mechanics: 'spend', limits: false }).operations).not.toContain('reverse');
    expect(capabilitiesOf('membership', { mechanics: 'visit', limits: true }).operations).not.toContain('reverse');
  });

  it('reads card types, money and times', () => {
    expect([
      cardTypeOf('Stamp'),
      cardTypeOf('gift_certificate'),
      cardTypeOf(7),
      cardTypeOf('4'),
      cardTypeOf('pizza'),
    ]).toEqual(['stamp', 'gift', 'reward', 'discount', null]);
    expect([minorToDecimal(1050), minorToDecimal(5), minorToDecimal(-250), minorToDecimal(0)]).toEqual([
      '10.50',
      '0.05',
      '-2.50',
      '0.00',
    ]);
    expect(timeOf('2024-01-15 09:00:00')).toBe(Date.UTC(2024, 0, 15, 9));
    expect(timeOf('garbage')).toBeNull();
  });

  it('puts the txn id in the comment and finds it back in history', () => {
    const comment = commentOf({ reason: 'Order\n1001', txnId: 'txn_01ARZ3NDEKTSV4RRFFQ69G5FAV' });
    expect(comment).toBe('Order 1001 [lgw:txn_01ARZ3NDEKTSV4RRFFQ69G5FAV]');
    const e = historyEntryOf(
      { id: 9, eventId: 6, amount: -2.5, balance: 10.05, comment, createdAt: '2024-01-15T09:00:00Z' },
      'cashback',
      ['points', 'amount'],
    );
    expect(e).toMatchObject({
      providerReference: '9',
      operation: 'redeem',
      unit: 'amount',
      delta: -250,
      balanceAfter: 1005,
      txnId: 'txn_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    });
    // An eventId naming a unit the card does not hold falls back to the native unit.
    expect(historyEntryOf({ id: 1, eventId: 6, amount: 3 }, 'stamp', ['stamps', 'rewards'])).toMatchObject({
      unit: 'stamps',
      operation: 'award',
      txnId: null,
      createdAt: 0,
    });
  });
});
