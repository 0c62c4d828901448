import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExpirySchedule } from '../../src/builtin-ledger/expiry-schedule.js';
import { keySpace } from '../../src/redis/keys.js';
import { award, historyOf, issueCard, startGateway, type TestGateway } from '../helpers/gateway.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
/** Waits until an ISO time has passed (plus a little margin). */
const waitPast = async (iso: string) => sleep(Math.max(0, Date.parse(iso) - Date.now() + 60));

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

const balance = async (g: TestGateway, card: string) => {
  const res = await g.request('GET', `/v1/points/balance/${card}`);
  expect(res.status).toBe(200);
  return res.body;
};

const history = historyOf;

const redeem = (g: TestGateway, card: string, points: number) =>
  g.request('POST', '/v1/points/redeem', { body: { card_id: card, points, reason: 'test redeem' } });
const expire = (g: TestGateway, body: Record<string, unknown>) => g.request('POST', '/v1/points/expire', { body });

describe('FIFO: earliest expiry first', () => {
  it('redeems from C (30 min), then A (1 h), then B (never)', async () => {
    const card = await issueCard(gw);
    const a = await award(gw, card, 100, { expires_at: inMs(HOUR) });
    const b = await award(gw, card, 200);
    const c = await award(gw, card, 50, { expires_at: inMs(HOUR / 2) });
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(b.body.expires_at).toBeNull(); // default policy: never

    let bal = await balance(gw, card);
    expect(bal).toMatchObject({
      available: 350,
      expiring_soon: 150,
      next_expiry: { points: 50, at: c.body.expires_at },
    });

    // Exactly C's amount: C is gone, A is next and still whole.
    expect((await redeem(gw, card, 50)).body).toMatchObject({ delta: -50, balance_after: 300 });
    bal = await balance(gw, card);
    expect(bal).toMatchObject({
      available: 300,
      expiring_soon: 100,
      next_expiry: { points: 100, at: a.body.expires_at },
    });

    // Part of A: A shrinks, B untouched.
    expect((await redeem(gw, card, 60)).body.balance_after).toBe(240);
    bal = await balance(gw, card);
    expect(bal).toMatchObject({
      available: 240,
      expiring_soon: 40,
      next_expiry: { points: 40, at: a.body.expires_at },
    });

    // Across A into B: A empties first, then B gives the rest.
    expect((await redeem(gw, card, 50)).body.balance_after).toBe(190);
    bal = await balance(gw, card);
    expect(bal).toMatchObject({
      available: 190,
      expiring_soon: 0,
      next_expiry: null,
      total_expired: 0,
      total_redeemed: 160,
    });

    // Nothing with an expiry is left: expiring everything up to far in the future finds nothing.
    const none = await expire(gw, { card_id: card, before: inMs(3650 * DAY) });
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('nothing_to_expire');
  });

  it('a redeem never touches a later bucket while an earlier one has points (proved by expiry by date)', async () => {
    const card = await issueCard(gw);
    const a = await award(gw, card, 100, { expires_at: inMs(HOUR) });
    await award(gw, card, 200);
    const c = await award(gw, card, 50, { expires_at: inMs(HOUR / 2) });
    await redeem(gw, card, 30); // from C: 20 left in C, A whole
    // Expire everything expiring within 45 minutes: only C's rest.
    const e1 = await expire(gw, { card_id: card, before: inMs(45 * 60_000) });
    expect(e1.status).toBe(201);
    expect(e1.body).toMatchObject({ type: 'expire', source: 'api', points: 20, delta: -20, balance_after: 300 });
    // Then everything expiring within 2 hours: A, untouched by the redeem.
    const e2 = await expire(gw, { card_id: card, before: inMs(2 * HOUR) });
    expect(e2.body).toMatchObject({ points: 100, delta: -100, balance_after: 200 });
    expect(c.body.expires_at < a.body.expires_at).toBe(true);
  });

  it('breaks ties of equal expiry by age: the older award is spent first', async () => {
    const card = await issueCard(gw);
    const at = inMs(HOUR);
    const older = await award(gw, card, 10, { expires_at: at });
    const newer = await award(gw, card, 20, { expires_at: at });
    await redeem(gw, card, 15);
    // Not visible through the API (both share one expiry), so look at the ledger's buckets.
    const rest = await gw.redis.hgetall(keySpace(gw.prefix).rest(card));
    expect(rest).toEqual({ [newer.body.id]: '15' });
    expect(rest[older.body.id]).toBeUndefined();
    expect((await balance(gw, card)).next_expiry).toEqual({ points: 15, at });
  });
});

// These wait on the clock, so they run side by side (each on cards or a gateway of its own).
// Not concurrent with the tests below: those start gateways of their own, and building one compiles
// every route's schemas synchronously, which would stall these few-second windows.
describe('expiry by time', () => {
  it('expires the unspent rest of a bucket as an `expire` entry once its time has passed', async () => {
    const card = await issueCard(gw);
    const short = await award(gw, card, 100, { expires_at: inMs(3000) });
    expect(short.status).toBe(201);
    await award(gw, card, 20);
    expect((await redeem(gw, card, 30)).body.balance_after).toBe(90); // from the expiring bucket
    const before = await balance(gw, card);
    expect(before).toMatchObject({
      available: 90,
      total_expired: 0,
      expiring_soon: 70,
      next_expiry: { points: 70, at: short.body.expires_at },
    });

    await waitPast(short.body.expires_at);
    const after = await balance(gw, card);
    expect(after).toMatchObject({
      available: 20,
      total_earned: 120,
      total_redeemed: 30,
      total_expired: 70,
      expiring_soon: 0,
      next_expiry: null,
    });

    const hist = await history(gw, card);
    const expires = hist.filter((t) => t.type === 'expire');
    expect(expires).toHaveLength(1);
    const e = expires[0];
    expect(e).toMatchObject({
      status: 'succeeded',
      source: 'expiry_schedule',
      card_id: card,
      points: 70,
      delta: -70,
      balance_after: 20,
    });
    expect(Date.parse(e.created_at)).toBeGreaterThanOrEqual(Date.parse(short.body.expires_at));
    // Newest first: the expire entry is the latest thing that happened.
    expect(hist[0].id).toBe(e.id);
    expect({ ...(await gw.request('GET', `/v1/transactions/${e.id}`)).body, recorded_by: 'gateway' }).toEqual(e);
    // The filter finds it too.
    expect((await gw.request('GET', `/v1/points/history/${card}?type=expire`)).body.data).toEqual([e]);

    // Reading again expires nothing more and writes nothing.
    expect(await balance(gw, card)).toMatchObject({ available: 20, total_expired: 70 });
    expect(await history(gw, card)).toHaveLength(hist.length);
    expect(after.available).toBe(
      after.total_earned + after.total_adjusted - after.total_redeemed - after.total_expired,
    );
  });

  it('a redeem after expiry cannot spend expired points', async () => {
    const card = await issueCard(gw);
    const short = await award(gw, card, 100, { expires_at: inMs(3000) });
    await award(gw, card, 20);
    expect((await balance(gw, card)).available).toBe(120);
    await waitPast(short.body.expires_at);

    // Nobody read the card since: the redeem itself finds the points expired.
    const no = await redeem(gw, card, 50);
    expect(no.status).toBe(400);
    expect(no.body).toMatchObject({ code: 'insufficient_points', available: 20 });
    // The expiry is written (it happened whatever the redeem did); the redeem is not.
    const hist = await history(gw, card);
    expect(hist.map((t) => t.type)).toEqual(['expire', 'award', 'award']);
    expect(hist[0]).toMatchObject({ source: 'expiry_schedule', points: 100, balance_after: 20 });
    expect(await balance(gw, card)).toMatchObject({ available: 20, total_expired: 100, total_redeemed: 0 });

    const ok = await redeem(gw, card, 20);
    expect(ok.body).toMatchObject({ delta: -20, balance_after: 0 });
  });
});

describe.concurrent('the expiry schedule', () => {
  it('expires due points on cards nobody read, and nothing when nothing is due', async () => {
    // A gateway of its own, so that runOnce's total counts only these cards.
    const g = await startGateway();
    const keys = keySpace(g.prefix);
    const schedule = startExpirySchedule({
      redis: g.redis,
      keys,
      ledgerFor: (cardId) => g.gateway.connections.ledgerFor(cardId),
      intervalMs: 0,
      log: pino({ level: 'silent' }),
    });
    try {
      expect(await schedule.runOnce()).toBe(0); // empty

      const x = await issueCard(g);
      const y = await issueCard(g);
      const z = await issueCard(g);
      const xs = await award(g, x, 100, { expires_at: inMs(3000) });
      await award(g, x, 30);
      const ys = await award(g, y, 50, { expires_at: inMs(3000) });
      expect((await redeem(g, y, 20)).status).toBe(201);
      const zs = await award(g, z, 10, { expires_at: inMs(HOUR) });

      expect(await schedule.runOnce()).toBe(0); // nothing due yet
      await waitPast([xs.body.expires_at, ys.body.expires_at].sort().at(-1)!);

      // The due index names x and y; z is not due.
      const due = await g.redis.zrangebyscore(keys.expiryDue, '-inf', Date.now());
      expect(due.sort()).toEqual([x, y].sort());

      expect(await schedule.runOnce()).toBe(100 + 30);

      // Written without any read of the cards: the history (which never expires anything) shows it.
      const hx = await history(g, x);
      expect(hx[0]).toMatchObject({
        type: 'expire',
        source: 'expiry_schedule',
        points: 100,
        delta: -100,
        balance_after: 30,
      });
      const hy = await history(g, y);
      expect(hy[0]).toMatchObject({
        type: 'expire',
        source: 'expiry_schedule',
        points: 30,
        delta: -30,
        balance_after: 0,
      });
      expect((await history(g, z)).map((t) => t.type)).toEqual(['award']);

      expect(await schedule.runOnce()).toBe(0);
      expect(await g.redis.zrangebyscore(keys.expiryDue, '-inf', Date.now())).toEqual([]);
      // x and y hold no expiring points any more; z stays indexed at its expiry.
      expect(await g.redis.zscore(keys.expiryDue, x)).toBeNull();
      expect(await g.redis.zscore(keys.expiryDue, y)).toBeNull();
      expect(Number(await g.redis.zscore(keys.expiryDue, z))).toBe(Date.parse(zs.body.expires_at));

      // Balances agree and nothing more is written by reading.
      expect(await balance(g, x)).toMatchObject({ available: 30, total_expired: 100 });
      expect(await balance(g, y)).toMatchObject({ available: 0, total_expired: 30 });
      expect(await history(g, x)).toHaveLength(hx.length);
    } finally {
      await schedule.stop();
      await g.close();
    }
  });

  it('drops a card from the due index when a refused write expired its points', async () => {
    const g = await startGateway();
    const keys = keySpace(g.prefix);
    const schedule = startExpirySchedule({
      redis: g.redis,
      keys,
      ledgerFor: (cardId) => g.gateway.connections.ledgerFor(cardId),
      intervalMs: 0,
      log: pino({ level: 'silent' }),
    });
    try {
      const card = await issueCard(g);
      const short = await award(g, card, 40, { expires_at: inMs(2500) });
      await award(g, card, 5);
      await waitPast(short.body.expires_at);
      // The redeem expires the 40 first, then is refused: the expiry stays written.
      const no = await redeem(g, card, 10);
      expect(no.body).toMatchObject({ code: 'insufficient_points', available: 5 });
      expect((await history(g, card))[0]).toMatchObject({ type: 'expire', points: 40 });
      // The card has no expiring points left, so it must not stay "due" for every sweep to visit.
      expect(await g.redis.zscore(keys.expiryDue, card)).toBeNull();
      expect(await schedule.runOnce()).toBe(0);
      expect(await g.redis.zscore(keys.expiryDue, card)).toBeNull();
      expect(await balance(g, card)).toMatchObject({ available: 5, total_expired: 40, next_expiry: null });
    } finally {
      await schedule.stop();
      await g.close();
    }
  });
});

describe('manual expiry: POST /v1/points/expire', () => {
  /** A card with buckets: 10 expiring in 1 h, 20 in 2 h, 40 in 3 h, and 80 that never expire. */
  async function stocked() {
    const card = await issueCard(gw);
    const at1 = (await award(gw, card, 10, { expires_at: inMs(HOUR) })).body.expires_at as string;
    const at2 = (await award(gw, card, 20, { expires_at: inMs(2 * HOUR) })).body.expires_at as string;
    const at3 = (await award(gw, card, 40, { expires_at: inMs(3 * HOUR) })).body.expires_at as string;
    await award(gw, card, 80);
    return { card, at1, at2, at3 };
  }

  it('by `before`: only buckets expiring at or before it', async () => {
    const { card, at1, at2, at3 } = await stocked();
    const early = await expire(gw, { card_id: card, before: new Date(Date.parse(at1) - 1).toISOString() });
    expect(early.status).toBe(422);
    expect(early.body.code).toBe('nothing_to_expire');

    const res = await expire(gw, { card_id: card, before: at2, reason: 'season end', staff: 'admin-1' }); // inclusive
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/transactions/${res.body.id}`);
    expect(res.body).toMatchObject({
      type: 'expire',
      source: 'api',
      points: 30,
      delta: -30,
      balance_after: 120,
      reason: 'season end',
      staff: 'admin-1',
    });
    expect(await balance(gw, card)).toMatchObject({
      available: 120,
      total_expired: 30,
      next_expiry: { points: 40, at: at3 },
    });
  });

  it('by `points`: earliest expiry first, never-expiring points last', async () => {
    const { card, at2, at3 } = await stocked();
    const res = await expire(gw, { card_id: card, points: 25 });
    expect(res.body).toMatchObject({
      type: 'expire',
      points: 25,
      delta: -25,
      balance_after: 125,
      reason: 'Points expired by request',
    });
    // 10 from the 1 h bucket, 15 from the 2 h one.
    expect((await balance(gw, card)).next_expiry).toEqual({ points: 5, at: at2 });
    // All the expiring ones and part of the never-expiring ones.
    const more = await expire(gw, { card_id: card, points: 65 });
    expect(more.body).toMatchObject({ points: 65, balance_after: 60 });
    const bal = await balance(gw, card);
    expect(bal).toMatchObject({ available: 60, total_expired: 90, next_expiry: null });
    expect(at3).toBeTruthy();
  });

  it('by both: that many points, only from buckets expiring by `before`', async () => {
    const { card, at2, at3 } = await stocked();
    const res = await expire(gw, { card_id: card, before: at3, points: 50 });
    expect(res.body).toMatchObject({ points: 50, delta: -50, balance_after: 100 });
    expect((await balance(gw, card)).next_expiry).toEqual({ points: 20, at: at3 });

    // 20 left expiring by at3, so 21 is more than eligible: refused, nothing written.
    const histBefore = await history(gw, card);
    const no = await expire(gw, { card_id: card, before: at3, points: 21 });
    expect(no.status).toBe(400);
    expect(no.body).toMatchObject({ code: 'insufficient_points', available: 20 });
    // By at2 nothing is left at all.
    const none = await expire(gw, { card_id: card, before: at2, points: 1 });
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('nothing_to_expire');
    expect(await history(gw, card)).toEqual(histBefore);
    expect(await balance(gw, card)).toMatchObject({ available: 100, total_expired: 50 });
  });

  it('by `points` more than the card holds: 400 insufficient_points, nothing written', async () => {
    const { card } = await stocked();
    const histBefore = await history(gw, card);
    const no = await expire(gw, { card_id: card, points: 151 });
    expect(no.status).toBe(400);
    expect(no.body).toMatchObject({ code: 'insufficient_points', available: 150 });
    expect(await history(gw, card)).toEqual(histBefore);
    expect(await balance(gw, card)).toMatchObject({ available: 150, total_expired: 0 });
    const all = await expire(gw, { card_id: card, points: 150 });
    expect(all.body.balance_after).toBe(0);
  });

  it('neither: what is due now; 422 nothing_to_expire when nothing is due', async () => {
    const { card } = await stocked();
    const none = await expire(gw, { card_id: card });
    expect(none.status).toBe(422);
    expect(none.body).toMatchObject({ code: 'nothing_to_expire', type: '/problems/nothing_to_expire' });

    const empty = await issueCard(gw);
    expect((await expire(gw, { card_id: empty })).body.code).toBe('nothing_to_expire');
    expect((await expire(gw, { card_id: empty, points: 1 })).body.code).toBe('nothing_to_expire');
    expect(await history(gw, empty)).toEqual([]);

    // Something due: the manual expiry takes it (it is due, so nothing else had to).
    const due = await award(gw, card, 7, { expires_at: inMs(2500) });
    await waitPast(due.body.expires_at);
    const res = await expire(gw, { card_id: card });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'expire', source: 'api', points: 7, delta: -7, balance_after: 150 });
    const hist = await history(gw, card);
    expect(hist.filter((t) => t.type === 'expire')).toHaveLength(1);
    expect(await balance(gw, card)).toMatchObject({ available: 150, total_expired: 7 });
  });

  it('needs the admin scope and an existing card', async () => {
    const card = await issueCard(gw);
    const res = await gw.request('POST', '/v1/points/expire', { body: { card_id: card }, key: 'test_write_key_0001' });
    expect(res.status).toBe(403);
    expect((await expire(gw, { card_id: 'ledger:c_NOPE' })).body.code).toBe('card_not_found');
  });
});

describe('connection default expiry policy and tiers', () => {
  let g: TestGateway;
  beforeAll(async () => {
    g = await startGateway({
      connections: [
        {
          id: 'ledger',
          provider: 'ledger',
          pointsExpiry: { days: 30 },
          tiers: [
            { name: 'Silver', minPoints: 100 },
            { name: 'Gold', minPoints: 500 },
          ],
        },
      ],
    });
  });
  afterAll(async () => g.close());

  it('gives points without expires_at the default expiry of 30 days', async () => {
    const card = await issueCard(g);
    const t0 = Date.now();
    const res = await award(g, card, 150);
    const t1 = Date.now();
    expect(res.status).toBe(201);
    const at = Date.parse(res.body.expires_at);
    expect(at).toBeGreaterThanOrEqual(t0 + 30 * DAY);
    expect(at).toBeLessThanOrEqual(t1 + 30 * DAY);

    // An explicit expires_at wins over the policy.
    const own = await award(g, card, 5, { expires_at: inMs(HOUR) });
    expect(own.body.expires_at).toBe(new Date(Date.parse(own.body.expires_at)).toISOString());
    // A positive adjustment gets the policy too.
    const adj = await g.request('POST', '/v1/points/adjust', {
      body: { card_id: card, points: 3, reason: 'goodwill' },
    });
    expect(Date.parse(adj.body.expires_at)).toBeGreaterThanOrEqual(at);

    const bal = await balance(g, card);
    expect(bal).toMatchObject({
      available: 158,
      expiring_soon: 158,
      next_expiry: { points: 5, at: own.body.expires_at },
    });
    await redeem(g, card, 5);
    expect((await balance(g, card)).next_expiry).toEqual({ points: 150, at: res.body.expires_at });
  });

  it('shows the tier by lifetime points earned, with the next one', async () => {
    const card = await issueCard(g);
    expect((await balance(g, card)).tier).toEqual({
      name: 'none',
      min_points: 0,
      next: { name: 'Silver', points_needed: 100 },
    });
    await award(g, card, 150);
    expect((await balance(g, card)).tier).toEqual({
      name: 'Silver',
      min_points: 100,
      next: { name: 'Gold', points_needed: 350 },
    });
    // Redeeming does not lower the tier: it is by points earned.
    await redeem(g, card, 100);
    expect((await balance(g, card)).tier).toEqual({
      name: 'Silver',
      min_points: 100,
      next: { name: 'Gold', points_needed: 350 },
    });
    await award(g, card, 350);
    expect((await balance(g, card)).tier).toEqual({ name: 'Gold', min_points: 500, next: null });
  });

  it('the default gateway shows no tier and awards that never expire', async () => {
    const card = await issueCard(gw);
    const res = await award(gw, card, 10);
    expect(res.body.expires_at).toBeNull();
    expect(await balance(gw, card)).toMatchObject({ tier: null, next_expiry: null, expiring_soon: 0 });
  });
});
