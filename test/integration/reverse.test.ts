import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlledClock, type TestClock } from '../helpers/clock.js';
import {
  award,
  expectProblem,
  historyOf,
  issueCard,
  KEYS,
  type Res,
  startGateway,
  type TestGateway,
} from '../helpers/gateway.js';

const HOUR = 3_600_000;
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Entry = any;

// Time is the test's: expiry is reached by moving the clock, never by waiting.
let gw: TestGateway;
let clock: TestClock;
beforeAll(async () => {
  gw = await startGateway();
  clock = controlledClock();
});
afterAll(async () => {
  clock?.restore();
  await gw?.close();
});

const reverse = (
  id: string,
  body?: Record<string, unknown>,
  opts: { key?: string; headers?: Record<string, string> } = {},
) => gw.request('POST', `/v1/transactions/${id}/reverse`, { body: body ?? {}, ...opts });
const redeem = (card: string, points: number) =>
  gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points, reason: 'test redeem' } });
const txn = async (id: string) => (await gw.request('GET', `/v1/transactions/${id}`)).body;
const balance = async (card: string) => (await gw.request('GET', `/v1/points/balance/${card}`)).body;

const history = (card: string): Promise<Entry[]> => historyOf(gw, card);

/** Oldest first, each entry's balance_after is the previous one plus its delta. */
function expectConsistentChain(hist: Entry[]) {
  let running = 0;
  for (const e of [...hist].reverse()) {
    running += e.delta;
    expect(e.balance_after, `balance_after of ${e.type} ${e.id}`).toBe(running);
  }
}

describe('full reversal', () => {
  it('takes an award back as an adjust that names the original, once', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 30);
    const orig = await award(gw, card, 100, { reference_id: 'order-9' });

    const rev = await reverse(orig.body.id, { reason: 'order cancelled', staff: 'till-1' });
    expect(rev.status).toBe(201);
    expect(rev.headers.get('idempotent-replayed')).toBeNull();
    expect(rev.headers.get('location')).toBe(`/v1/transactions/${rev.body.id}`);
    expect(rev.body).toMatchObject({
      type: 'adjust',
      status: 'succeeded',
      card_id: card,
      points: 100,
      delta: -100,
      balance_after: 30,
      reversal_of: orig.body.id,
      reason: 'order cancelled',
      staff: 'till-1',
      source: 'api',
      reversed_points: 0,
    });
    expect(rev.body.id).not.toBe(orig.body.id);

    // Again without a key: the full reversal happens once, so this is its replay.
    const again = await reverse(orig.body.id);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(rev.body);
    // With an Idempotency-Key of its own, too.
    const keyed = await reverse(orig.body.id, {}, { headers: { 'idempotency-key': 'rev-key-1' } });
    expect(keyed.headers.get('idempotent-replayed')).toBe('true');
    expect(keyed.body.id).toBe(rev.body.id);

    expect(await txn(orig.body.id)).toMatchObject({
      id: orig.body.id,
      type: 'award',
      reversed_points: 100,
      delta: 100,
    });
    expect(await txn(rev.body.id)).toEqual(rev.body);
    expect(await balance(card)).toMatchObject({
      available: 30,
      total_earned: 130,
      total_adjusted: -100,
      total_redeemed: 0,
    });
    const hist = await history(card);
    expect(hist.map((t) => t.id)).toEqual([rev.body.id, orig.body.id, expect.any(String)]);
    expectConsistentChain(hist);
  });

  it('the default reason names the original', async () => {
    const card = await issueCard(gw);
    const orig = await award(gw, card, 5);
    const rev = await reverse(orig.body.id);
    expect(rev.body.reason).toBe(`Reversal of ${orig.body.id}`);
  });

  it('a read key may not reverse', async () => {
    const card = await issueCard(gw);
    const orig = await award(gw, card, 5);
    expect((await reverse(orig.body.id, {}, { key: KEYS.read })).status).toBe(403);
    expect((await reverse(orig.body.id, {}, { key: KEYS.write })).status).toBe(201);
  });
});

describe('partial reversals', () => {
  it('sum up, are keyed by reference_id, and stop at the original', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 500);
    const orig = await award(gw, card, 100);

    const r1 = await reverse(orig.body.id, { points: 30, reference_id: 'refund-1' });
    expect(r1.status).toBe(201);
    expect(r1.body).toMatchObject({
      points: 30,
      delta: -30,
      balance_after: 570,
      reversal_of: orig.body.id,
      reference_id: 'refund-1',
    });
    const r2 = await reverse(orig.body.id, { points: 20, reference_id: 'refund-2' });
    expect(r2.body).toMatchObject({ points: 20, delta: -20, balance_after: 550 });
    expect((await txn(orig.body.id)).reversed_points).toBe(50);

    // The same refund again is a replay, not a second reversal.
    const r1again = await reverse(orig.body.id, { points: 30, reference_id: 'refund-1' });
    expect(r1again.headers.get('idempotent-replayed')).toBe('true');
    expect(r1again.body.id).toBe(r1.body.id);
    expect((await txn(orig.body.id)).reversed_points).toBe(50);

    // More than the 50 left: refused, nothing written.
    const histBefore = await history(card);
    const tooMuch = await reverse(orig.body.id, { points: 51, reference_id: 'refund-3' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.code).toBe('reversal_exceeds_original');
    expect(tooMuch.body.detail).toContain('50');
    expect(await history(card)).toEqual(histBefore);
    expect((await txn(orig.body.id)).reversed_points).toBe(50);

    // The refused reference_id is not used up: it can be sent again with a fitting amount.
    const r3 = await reverse(orig.body.id, { points: 50, reference_id: 'refund-3' });
    expect(r3.status).toBe(201);
    expect(r3.body).toMatchObject({ points: 50, delta: -50, balance_after: 500 });
    expect((await txn(orig.body.id)).reversed_points).toBe(100);

    // Everything reversed: a new partial is 409 already_reversed, and so is a full one.
    const done = await reverse(orig.body.id, { points: 1, reference_id: 'refund-4' });
    expect(done.status).toBe(409);
    expect(done.body).toMatchObject({ code: 'already_reversed', type: '/problems/already_reversed' });
    const full = await reverse(orig.body.id);
    expect(full.status).toBe(409);
    expect(full.body.code).toBe('already_reversed');

    expect(await history(card)).toHaveLength(histBefore.length + 1);
    expect(await balance(card)).toMatchObject({ available: 500, total_earned: 600, total_adjusted: -100 });
    expectConsistentChain(await history(card));
  });

  it('a full reversal after partial ones takes what is left', async () => {
    const card = await issueCard(gw);
    const orig = await award(gw, card, 100);
    await reverse(orig.body.id, { points: 40, reference_id: 'p1' });
    const full = await reverse(orig.body.id);
    expect(full.body).toMatchObject({ points: 60, delta: -60, balance_after: 0 });
    expect((await txn(orig.body.id)).reversed_points).toBe(100);
  });

  it('a partial reversal without reference_id is keyed by its Idempotency-Key', async () => {
    const card = await issueCard(gw);
    const orig = await award(gw, card, 100);
    const a = await reverse(orig.body.id, { points: 10 }, { headers: { 'idempotency-key': 'partial-a' } });
    const a2 = await reverse(orig.body.id, { points: 10 }, { headers: { 'idempotency-key': 'partial-a' } });
    expect(a2.body.id).toBe(a.body.id);
    expect(a2.headers.get('idempotent-replayed')).toBe('true');
    // Neither key nor reference_id: every call is a new reversal.
    await reverse(orig.body.id, { points: 10 });
    await reverse(orig.body.id, { points: 10 });
    expect((await txn(orig.body.id)).reversed_points).toBe(30);
    expect((await balance(card)).available).toBe(70);
  });
});

describe('reversing a redeem', () => {
  it('gives the points back with the expiry they had', async () => {
    const card = await issueCard(gw);
    const a = await award(gw, card, 100, { expires_at: inMs(HOUR) });
    const red = await redeem(card, 40);
    expect(red.body.balance_after).toBe(60);

    const rev = await reverse(red.body.id);
    expect(rev.status).toBe(201);
    expect(rev.body).toMatchObject({
      type: 'adjust',
      points: 40,
      delta: 40,
      balance_after: 100,
      reversal_of: red.body.id,
    });
    expect(await balance(card)).toMatchObject({
      available: 100,
      total_redeemed: 40,
      total_adjusted: 40,
      expiring_soon: 100,
      next_expiry: { points: 100, at: a.body.expires_at },
    });
    expect((await txn(red.body.id)).reversed_points).toBe(40);
    expect((await reverse(red.body.id, { points: 1, reference_id: 'x' })).body.code).toBe('already_reversed');
  });

  it('partial reversals give back the earliest-expiring part first and never the same part twice', async () => {
    const card = await issueCard(gw);
    const a = await award(gw, card, 100, { expires_at: inMs(HOUR) });
    const c = await award(gw, card, 50, { expires_at: inMs(HOUR / 2) });
    const red = await redeem(card, 120); // 50 from C, 70 from A
    expect(await balance(card)).toMatchObject({ available: 30, next_expiry: { points: 30, at: a.body.expires_at } });

    await reverse(red.body.id, { points: 30, reference_id: 'r1' }); // 30 of C's part back
    expect((await balance(card)).next_expiry).toEqual({ points: 30, at: c.body.expires_at });
    await reverse(red.body.id, { points: 30, reference_id: 'r2' }); // C's other 20, then 10 of A's
    const bal = await balance(card);
    expect(bal).toMatchObject({ available: 90, expiring_soon: 90, next_expiry: { points: 50, at: c.body.expires_at } });
    // Manually expiring what expires within 45 minutes shows C's part holds exactly 50.
    const e = await gw.request('POST', '/v1/points/expire', { body: { card_id: card, before: inMs(45 * 60_000) } });
    expect(e.body).toMatchObject({ points: 50, balance_after: 40 });
    expect((await balance(card)).next_expiry).toEqual({ points: 40, at: a.body.expires_at });

    const rest = await reverse(red.body.id);
    expect(rest.body).toMatchObject({ points: 60, delta: 60, balance_after: 100 });
    expect((await balance(card)).next_expiry).toEqual({ points: 100, at: a.body.expires_at });
  });

  it('reversing a negative adjust gives its points back', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 50);
    const adj = await gw.request('POST', '/v1/points/adjust', { body: { card_id: card, points: -20, reason: 'fix' } });
    const rev = await reverse(adj.body.id);
    expect(rev.body).toMatchObject({ delta: 20, balance_after: 50, reversal_of: adj.body.id });
    expect(await balance(card)).toMatchObject({ available: 50, total_adjusted: 0 });
  });
});

describe('what cannot be reversed', () => {
  it('an expire, a reversal, an unknown transaction', async () => {
    const card = await issueCard(gw);
    const a = await award(gw, card, 100);
    const exp = await gw.request('POST', '/v1/points/expire', { body: { card_id: card, points: 10 } });
    expect(exp.status).toBe(201);
    const e1 = await reverse(exp.body.id);
    expect(e1.status).toBe(422);
    expect(e1.body.code).toBe('transaction_not_reversible');

    const rev = await reverse(a.body.id, { points: 10, reference_id: 'p' });
    const e2 = await reverse(rev.body.id);
    expect(e2.status).toBe(422);
    expect(e2.body.code).toBe('transaction_not_reversible');
    expect(e2.body.detail).toContain('itself a reversal');

    const e3 = await reverse('txn_01JD3X7B2C4D6E8F0G2H4J6K8M');
    expect(e3.status).toBe(404);
    expect(e3.body.code).toBe('transaction_not_found');
    expect((await reverse('not-an-id')).body.code).toBe('transaction_not_found');

    expect(await balance(card)).toMatchObject({ available: 80, total_expired: 10, total_adjusted: -10 });
    expect(await history(card)).toHaveLength(3);
  });

  it('an award whose points are spent, balance too low: 400 insufficient_points, nothing written', async () => {
    const card = await issueCard(gw);
    const orig = await award(gw, card, 100);
    await redeem(card, 80);
    const histBefore = await history(card);

    const no = await reverse(orig.body.id);
    expect(no.status).toBe(400);
    expect(no.body).toMatchObject({ code: 'insufficient_points', available: 20 });
    const noPartial = await reverse(orig.body.id, { points: 21, reference_id: 'p1' });
    expect(noPartial.body).toMatchObject({ code: 'insufficient_points', available: 20 });
    expect(await history(card)).toEqual(histBefore);
    expect((await txn(orig.body.id)).reversed_points).toBe(0);
    expect(await balance(card)).toMatchObject({ available: 20, total_adjusted: 0 });

    // Nothing was used up by the refusals: once the card holds enough, the same requests go through.
    await award(gw, card, 100);
    const p1 = await reverse(orig.body.id, { points: 21, reference_id: 'p1' });
    expect(p1.status).toBe(201);
    const full = await reverse(orig.body.id);
    expect(full.status).toBe(201);
    expect(full.headers.get('idempotent-replayed')).toBeNull();
    expect(full.body).toMatchObject({ points: 79, delta: -79, balance_after: 20 });
    expect((await txn(orig.body.id)).reversed_points).toBe(100);
    expectConsistentChain(await history(card));
  });
});

describe('a reversal that finds points due for expiry', () => {
  it('writes the expire entry first, before the reversal, in history order too', async () => {
    const card = await issueCard(gw);
    const short = await award(gw, card, 50, { expires_at: inMs(HOUR) });
    const b = await award(gw, card, 100);
    clock.advancePast(short.body.expires_at);

    // Nobody read the card: the reversal expires the 50 itself, then takes 100.
    const rev = await reverse(b.body.id);
    expect(rev.body).toMatchObject({ delta: -100, balance_after: 0 });
    const hist = await history(card);
    expect(hist.map((t) => t.type)).toEqual(['adjust', 'expire', 'award', 'award']);
    expect(hist[1]).toMatchObject({ source: 'expiry_schedule', points: 50, balance_after: 100 });
    expectConsistentChain(hist);
  });
});

describe('concurrent reversals of one transaction', () => {
  /** `n` requests sent at once. */
  const burst = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));
  /** Keyed by an Idempotency-Key or by a reference_id, every one different. */
  const partial = (id: string, points: number, i: number) =>
    i % 2 === 0
      ? reverse(id, { points }, { headers: { 'idempotency-key': `${id}-key-${i}` } })
      : reverse(id, { points, reference_id: `${id}-ref-${i}` });
  const succeeded = (res: Res[]) => res.filter((r) => r.status === 201);
  const refused = (res: Res[]) => res.filter((r) => r.status !== 201);
  /** The card's reversals of `origId` in its history. */
  const reversalsOf = async (card: string, origId: string) =>
    (await history(card)).filter((t) => t.reversal_of === origId);

  it('partial ones never take back more than the award: as many go through as fit, the rest are 422', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 1000); // enough on the card: only the award's own amount limits the reversals
    const orig = await award(gw, card, 100);

    // 12 × 30 asked for, balance reads in between; 100 to reverse, so 3 fit.
    const [res, reads] = await Promise.all([
      burst(12, (i) => partial(orig.body.id, 30, i)),
      burst(6, () => balance(card)),
    ]);
    const ok = succeeded(res);
    expect(ok.map((r) => r.status)).toEqual([201, 201, 201]);
    for (const r of ok) {
      expect(r.body).toMatchObject({ type: 'adjust', points: 30, delta: -30, reversal_of: orig.body.id });
      expect(r.headers.get('idempotent-replayed')).toBeNull();
    }
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(3);
    expect(ok.map((r) => r.body.balance_after).sort()).toEqual([1010, 1040, 1070]);
    for (const r of refused(res)) {
      expectProblem(r, 422, 'reversal_exceeds_original');
      expect(r.body.detail).toContain(`Only 10 points of ${orig.body.id} are left`);
    }
    // Never less than the reversals that fit leave, never more than the card held.
    for (const b of reads) {
      expect(b.available).toBeGreaterThanOrEqual(1010);
      expect(b.available).toBeLessThanOrEqual(1100);
    }

    expect((await txn(orig.body.id)).reversed_points).toBe(90);
    expect(await balance(card)).toMatchObject({ available: 1010, total_earned: 1100, total_adjusted: -90 });
    expect(await reversalsOf(card, orig.body.id)).toHaveLength(3);
    expectConsistentChain(await history(card));
    // The 10 left still can be reversed, and then nothing more.
    expect((await reverse(orig.body.id)).body).toMatchObject({ points: 10, balance_after: 1000 });
    expectProblem(await partial(orig.body.id, 1, 99), 409, 'already_reversed');
  });

  it('of mixed amounts: what goes through adds up to at most the award, and what is refused did not fit', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 1000);
    const orig = await award(gw, card, 100);
    const amounts = [45, 40, 35, 30, 25, 20, 15, 10, 5, 50, 60, 70];

    const res = await burst(amounts.length, (i) => partial(orig.body.id, amounts[i]!, i));
    const ok = succeeded(res);
    const reversed = ok.reduce((sum, r) => sum + r.body.points, 0);
    expect(reversed).toBeGreaterThan(0);
    expect(reversed).toBeLessThanOrEqual(100);
    for (const r of ok) expect(r.body.points).toBe(amounts[res.indexOf(r)]);
    // What is left only shrinks, so every refused amount is more than what is left at the end.
    for (const r of refused(res)) {
      if (reversed === 100 && r.status === 409) expectProblem(r, 409, 'already_reversed');
      else expectProblem(r, 422, 'reversal_exceeds_original');
      expect(amounts[res.indexOf(r)]).toBeGreaterThan(100 - reversed);
    }

    expect((await txn(orig.body.id)).reversed_points).toBe(reversed);
    expect(await balance(card)).toMatchObject({ available: 1100 - reversed, total_adjusted: -reversed });
    expect(await reversalsOf(card, orig.body.id)).toHaveLength(ok.length);
    expectConsistentChain(await history(card));
  });

  it('of a redeem never give back more than it took', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 300);
    const red = await redeem(card, 100);
    expect(red.body.balance_after).toBe(200);

    const res = await burst(8, (i) => partial(red.body.id, 30, i));
    expect(succeeded(res)).toHaveLength(3);
    for (const r of refused(res)) expectProblem(r, 422, 'reversal_exceeds_original');
    expect((await txn(red.body.id)).reversed_points).toBe(90);
    expect(await balance(card)).toMatchObject({ available: 290, total_redeemed: 100, total_adjusted: 90 });
    expectConsistentChain(await history(card));
  });

  it('take back no more than the card holds: the balance never goes below zero', async () => {
    const card = await issueCard(gw);
    const orig = await award(gw, card, 100);
    await redeem(card, 50);

    // 8 × 20 of the award's 100 may be reversed, but the card holds 50: 2 fit.
    const [res, reads] = await Promise.all([
      burst(8, (i) => partial(orig.body.id, 20, i)),
      burst(4, () => balance(card)),
    ]);
    expect(succeeded(res)).toHaveLength(2);
    for (const r of refused(res)) {
      expectProblem(r, 400, 'insufficient_points');
      expect(r.body.available).toBe(10);
    }
    for (const b of reads) expect(b.available).toBeGreaterThanOrEqual(10);
    expect((await txn(orig.body.id)).reversed_points).toBe(40);
    expect(await balance(card)).toMatchObject({ available: 10, total_adjusted: -40 });
    expectConsistentChain(await history(card));
  });

  /** Each answer is the one reversal, or (if it waited too long for it) 409 idempotency_in_flight. */
  function expectOneReversal(res: Res[]) {
    const ok = succeeded(res);
    expect(ok.length).toBeGreaterThan(0);
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
    expect(ok.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    for (const r of refused(res)) expectProblem(r, 409, 'idempotency_in_flight');
    return ok[0]!.body;
  }

  it('full ones with different keys make one reversal; the others get its answer', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 30);
    const orig = await award(gw, card, 100);

    const res = await burst(8, (i) => reverse(orig.body.id, {}, { headers: { 'idempotency-key': `full-${i}` } }));
    const rev = expectOneReversal(res);
    expect(rev).toMatchObject({ points: 100, delta: -100, balance_after: 30, reversal_of: orig.body.id });
    expect((await txn(orig.body.id)).reversed_points).toBe(100);
    expect(await balance(card)).toMatchObject({ available: 30, total_adjusted: -100 });
    expect(await reversalsOf(card, orig.body.id)).toEqual([expect.objectContaining({ id: rev.id })]);
  });

  it('the same partial one with the same key, sent at once, makes one reversal', async () => {
    const card = await issueCard(gw);
    const orig = await award(gw, card, 100);

    const res = await burst(8, () =>
      reverse(orig.body.id, { points: 10 }, { headers: { 'idempotency-key': `same-${orig.body.id}` } }),
    );
    const rev = expectOneReversal(res);
    expect(rev).toMatchObject({ points: 10, delta: -10, balance_after: 90 });
    expect((await txn(orig.body.id)).reversed_points).toBe(10);
    expect(await balance(card)).toMatchObject({ available: 90, total_adjusted: -10 });
    expect(await reversalsOf(card, orig.body.id)).toEqual([expect.objectContaining({ id: rev.id })]);
  });
});
