import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExpirySchedule } from '../../src/builtin-ledger/expiry-schedule.js';
import { keySpace } from '../../src/redis/keys.js';
import { controlledClock, type TestClock } from '../helpers/clock.js';
import { award, expectProblem, historyOf, issueCard, startGateway, type TestGateway } from '../helpers/gateway.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

// One gateway for the whole file (starting one is the slow part): its default connection `ledger`
// never expires points and has no tiers; `policy` gives points a 30-day expiry and has tiers.
// Time is the test's: expiry is reached by moving the clock, never by waiting, so the tests run one
// after another (moving the clock moves it for everything in flight).
let gw: TestGateway;
let clock: TestClock;
beforeAll(async () => {
  gw = await startGateway({
    connections: [
      { id: 'ledger', provider: 'ledger' },
      {
        id: 'policy',
        provider: 'ledger',
        pointsExpiry: { days: 30 },
        tiers: [
          { name: 'Silver', minPoints: 100 },
          { name: 'Gold', minPoints: 500 },
        ],
      },
    ],
  });
  clock = controlledClock();
});
afterAll(async () => {
  clock?.restore();
  await gw?.close();
});

const balance = async (card: string) => {
  const res = await gw.request('GET', `/v1/points/balance/${card}`);
  expect(res.status).toBe(200);
  return res.body;
};

const history = (card: string) => historyOf(gw, card);

const redeem = (card: string, points: number) =>
  gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points, reason: 'test redeem' } });
const expire = (body: Record<string, unknown>) => gw.request('POST', '/v1/points/expire', { body });
const reverse = (id: string, body: Record<string, unknown> = {}) =>
  gw.request('POST', `/v1/transactions/${id}/reverse`, { body });

describe('FIFO: earliest expiry first', () => {
  it('redeems from C (30 min), then A (1 h), then B (never)', async () => {
    const card = await issueCard(gw);
    const a = await award(gw, card, 100, { expires_at: inMs(HOUR) });
    const b = await award(gw, card, 200);
    const c = await award(gw, card, 50, { expires_at: inMs(HOUR / 2) });
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(b.body.expires_at).toBeNull(); // default policy: never

    let bal = await balance(card);
    expect(bal).toMatchObject({
      available: 350,
      expiring_soon: 150,
      next_expiry: { points: 50, at: c.body.expires_at },
    });

    // Exactly C's amount: C is gone, A is next and still whole.
    expect((await redeem(card, 50)).body).toMatchObject({ delta: -50, balance_after: 300 });
    bal = await balance(card);
    expect(bal).toMatchObject({
      available: 300,
      expiring_soon: 100,
      next_expiry: { points: 100, at: a.body.expires_at },
    });

    // Part of A: A shrinks, B untouched.
    expect((await redeem(card, 60)).body.balance_after).toBe(240);
    bal = await balance(card);
    expect(bal).toMatchObject({
      available: 240,
      expiring_soon: 40,
      next_expiry: { points: 40, at: a.body.expires_at },
    });

    // Across A into B: A empties first, then B gives the rest.
    expect((await redeem(card, 50)).body.balance_after).toBe(190);
    bal = await balance(card);
    expect(bal).toMatchObject({
      available: 190,
      expiring_soon: 0,
      next_expiry: null,
      total_expired: 0,
      total_redeemed: 160,
    });

    // Nothing with an expiry is left: expiring everything up to far in the future finds nothing.
    const none = await expire({ card_id: card, before: inMs(3650 * DAY) });
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('nothing_to_expire');
  });

  it('a redeem never touches a later bucket while an earlier one has points (proved by expiry by date)', async () => {
    const card = await issueCard(gw);
    const a = await award(gw, card, 100, { expires_at: inMs(HOUR) });
    await award(gw, card, 200);
    await award(gw, card, 50, { expires_at: inMs(HOUR / 2) }); // C
    await redeem(card, 30); // from C: 20 left in C, A whole
    // Expire everything expiring within 45 minutes: only C's rest.
    const e1 = await expire({ card_id: card, before: inMs(45 * 60_000) });
    expect(e1.status).toBe(201);
    expect(e1.body).toMatchObject({ type: 'expire', source: 'api', points: 20, delta: -20, balance_after: 300 });
    expect((await balance(card)).next_expiry).toEqual({ points: 100, at: a.body.expires_at });
    // Then everything expiring within 2 hours: A, untouched by the redeem.
    const e2 = await expire({ card_id: card, before: inMs(2 * HOUR) });
    expect(e2.body).toMatchObject({ points: 100, delta: -100, balance_after: 200 });
    // Only B is left, whole: 30 redeemed (all from C), 120 expired (C's rest and all of A).
    expect(await balance(card)).toMatchObject({
      available: 200,
      total_redeemed: 30,
      total_expired: 120,
      expiring_soon: 0,
      next_expiry: null,
    });
    expect((await history(card)).map((t) => [t.type, t.delta])).toEqual([
      ['expire', -100],
      ['expire', -20],
      ['redeem', -30],
      ['award', 50],
      ['award', 200],
      ['award', 100],
    ]);
  });

  it('breaks ties of equal expiry by age: the older award is spent first', async () => {
    const card = await issueCard(gw);
    const at = inMs(2 * HOUR);
    const older = await award(gw, card, 10, { expires_at: at });
    const newer = await award(gw, card, 20, { expires_at: at });
    expect((await redeem(card, 15)).body.balance_after).toBe(15);
    expect((await balance(card)).next_expiry).toEqual({ points: 15, at });
    // Both share one expiry, so the balance cannot tell whose points are left; a reversal can. It takes
    // an award's points back from that award's own bucket first, and only then earliest expiry first.
    // So: points that expire before both, then take the older award back.
    const early = await award(gw, card, 50, { expires_at: inMs(HOUR) });
    const back = await reverse(older.body.id);
    expect(back.status).toBe(201);
    expect(back.body).toMatchObject({ points: 10, delta: -10, balance_after: 55 });
    // The older award was spent whole, so its 10 came out of the early points (had the newer one been
    // spent first, they would have come out of the older award's own bucket, leaving the early 50).
    expect(await balance(card)).toMatchObject({
      available: 55,
      next_expiry: { points: 40, at: early.body.expires_at },
    });
    // And the newer award still holds 15 of its own: taking 15 of it back leaves the early points alone.
    const part = await reverse(newer.body.id, { points: 15, reference_id: 'newer-15' });
    expect(part.body).toMatchObject({ points: 15, delta: -15, balance_after: 40 });
    expect(await balance(card)).toMatchObject({
      available: 40,
      expiring_soon: 40,
      next_expiry: { points: 40, at: early.body.expires_at },
    });
  });
});

describe('expiry by time', () => {
  it('expires the unspent rest of a bucket as an `expire` entry once its time has passed', async () => {
    const card = await issueCard(gw);
    const short = await award(gw, card, 100, { expires_at: inMs(HOUR) });
    expect(short.status).toBe(201);
    await award(gw, card, 20);
    expect((await redeem(card, 30)).body.balance_after).toBe(90); // from the expiring bucket
    const before = {
      available: 90,
      total_expired: 0,
      expiring_soon: 70,
      next_expiry: { points: 70, at: short.body.expires_at },
    };
    expect(await balance(card)).toMatchObject(before);
    // A minute before its time, nothing has expired.
    clock.advanceTo(short.body.expires_at, 60_000);
    expect(await balance(card)).toMatchObject(before);
    expect(await history(card)).toHaveLength(3);

    clock.advancePast(short.body.expires_at);
    const after = await balance(card);
    expect(after).toMatchObject({
      available: 20,
      total_earned: 120,
      total_redeemed: 30,
      total_expired: 70,
      expiring_soon: 0,
      next_expiry: null,
    });

    const hist = await history(card);
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
    expect(await balance(card)).toMatchObject({ available: 20, total_expired: 70 });
    expect(await history(card)).toHaveLength(hist.length);
    expect(after.available).toBe(
      after.total_earned + after.total_adjusted - after.total_redeemed - after.total_expired,
    );
  });

  it('a redeem after expiry cannot spend expired points', async () => {
    const card = await issueCard(gw);
    const short = await award(gw, card, 100, { expires_at: inMs(HOUR) });
    await award(gw, card, 20);
    expect((await balance(card)).available).toBe(120);
    clock.advancePast(short.body.expires_at);

    // Nobody read the card since: the redeem itself finds the points expired.
    const no = await redeem(card, 50);
    expectProblem(no, 400, 'insufficient_points');
    expect(no.body.available).toBe(20);
    // The expiry is written (it happened whatever the redeem did); the redeem is not.
    const hist = await history(card);
    expect(hist.map((t) => t.type)).toEqual(['expire', 'award', 'award']);
    expect(hist[0]).toMatchObject({ source: 'expiry_schedule', points: 100, balance_after: 20 });
    expect(await balance(card)).toMatchObject({ available: 20, total_expired: 100, total_redeemed: 0 });

    const ok = await redeem(card, 20);
    expect(ok.body).toMatchObject({ delta: -20, balance_after: 0 });
  });
});

describe('the expiry schedule', () => {
  /**
   * An expiry schedule on the file's gateway that sees only the cards in `mine` (the others count as
   * some provider's, which it skips), so that its totals are this test's; and the cards it visited.
   */
  function scheduleOver(mine: Set<string>) {
    const visited: string[] = [];
    const expired: [string, number][] = [];
    const schedule = startExpirySchedule({
      redis: gw.redis,
      keys: keySpace(gw.prefix),
      ledgerFor: (cardId) => {
        if (!mine.has(cardId)) return null;
        visited.push(cardId);
        return gw.gateway.connections.ledgerFor(cardId);
      },
      intervalMs: 0,
      log: pino({ level: 'silent' }),
      onExpired: async (cardId, points) => {
        expired.push([cardId, points]);
      },
    });
    return { schedule, visited, expired };
  }

  it('expires due points on cards nobody read, visiting only those, and nothing when nothing is due', async () => {
    const mine = new Set<string>();
    const { schedule, visited, expired } = scheduleOver(mine);
    try {
      const x = await issueCard(gw);
      const y = await issueCard(gw);
      const z = await issueCard(gw);
      for (const c of [x, y, z]) mine.add(c);
      expect(await schedule.runOnce()).toBe(0); // nothing to expire at all

      const xs = await award(gw, x, 100, { expires_at: inMs(HOUR) });
      await award(gw, x, 30);
      const ys = await award(gw, y, 50, { expires_at: inMs(HOUR) });
      expect((await redeem(y, 20)).status).toBe(201);
      const zs = await award(gw, z, 10, { expires_at: inMs(3 * HOUR) });

      expect(await schedule.runOnce()).toBe(0); // nothing due yet
      expect(visited).toEqual([]);
      clock.advancePast([xs.body.expires_at, ys.body.expires_at].sort().at(-1)!);

      // x and y are due, z is not: only they are visited.
      expect(await schedule.runOnce()).toBe(100 + 30);
      expect([...visited].sort()).toEqual([x, y].sort());
      // Each card's expiry is told (server.ts records it as a points.expired event).
      expect([...expired].sort()).toEqual(
        [
          [x, 100],
          [y, 30],
        ].sort(),
      );

      // Written without any read of the cards: the history (which never expires anything) shows it.
      const hx = await history(x);
      expect(hx[0]).toMatchObject({
        type: 'expire',
        source: 'expiry_schedule',
        points: 100,
        delta: -100,
        balance_after: 30,
      });
      const hy = await history(y);
      expect(hy[0]).toMatchObject({
        type: 'expire',
        source: 'expiry_schedule',
        points: 30,
        delta: -30,
        balance_after: 0,
      });
      expect((await history(z)).map((t) => t.type)).toEqual(['award']);

      // x and y hold no expiring points any more: the next sweep visits nobody.
      visited.length = 0;
      expect(await schedule.runOnce()).toBe(0);
      expect(visited).toEqual([]);

      // z is due at its own expiry, and then only z.
      clock.advanceTo(zs.body.expires_at, 60_000);
      expect(await schedule.runOnce()).toBe(0);
      expect(visited).toEqual([]);
      clock.advancePast(zs.body.expires_at);
      expect(await schedule.runOnce()).toBe(10);
      expect(visited).toEqual([z]);
      expect((await history(z))[0]).toMatchObject({
        type: 'expire',
        source: 'expiry_schedule',
        points: 10,
        balance_after: 0,
      });

      // Balances agree and nothing more is written by reading.
      expect(await balance(x)).toMatchObject({ available: 30, total_expired: 100, next_expiry: null });
      expect(await balance(y)).toMatchObject({ available: 0, total_expired: 30, next_expiry: null });
      expect(await balance(z)).toMatchObject({ available: 0, total_expired: 10, next_expiry: null });
      expect(await history(x)).toHaveLength(hx.length);
    } finally {
      await schedule.stop();
    }
  });

  it('does not visit a card again once a refused write expired its points', async () => {
    const mine = new Set<string>();
    const { schedule, visited } = scheduleOver(mine);
    try {
      const card = await issueCard(gw);
      mine.add(card);
      const short = await award(gw, card, 40, { expires_at: inMs(HOUR) });
      await award(gw, card, 5);
      clock.advancePast(short.body.expires_at);
      // The redeem expires the 40 first, then is refused: the expiry stays written.
      const no = await redeem(card, 10);
      expectProblem(no, 400, 'insufficient_points');
      expect(no.body.available).toBe(5);
      expect((await history(card))[0]).toMatchObject({ type: 'expire', points: 40 });
      // The card has no expiring points left, so no sweep has a reason to visit it.
      expect(await schedule.runOnce()).toBe(0);
      expect(visited).toEqual([]);
      expect(await balance(card)).toMatchObject({ available: 5, total_expired: 40, next_expiry: null });
    } finally {
      await schedule.stop();
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
    const early = await expire({ card_id: card, before: new Date(Date.parse(at1) - 1).toISOString() });
    expect(early.status).toBe(422);
    expect(early.body.code).toBe('nothing_to_expire');

    const res = await expire({ card_id: card, before: at2, reason: 'season end', staff: 'admin-1' }); // inclusive
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
    expect(await balance(card)).toMatchObject({
      available: 120,
      total_expired: 30,
      next_expiry: { points: 40, at: at3 },
    });
  });

  it('by `points`: earliest expiry first, never-expiring points last', async () => {
    const { card, at2, at3 } = await stocked();
    const res = await expire({ card_id: card, points: 25 });
    expect(res.body).toMatchObject({
      type: 'expire',
      points: 25,
      delta: -25,
      balance_after: 125,
      reason: 'Points expired by request',
    });
    // 10 from the 1 h bucket, 15 from the 2 h one.
    expect((await balance(card)).next_expiry).toEqual({ points: 5, at: at2 });
    // The rest of the 2 h bucket: the 3 h one is next, whole.
    expect((await expire({ card_id: card, points: 5 })).body).toMatchObject({ points: 5, balance_after: 120 });
    expect(await balance(card)).toMatchObject({ available: 120, next_expiry: { points: 40, at: at3 } });
    // All of the 3 h bucket and part of the never-expiring points.
    const more = await expire({ card_id: card, points: 60 });
    expect(more.body).toMatchObject({ points: 60, balance_after: 60 });
    const bal = await balance(card);
    expect(bal).toMatchObject({ available: 60, total_expired: 90, expiring_soon: 0, next_expiry: null });
  });

  it('by both: that many points, only from buckets expiring by `before`', async () => {
    const { card, at2, at3 } = await stocked();
    const res = await expire({ card_id: card, before: at3, points: 50 });
    expect(res.body).toMatchObject({ points: 50, delta: -50, balance_after: 100 });
    expect((await balance(card)).next_expiry).toEqual({ points: 20, at: at3 });

    // 20 left expiring by at3, so 21 is more than eligible: refused, nothing written.
    const histBefore = await history(card);
    const no = await expire({ card_id: card, before: at3, points: 21 });
    expect(no.status).toBe(400);
    expect(no.body).toMatchObject({ code: 'insufficient_points', available: 20 });
    // By at2 nothing is left at all.
    const none = await expire({ card_id: card, before: at2, points: 1 });
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('nothing_to_expire');
    expect(await history(card)).toEqual(histBefore);
    expect(await balance(card)).toMatchObject({ available: 100, total_expired: 50 });
  });

  it('by `points` more than the card holds: 400 insufficient_points, nothing written', async () => {
    const { card } = await stocked();
    const histBefore = await history(card);
    const no = await expire({ card_id: card, points: 151 });
    expect(no.status).toBe(400);
    expect(no.body).toMatchObject({ code: 'insufficient_points', available: 150 });
    expect(await history(card)).toEqual(histBefore);
    expect(await balance(card)).toMatchObject({ available: 150, total_expired: 0 });
    const all = await expire({ card_id: card, points: 150 });
    expect(all.body.balance_after).toBe(0);
  });

  it('neither: what is due now; 422 nothing_to_expire when nothing is due', async () => {
    const { card } = await stocked();
    const none = await expire({ card_id: card });
    expect(none.status).toBe(422);
    expect(none.body).toMatchObject({ code: 'nothing_to_expire', type: '/problems/nothing_to_expire' });

    const empty = await issueCard(gw);
    expect((await expire({ card_id: empty })).body.code).toBe('nothing_to_expire');
    expect((await expire({ card_id: empty, points: 1 })).body.code).toBe('nothing_to_expire');
    expect(await history(empty)).toEqual([]);

    // Something due (before the stocked 1 h bucket): the manual expiry takes it, and only it
    // (it is due, so nothing else had to).
    const due = await award(gw, card, 7, { expires_at: inMs(HOUR / 2) });
    clock.advancePast(due.body.expires_at);
    const res = await expire({ card_id: card });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'expire', source: 'api', points: 7, delta: -7, balance_after: 150 });
    const hist = await history(card);
    expect(hist.filter((t) => t.type === 'expire')).toHaveLength(1);
    expect(await balance(card)).toMatchObject({ available: 150, total_expired: 7 });
  });

  it('needs the admin scope and an existing card', async () => {
    const card = await issueCard(gw);
    const res = await gw.request('POST', '/v1/points/expire', { body: { card_id: card }, key: 'test_write_key_0001' });
    expect(res.status).toBe(403);
    expect((await expire({ card_id: 'ledger:c_NOPE' })).body.code).toBe('card_not_found');
  });
});

describe('connection default expiry policy and tiers', () => {
  it('gives points without expires_at the default expiry of 30 days', async () => {
    const card = await issueCard(gw, { connection: 'policy' });
    const t0 = Date.now();
    const res = await award(gw, card, 150);
    const t1 = Date.now();
    expect(res.status).toBe(201);
    const at = Date.parse(res.body.expires_at);
    expect(at).toBeGreaterThanOrEqual(t0 + 30 * DAY);
    expect(at).toBeLessThanOrEqual(t1 + 30 * DAY);

    // An explicit expires_at wins over the policy: the award keeps the one asked for.
    const ownAt = inMs(HOUR);
    const own = await award(gw, card, 5, { expires_at: ownAt });
    expect(own.body.expires_at).toBe(ownAt);
    expect((await gw.request('GET', `/v1/transactions/${own.body.id}`)).body.expires_at).toBe(ownAt);
    // A positive adjustment gets the policy too.
    const adj = await gw.request('POST', '/v1/points/adjust', {
      body: { card_id: card, points: 3, reason: 'goodwill' },
    });
    expect(Date.parse(adj.body.expires_at)).toBeGreaterThanOrEqual(at);

    const bal = await balance(card);
    expect(bal).toMatchObject({
      available: 158,
      expiring_soon: 158,
      next_expiry: { points: 5, at: ownAt },
    });
    await redeem(card, 5);
    expect((await balance(card)).next_expiry).toEqual({ points: 150, at: res.body.expires_at });
  });

  it('shows the tier by lifetime points earned, with the next one', async () => {
    const card = await issueCard(gw, { connection: 'policy' });
    expect((await balance(card)).tier).toEqual({
      name: 'none',
      min_points: 0,
      next: { name: 'Silver', points_needed: 100 },
    });
    await award(gw, card, 150);
    expect((await balance(card)).tier).toEqual({
      name: 'Silver',
      min_points: 100,
      next: { name: 'Gold', points_needed: 350 },
    });
    // Redeeming does not lower the tier: it is by points earned.
    await redeem(card, 100);
    expect((await balance(card)).tier).toEqual({
      name: 'Silver',
      min_points: 100,
      next: { name: 'Gold', points_needed: 350 },
    });
    await award(gw, card, 350);
    expect((await balance(card)).tier).toEqual({ name: 'Gold', min_points: 500, next: null });
  });

  it('a connection without a policy shows no tier and awards that never expire', async () => {
    const card = await issueCard(gw);
    expect(card.startsWith('ledger:')).toBe(true);
    const res = await award(gw, card, 10);
    expect(res.body.expires_at).toBeNull();
    expect(await balance(card)).toMatchObject({ tier: null, next_expiry: null, expiring_soon: 0 });
  });
});
