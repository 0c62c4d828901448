import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { award, issueCard, KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

interface BulkResult {
  index: number;
  status: number;
  replayed: boolean;
  transaction?: { id: string; type: string; card_id: string; points: number; balance_after: number };
  error?: { code: string; detail: string; errors?: { field: string; message: string }[] };
}

async function bulk(items: unknown[], opts: { key?: string; idempotencyKey?: string } = {}) {
  const res = await gw.request('POST', '/v1/points/bulk', {
    body: { transactions: items },
    key: opts.key,
    headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {},
  });
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const results = res.body.results as BulkResult[];
  expect(results.map((r) => r.index)).toEqual(items.map((_, i) => i));
  expect(res.body.succeeded + res.body.failed).toBe(items.length);
  expect(res.body.succeeded).toBe(results.filter((r) => r.transaction).length);
  for (const r of results) {
    // Exactly one of transaction and error; errors are never 5xx.
    expect(Boolean(r.transaction) !== Boolean(r.error)).toBe(true);
    if (r.error) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.replayed).toBe(false);
    } else expect(r.status).toBe(201);
  }
  return { succeeded: res.body.succeeded as number, failed: res.body.failed as number, results };
}

const balance = async (card: string) =>
  (await gw.request('GET', `/v1/points/balance/${card}`)).body.available as number;
const historyLength = async (card: string) =>
  (await gw.request('GET', `/v1/points/history/${card}?limit=100`)).body.data.length as number;

describe('mixed items', () => {
  it('applies the good items in order and gives each bad one its own error', async () => {
    const card = await issueCard(gw);
    const blocked = await issueCard(gw);
    await award(gw, blocked, 40);
    const patch = await gw.request('PATCH', `/v1/cards/${blocked}`, { body: { status: 'blocked', reason: 'lost' } });
    expect(patch.status).toBe(200);

    const items = [
      { type: 'award', card_id: card, points: 100, reason: 'welcome' }, // 0 ok -> 100
      { type: 'refund', card_id: card, points: 1, reason: 'x' }, // 1 bad type
      { type: 'award', card_id: 'ledger:c_DOESNOTEXIST', points: 5, reason: 'x' }, // 2 missing card
      { type: 'redeem', card_id: card, points: 150, reason: 'too much' }, // 3 insufficient
      { type: 'award', card_id: card, points: 0, reason: 'x' }, // 4 invalid points
      { type: 'award', card_id: card, points: 5, reason: 'x', colour: 'red' }, // 5 unknown field
      { type: 'award', card_id: blocked, points: 5, reason: 'x' }, // 6 blocked
      { type: 'redeem', card_id: card, points: 30, reason: 'voucher' }, // 7 ok -> 70
      { type: 'adjust', card_id: card, points: 5, reason: 'goodwill' }, // 8 ok -> 75
      { type: 'redeem', card_id: blocked, points: 5, reason: 'x' }, // 9 blocked
      { type: 'adjust', card_id: blocked, points: -10, reason: 'fix' }, // 10 ok: adjust works on a blocked card
      { type: 'award', card_id: 'highlight:544256-439-856', points: 5, reason: 'x' }, // 11 unknown connection
      { type: 'award', card_id: 'no colon', points: 5, reason: 'x' }, // 12 malformed card id
      { type: 'redeem', card_id: card, points: 75, reason: 'everything' }, // 13 ok -> 0: sees 0, 7 and 8 applied
      { card_id: card, points: 5, reason: 'x' }, // 14 no type
      { type: 'award', card_id: card, points: '5', reason: 'x' }, // 15 string points
      { type: 'award', card_id: card, points: 1.5, reason: 'x' }, // 16 fractional
      { type: 'redeem', card_id: card, points: 1, reason: 'x' }, // 17 insufficient now
      { type: 'adjust', card_id: card, points: 0, reason: 'x' }, // 18 adjust 0
      { type: 'award', card_id: card, reason: 'x' }, // 19 missing points
      { type: 'award', card_id: card, points: 1 }, // 20 missing reason
    ];
    const out = await bulk(items);
    const codes = out.results.map((r) => r.error?.code ?? 'ok');
    expect(codes).toEqual([
      'ok',
      'validation_failed',
      'card_not_found',
      'insufficient_points',
      'invalid_points_amount',
      'validation_failed',
      'card_blocked',
      'ok',
      'ok',
      'card_blocked',
      'ok',
      'unknown_connection',
      'validation_failed',
      'ok',
      'validation_failed',
      'invalid_points_amount',
      'invalid_points_amount',
      'insufficient_points',
      'invalid_points_amount',
      'invalid_points_amount',
      'validation_failed',
    ]);
    expect(out.results.map((r) => r.status)).toEqual([
      201, 400, 404, 400, 400, 400, 403, 201, 201, 403, 201, 404, 400, 201, 400, 400, 400, 400, 400, 400, 400,
    ]);
    expect(out).toMatchObject({ succeeded: 5, failed: 16 });

    expect(out.results[0]!.transaction).toMatchObject({
      type: 'award',
      card_id: card,
      points: 100,
      balance_after: 100,
    });
    expect(out.results[7]!.transaction).toMatchObject({ type: 'redeem', balance_after: 70 });
    expect(out.results[8]!.transaction).toMatchObject({ type: 'adjust', balance_after: 75 });
    expect(out.results[10]!.transaction).toMatchObject({ type: 'adjust', card_id: blocked, balance_after: 30 });
    expect(out.results[13]!.transaction).toMatchObject({ type: 'redeem', balance_after: 0 });
    // Field errors name the item.
    expect(out.results[1]!.error!.errors).toEqual([expect.objectContaining({ field: '/transactions/1/type' })]);
    expect(out.results[5]!.error!.errors).toEqual([expect.objectContaining({ field: '/transactions/5/colour' })]);
    expect(out.results[4]!.error!.errors).toEqual([expect.objectContaining({ field: '/transactions/4/points' })]);
    expect(out.results[20]!.error!.errors).toEqual([expect.objectContaining({ field: '/transactions/20/reason' })]);
    expect(out.results[3]!.error!.detail).toContain('100');

    // What the ledger holds agrees: only the good items, once.
    expect(await balance(card)).toBe(0);
    expect(await balance(blocked)).toBe(30);
    expect(await historyLength(card)).toBe(4);
    expect(await historyLength(blocked)).toBe(2);
    for (const r of out.results.filter((x) => x.transaction)) {
      const got = await gw.request('GET', `/v1/transactions/${r.transaction!.id}`);
      expect(got.body).toEqual(r.transaction);
    }
  });

  it('refuses adjust items from a write-only key with forbidden, and applies the rest', async () => {
    const card = await issueCard(gw);
    const items = [
      { type: 'award', card_id: card, points: 20, reason: 'a' },
      { type: 'adjust', card_id: card, points: 5, reason: 'b' },
      { type: 'redeem', card_id: card, points: 5, reason: 'c' },
      { type: 'adjust', card_id: card, points: -5, reason: 'd' },
    ];
    const out = await bulk(items, { key: KEYS.write });
    expect(out.results.map((r) => r.error?.code ?? 'ok')).toEqual(['ok', 'forbidden', 'ok', 'forbidden']);
    expect(out.results.map((r) => r.status)).toEqual([201, 403, 201, 403]);
    expect(out).toMatchObject({ succeeded: 2, failed: 2 });
    expect(await balance(card)).toBe(15);

    const asAdmin = await bulk(items.slice(1, 2), { key: KEYS.admin });
    expect(asAdmin.succeeded).toBe(1);
    expect(await balance(card)).toBe(20);
  });

  it('needs the write scope for the request as a whole', async () => {
    const card = await issueCard(gw);
    const res = await gw.request('POST', '/v1/points/bulk', {
      key: KEYS.read,
      body: { transactions: [{ type: 'award', card_id: card, points: 1, reason: 'x' }] },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
    expect(await balance(card)).toBe(0);
  });
});

describe('size', () => {
  it('accepts 1,000 items and refuses 1,001', async () => {
    const card = await issueCard(gw);
    const items = Array.from({ length: 1000 }, (_, i) => ({
      type: 'award',
      card_id: card,
      points: 1,
      reason: `item ${i}`,
      reference_id: `bulk-1000-${i}`,
    }));
    const out = await bulk(items);
    expect(out).toMatchObject({ succeeded: 1000, failed: 0 });
    expect(out.results[999]!.transaction!.balance_after).toBe(1000);
    expect(await balance(card)).toBe(1000);

    const tooMany = await gw.request('POST', '/v1/points/bulk', {
      body: {
        transactions: [
          ...items.map((it, i) => ({ ...it, reference_id: `bulk-1001-${i}` })),
          { type: 'award', card_id: card, points: 1, reason: 'x' },
        ],
      },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(tooMany.body.code).toBe('validation_failed');
    expect(tooMany.body.errors).toEqual([expect.objectContaining({ field: '/transactions' })]);
    expect(await balance(card)).toBe(1000);
  });
});

describe('idempotency per item', () => {
  it('replays every applied item of a bulk repeated with its Idempotency-Key, applying nothing twice', async () => {
    const card = await issueCard(gw);
    const other = await issueCard(gw);
    const items = [
      { type: 'award', card_id: card, points: 100, reason: 'a' },
      { type: 'award', card_id: other, points: 7, reason: 'b' },
      { type: 'redeem', card_id: card, points: 500, reason: 'too much' },
      { type: 'redeem', card_id: card, points: 10, reason: 'c' },
      { type: 'award', card_id: card, points: -1, reason: 'bad' },
      { type: 'adjust', card_id: card, points: 3, reason: 'd' },
      // Identical to item 0, but its own item: applied again (a different "<key>#i").
      { type: 'award', card_id: card, points: 100, reason: 'a' },
    ];
    const first = await bulk(items, { idempotencyKey: 'bulk-key-1' });
    expect(first.results.map((r) => r.error?.code ?? 'ok')).toEqual([
      'ok',
      'ok',
      'insufficient_points',
      'ok',
      'invalid_points_amount',
      'ok',
      'ok',
    ]);
    expect(first.results.every((r) => !r.replayed)).toBe(true);
    expect(await balance(card)).toBe(193);
    expect(await balance(other)).toBe(7);

    const second = await bulk(items, { idempotencyKey: 'bulk-key-1' });
    expect(second.results.map((r) => r.error?.code ?? 'ok')).toEqual([
      'ok',
      'ok',
      'insufficient_points',
      'ok',
      'invalid_points_amount',
      'ok',
      'ok',
    ]);
    for (const i of [0, 1, 3, 5, 6]) {
      expect(second.results[i]!.replayed, `item ${i}`).toBe(true);
      expect(second.results[i]!.transaction).toEqual(first.results[i]!.transaction);
    }
    expect(second).toMatchObject({ succeeded: 5, failed: 2 });
    expect(await balance(card)).toBe(193);
    expect(await balance(other)).toBe(7);
    expect(await historyLength(card)).toBe(4);

    // A refused item left nothing behind under its key: after a top-up, the retry applies it.
    await award(gw, card, 400);
    const third = await bulk(items, { idempotencyKey: 'bulk-key-1' });
    expect(third.results[2]!.error).toBeUndefined();
    expect(third.results[2]!.replayed).toBe(false);
    expect(third.results.filter((r) => r.replayed).length).toBe(5);
    expect(await balance(card)).toBe(193 + 400 - 500);

    // Another body under the same key: each item whose body changed is refused.
    const changed = items.map((it, i) => (i === 0 ? { ...it, points: 101 } : it));
    const fourth = await bulk(changed, { idempotencyKey: 'bulk-key-1' });
    expect(fourth.results[0]!.error?.code).toBe('idempotency_key_reused');
    expect(fourth.results[0]!.status).toBe(422);
    expect(fourth.results[1]!.replayed).toBe(true);
    expect(await balance(card)).toBe(93);

    // A new key is a new request.
    const fresh = await bulk(items.slice(0, 1), { idempotencyKey: 'bulk-key-2' });
    expect(fresh.results[0]!.replayed).toBe(false);
    expect(await balance(card)).toBe(193);
  });

  it('does not apply reference_id items twice across two bulk calls without a key', async () => {
    const card = await issueCard(gw);
    const items = [
      { type: 'award', card_id: card, points: 50, reason: 'order', reference_id: 'order-77' },
      { type: 'redeem', card_id: card, points: 20, reason: 'voucher', reference_id: 'order-78' },
      { type: 'award', card_id: card, points: 5, reason: 'no ref' },
    ];
    const first = await bulk(items);
    expect(first).toMatchObject({ succeeded: 3, failed: 0 });
    expect(await balance(card)).toBe(35);

    const second = await bulk(items);
    expect(second.results.map((r) => r.replayed)).toEqual([true, true, false]);
    expect(second.results[0]!.transaction).toEqual(first.results[0]!.transaction);
    expect(second.results[1]!.transaction).toEqual(first.results[1]!.transaction);
    expect(await balance(card)).toBe(40);

    // Within one bulk, the same reference twice is one transaction.
    const dup = await bulk([
      { type: 'award', card_id: card, points: 9, reason: 'x', reference_id: 'order-99' },
      { type: 'award', card_id: card, points: 9, reason: 'x', reference_id: 'order-99' },
    ]);
    expect(dup.results.map((r) => r.replayed)).toEqual([false, true]);
    expect(dup.results[1]!.transaction!.id).toBe(dup.results[0]!.transaction!.id);
    expect(await balance(card)).toBe(49);

    // The same reference_id as a single request is also the same transaction.
    const single = await award(gw, card, 50, { reason: 'order', reference_id: 'order-77' });
    expect(single.headers.get('idempotent-replayed')).toBe('true');
    expect(single.body.id).toBe(first.results[0]!.transaction!.id);
    expect(await balance(card)).toBe(49);
  });
});
