/**
 * The sandbox harness's evidence for dispatch tests and benchmarks: request statistics (arrivals,
 * 429s, the exact sliding-window maximum), `status` faults with `applied`, `probability` faults, and
 * the per-simulator count of applied operations per gateway txn id.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCoupontoolsSandbox } from '../../src/sandbox/coupontools/simulator.js';
import { fetchAppliedByTxn, fetchArrivals, fetchStats, type SimStats } from '../../src/sandbox/harness.js';
import { createHighlightSandbox, type HighlightSandbox } from '../../src/sandbox/highlight/simulator.js';
import { createLealSandbox } from '../../src/sandbox/leal/simulator.js';
import { createLoyaltyltSandbox, type LoyaltyltSandbox } from '../../src/sandbox/loyaltylt/simulator.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TXN_A = 'txn_01HZX3K9Q7V2M4N6P8R0S1T2U3';
const TXN_B = 'txn_01HZX3K9Q7V2M4N6P8R0S1T2U4';

/** A Highlight sandbox limited to 10 requests per second, for the statistics. */
let limited: HighlightSandbox;
let limitedBase: string;
let limitedRoot: string;
/** A Highlight sandbox with no practical limit, for faults and txn ids. */
let hl: HighlightSandbox;
let hlBase: string;
let hlRoot: string;

const hlCall = (
  sb: HighlightSandbox,
  base: string,
  method: string,
  path: string,
  body?: unknown,
  key = sb.credentials.apiKey!,
) =>
  fetch(base + path, {
    method,
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const stampSerial = () => (hl.seed.cards as Record<string, string>).stamp!;
const stampsOf = async (serial: string): Promise<number> => {
  const res = await hlCall(hl, hlBase, 'GET', `/cards/${serial}`);
  const body = (await res.json()) as { data: { balance: { currentNumberOfUses: number } } };
  return body.data.balance.currentNumberOfUses;
};

beforeAll(async () => {
  limited = createHighlightSandbox({ rateLimit: { requests: 10, perSeconds: 1 } });
  limitedBase = await limited.sim.start(0);
  limitedRoot = limitedBase.replace(/\/api\/v2$/, '');
  hl = createHighlightSandbox({ rateLimit: { requests: 100_000, perSeconds: 1 } });
  hlBase = await hl.sim.start(0);
  hlRoot = hlBase.replace(/\/api\/v2$/, '');
});
afterAll(async () => {
  await limited?.sim.stop();
  await hl?.sim.stop();
});
beforeEach(() => {
  limited.sim.reset();
  hl.sim.reset();
});

describe('request statistics', () => {
  it('start empty, with the rate limit they measure against', async () => {
    expect(limited.sim.stats()).toEqual({
      requests: 0,
      rateLimited: 0,
      maxInWindow: 0,
      windowMs: 1000,
      limit: 10,
      firstAt: null,
      lastAt: null,
    });
    expect(limited.sim.arrivals()).toEqual([]);
  });

  it('count every API request (refused auth, 429s), not control endpoints or paths outside the base', async () => {
    const started = performance.timeOrigin + performance.now(); // the simulators' clock
    expect((await hlCall(limited, limitedBase, 'GET', '/templates')).status).toBe(200);
    expect((await hlCall(limited, limitedBase, 'GET', '/templates', undefined, 'wrong-key')).status).toBe(401);
    expect((await fetch(`${limitedRoot}/elsewhere`)).status).toBe(404);
    await fetch(`${limitedRoot}/_sandbox/counters`);
    await fetch(`${limitedRoot}/_sandbox/state`);
    const s = limited.sim.stats();
    expect(s).toMatchObject({ requests: 2, rateLimited: 0, maxInWindow: 2, windowMs: 1000, limit: 10 });
    expect(s.firstAt).toBeGreaterThanOrEqual(started);
    expect(s.lastAt!).toBeGreaterThanOrEqual(s.firstAt!);
    const arrivals = limited.sim.arrivals();
    expect(arrivals).toHaveLength(2);
    expect(arrivals[0]).toBe(s.firstAt);
    expect(arrivals[1]).toBe(s.lastAt);
    // The same over HTTP, for a sandbox in another process.
    expect(await fetchStats(limitedRoot)).toEqual(s);
    expect(await fetchArrivals(limitedRoot)).toEqual(arrivals);
  });

  it('maxInWindow is exact: 10 requests, a pause longer than the window, 10 more → 10, no 429', async () => {
    for (let i = 0; i < 10; i++) expect((await hlCall(limited, limitedBase, 'GET', '/templates')).status).toBe(200);
    await sleep(1100);
    for (let i = 0; i < 10; i++) expect((await hlCall(limited, limitedBase, 'GET', '/templates')).status).toBe(200);
    const s = limited.sim.stats();
    expect(s).toMatchObject({ requests: 20, rateLimited: 0, maxInWindow: 10 });
    const arrivals = limited.sim.arrivals();
    expect(arrivals).toHaveLength(20);
    expect(arrivals[10]! - arrivals[9]!).toBeGreaterThanOrEqual(1000);
    expect([...arrivals].sort((a, b) => a - b)).toEqual(arrivals);
  });

  it('a burst of 15 over a limit of 10 → maxInWindow 15, rateLimited 5', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 15 }, () => hlCall(limited, limitedBase, 'GET', '/templates').then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(limited.sim.stats()).toMatchObject({ requests: 15, rateLimited: 5, maxInWindow: 15 });
  });

  it('an injected 429 is not counted as rate limited', async () => {
    limited.sim.inject({ kind: 'status', status: 429 });
    expect((await hlCall(limited, limitedBase, 'GET', '/templates')).status).toBe(429);
    expect(limited.sim.stats()).toMatchObject({ requests: 1, rateLimited: 0 });
  });

  it('reset, POST /_sandbox/reset and a rate-limit change clear them', async () => {
    await hlCall(limited, limitedBase, 'GET', '/templates');
    expect(limited.sim.stats().requests).toBe(1);
    expect((await fetch(`${limitedRoot}/_sandbox/reset`, { method: 'POST' })).status).toBe(204);
    expect(limited.sim.stats()).toMatchObject({ requests: 0, maxInWindow: 0, firstAt: null });
    expect(limited.sim.arrivals()).toEqual([]);

    await hlCall(limited, limitedBase, 'GET', '/templates');
    const put = await fetch(`${limitedRoot}/_sandbox/ratelimit`, {
      method: 'PUT',
      body: JSON.stringify({ requests: 5, perSeconds: 2 }),
    });
    expect(put.status).toBe(200);
    const s: SimStats = limited.sim.stats();
    expect(s).toEqual({
      requests: 0,
      rateLimited: 0,
      maxInWindow: 0,
      windowMs: 2000,
      limit: 5,
      firstAt: null,
      lastAt: null,
    });
    limited.sim.setRateLimit({ requests: 10, perSeconds: 1 });
    expect(limited.sim.stats()).toMatchObject({ windowMs: 1000, limit: 10 });
  });
});

describe('faults: applied status and probability', () => {
  it('a status fault with applied: true applies the operation, then answers the status', async () => {
    const serial = stampSerial();
    const before = await stampsOf(serial);
    hl.sim.inject({ kind: 'status', status: 503, applied: true, match: 'add-stamp' });
    const res = await hlCall(hl, hlBase, 'POST', `/cards/${serial}/add-stamp`, {
      stamps: 1,
      comment: `[lgw:${TXN_A}]`,
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 503, message: 'Injected fault' });
    expect(hl.sim.counters()).toEqual({ 'cards.add-stamp': 1 });
    expect(await stampsOf(serial)).toBe(before + 1);
    expect(hl.sim.appliedByTxn()).toEqual({ [TXN_A]: 1 });
  });

  it('a status fault without applied applies nothing', async () => {
    const serial = stampSerial();
    const before = await stampsOf(serial);
    hl.sim.inject({ kind: 'status', status: 503, match: 'add-stamp' });
    expect((await hlCall(hl, hlBase, 'POST', `/cards/${serial}/add-stamp`, { stamps: 1 })).status).toBe(503);
    expect(hl.sim.applied()).toBe(0);
    expect(await stampsOf(serial)).toBe(before);
  });

  it('a probability fault hits roughly its share of matching requests, for as long as its times allow', async () => {
    // Seeded: the same seed gives the same draws (TEST_SEED repeats a run; the default is fixed).
    const seed = Number(process.env.TEST_SEED ?? 15);
    hl.sim.seedFaults(seed);
    hl.sim.inject({ kind: 'status', status: 502, probability: 0.5, times: 1e9, match: '^GET /templates$' });
    const draw = async () => {
      let hits = 0;
      for (let i = 0; i < 200; i++) {
        const status = (await hlCall(hl, hlBase, 'GET', '/templates')).status;
        expect([200, 502]).toContain(status);
        if (status === 502) hits++;
      }
      return hits;
    };
    const hits = await draw();
    expect(hits, `seed ${seed}`).toBeGreaterThan(60);
    expect(hits, `seed ${seed}`).toBeLessThan(140);
    hl.sim.seedFaults(seed);
    expect(await draw(), `seed ${seed}: the same draws again`).toBe(hits);
    // Not matching: never hit.
    for (let i = 0; i < 20; i++) expect((await hlCall(hl, hlBase, 'GET', '/customers')).status).toBe(200);
  });

  it('a probability fault uses up its times only when it applies', async () => {
    hl.sim.inject({ kind: 'status', status: 502, probability: 0.5, times: 3, match: '^GET /templates$' });
    let hits = 0;
    for (let i = 0; i < 100; i++) if ((await hlCall(hl, hlBase, 'GET', '/templates')).status === 502) hits++;
    expect(hits).toBe(3);
  });

  it('probability 1 always applies', async () => {
    await fetch(`${hlRoot}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'status', status: 500, probability: 1, times: 5 }),
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await hlCall(hl, hlBase, 'GET', '/templates')).status);
    expect(statuses).toEqual([500, 500, 500, 500, 500, 200]);
  });

  it('refuses malformed probability and applied, with a clear message', async () => {
    const post = async (fault: unknown) => {
      const res = await fetch(`${hlRoot}/_sandbox/faults`, { method: 'POST', body: JSON.stringify(fault) });
      return { status: res.status, body: (await res.json()) as { message: string } };
    };
    for (const p of [0, -0.1, 1.5, '0.5', null]) {
      const r = await post({ kind: 'status', probability: p });
      expect(r.status).toBe(400);
      expect(r.body.message).toBe('probability must be a number greater than 0 and at most 1');
    }
    const a = await post({ kind: 'status', applied: 'yes' });
    expect(a.status).toBe(400);
    expect(a.body.message).toBe('applied must be true or false');
    expect(() => hl.sim.inject({ kind: 'drop', probability: 2 })).toThrow(/probability must be/);
    expect((await post({ kind: 'drop', applied: true, probability: 0.25, times: 1e9 })).status).toBe(201);
  });
});

describe('appliedByTxn: exactly-once evidence', () => {
  it('Highlight counts applied card operations by the [lgw:txn] tag in their comment', async () => {
    const serial = stampSerial();
    expect(hl.sim.appliedByTxn()).toEqual({});
    const add = await hlCall(hl, hlBase, 'POST', `/cards/${serial}/add-stamp`, {
      stamps: 2,
      comment: `Coffee order 1001 [lgw:${TXN_A}]`,
    });
    expect(add.status).toBe(200);
    // A refused operation (more stamps than the card holds) applies nothing and counts nothing.
    expect(
      (await hlCall(hl, hlBase, 'POST', `/cards/${serial}/subtract-stamp`, { stamps: 1000, comment: `[lgw:${TXN_B}]` }))
        .status,
    ).toBe(400);
    // Without a tag: applied, but not attributed.
    expect(
      (await hlCall(hl, hlBase, 'POST', `/cards/${serial}/add-stamp`, { stamps: 1, comment: 'by hand' })).status,
    ).toBe(200);
    // The same txn sent twice (a retry that was applied again) shows as 2.
    expect(
      (await hlCall(hl, hlBase, 'POST', `/cards/${serial}/subtract-stamp`, { stamps: 1, comment: `[lgw:${TXN_B}]` }))
        .status,
    ).toBe(200);
    expect(
      (await hlCall(hl, hlBase, 'POST', `/cards/${serial}/subtract-stamp`, { stamps: 1, comment: `[lgw:${TXN_B}]` }))
        .status,
    ).toBe(200);
    expect(hl.sim.appliedByTxn()).toEqual({ [TXN_A]: 1, [TXN_B]: 2 });
    expect(await fetchAppliedByTxn(hlRoot)).toEqual({ [TXN_A]: 1, [TXN_B]: 2 });
    hl.sim.reset();
    expect(hl.sim.appliedByTxn()).toEqual({});
  });

  describe('Loyalty.lt', () => {
    let lt: LoyaltyltSandbox;
    let ltBase: string;
    beforeAll(async () => {
      lt = createLoyaltyltSandbox({ rateLimit: { requests: 100_000, perSeconds: 1 } });
      ltBase = await lt.sim.start(0);
    });
    afterAll(async () => lt?.sim.stop());

    const ltPost = (path: string, body: unknown) =>
      fetch(`${ltBase}/en/shop${path}`, {
        method: 'POST',
        headers: {
          'x-api-key': lt.credentials.apiKey!,
          'x-api-secret': lt.credentials.apiSecret!,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });

    it(
      'counts transactions/create by order_id (once, even with a redemption) and deduct-points by the description ' +
        'tag',
      async () => {
        const card = lt.seed.cardId as number;
        const user = lt.seed.userId as number;
        const create = await ltPost('/transactions/create', {
          user_id: user,
          loyalty_card_id: card,
          order_id: TXN_A,
          order_total: 0,
          points: 5,
          points_redeemed: 10,
          description: `Order 1 [lgw:${TXN_A}]`,
          meta_data: { gateway_txn_id: TXN_A },
        });
        expect(create.status).toBe(200);
        // The retry is refused (409): not applied twice.
        expect(
          (
            await ltPost('/transactions/create', {
              user_id: user,
              loyalty_card_id: card,
              order_id: TXN_A,
              order_total: 0,
              points: 5,
            })
          ).status,
        ).toBe(409);
        expect(
          (
            await ltPost('/transactions/deduct-points', {
              card_id: card,
              points: 3,
              description: `Adjust [lgw:${TXN_B}]`,
            })
          ).status,
        ).toBe(200);
        expect(
          (await ltPost('/transactions/deduct-points', { card_id: card, points: 3, description: 'no tag' })).status,
        ).toBe(200);
        expect(lt.sim.appliedByTxn()).toEqual({ [TXN_A]: 1, [TXN_B]: 1 });
      },
    );
  });

  it('Coupontools and Leal carry no txn id: a write they apply is not attributed', async () => {
    const ct = createCoupontoolsSandbox();
    const leal = createLealSandbox();
    const [ctBase, lealBase] = [await ct.sim.start(0), await leal.sim.start(0)];
    try {
      const post = (url: string, headers: Record<string, string>, body: unknown) =>
        fetch(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const ctWrite = await post(
        `${ctBase}/loyalty/loyalty-cards/${ct.seed.stampCardId}/stats/50002`,
        { 'x-api-key': ct.credentials.apiKey!, 'x-api-secret': ct.credentials.apiSecret! },
        { amount: 1 }, // Coupontools takes no free text to carry a txn id in (an unknown field is refused)
      );
      expect(ctWrite.status, await ctWrite.text()).toBe(200);
      const lealWrite = await post(
        `${lealBase}/accounts/4242/customers/302/customer_cards/502/stamp`,
        { authorization: `Bearer ${leal.credentials.token}` },
        { stamps: 1, comment: `[lgw:${TXN_A}]` },
      );
      expect(lealWrite.status, await lealWrite.text()).toBe(200);
      // Applied, each once...
      expect([ct.sim.applied(), leal.sim.applied()]).toEqual([1, 1]);
      // ...and attributed to no txn, in process and over HTTP alike.
      expect([ct.sim.appliedByTxn(), leal.sim.appliedByTxn()]).toEqual([{}, {}]);
      expect(await fetchAppliedByTxn(new URL(ctBase).origin)).toEqual({});
      expect(await fetchAppliedByTxn(new URL(lealBase).origin)).toEqual({});
    } finally {
      await Promise.all([ct.sim.stop(), leal.sim.stop()]);
    }
  });
});
