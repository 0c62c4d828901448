import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnections } from '../../src/config/connections.js';
import { ConfigError } from '../../src/config/env.js';
import type { Movement } from '../../src/providers/adapter.js';
import { highlight } from '../../src/providers/highlight/index.js';
import type { HighlightSettings } from '../../src/providers/highlight/settings.js';
import { createHighlightSandbox, type HighlightSandbox } from '../../src/sandbox/highlight/simulator.js';
import { expectProblem, historyOf, type Res, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * The Highlight adapter's readings against the Highlight simulator, through the gateway's HTTP API: reward cards count
 * in the unit their mechanics earn, a redemption records what it cost, unknown reward tiers are refused before
 * anything is sent, operations made at Highlight name the unit they moved, and the readings the documents leave open
 * are connection settings (the simulator switched to either reading).
 */

type Body = Record<string, unknown>;
interface Setup {
  sim: HighlightSandbox;
  url: string;
  gw: TestGateway;
}

/** A Highlight simulator (with `readings`, when given) and a gateway whose connection `hl` points at it. */
async function setup(settings: Body = {}, readings?: Body): Promise<Setup> {
  const sim = createHighlightSandbox({
    rateLimit: { requests: 10_000, perSeconds: 1 },
    ...(readings ? { readings } : {}),
  });
  const url = await sim.sim.start(0);
  try {
    const gw = await startGateway({
      connections: [
        {
          id: 'hl',
          provider: 'highlight',
          baseUrl: url,
          timeoutMs: 3000,
          balanceCacheMs: 0,
          rateLimit: { requests: 10_000, perSeconds: 1 },
          ...sim.credentials,
          ...sim.settings,
          ...settings,
        },
      ],
    });
    return { sim, url, gw };
  } catch (err) {
    await sim.sim.stop();
    throw err;
  }
}
const teardown = async (s: Setup | undefined) => {
  await s?.gw.close();
  await s?.sim.sim.stop();
};

const seedOf = (s: Setup) =>
  s.sim.seed as {
    cards: Record<string, string>;
    templates: Record<string, number>;
    customers: { first: string; second: string };
    rewardTiers: Record<string, number[]>;
  };

/** A transaction answer: 201 and succeeded, with the fields given. */
function expectTxn(res: Res, fields: Body): Body & { id: string } {
  expect(res.status, res.text).toBe(201);
  expect(res.body).toMatchObject({ status: 'succeeded', error: null, ...fields });
  return res.body;
}

/** Calls the simulator's own API, outside the gateway (the dashboard or a POS). */
async function direct(s: Setup, method: string, path: string, body?: unknown) {
  const res = await fetch(s.url + path, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': s.sim.credentials.apiKey! },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return res.json();
}

/**
 * Runs `fn` with a fault on the given Highlight call queued: a request that reached Highlight would have been
 * answered 500. Returns whether the fault is still queued (nothing was sent).
 */
async function notSent(s: Setup, match: string, fn: () => Promise<void>): Promise<boolean> {
  s.sim.sim.inject({ kind: 'status', status: 500, match, times: 1 });
  let failed: unknown = null;
  try {
    await fn();
  } catch (err) {
    failed = err;
  }
  // Queueing a fault that matches nothing answers with the queue; then it is cleared.
  const res = await fetch(new URL('/_sandbox/faults', s.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'latency', ms: 0, match: '^NEVER$' }),
  });
  const queued = (await res.json()) as { match?: string }[];
  await fetch(new URL('/_sandbox/faults', s.url), { method: 'DELETE' });
  if (failed) throw failed;
  return queued.some((f) => f.match === match);
}

describe('reward cards count in the unit their mechanics earn', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => teardown(s));

  it('visit mechanics: balance, rewards, availability and the redeem check are in visits', async () => {
    const issued = await s.gw.request('POST', '/v1/cards', {
      body: {
        connection: 'hl',
        program_id: `hl:${seedOf(s).templates.rewardVisit}`,
        customer_id: `hl:${seedOf(s).customers.second}`,
      },
    });
    expect(issued.status, issued.text).toBe(201);
    const card = issued.body.id as string;
    expect(issued.body.capabilities).toMatchObject({ native_unit: 'visits', units: ['visits'] });

    expectTxn(await s.gw.request('POST', `/v1/cards/${card}/visits`, { body: { visits: 7 } }), {
      type: 'visit',
      unit: 'visits',
      delta: 7,
      balance_after: 7,
    });
    const bal = await s.gw.request('GET', `/v1/points/balance/${card}`);
    expect(bal.status, bal.text).toBe(200);
    expect(bal.body).toMatchObject({ unit: 'visits', available: 7, units: { visits: 7 } });

    const tier = String(seedOf(s).rewardTiers.rewardVisit![0]);
    const rewards = await s.gw.request('GET', `/v1/cards/${card}/rewards`);
    expect(rewards.status, rewards.text).toBe(200);
    expect(rewards.body.data).toEqual([expect.objectContaining({ id: tier, cost: 5, unit: 'visits', count: 1 })]);

    const before = s.sim.sim.counters()['cards.receive-reward'] ?? 0;
    expectTxn(await s.gw.request('POST', `/v1/cards/${card}/rewards/redeem`, { body: { reward_id: tier } }), {
      type: 'redeem_reward',
      reward_id: tier,
      unit: 'visits',
      points: 5,
      delta: -5,
      balance_after: 2,
    });
    expect(s.sim.sim.counters()['cards.receive-reward']).toBe(before + 1);
    expect((await s.gw.request('GET', `/v1/points/balance/${card}`)).body.units).toEqual({ visits: 2 });
    expect((await s.gw.request('GET', `/v1/cards/${card}/rewards`)).body.data).toEqual([]);

    // 2 visits do not pay for a 5-visit reward: refused by the gateway, nothing sent.
    const sentNothing = await notSent(s, '^POST .*/receive-reward$', async () => {
      const refused = await s.gw.request('POST', `/v1/cards/${card}/rewards/redeem`, { body: { reward_id: tier } });
      expectProblem(refused, 400, 'insufficient_points');
      expect(refused.body.detail).toContain('2 visits');
    });
    expect(sentNothing).toBe(true);
  });

  it('a program lists its reward tiers in the unit its mechanics earn', async () => {
    const p = await s.gw.request('GET', `/v1/programs/hl:${seedOf(s).templates.rewardVisit}`);
    expect(p.status, p.text).toBe(200);
    expect(p.body.rewards).toEqual([expect.objectContaining({ cost: 5, unit: 'visits' })]);
    expect(p.body.capabilities).toMatchObject({ native_unit: 'visits' });
  });
});

describe('a redemption records what it cost', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => teardown(s));

  it("receive-reward: the tier's threshold, in the card's unit, with the balance after", async () => {
    const card = `hl:${seedOf(s).cards.rewardPoints}`; // 120 scores
    const tier = String(seedOf(s).rewardTiers.rewardPoints![0]); // 50 scores
    const rr = expectTxn(
      await s.gw.request('POST', `/v1/cards/${card}/rewards/redeem`, { body: { reward_id: tier } }),
      {
        type: 'redeem_reward',
        unit: 'scores',
        points: 50,
        delta: -50,
        balance_after: 70,
      },
    );
    expect((await s.gw.request('GET', `/v1/transactions/${rr.id}`)).body).toMatchObject({
      unit: 'scores',
      delta: -50,
      balance_after: 70,
    });
    const hist = await historyOf(s.gw, card);
    expect(hist.find((e) => e.id === rr.id)).toMatchObject({ recorded_by: 'both', unit: 'scores', delta: -50 });
  });

  it('redeem-coupon: the coupon goes from 1 to 0', async () => {
    const card = `hl:${seedOf(s).cards.coupon}`;
    expectTxn(await s.gw.request('POST', `/v1/cards/${card}/coupon/redeem`), {
      type: 'redeem_coupon',
      unit: 'rewards',
      points: 1,
      delta: -1,
      balance_after: 0,
    });
  });
});

describe('an unknown reward tier', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => teardown(s));

  it('is 404 reward_not_found before anything is sent; a known tier the card cannot pay for is insufficient', async () => {
    const card = `hl:${seedOf(s).cards.rewardPoints}`; // 120 scores
    expect(
      await notSent(s, '^POST .*/receive-reward$', async () => {
        const res = await s.gw.request('POST', `/v1/cards/${card}/rewards/redeem`, { body: { reward_id: '424242' } });
        expectProblem(res, 404, 'reward_not_found');
        expect(res.body.detail).toContain('424242');
      }),
    ).toBe(true);
    const big = String(seedOf(s).rewardTiers.rewardPoints![1]); // 200 scores
    expect(
      await notSent(s, '^POST .*/receive-reward$', async () => {
        const res = await s.gw.request('POST', `/v1/cards/${card}/rewards/redeem`, { body: { reward_id: big } });
        expectProblem(res, 400, 'insufficient_points');
        expect(res.body.detail).toContain('120 scores');
      }),
    ).toBe(true);
    expect(s.sim.sim.applied()).toBe(0);
  });
});

describe('operations made at Highlight', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => teardown(s));

  it('name the unit the provider moved: an add-reward is a reward, an add-stamp stamps', async () => {
    const issued = await s.gw.request('POST', '/v1/cards', {
      body: {
        connection: 'hl',
        program_id: `hl:${seedOf(s).templates.stamp}`,
        customer_id: `hl:${seedOf(s).customers.second}`,
      },
    });
    expect(issued.status, issued.text).toBe(201);
    const card = issued.body.id as string;
    const serial = card.slice('hl:'.length);
    await direct(s, 'POST', `/cards/${serial}/add-stamp`, { stamps: 3, comment: 'At the till' });
    await direct(s, 'POST', `/cards/${serial}/add-reward`, { rewards: 1, comment: 'Birthday gift' });
    const hist = await historyOf(s.gw, card);
    expect(hist.map((e) => [e.source, e.type, e.unit, e.delta, e.balance_after, e.reason])).toEqual([
      ['provider', 'award', 'rewards', 1, 1, 'Birthday gift'],
      ['provider', 'award', 'stamps', 3, 3, 'At the till'],
    ]);
  });

  it('on a cashback card: points and cashback money each in their own unit', async () => {
    const serial = seedOf(s).cards.cashback!; // 12.50 cashback, 40 points
    await direct(s, 'POST', `/cards/${serial}/add-point`, { points: 5, comment: 'Welcome points' });
    await direct(s, 'POST', `/cards/${serial}/add-transaction-amount`, { amount: 2, comment: 'Till credit' });
    const hist = await historyOf(s.gw, `hl:${serial}`);
    expect(hist.map((e) => [e.type, e.unit, e.delta, e.balance_after])).toEqual([
      ['award', 'amount', 200, 1450],
      ['award', 'points', 5, 45],
    ]);
  });
});

describe('readings the documents leave open are settings', () => {
  it('a bad value is refused at start-up, naming the setting', () => {
    const conn = (extra: Body) => [
      { id: 'hl', provider: 'highlight', baseUrl: 'http://127.0.0.1:1', apiKey: 'k', ...extra },
    ];
    expect(() => parseConnections(conn({ cashbackPointsField: 'points' }), {})).toThrow(ConfigError);
    expect(() => parseConnections(conn({ cashbackPointsField: 'points' }), {})).toThrow(/cashbackPointsField/);
    expect(() => parseConnections(conn({ transactionAmountCredit: 'all' }), {})).toThrow(/transactionAmountCredit/);
    expect(
      parseConnections(conn({ cashbackPointsField: 'balance', transactionAmountCredit: 'rate' }), {}),
    ).toHaveLength(1);
  });

  for (const field of ['bonusBalance', 'balance'] as const) {
    it(`the field of a cashback card's points: ${field}`, async () => {
      const s = await setup({ cashbackPointsField: field }, { cashbackPointsField: field });
      try {
        const card = `hl:${seedOf(s).cards.cashback}`; // 12.50 cashback, 40 points
        const bal = await s.gw.request('GET', `/v1/points/balance/${card}`);
        expect(bal.body).toMatchObject({ unit: 'points', available: 40, units: { points: 40, amount: 1250 } });
        // The overdraft check fires: 41 points are refused before anything is sent.
        expect(
          await notSent(s, '^POST .*/subtract-point$', async () => {
            const res = await s.gw.request('POST', '/v1/points/redeem', {
              body: { card_id: card, points: 41, reason: 'Too much' },
            });
            expectProblem(res, 400, 'insufficient_points');
          }),
        ).toBe(true);
        expectTxn(
          await s.gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points: 5, reason: 'Voucher' } }),
          { unit: 'points', delta: -5, balance_after: 35 },
        );
      } finally {
        await teardown(s);
      }
    });
  }

  for (const credit of ['amount', 'rate'] as const) {
    it(`what add-transaction-amount credits: ${credit}`, async () => {
      const s = await setup({ transactionAmountCredit: credit });
      try {
        // The simulator switched over its control endpoint (its template 103 pays 5% cashback).
        const put = await fetch(new URL('/_sandbox/readings', s.url), {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ transactionAmountCredit: credit }),
        });
        expect(put.status).toBe(200);
        expect(await put.json()).toMatchObject({ transactionAmountCredit: credit });
        const card = `hl:${seedOf(s).cards.cashback}`; // 12.50 cashback
        const credited = credit === 'amount' ? 2490 : 125; // 24.90, or 5% of it (1.245, rounded half up)
        expectTxn(
          await s.gw.request('POST', `/v1/cards/${card}/purchases`, {
            body: { amount: { amount: '24.90', currency: 'EUR' }, reason: 'Order 1001' },
          }),
          { type: 'purchase', unit: 'amount', points: credited, delta: credited, balance_after: 1250 + credited },
        );
        expect((await s.gw.request('GET', `/v1/points/balance/${card}`)).body.units.amount).toBe(1250 + credited);
        expectTxn(
          await s.gw.request('POST', `/v1/cards/${card}/purchases/refund`, {
            body: { amount: { amount: '24.90', currency: 'EUR' }, reason: 'Order 1001 refunded' },
          }),
          { type: 'refund_purchase', unit: 'amount', points: credited, delta: -credited, balance_after: 1250 },
        );
      } finally {
        await teardown(s);
      }
    });
  }
});

describe('after an answer was lost, the operation found says what it moved', () => {
  let sim: HighlightSandbox;
  let url: string;
  beforeAll(async () => {
    sim = createHighlightSandbox({ rateLimit: { requests: 10_000, perSeconds: 1 } });
    url = await sim.sim.start(0);
  });
  afterAll(async () => sim?.sim.stop());

  let n = 0;
  const mv = (over: Partial<Movement>): Movement => ({
    operation: 'award',
    unit: 'points',
    quantity: 0,
    money: null,
    rewardId: null,
    txnId: `txn_01ARZ3NDEKTSV4RRFFQ69H${String(n++).padStart(4, '0')}`,
    reason: 'Lost answer',
    referenceId: null,
    staff: null,
    dedupKey: 'k',
    notify: true,
    ...over,
  });
  /** The movement applied at Highlight with its answer lost, then looked up. */
  async function lost(settings: Body, ref: string, m: Movement, path: string) {
    const adapter = highlight.create({
      id: 'hl',
      provider: 'highlight',
      baseUrl: url,
      timeoutMs: 2000,
      ...sim.credentials,
      ...sim.settings,
      ...settings,
    } as HighlightSettings);
    try {
      const since = Date.now();
      sim.sim.inject({ kind: 'drop', applied: true, match: `^POST .*/${path}$` });
      const err = await adapter.move(ref, m).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ applied: 'unknown' });
      return await adapter.findApplied!(ref, m, since);
    } finally {
      await adapter.close();
    }
  }
  const seed = () => sim.seed as { cards: Record<string, string>; rewardTiers: Record<string, number[]> };

  it('a reward redemption: the tier it cost, a coupon its one reward', async () => {
    sim.sim.reset();
    const tier = String(seed().rewardTiers.rewardPoints![0]);
    const reward = mv({ operation: 'redeem_reward', unit: 'rewards', quantity: 1, rewardId: tier });
    expect(await lost({}, seed().cards.rewardPoints!, reward, 'receive-reward')).toMatchObject({
      balanceAfter: 70,
      effect: { unit: 'scores', delta: -50 },
    });
    const coupon = mv({ operation: 'redeem_coupon', unit: 'rewards', quantity: 1 });
    expect(await lost({}, seed().cards.coupon!, coupon, 'redeem-coupon')).toMatchObject({
      balanceAfter: 0,
      effect: { unit: 'rewards', delta: -1 },
    });
  });

  it('a cashback purchase credited by rate: what the operation moved', async () => {
    sim.sim.reset();
    await fetch(new URL('/_sandbox/readings', url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transactionAmountCredit: 'rate' }),
    });
    try {
      const money = { decimal: '20.00', minor: 2000, currency: 'EUR' };
      const purchase = mv({ operation: 'purchase', unit: 'amount', money });
      expect(
        await lost({ transactionAmountCredit: 'rate' }, seed().cards.cashback!, purchase, 'add-transaction-amount'),
      ).toMatchObject({ balanceAfter: 1350, effect: { unit: 'amount', delta: 100 } });
    } finally {
      await fetch(new URL('/_sandbox/readings', url), {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ transactionAmountCredit: 'amount' }),
      });
    }
  });
});
