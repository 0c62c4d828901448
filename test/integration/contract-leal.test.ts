import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { statusOf } from '../../src/api/problem.js';
import type { ProviderError } from '../../src/domain/errors.js';
import type { Movement } from '../../src/providers/adapter.js';
import { leal } from '../../src/providers/leal/index.js';
import type { LealAdapter } from '../../src/providers/leal/leal-adapter.js';
import type { LealSettings as LealConnection } from '../../src/providers/leal/settings.js';
import { createLealSandbox } from '../../src/sandbox/leal/simulator.js';

// The Leal adapter against the Leal simulator, as a black box: every adapter operation, and each error class.

type Sandbox = ReturnType<typeof createLealSandbox>;
let sb: Sandbox;
let url: string;
let adapter: LealAdapter;
const extra: LealAdapter[] = [];
const errors: unknown[] = [];

const conn = (over: Partial<LealConnection> = {}): LealConnection =>
  ({
    id: 'leal',
    provider: 'leal',
    baseUrl: url,
    timeoutMs: 2000,
    ...sb.credentials,
    ...sb.settings,
    ...over,
  }) as LealConnection;
const another = (over: Partial<LealConnection> = {}): LealAdapter => {
  const a = leal.create(conn(over)) as LealAdapter;
  extra.push(a);
  return a;
};
const seed = () =>
  sb.seed as unknown as {
    accountId: number;
    cardId: number;
    rewards: { freeCoffee: number; freeCakeInactive: number };
    customers: Record<
      'withStamps' | 'fresh',
      { id: number; customerCardId: number; stamps: number; email: string; external_id: string }
    >;
  };
const ana = () => `${seed().customers.withStamps.id}.${seed().customers.withStamps.customerCardId}`;
const ben = () => `${seed().customers.fresh.id}.${seed().customers.fresh.customerCardId}`;
const counters = () => sb.sim.counters() as Record<string, number>;
const mv = (over: Partial<Movement>): Movement => ({
  operation: 'award',
  unit: 'stamps',
  quantity: 1,
  money: null,
  rewardId: null,
  txnId: 'txn_01JD3X5Q8T2M4N6P8R0S2T4V6W',
  reason: 'Order 1001',
  referenceId: null,
  staff: null,
  dedupKey: 'k',
  notify: false,
  ...over,
});

/** The error a promise rejects with (kept to check no secret leaks in any message). */
async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  errors.push(err);
  expect(err).toBeInstanceOf(Error);
  return err as ProviderError;
}

beforeAll(async () => {
  sb = createLealSandbox();
  url = await sb.sim.start(0);
  adapter = leal.create(conn()) as LealAdapter;
});
afterAll(async () => {
  await adapter.close();
  await Promise.all(extra.map((a) => a.close()));
  await sb.sim.stop();
  // No error message, anywhere, carries the token.
  const token = (sb.credentials as Record<string, string>).token!;
  expect(errors.length).toBeGreaterThan(10);
  for (const e of errors) expect(String((e as Error).message)).not.toContain(token);
});
beforeEach(() => {
  sb.sim.reset();
  sb.sim.setRateLimit({ requests: 1000, perSeconds: 1 });
});

describe('cards', () => {
  it('declares one stamp card type and answers cardCapabilities, card_not_found for unknown cards', async () => {
    expect(leal.cardTypes.map((t) => t.cardType)).toEqual(['stamp']);
    const caps = await adapter.cardCapabilities(ana());
    expect(caps).toMatchObject({ cardType: 'stamp', nativeUnit: 'stamps' });
    expect(caps.operations).toEqual(expect.arrayContaining(['award', 'redeem_reward', 'rewards', 'balance']));
    expect(caps.operations).not.toContain('redeem');
    expect((await failure(adapter.cardCapabilities(`${seed().customers.withStamps.id}.999`))).code).toBe(
      'card_not_found',
    );
    expect((await failure(adapter.cardCapabilities('999.501'))).code).toBe('card_not_found');
    expect((await failure(adapter.cardCapabilities('not-a-ref'))).code).toBe('card_not_found');
  });

  it('gets a card, normalized, and null for an unknown one', async () => {
    const c = await adapter.getCard(ana());
    expect(c).toMatchObject({
      reference: ana(),
      cardType: 'stamp',
      status: 'active',
      providerStatus: 'active',
      programReference: String(seed().cardId),
      customerReference: String(seed().customers.withStamps.id),
    });
    expect(c!.links).toEqual({
      apple: expect.stringContaining('https://'),
      google: expect.stringContaining('https://'),
    });
    expect(c!.createdAt).toBe(Date.parse('2025-01-15T10:00:00.000Z'));
    expect(await adapter.getCard(`${seed().customers.withStamps.id}.999`)).toBeNull();
    expect(await adapter.getCard('abc')).toBeNull();
  });

  it('normalizes the balance: stamps_count, and rewards = available_rewards', async () => {
    expect(await adapter.balance(ana())).toEqual({
      nativeUnit: 'stamps',
      units: { stamps: 12, rewards: 1 },
      totalEarned: null,
      totalRedeemed: null,
    });
    expect(await adapter.balance(ben())).toMatchObject({ units: { stamps: 0, rewards: 0 } });
  });

  it("lists a customer's cards, and refuses a listing by program alone", async () => {
    const page = await adapter.listCards!({
      customerReference: String(seed().customers.withStamps.id),
      page: 1,
      perPage: 10,
    });
    expect(page.data.map((c) => c.reference)).toEqual([ana()]);
    expect(page.meta).toEqual({ page: 1, per_page: 10, total: 1, has_more: false });
    const other = await adapter.listCards!({
      customerReference: String(seed().customers.withStamps.id),
      programReference: '8',
      page: 1,
      perPage: 10,
    });
    expect(other.data).toEqual([]);
    expect((await failure(adapter.listCards!({ programReference: '7', page: 1, perPage: 10 }))).code).toBe(
      'unsupported_operation',
    );
    expect((await failure(adapter.listCards!({ customerReference: '999', page: 1, perPage: 10 }))).code).toBe(
      'customer_not_found',
    );
  });
});

describe('movements', () => {
  it('awards stamps with stamp, and reports the balance after', async () => {
    const res = await adapter.move(ben(), mv({ quantity: 3 }));
    expect(res).toEqual({ balanceAfter: 3, providerReference: null });
    expect(counters()['customer_cards.stamp']).toBe(1);
    expect((await adapter.balance(ben())).units.stamps).toBe(3);
  });

  it('refuses what a stamp card cannot do, without calling Leal', async () => {
    for (const m of [
      mv({ unit: 'points' }),
      mv({ operation: 'redeem', quantity: 2 }),
      mv({ operation: 'adjust', quantity: -2 }),
      mv({ operation: 'expire', quantity: 2 }),
      mv({ operation: 'visit', unit: 'visits' }),
      mv({
        operation: 'purchase',
        unit: 'amount',
        quantity: 0,
        money: { decimal: '10.50', minor: 1050, currency: 'EUR' },
      }),
      mv({ operation: 'redeem_coupon', quantity: 0 }),
    ]) {
      const err = await failure(adapter.move(ana(), m));
      expect(err.code).toBe('unsupported_operation');
      expect(err.applied).toBe('no');
      expect(statusOf(err.code)).toBe(422);
    }
    const redeem = await failure(adapter.move(ana(), mv({ operation: 'redeem', quantity: 2 })));
    expect(redeem.message).toContain('redeem_reward');
    expect(counters()).toEqual({});
  });

  it('redeems a reward by reward_id, spending its stamp cost', async () => {
    const res = await adapter.move(
      ana(),
      mv({ operation: 'redeem_reward', unit: 'stamps', quantity: 1, rewardId: String(seed().rewards.freeCoffee) }),
    );
    expect(res.balanceAfter).toBe(2);
    // What it cost, in stamps: recorded instead of one reward.
    expect(res.effect).toEqual({ unit: 'stamps', delta: -10 });
    expect(res.providerReference).toMatch(/^\d+$/);
    expect(counters()['customer_cards.redeem']).toBe(1);
    const inRewards = await adapter
      .move(
        ana(),
        mv({ operation: 'redeem_reward', unit: 'rewards', quantity: 1, rewardId: String(seed().rewards.freeCoffee) }),
      )
      .catch((e: unknown) => e as ProviderError);
    // 2 stamps left: the second free coffee is refused as insufficient.
    expect((inRewards as ProviderError).code).toBe('insufficient_points');
  });

  it('maps redeem refusals: not enough stamps, inactive reward, unknown reward, unknown card', async () => {
    const poor = await failure(
      adapter.move(ben(), mv({ operation: 'redeem_reward', rewardId: String(seed().rewards.freeCoffee) })),
    );
    expect(poor).toMatchObject({ code: 'insufficient_points', applied: 'no' });
    expect(poor.message).toContain('The card holds 0 stamps.');
    const inactive = await failure(
      adapter.move(ana(), mv({ operation: 'redeem_reward', rewardId: String(seed().rewards.freeCakeInactive) })),
    );
    expect(inactive).toMatchObject({ code: 'reward_not_available', applied: 'no' });
    expect((await failure(adapter.move(ana(), mv({ operation: 'redeem_reward', rewardId: '79' })))).code).toBe(
      'reward_not_found',
    );
    expect((await failure(adapter.move(ana(), mv({ operation: 'redeem_reward', rewardId: 'coffee' })))).code).toBe(
      'reward_not_found',
    );
    expect(
      (
        await failure(
          adapter.move(`${seed().customers.withStamps.id}.999`, mv({ operation: 'redeem_reward', rewardId: '71' })),
        )
      ).code,
    ).toBe('card_not_found');
    expect((await failure(adapter.move('999.501', mv({})))).code).toBe('card_not_found');
    expect(counters()).toEqual({});
  });

  it("lists the card's rewards with stamp costs and what is redeemable now", async () => {
    expect(await adapter.rewards!(ana())).toEqual([
      {
        id: String(seed().rewards.freeCoffee),
        name: 'Free coffee',
        status: 'available',
        cost: 10,
        unit: 'stamps',
        count: 1,
      },
    ]);
    expect(await adapter.rewards!(ben())).toEqual([
      {
        id: String(seed().rewards.freeCoffee),
        name: 'Free coffee',
        status: 'available',
        cost: 10,
        unit: 'stamps',
        count: 0,
      },
    ]);
  });
});

describe('issuing cards', () => {
  it('issues a card by creating the customer in the template, and finds it again by external reference', async () => {
    const input = {
      customerReference: null,
      programReference: String(seed().cardId),
      customer: { first_name: 'Cy', email: 'cy@example.com' },
      externalReference: 'cust-42',
    };
    const card = await adapter.issueCard!(input);
    expect(card).toMatchObject({
      cardType: 'stamp',
      status: 'active',
      programReference: String(seed().cardId),
      customer: { first_name: 'Cy', email: 'cy@example.com' },
    });
    expect(card.reference).toMatch(/^\d+\.\d+$/);
    expect(counters()['customers.create']).toBe(1);
    const again = await adapter.issueCard!(input);
    expect(again.reference).toBe(card.reference);
    expect(counters()['customers.create']).toBe(1);
    const found = await adapter.listCustomers!({ connection: 'leal', external_reference: 'cust-42' });
    expect(found.data.map((c) => c.external_reference)).toEqual(['cust-42']);
  });

  it('returns the card an existing customer holds, and refuses what Leal cannot do', async () => {
    const held = await adapter.issueCard!({
      customerReference: String(seed().customers.fresh.id),
      programReference: String(seed().cardId),
      customer: null,
      externalReference: null,
    });
    expect(held.reference).toBe(ben());
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: String(seed().customers.fresh.id),
            programReference: '8',
            customer: null,
            externalReference: null,
          }),
        )
      ).code,
    ).toBe('program_not_found');
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: '999',
            programReference: '7',
            customer: null,
            externalReference: null,
          }),
        )
      ).code,
    ).toBe('customer_not_found');
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: null,
            programReference: '8',
            customer: { first_name: 'Dee', phone: '+15550100077' },
            externalReference: null,
          }),
        )
      ).code,
    ).toBe('program_not_found');
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: null,
            programReference: '7',
            customer: { first_name: 'Dee' },
            externalReference: null,
          }),
        )
      ).code,
    ).toBe('validation_failed');
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: null,
            programReference: null,
            customer: { first_name: 'Dee', email: 'd@example.com' },
            externalReference: null,
          }),
        )
      ).code,
    ).toBe('validation_failed');
    expect(counters()).toEqual({});
  });
});

describe('customers', () => {
  it('lists, searches and gets customers', async () => {
    const all = await adapter.listCustomers!({ connection: 'leal' });
    expect(all.meta).toEqual({ page: 1, per_page: 20, total: 2, has_more: false });
    const a = all.data.find((c) => c.reference === String(seed().customers.withStamps.id))!;
    expect(a).toMatchObject({
      first_name: 'Ana',
      last_name: 'Silva',
      email: seed().customers.withStamps.email,
      birthday: '1990-04-12',
      external_reference: null,
      cardReferences: [ana()],
    });
    expect(a.created_at).toBe('2025-01-15T10:00:00.000Z');
    const paged = await adapter.listCustomers!({ connection: 'leal', page: 1, per_page: 1 });
    expect(paged.meta).toMatchObject({ total: 2, has_more: true });
    const byEmail = await adapter.listCustomers!({
      connection: 'leal',
      email: seed().customers.withStamps.email.toUpperCase(),
    });
    expect(byEmail.data.map((c) => c.reference)).toEqual([String(seed().customers.withStamps.id)]);
    const byPhone = await adapter.listCustomers!({ connection: 'leal', phone: '+1 555 010 0001' });
    expect(byPhone.data.map((c) => c.reference)).toEqual([String(seed().customers.withStamps.id)]);
    expect((await adapter.getCustomer!(String(seed().customers.fresh.id)))?.email).toBe(seed().customers.fresh.email);
    expect(await adapter.getCustomer!('999')).toBeNull();
    expect(await adapter.getCustomer!('x')).toBeNull();
  });

  it('creates (and enrols) a customer, maps duplicates to customer_exists', async () => {
    const c = await adapter.createCustomer!({
      connection: 'leal',
      first_name: 'Eve',
      email: 'eve@example.com',
      external_reference: 'eve-1',
      metadata: { vip: true },
      programReference: '7',
    });
    expect(c).toMatchObject({ first_name: 'Eve', external_reference: 'eve-1', metadata: { vip: true } });
    expect(c.cardReferences).toHaveLength(1);
    expect(c.cardReferences[0]).toMatch(new RegExp(`^${c.reference}\\.\\d+$`));
    const dup = await failure(
      adapter.createCustomer!({ connection: 'leal', first_name: 'Eva', email: 'eve@example.com' }),
    );
    expect(dup).toMatchObject({ code: 'customer_exists', applied: 'no' });
    expect(
      (
        await failure(
          adapter.createCustomer!({
            connection: 'leal',
            first_name: 'Zed',
            email: 'z@example.com',
            programReference: '99',
          }),
        )
      ).code,
    ).toBe('program_not_found');
    expect((await failure(adapter.createCustomer!({ connection: 'leal', email: 'z@example.com' }))).code).toBe(
      'validation_failed',
    );
    expect(counters()['customers.create']).toBe(1);
  });

  it('updates a customer', async () => {
    const u = await adapter.updateCustomer!(String(seed().customers.fresh.id), {
      last_name: 'Okafor-Smith',
      metadata: { tier: 'silver' },
    });
    expect(u).toMatchObject({ last_name: 'Okafor-Smith', metadata: { tier: 'silver' } });
    const dup = await failure(
      adapter.updateCustomer!(String(seed().customers.fresh.id), { email: seed().customers.withStamps.email }),
    );
    expect(dup.code).toBe('customer_exists');
    expect((await failure(adapter.updateCustomer!('999', { first_name: 'X' }))).code).toBe('customer_not_found');
  });
});

describe('programs', () => {
  it('lists card templates with their rewards, and gets one from the list', async () => {
    const page = await adapter.listPrograms!({ page: 1, perPage: 10 });
    expect(page.meta).toEqual({ page: 1, per_page: 10, total: 1, has_more: false });
    expect(page.data[0]).toEqual({
      reference: String(seed().cardId),
      name: 'Coffee card',
      card_type: 'stamp',
      rewards: [
        { id: String(seed().rewards.freeCoffee), name: 'Free coffee', cost: 10, unit: 'stamps', active: true },
        { id: String(seed().rewards.freeCakeInactive), name: 'Free cake', cost: 15, unit: 'stamps', active: false },
      ],
    });
    expect(await adapter.getProgram!(String(seed().cardId))).toEqual(page.data[0]);
    expect(await adapter.getProgram!('8')).toBeNull();
    expect(await adapter.getProgram!('x')).toBeNull();
  });
});

describe('failures', () => {
  it('maps a wrong token and a wrong store to provider_auth_failed', async () => {
    const wrong = another({ token: 'wrong-token-123' } as Partial<LealConnection>);
    const err = await failure(wrong.balance(ana()));
    expect(err).toMatchObject({ code: 'provider_auth_failed', applied: 'no' });
    expect(err.message).not.toContain('wrong-token-123');
    const store = another({ accountId: 1 });
    expect((await failure(store.balance(ana()))).code).toBe('provider_auth_failed');
  });

  it(
    "passes Leal's 429 on with Retry-After, exposes the RateLimit-* state, and holds the connection's gate until " +
      'Retry-After',
    async () => {
      // A short timeout: a request that would wait at the gate longer than it is refused there.
      const a = another({ timeoutMs: 500 });
      const asked = Date.now();
      await a.getCard(ana());
      const state = a.rateLimitState();
      expect(state.limit).toBe(1000);
      expect(state.remaining).toBeGreaterThanOrEqual(0);
      // The window the answer named resets after it was asked for (read off the answer, not the clock now).
      expect(state.resetAt).toBeGreaterThanOrEqual(asked);
      // (A spent window, RateLimit-Remaining 0, blocks the gate until RateLimit-Reset: a 429 comes only
      // when the adapter could not know, as here, where one is injected.)
      sb.sim.inject({ kind: 'status', status: 429, match: '^GET ' });
      const limited = await failure(a.balance(ana()));
      expect(limited).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
      expect(Number(limited.extra.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(a.rateLimitState()).toMatchObject({ remaining: 0, blockedUntil: expect.any(Number) });
      // While Retry-After runs the gate holds every request: one that would wait longer than the
      // timeout is refused there, and nothing is sent.
      const before = counters();
      const local = await failure(a.move(ben(), mv({})));
      expect(local).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
      expect(Number(local.extra.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(counters()).toEqual(before);
      // Once it has run out, requests go again.
      await new Promise((r) => setTimeout(r, (a.rateLimitState().blockedUntil ?? Date.now()) - Date.now() + 50));
      expect((await a.getCard(ana()))?.reference).toBe(ana());
      expect(a.rateLimitState().blockedUntil).toBeNull();
    },
  );

  it('holds requests at the gate while the RateLimit window is spent, instead of drawing a 429', async () => {
    sb.sim.setRateLimit({ requests: 2, perSeconds: 1 });
    const a = another();
    for (let i = 0; i < 3; i++) expect((await a.getCard(ana()))?.reference).toBe(ana());
    // The second answer said RateLimit-Remaining 0: the third request waited for RateLimit-Reset, so the
    // simulator, which refuses a third request in its window, answered all three.
    expect(sb.sim.stats()).toMatchObject({ requests: 3, rateLimited: 0, maxInWindow: 2 });
  });

  it('maps 5xx to provider_unavailable: unknown on writes, no on reads', async () => {
    sb.sim.inject({ kind: 'status', status: 503, match: 'POST .*/stamp$' });
    expect(await failure(adapter.move(ben(), mv({})))).toMatchObject({
      code: 'provider_unavailable',
      applied: 'unknown',
    });
    sb.sim.inject({ kind: 'status', status: 500, match: 'GET ' });
    expect(await failure(adapter.balance(ben()))).toMatchObject({ code: 'provider_unavailable', applied: 'no' });
  });

  it('maps a timeout to provider_timeout (applied unknown on a write), and a dropped connection', async () => {
    const quick = another({ timeoutMs: 300 });
    sb.sim.inject({ kind: 'timeout', applied: true, match: 'POST .*/stamp$' });
    expect(await failure(quick.move(ben(), mv({})))).toMatchObject({ code: 'provider_timeout', applied: 'unknown' });
    expect(counters()['customer_cards.stamp']).toBe(1);
    sb.sim.inject({ kind: 'timeout', match: 'GET ' });
    expect(await failure(quick.balance(ben()))).toMatchObject({ code: 'provider_timeout', applied: 'no' });
    sb.sim.inject({ kind: 'drop', applied: true, match: 'POST .*/redeem$' });
    expect(await failure(adapter.move(ana(), mv({ operation: 'redeem_reward', rewardId: '71' })))).toMatchObject({
      code: 'provider_unavailable',
      applied: 'unknown',
    });
  });

  it('maps a malformed body to provider_bad_response', async () => {
    sb.sim.inject({ kind: 'malformed', match: 'POST .*/stamp$' });
    expect(await failure(adapter.move(ben(), mv({})))).toMatchObject({
      code: 'provider_bad_response',
      applied: 'unknown',
    });
    sb.sim.inject({ kind: 'malformed', match: 'GET ' });
    expect(await failure(adapter.getCard(ben()))).toMatchObject({ code: 'provider_bad_response', applied: 'no' });
    sb.sim.inject({ kind: 'malformed', match: 'GET .*/rewards' });
    expect((await failure(adapter.listPrograms!({ page: 1, perPage: 10 }))).code).toBe('provider_bad_response');
  });
});
