import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConnections } from '../../src/config/connections.js';
import { leal } from '../../src/providers/leal/index.js';
import type { LealAdapter } from '../../src/providers/leal/leal-adapter.js';
import type { LealSettings } from '../../src/providers/leal/settings.js';
import { createLealSandbox, type LealSandbox } from '../../src/sandbox/leal/simulator.js';
import { historyOf, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * What a Leal card records, against the Leal simulator (real HTTP on both sides):
 * - a reward redemption is a movement of the card's unit, stamps: what the reward cost and the balance after, from
 *   Leal's answer or, when the answer does not carry them, read back from Leal;
 * - the reward cost field, which the documents leave open (`stamps_required` or `stamps_cost`), is a connection
 *   setting; the simulator serves either, and every cost reading runs both ways.
 * Leal keeps no history the API can reach (no operations list): there is no provider history to label.
 */

type Field = 'stamps_required' | 'stamps_cost';
type SimOptions = NonNullable<Parameters<typeof createLealSandbox>[0]>;

const FAST = { requests: 10_000, perSeconds: 1 };

/** A Leal simulator and a gateway with one connection `leal` on it (settings beside the simulator's own). */
async function startLeal(sim: SimOptions, settings: Record<string, unknown> = {}) {
  const sb: LealSandbox = createLealSandbox({ rateLimit: FAST, ...sim });
  const url = await sb.sim.start(0);
  const conn = { id: 'leal', provider: 'leal', baseUrl: url, timeoutMs: 3000, balanceCacheMs: 0 };
  const gw = await startGateway({ connections: [{ ...conn, ...sb.credentials, ...sb.settings, ...settings }] });
  return { sb, url, gw };
}

const seedOf = (sb: LealSandbox) =>
  sb.seed as {
    cardId: number;
    rewards: { freeCoffee: number };
    customers: Record<string, { id: number; customerCardId: number }>;
  };
const anaOf = (sb: LealSandbox) => {
  const a = seedOf(sb).customers.withStamps!;
  return `leal:${a.id}.${a.customerCardId}`;
};

/** Leal's own API, outside the gateway. */
async function direct(sb: LealSandbox, url: string, path: string, method = 'GET', body?: unknown) {
  const res = await fetch(`${url}/accounts/${(sb.seed as { accountId: number }).accountId}${path}`, {
    method,
    headers: { authorization: `Bearer ${sb.credentials.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

// Every reading of the reward cost, with the connection set to match: the default reading needs no setting.
describe.each([
  { field: 'stamps_required' as const, settings: {} },
  { field: 'stamps_cost' as const, settings: { rewardCostField: 'stamps_cost' } },
])('reward cost served as $field', ({ field, settings }) => {
  let sb: LealSandbox;
  let url: string;
  let gw: TestGateway;
  beforeAll(async () => {
    ({ sb, url, gw } = await startLeal({ rewardCostField: field }, settings));
  });
  afterAll(async () => {
    await gw?.close();
    await sb?.sim.stop();
  });
  beforeEach(() => sb.sim.reset());

  it('the simulator serves the reward cost under that field only', async () => {
    const other: Field = field === 'stamps_required' ? 'stamps_cost' : 'stamps_required';
    const rewards = await direct(sb, url, `/rewards?card_id=${seedOf(sb).cardId}`);
    expect(rewards.status).toBe(200);
    const coffee = (rewards.body.rewards as Record<string, unknown>[]).find(
      (r) => r.id === seedOf(sb).rewards.freeCoffee,
    );
    expect(coffee).toMatchObject({ [field]: 10 });
    expect(coffee).not.toHaveProperty(other);
    const a = seedOf(sb).customers.withStamps!;
    const card = await direct(sb, url, `/customers/${a.id}/customer_cards/${a.customerCardId}`);
    expect((card.body.available_rewards as Record<string, unknown>[])[0]).toMatchObject({ [field]: 10 });
  });

  it("programs and a card's rewards carry the cost, in stamps", async () => {
    const program = await gw.request('GET', `/v1/programs/leal:${seedOf(sb).cardId}`);
    expect(program.status, program.text).toBe(200);
    expect(program.body.rewards).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: '71', cost: 10, unit: 'stamps', active: true })]),
    );
    const rewards = await gw.request('GET', `/v1/cards/${anaOf(sb)}/rewards`);
    expect(rewards.status, rewards.text).toBe(200);
    expect(rewards.body.data).toEqual([expect.objectContaining({ id: '71', cost: 10, unit: 'stamps', count: 1 })]);
  });

  it('a reward redemption records the stamps it spent and the balance after', async () => {
    const card = anaOf(sb);
    const res = await gw.request('POST', `/v1/cards/${card}/rewards/redeem`, { body: { reward_id: '71' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      type: 'redeem_reward',
      status: 'succeeded',
      reward_id: '71',
      unit: 'stamps',
      points: 10,
      delta: -10,
      balance_after: 2,
    });
    const entry = (await historyOf(gw, card)).find((e) => e.id === res.body.id);
    expect(entry).toMatchObject({ unit: 'stamps', points: 10, delta: -10, balance_after: 2 });
    const stored = await gw.request('GET', `/v1/transactions/${res.body.id}`);
    expect(stored.body).toMatchObject({ unit: 'stamps', points: 10, delta: -10, balance_after: 2 });
  });
});

describe('a redemption answer without its stamp counts', () => {
  let sb: LealSandbox;
  let url: string;
  let gw: TestGateway;
  beforeAll(async () => {
    ({ sb, url, gw } = await startLeal({ redemptionStamps: false }));
  });
  afterAll(async () => {
    await gw?.close();
    await sb?.sim.stop();
  });

  it('the simulator answers the redemption without stamps_spent and stamps_remaining', async () => {
    const b = seedOf(sb).customers.fresh!;
    await direct(sb, url, `/customers/${b.id}/customer_cards/${b.customerCardId}/stamp`, 'POST', { stamps: 10 });
    const res = await direct(sb, url, `/customers/${b.id}/customer_cards/${b.customerCardId}/redeem`, 'POST', {
      reward_id: 71,
    });
    expect(res.status).toBe(200);
    expect(res.body.redemption).toMatchObject({ reward_id: 71 });
    expect(res.body.redemption).not.toHaveProperty('stamps_spent');
    expect(res.body.redemption).not.toHaveProperty('stamps_remaining');
  });

  it('the cost and the balance after are read back from Leal', async () => {
    const card = anaOf(sb);
    const res = await gw.request('POST', `/v1/cards/${card}/rewards/redeem`, { body: { reward_id: '71' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ unit: 'stamps', points: 10, delta: -10, balance_after: 2 });
  });

  it('a read-back that fails leaves the numbers unknown, and the applied redemption succeeds', async () => {
    const a = seedOf(sb).customers.withStamps!;
    await direct(sb, url, `/customers/${a.id}/customer_cards/${a.customerCardId}/stamp`, 'POST', { stamps: 10 });
    const adapter = leal.create({
      id: 'leal',
      provider: 'leal',
      baseUrl: url,
      timeoutMs: 3000,
      ...sb.credentials,
      ...sb.settings,
    } as LealSettings);
    try {
      sb.sim.inject({ kind: 'status', status: 503, match: '^GET ', times: 10 });
      const before = sb.sim.counters()['customer_cards.redeem'] ?? 0;
      const res = await adapter.move(`${a.id}.${a.customerCardId}`, {
        operation: 'redeem_reward',
        unit: 'rewards',
        quantity: 1,
        money: null,
        rewardId: '71',
        txnId: 'txn_01JD3X5Q8T2M4N6P8R0S2T4V6W',
        reason: 'Reward redeemed',
        referenceId: null,
        staff: null,
        dedupKey: 'k',
        notify: false,
      });
      expect(res).toEqual({ balanceAfter: null, providerReference: expect.stringMatching(/^\d+$/) });
      expect(sb.sim.counters()['customer_cards.redeem']).toBe(before + 1);
    } finally {
      await adapter.close();
    }
  });
});

describe('the reward cost setting', () => {
  const base = { id: 'le', provider: 'leal', baseUrl: 'https://x', token: 't', accountId: 1 };

  it('defaults to stamps_required, takes stamps_cost, and a bad value names the setting', () => {
    const [byDefault] = parseConnections([base], {});
    expect(byDefault).toMatchObject({ rewardCostField: 'stamps_required' });
    const [cost] = parseConnections([{ ...base, rewardCostField: 'stamps_cost' }], {});
    expect(cost).toMatchObject({ rewardCostField: 'stamps_cost' });
    expect(() => parseConnections([{ ...base, rewardCostField: 'cost' }], {})).toThrow(
      /connection "le": setting "rewardCostField" must be/,
    );
  });

  it('a connection that reads the other field than Leal serves reads no cost (the setting is what decides)', async () => {
    const sb = createLealSandbox({ rateLimit: FAST, rewardCostField: 'stamps_cost' });
    const url = await sb.sim.start(0);
    const conn = { id: 'leal', provider: 'leal', baseUrl: url, timeoutMs: 3000, ...sb.credentials };
    const wrong = leal.create({ ...conn, accountId: 4242, rewardCostField: 'stamps_required' } as LealSettings);
    const right = leal.create({ ...conn, accountId: 4242, rewardCostField: 'stamps_cost' } as LealSettings);
    try {
      const program = async (a: LealAdapter) => (await a.getProgram!('7'))!.rewards!.map((r) => r.cost);
      expect(await program(wrong as LealAdapter)).toEqual([null, null]);
      expect(await program(right as LealAdapter)).toEqual([10, 15]);
    } finally {
      await Promise.all([wrong.close(), right.close(), sb.sim.stop()]);
    }
  });
});
