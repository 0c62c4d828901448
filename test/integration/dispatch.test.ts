import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import type { LealAdapter } from '../../src/providers/leal/leal-adapter.js';
import type { Simulator } from '../../src/sandbox/harness.js';
import { settled } from '../helpers/dispatch.js';
import { expectProblem, KEYS, type TestGateway } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * Dispatch through the connections' queues (src/queue/), against the provider simulators: the
 * rate limit as the provider counts it, 429s, unknown outcomes and reconciliation, 202 and polling.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let sb: SandboxGateway | undefined;
/** The seed of this file's random draws: TEST_SEED when set, else a new one (printed when a test using it fails). */
const SEED = process.env.TEST_SEED ? Number(process.env.TEST_SEED) >>> 0 : Math.floor(Math.random() * 2 ** 32);

/** A small seeded PRNG (mulberry32): numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** DISPATCH_CONCURRENCY where a test depends on it: the jobs a connection runs at once. */
const CONCURRENCY = 4;

/**
 * What a simulator's rate limit did with each request, in arrival order: 'A' admitted, 'R' answered
 * 429. Its own rule (at most `limit` admitted in any window (t - windowMs, t]) replayed over the
 * arrival times it recorded, which its rate limit used; checked against its own count of 429s.
 */
function admissions(sim: Simulator): string {
  const { limit, windowMs, rateLimited } = sim.stats();
  const admitted: number[] = [];
  const seen = sim
    .arrivals()
    .map((t) => {
      while (admitted.length > 0 && admitted[0]! <= t - windowMs) admitted.shift();
      if (admitted.length >= limit) return 'R';
      admitted.push(t);
      return 'A';
    })
    .join('');
  expect(seen.split('R').length - 1, `replayed 429s against the simulator's: ${seen}`).toBe(rateLimited);
  return seen;
}

afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

const asyncAward = (gw: TestGateway, card: string, i: number, extra: Record<string, unknown> = {}) =>
  gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points: 1, reason: `burst ${i}`, reference_id: `order-${i}`, ...extra },
    headers: { prefer: 'respond-async' },
  });

describe('the rate limit, as the provider counts it', () => {
  it('300 awards at once to a Highlight connection limited to 10/s: all succeed, no 429, never more than 10 in any ' +
    'sliding second, each applied once', async () => {
    sb = await startSandboxGateway({ rateLimit: { requests: 10, perSeconds: 1 } });
    const cards = [`hl:${sb.hl.seed.cards.stamp}`, `hl:${sb.hl.seed.cards.discount}`];
    const accepted = await Promise.all(Array.from({ length: 300 }, (_, i) => asyncAward(sb!.gw, cards[i % 2]!, i)));
    expect(accepted.map((r) => r.status)).toEqual(Array(300).fill(202));
    expect(accepted[0]!.headers.get('preference-applied')).toBe('respond-async');
    expect(accepted[0]!.headers.get('location')).toBe(`/v1/transactions/${accepted[0]!.body.id}`);
    const ids = accepted.map((r) => r.body.id as string);
    const recs = await settled(sb.gw, ids);
    expect(recs.filter((r) => r.status !== 'succeeded')).toEqual([]);
    const stats = sb.hl.sim.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.maxInWindow).toBeLessThanOrEqual(10);
    const applied = sb.hl.sim.appliedByTxn();
    expect(ids.filter((id) => applied[id] !== 1)).toEqual([]);
    expect(Object.keys(applied)).toHaveLength(300);
  }, 120_000);

  it('a 429 with Retry-After holds the whole queue that long, then it finishes; a 429 uses no attempt', async () => {
    // The provider allows far less than the gateway was told (10 per 3 s against 100/s): it answers
    // 429 with Retry-After, and one try per job (DISPATCH_ATTEMPTS=1) leaves no room for a retry.
    sb = await startSandboxGateway({
      rateLimit: { requests: 10, perSeconds: 3 },
      gatewayRateLimit: { requests: 100, perSeconds: 1 },
      env: { DISPATCH_ATTEMPTS: '1', DISPATCH_CONCURRENCY: String(CONCURRENCY) },
    });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.request('GET', `/v1/points/balance/${card}`); // the card's type, read once
    const accepted = await Promise.all(Array.from({ length: 25 }, (_, i) => asyncAward(sb!.gw, card, i)));
    const recs = await settled(
      sb.gw,
      accepted.map((r) => r.body.id),
    );
    // Each succeeded with its one try, though the provider refused some of the requests.
    expect(recs.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(sb.hl.sim.stats().rateLimited).toBeGreaterThan(0);
    // Held until the provider had room, not hammering: after a 429 nothing more is sent until the
    // hold ends, so its 429s come in short runs (the jobs already on their way, and those started
    // before the hold was recorded); a hold shorter than Retry-After, or none, refuses one request
    // after another for as long as the provider's window stays full.
    const seen = admissions(sb.hl.sim);
    const longest = Math.max(...seen.split('A').map((run) => run.length));
    expect(longest, `admitted (A) and refused (R), in arrival order: ${seen}`).toBeLessThanOrEqual(2 * CONCURRENCY);
    const applied = sb.hl.sim.appliedByTxn();
    expect(accepted.filter((r) => applied[r.body.id] !== 1)).toEqual([]);
  }, 120_000);

  it('a balance read jumps ahead of queued writes', async () => {
    sb = await startSandboxGateway({ rateLimit: { requests: 10, perSeconds: 1 } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    const other = `hl:${sb.hl.seed.cards.discount}`;
    // Both cards' types read once (the read below is then one provider call).
    for (const c of [card, other]) await sb.gw.request('GET', `/v1/points/balance/${c}`);
    // The connection's queue is paused while 50 writes, then the read, wait in it: in order of
    // arrival every write is ahead of the read.
    const queue = sb.gw.dispatch.queueOf('hl');
    await queue.pause();
    const accepted = await Promise.all(Array.from({ length: 50 }, (_, i) => asyncAward(sb!.gw, card, i)));
    expect(accepted.map((r) => r.status)).toEqual(Array(50).fill(202));
    const read = sb.gw.request('GET', `/v1/points/balance/${other}`);
    const waiting = async () => {
      const c = await queue.getJobCounts('wait', 'prioritized');
      return (c.wait ?? 0) + (c.prioritized ?? 0);
    };
    for (let i = 0; (await waiting()) < 51; i++) {
      if (i > 1000) throw new Error(`the read was never queued (${await waiting()} jobs waiting)`);
      await sleep(10);
    }
    await queue.resume();
    const balance = await read;
    // Answered before the writes queued ahead of it: when it was, most of them were still waiting
    // (only those sent alongside it in the first window of the limit had gone; in order of arrival
    // all 50 would have been applied first).
    const appliedFirst = Object.keys(sb.hl.sim.appliedByTxn()).length;
    expect(balance.status, balance.text).toBe(200);
    expect(appliedFirst, 'writes applied when the read was answered').toBeLessThan(25);
    const recs = await settled(
      sb.gw,
      accepted.map((r) => r.body.id),
    );
    expect(recs.filter((r) => r.status !== 'succeeded')).toEqual([]);
    const stats = sb.hl.sim.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.maxInWindow).toBeLessThanOrEqual(10);
  }, 60_000);
});

describe('retries', () => {
  it('a read that meets a 5xx is tried again (backoff with jitter) and answers', async () => {
    sb = await startSandboxGateway({ env: { DISPATCH_BACKOFF_MS: '20' } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    sb.hl.sim.inject({ kind: 'status', status: 500, times: 2, match: '^GET ' });
    const res = await sb.gw.request('GET', `/v1/points/balance/${card}`);
    expect(res.status, res.text).toBe(200);
    expect(sb.hl.sim.stats().requests).toBeGreaterThanOrEqual(3);
  });

  it('a provider that cannot be reached: a write is tried DISPATCH_ATTEMPTS times, then failed and kept', async () => {
    sb = await startSandboxGateway({ env: { DISPATCH_BACKOFF_MS: '20', DISPATCH_ATTEMPTS: '3' } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.request('GET', `/v1/points/balance/${card}`); // its capabilities, remembered
    await sb.hl.sim.stop();
    const res = await sb.gw.request('POST', '/v1/points/award', { body: { card_id: card, points: 1, reason: 'down' } });
    expectProblem(res, 503, 'provider_unavailable');
    const txn = (await sb.gw.request('GET', `/v1/transactions/${res.body.transaction_id}`)).body;
    expect(txn).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'provider_unavailable' } });
  });
});

describe('exactly once when outcomes are unknown', () => {
  it('30% of writes answer 5xx or time out after applying: each ends applied exactly once or ' +
    'needs_review', async () => {
    onTestFailed(() => console.error(`dispatch.test.ts: the faults were drawn with TEST_SEED=${SEED}`));
    sb = await startSandboxGateway({ timeoutMs: 800, env: { DISPATCH_BACKOFF_MS: '50', DISPATCH_ATTEMPTS: '6' } });
    // Which POSTs fail, drawn from the seed: for each provider's next POSTs in order of arrival (three
    // per award, room for the retries), 15% answer 500 after applying, 15% time out after applying,
    // the rest pass (a latency of 0).
    const draw = mulberry32(SEED);
    for (const [h, awards] of [
      [sb.hl, 40],
      [sb.lt, 40],
      [sb.ct, 15],
      [sb.leal, 15],
    ] as const) {
      for (let i = 0; i < 3 * awards; i++) {
        const r = draw();
        h.sim.inject(
          r < 0.15
            ? { kind: 'status', status: 500, applied: true, match: '^POST ' }
            : r < 0.3
              ? { kind: 'timeout', applied: true, ms: 3000, match: '^POST ' }
              : { kind: 'latency', ms: 0, match: '^POST ' },
        );
      }
    }
    const hlCard = `hl:${sb.hl.seed.cards.discount}`;
    const ltCard = `lt:${sb.lt.seed.cards.empty.card_number}`;
    const ctCard = `ct:${sb.ct.seed.stampCardId}.${sb.ct.seed.freshUserId}`;
    const lealCard = `leal:${sb.leal.seed.customers.withStamps.id}.${sb.leal.seed.customers.withStamps.customerCardId}`;
    // Capabilities first, without faults in the way of the reads (faults match POSTs only).
    for (const c of [hlCard, ltCard, ctCard, lealCard]) await sb.gw.request('GET', `/v1/cards/${c}`);
    const before = { ct: sb.ct.sim.applied(), leal: sb.leal.sim.applied() };

    const send = (card: string, n: number, tag: string) =>
      Promise.all(Array.from({ length: n }, (_, i) => asyncAward(sb!.gw, card, i, { reference_id: `${tag}-${i}` })));
    const [hl, lt, ct, leal] = await Promise.all([
      send(hlCard, 40, 'hl'),
      send(ltCard, 40, 'lt'),
      send(ctCard, 15, 'ct'),
      send(lealCard, 15, 'leal'),
    ]);
    const all = [...hl, ...lt, ...ct, ...leal];
    expect(all.every((r) => r.status === 202)).toBe(true);
    const recs = new Map(
      (
        await settled(
          sb.gw,
          all.map((r) => r.body.id),
          120_000,
        )
      ).map((r) => [r.id, r]),
    );
    const statusOf = (rs: typeof hl) => rs.map((r) => recs.get(r.body.id)!.status);

    // Highlight and Loyalty.lt can be reconciled (lookup by txn id; resend the same order_id):
    // every transaction is applied exactly once, and succeeded.
    for (const [name, rs, sim] of [
      ['hl', hl, sb.hl.sim],
      ['lt', lt, sb.lt.sim],
    ] as const) {
      const applied = sim.appliedByTxn();
      const wrong = rs.filter((r) => {
        const status = recs.get(r.body.id)!.status;
        const n = applied[r.body.id] ?? 0;
        return n > 1 || (status === 'succeeded' && n !== 1) || status === 'failed';
      });
      expect(
        wrong.map((r) => `${name} ${r.body.id} ${recs.get(r.body.id)!.status} x${applied[r.body.id] ?? 0}`),
        `seed ${SEED}`,
      ).toEqual([]);
      expect(statusOf(rs).filter((s) => s === 'succeeded').length, `${name}, seed ${SEED}`).toBeGreaterThan(
        rs.length * 0.8,
      );
    }
    // Coupontools and Leal offer no check: an unknown outcome is needs_review, never sent again.
    for (const [name, rs, sim] of [
      ['ct', ct, sb.ct.sim],
      ['leal', leal, sb.leal.sim],
    ] as const) {
      const s = statusOf(rs);
      const succeeded = s.filter((x) => x === 'succeeded').length;
      const review = s.filter((x) => x === 'needs_review').length;
      expect(
        s.filter((x) => x === 'failed'),
        `${name}, seed ${SEED}`,
      ).toEqual([]);
      const appliedNow = sim.applied() - before[name];
      // Every succeeded one applied once; each needs_review one at most once (the fault applied it, or not).
      expect(appliedNow, `${name}, seed ${SEED}`).toBeGreaterThanOrEqual(succeeded);
      expect(appliedNow, `${name}, seed ${SEED}`).toBeLessThanOrEqual(succeeded + review);
    }
    // The review queue lists them.
    const listed = await sb.gw.request('GET', '/v1/transactions?status=needs_review&limit=200');
    expect(listed.status, listed.text).toBe(200);
    const reviewIds = [...recs.values()]
      .filter((r) => r.status === 'needs_review')
      .map((r) => r.id)
      .sort();
    expect(listed.body.data.map((t: { id: string }) => t.id).sort(), `seed ${SEED}`).toEqual(reviewIds);
  }, 180_000);
});

describe('synchronous by default, asynchronous when it must be', () => {
  it('a slow provider: 202 with a Location after DISPATCH_WAIT_MS, and polling reaches succeeded', async () => {
    sb = await startSandboxGateway({ env: { DISPATCH_WAIT_MS: '300' } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.request('GET', `/v1/cards/${card}`);
    sb.hl.sim.inject({ kind: 'latency', ms: 1500, match: '^POST ' });
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'slow' },
      headers: { 'idempotency-key': 'slow-1' },
    });
    expect(res.status, res.text).toBe(202);
    expect(['queued', 'processing']).toContain(res.body.status);
    const location = res.headers.get('location')!;
    expect(location).toBe(`/v1/transactions/${res.body.id}`);
    let polled = res.body;
    for (let i = 0; i < 100 && polled.status !== 'succeeded'; i++) {
      await sleep(100);
      polled = (await sb.gw.request('GET', location)).body;
    }
    expect(polled).toMatchObject({ id: res.body.id, status: 'succeeded', attempts: 1 });
    // The same key now answers the finished transaction.
    const again = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'slow' },
      headers: { 'idempotency-key': 'slow-1' },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(sb.hl.sim.appliedByTxn()[res.body.id]).toBe(1);
  });

  it('Prefer: respond-async answers 202 at once; the built-in ledger answers 201 whatever it prefers', async () => {
    sb = await startSandboxGateway();
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'async' },
      headers: { prefer: 'respond-async' },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('respond-async');
    expect(res.body.status).toBe('queued');
    const [done] = await settled(sb.gw, [res.body.id]);
    expect(done!.status).toBe('succeeded');
    const ledgerCard = (await sb.gw.request('POST', '/v1/cards', { body: {} })).body.id;
    const local = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: ledgerCard, points: 1, reason: 'x' },
      headers: { prefer: 'respond-async' },
    });
    expect(local.status).toBe(201);
  });
});

describe('admin: the review queue, retry and resolve', () => {
  it('needs_review is listed, resolved or retried by an admin, with an audit entry; others may not', async () => {
    sb = await startSandboxGateway({ timeoutMs: 500 });
    const card = `ct:${sb.ct.seed.stampCardId}.${sb.ct.seed.freshUserId}`;
    await sb.gw.request('GET', `/v1/cards/${card}`);
    sb.ct.sim.inject({ kind: 'timeout', applied: true, ms: 2000, times: 2, match: '^POST ' });
    const a = await sb.gw.request('POST', '/v1/points/award', { body: { card_id: card, points: 1, reason: 'a' } });
    const b = await sb.gw.request('POST', '/v1/points/award', { body: { card_id: card, points: 1, reason: 'b' } });
    for (const r of [a, b]) expectProblem(r, 504, 'provider_timeout');
    const [ida, idb] = [a.body.transaction_id, b.body.transaction_id];
    const listed = await sb.gw.request('GET', '/v1/transactions?status=needs_review&connection=ct');
    expect(listed.body.data.map((t: { id: string }) => t.id)).toEqual([ida, idb]);
    expectProblem(
      await sb.gw.request('GET', '/v1/transactions?status=needs_review', { key: KEYS.write }),
      403,
      'forbidden',
    );

    // Checked at Coupontools: a was applied.
    const resolved = await sb.gw.request('POST', `/v1/transactions/${ida}/resolve`, {
      body: { outcome: 'succeeded', note: 'seen in the Coupontools dashboard' },
    });
    expect(resolved.status, resolved.text).toBe(200);
    expect(resolved.body).toMatchObject({
      status: 'succeeded',
      error: null,
      audit: [{ action: 'resolve', from: 'needs_review', to: 'succeeded', note: 'seen in the Coupontools dashboard' }],
    });
    // b was applied too, but an admin retries it anyway: the gateway sends it again, as told.
    const applied = sb.ct.sim.applied();
    const retried = await sb.gw.request('POST', `/v1/transactions/${idb}/retry`, {
      body: { note: 'not found at Coupontools' },
    });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      audit: [{ action: 'retry', from: 'needs_review', to: 'queued' }],
    });
    expect(sb.ct.sim.applied()).toBe(applied + 1);
    // Settled transactions can be neither retried nor resolved.
    expectProblem(
      await sb.gw.request('POST', `/v1/transactions/${idb}/retry`, { body: {} }),
      409,
      'transaction_not_retryable',
    );
    expectProblem(
      await sb.gw.request('POST', `/v1/transactions/${ida}/resolve`, { body: { outcome: 'failed' } }),
      409,
      'transaction_not_retryable',
    );
    expect((await sb.gw.request('GET', '/v1/transactions?status=needs_review&connection=ct')).body.data).toEqual([]);
  });

  it('a refusal is failed, listed, and keeps no claim; an admin retry fails again the same way', async () => {
    sb = await startSandboxGateway();
    const card = `hl:${sb.hl.seed.cards.discount}`;
    const bal = (await sb.gw.request('GET', `/v1/points/balance/${card}`)).body.available as number;
    const res = await sb.gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: bal + 1000, reason: 'too much', reference_id: 'r-1' },
    });
    expectProblem(res, 400, 'insufficient_points');
    const id = res.body.transaction_id;
    expect((await sb.gw.request('GET', `/v1/transactions/${id}`)).body).toMatchObject({
      status: 'failed',
      error: { code: 'insufficient_points' },
    });
    const failed = await sb.gw.request('GET', '/v1/transactions?status=failed');
    expect(failed.body.data.map((t: { id: string }) => t.id)).toContain(id);
    const retry = await sb.gw.request('POST', `/v1/transactions/${id}/retry`, { body: {} });
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body).toMatchObject({ status: 'failed', audit: [{ action: 'retry', from: 'failed' }] });
    // The reference_id was given up: the same order with enough points is a new transaction.
    const ok = await sb.gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: 1, reason: 'ok', reference_id: 'r-1b' },
    });
    expect(ok.status, ok.text).toBe(201);
  });
});

describe('admin retry and the keys a failed transaction gave up', () => {
  it('takes its Idempotency-Key back, or refuses when the client has used the key again since', async () => {
    sb = await startSandboxGateway();
    const card = `hl:${sb.hl.seed.cards.discount}`;
    const bal = (await sb.gw.request('GET', `/v1/points/balance/${card}`)).body.available as number;
    const body = { card_id: card, points: bal + 1000, reason: 'too much' };
    const first = await sb.gw.request('POST', '/v1/points/redeem', { body, headers: { 'idempotency-key': 'k-a' } });
    expectProblem(first, 400, 'insufficient_points');
    // The card is topped up and the client sends the same key again: a new transaction, applied
    // (the failed one gave the key up). Retrying the failed one now would redeem twice: refused.
    await sb.gw.request('POST', '/v1/points/adjust', { body: { card_id: card, points: 5000, reason: 'top up' } });
    const again = await sb.gw.request('POST', '/v1/points/redeem', { body, headers: { 'idempotency-key': 'k-a' } });
    expect(again.status, again.text).toBe(201);
    expect(again.body.id).not.toBe(first.body.transaction_id);
    expectProblem(
      await sb.gw.request('POST', `/v1/transactions/${first.body.transaction_id}/retry`, { body: {} }),
      409,
      'transaction_not_retryable',
    );

    // Unused since: the retry takes the key back, so the client's next retry of it finds this transaction.
    const big = { ...body, points: 1_000_000 };
    const other = await sb.gw.request('POST', '/v1/points/redeem', {
      body: big,
      headers: { 'idempotency-key': 'k-b' },
    });
    expectProblem(other, 400, 'insufficient_points');
    const id = other.body.transaction_id;
    await sb.gw.request('POST', '/v1/points/adjust', { body: { card_id: card, points: 1_000_000, reason: 'top up' } });
    const retried = await sb.gw.request('POST', `/v1/transactions/${id}/retry`, { body: {} });
    expect(retried.body).toMatchObject({ id, status: 'succeeded' });
    const replay = await sb.gw.request('POST', '/v1/points/redeem', {
      body: big,
      headers: { 'idempotency-key': 'k-b' },
    });
    expect(replay.status, replay.text).toBe(201);
    expect(replay.body.id).toBe(id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('balance cache', () => {
  it('serves a second read from the cache, and a write through the gateway ends it', async () => {
    sb = await startSandboxGateway({ balanceCacheMs: 60_000 });
    const card = `hl:${sb.hl.seed.cards.discount}`;
    const first = (await sb.gw.request('GET', `/v1/points/balance/${card}`)).body;
    const requests = sb.hl.sim.stats().requests;
    const second = (await sb.gw.request('GET', `/v1/points/balance/${card}`)).body;
    expect(second).toEqual(first);
    expect(sb.hl.sim.stats().requests).toBe(requests);
    const award = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 5, reason: 'cache' },
    });
    expect(award.status, award.text).toBe(201);
    const third = (await sb.gw.request('GET', `/v1/points/balance/${card}`)).body;
    expect(third.available).toBe(first.available + 5);
  });
});

describe('nothing reaches a provider around its queue', () => {
  it('a method that is not a queued call is refused in an API process, not answered locally', async () => {
    sb = await startSandboxGateway();
    const api = sb.gw.gateway.connections.get('leal').provider!.api as LealAdapter;
    // Leal's RateLimit-* state lives in the worker that saw the answers; the shared gate holds the connection.
    await expect(Promise.resolve().then(() => api.rateLimitState())).rejects.toThrow(/not a queued provider call/);
    // A queued call goes through the queue and answers.
    const { id, customerCardId } = sb.leal.seed.customers.withStamps;
    expect((await api.cardCapabilities(`${id}.${customerCardId}`)).cardType).toBe('stamp');
  });
});

describe('lost jobs', () => {
  /**
   * A transaction queued while the connection is held, whose job is then lost (as if its API process died before
   * queueing it).
   */
  async function stranded(gw: TestGateway, card: string, key: string) {
    await gw.dispatch.holdConnection('hl', 2000);
    const res = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'lost' },
      headers: { prefer: 'respond-async', 'idempotency-key': key },
    });
    expect(res.status, res.text).toBe(202);
    // A worker may be holding it for a moment (it takes it, finds the connection held, puts it back).
    for (let i = 0; ; i++) {
      const job = await gw.dispatch.queueOf('hl').getJob(res.body.id);
      if (!job) break;
      const removed = await job.remove().then(
        () => true,
        () => false,
      );
      if (removed) break;
      if (i > 200) throw new Error('the job could not be removed');
      await sleep(20);
    }
    return res.body.id as string;
  }

  it('the sweep queues it again', async () => {
    sb = await startSandboxGateway({ env: { DISPATCH_SWEEP_INTERVAL_MS: '300' } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.request('GET', `/v1/points/balance/${card}`); // its capabilities, remembered
    const id = await stranded(sb.gw, card, 'lost-1');
    const [rec] = await settled(sb.gw, [id], 30_000);
    expect(rec!.status).toBe('succeeded');
    expect(sb.hl.sim.appliedByTxn()[id]).toBe(1);
  });

  it('a retry of the same Idempotency-Key queues it again', async () => {
    sb = await startSandboxGateway({ env: { DISPATCH_SWEEP_INTERVAL_MS: '0' } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.request('GET', `/v1/points/balance/${card}`); // its capabilities, remembered
    const id = await stranded(sb.gw, card, 'lost-2');
    await sleep(300);
    expect((await sb.gw.store.get(id))!.status).toBe('queued');
    const retry = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'lost' },
      headers: { 'idempotency-key': 'lost-2' },
    });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.body).toMatchObject({ id, status: 'succeeded' });
    expect(sb.hl.sim.appliedByTxn()[id]).toBe(1);
  });
});
