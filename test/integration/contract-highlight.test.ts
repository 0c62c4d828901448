import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/domain/errors.js';
import type { Movement, ProviderAdapter } from '../../src/providers/adapter.js';
import { highlight } from '../../src/providers/highlight/index.js';
import type { HighlightSettings as HighlightConnection } from '../../src/providers/highlight/settings.js';
import { createHighlightSandbox } from '../../src/sandbox/highlight/simulator.js';

// The Highlight adapter against the Highlight simulator, as a black box (seeded ids are read from sandbox.seed).
type Sandbox = ReturnType<typeof createHighlightSandbox>;
let sb: Sandbox;
let url: string;
let adapter: ProviderAdapter;
const errors: unknown[] = [];

const seed = () =>
  sb.seed as unknown as {
    customers: { first: string; second: string };
    cards: Record<
      | 'stamp'
      | 'stampVisit'
      | 'cashback'
      | 'multipass'
      | 'coupon'
      | 'discount'
      | 'gift'
      | 'membership'
      | 'membershipUnlimited'
      | 'rewardSpend'
      | 'rewardPoints',
      string
    >;
    templates: Record<string, number>;
    rewardTiers: { rewardSpend: number[]; rewardPoints: number[] };
  };
const card = (k: keyof ReturnType<typeof seed>['cards']) => seed().cards[k];
const apiKey = () => (sb.credentials as { apiKey: string }).apiKey;
const conn = (over: Partial<HighlightConnection> = {}): HighlightConnection =>
  ({
    id: 'hl',
    provider: 'highlight',
    baseUrl: url,
    timeoutMs: 2000,
    ...sb.credentials,
    ...sb.settings,
    ...over,
  }) as HighlightConnection;
const sim = () =>
  sb.sim as unknown as {
    counters(): Record<string, number>;
    inject(f: { kind: string; status?: number; ms?: number; applied?: boolean; match?: string }): void;
    setRateLimit(r: { requests: number; perSeconds: number }): void;
    reset(): void;
  };

const TXN = 'txn_01ARZ3NDEKTSV4RRFFQ69G5FAV';
const mv = (over: Partial<Movement>): Movement => ({
  operation: 'award',
  unit: 'stamps',
  quantity: 1,
  money: null,
  rewardId: null,
  txnId: TXN,
  reason: 'Order 1001',
  referenceId: null,
  staff: null,
  dedupKey: 'k1',
  notify: true,
  ...over,
});
const money = (decimal: string) => ({ decimal, minor: Math.round(Number(decimal) * 100), currency: 'EUR' });

/** The ProviderError a promise rejects with (also kept, to check no error carries the key). */
async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  errors.push(err);
  return err as ProviderError;
}

beforeAll(async () => {
  sb = createHighlightSandbox();
  url = await sb.sim.start(0);
});
afterAll(async () => {
  for (const e of errors)
    expect(JSON.stringify({ m: (e as Error).message, x: (e as ProviderError).extra })).not.toContain(apiKey());
  await sb.sim.stop();
});
beforeEach(() => {
  sim().reset();
  sim().setRateLimit({ requests: 1000, perSeconds: 1 });
  adapter = highlight.create(conn());
});
afterEach(async () => adapter.close());

describe('capabilities', () => {
  it('declares all 8 card types with native units', () => {
    expect(highlight.cardTypes.map((c) => [c.cardType, c.nativeUnit])).toEqual([
      ['stamp', 'stamps'],
      ['cashback', 'points'],
      ['multipass', 'scores'],
      ['coupon', 'rewards'],
      ['discount', 'points'],
      ['gift', 'points'],
      ['membership', 'visits'],
      ['reward', 'scores'],
    ]);
  });

  it("reads each card's capabilities from its type and template settings", async () => {
    const ops = async (k: Parameters<typeof card>[0]) => (await adapter.cardCapabilities(card(k))).operations;
    expect(await ops('stamp')).toEqual(
      expect.arrayContaining(['award', 'redeem', 'adjust', 'expire', 'reverse', 'redeem_reward', 'rewards']),
    );
    expect(await ops('stamp')).not.toContain('visit');
    expect(await ops('stampVisit')).toContain('visit');
    expect(await adapter.cardCapabilities(card('cashback'))).toMatchObject({
      cardType: 'cashback',
      units: ['points', 'amount'],
      nativeUnit: 'points',
    });
    expect(await ops('cashback')).toContain('purchase');
    expect(await ops('coupon')).not.toEqual(expect.arrayContaining(['award']));
    expect(await ops('coupon')).toContain('redeem_coupon');
    expect(await ops('membership')).toEqual(expect.arrayContaining(['redeem', 'adjust']));
    expect(await ops('membership')).not.toEqual(expect.arrayContaining(['award']));
    expect(await ops('membership')).not.toContain('reverse');
    expect(await ops('membershipUnlimited')).toEqual(expect.arrayContaining(['award', 'visit']));
    expect(await ops('rewardSpend')).toEqual(expect.arrayContaining(['purchase', 'redeem_reward', 'redeem']));
    expect(await ops('rewardSpend')).not.toContain('award');
    expect(await ops('rewardPoints')).toContain('award');
    expect((await failure(adapter.cardCapabilities('999999-999-999'))).code).toBe('card_not_found');
  });
});

describe('balances', () => {
  it('normalizes the generic balance fields per card type', async () => {
    const units = async (k: Parameters<typeof card>[0]) => (await adapter.balance(card(k))).units;
    expect(await units('stamp')).toEqual({ stamps: 3, rewards: 1 });
    expect(await units('cashback')).toEqual({ points: 40, amount: 1250 });
    expect(await units('multipass')).toEqual({ scores: 100, visits: 2 });
    expect(await units('coupon')).toEqual({ rewards: 1 });
    expect(await units('discount')).toEqual({ points: 150 });
    expect(await units('gift')).toEqual({ points: 50 });
    expect(await units('membership')).toEqual({ visits: 7 });
    expect(await units('membershipUnlimited')).toEqual({ visits: 4 });
    expect(await units('rewardSpend')).toEqual({ scores: 35 });
    expect((await adapter.balance(card('rewardPoints'))).nativeUnit).toBe('scores');
  });
});

describe('moves', () => {
  it("awards and redeems in each card type's units, with balanceAfter from the returned card", async () => {
    expect(await adapter.move(card('stamp'), mv({ quantity: 2 }))).toEqual({
      balanceAfter: 5,
      providerReference: null,
    });
    expect((await adapter.move(card('stamp'), mv({ operation: 'redeem', quantity: 1 }))).balanceAfter).toBe(4);
    expect(
      (await adapter.move(card('stamp'), mv({ operation: 'redeem', unit: 'rewards', quantity: 1 }))).balanceAfter,
    ).toBe(0);
    expect(
      (await adapter.move(card('stamp'), mv({ operation: 'adjust', unit: 'rewards', quantity: 2 }))).balanceAfter,
    ).toBe(2);
    expect((await adapter.move(card('cashback'), mv({ unit: 'points', quantity: 5 }))).balanceAfter).toBe(45);
    expect((await adapter.move(card('cashback'), mv({ unit: 'amount', quantity: 250 }))).balanceAfter).toBe(1500);
    expect(
      (
        await adapter.move(
          card('cashback'),
          mv({ operation: 'redeem', unit: 'amount', quantity: 1000, money: money('10.00') }),
        )
      ).balanceAfter,
    ).toBe(500);
    expect(
      (await adapter.move(card('multipass'), mv({ operation: 'redeem', unit: 'scores', quantity: 10 }))).balanceAfter,
    ).toBe(90);
    expect(
      (await adapter.move(card('multipass'), mv({ operation: 'visit', unit: 'visits', quantity: 1 }))).balanceAfter,
    ).toBe(3);
    expect((await adapter.move(card('discount'), mv({ unit: 'points', quantity: 10 }))).balanceAfter).toBe(160);
    expect(
      (await adapter.move(card('gift'), mv({ operation: 'expire', unit: 'points', quantity: 10 }))).balanceAfter,
    ).toBe(40);
    expect(
      (await adapter.move(card('membership'), mv({ operation: 'redeem', unit: 'visits', quantity: 1 }))).balanceAfter,
    ).toBe(6);
    expect(
      (await adapter.move(card('membershipUnlimited'), mv({ operation: 'visit', unit: 'visits', quantity: 1 })))
        .balanceAfter,
    ).toBe(5);
    expect(
      (await adapter.move(card('rewardPoints'), mv({ operation: 'adjust', unit: 'scores', quantity: -20 })))
        .balanceAfter,
    ).toBe(100);
    expect((await adapter.move(card('rewardPoints'), mv({ unit: 'scores', quantity: 20 }))).balanceAfter).toBe(120);
    expect(
      (await adapter.move(card('stampVisit'), mv({ operation: 'visit', unit: 'visits', quantity: 1 }))).balanceAfter,
    ).toBeNull();
    expect(sim().counters()).toMatchObject({
      'cards.add-stamp': 1,
      'cards.subtract-stamp': 1,
      'cards.subtract-reward': 1,
      'cards.add-reward': 1,
      'cards.add-transaction-amount': 1,
      'cards.subtract-transaction-amount': 1,
      'cards.add-visit': 3,
      'cards.subtract-visit': 1,
    });
  });

  it('books purchases: add-purchase on spend mechanics, add-transaction-amount on cashback', async () => {
    expect(
      (
        await adapter.move(
          card('rewardSpend'),
          mv({ operation: 'purchase', unit: 'scores', quantity: 0, money: money('20.00') }),
        )
      ).balanceAfter,
    ).toBe(55);
    expect(
      (
        await adapter.move(
          card('cashback'),
          mv({ operation: 'purchase', unit: 'amount', quantity: 0, money: money('10.50') }),
        )
      ).balanceAfter,
    ).toBe(2300);
    expect(sim().counters()).toMatchObject({ 'cards.add-purchase': 1, 'cards.add-transaction-amount': 1 });
    const err = await failure(
      adapter.move(card('stamp'), mv({ operation: 'purchase', unit: 'amount', quantity: 0, money: money('5.00') })),
    );
    expect(err).toMatchObject({ code: 'unsupported_operation', applied: 'no' });
  });

  it('redeems rewards: stamp cards by subtract-reward (with purchaseSum), reward cards by tier', async () => {
    const r = await adapter.move(
      card('stamp'),
      mv({ operation: 'redeem_reward', unit: 'rewards', quantity: 1, money: money('10.50') }),
    );
    expect(r.balanceAfter).toBe(0);
    const h = await adapter.history!(card('stamp'), { limit: 5 });
    expect(h[0]).toMatchObject({ operation: 'redeem', unit: 'rewards', delta: -1, txnId: TXN });
    const tier = String(seed().rewardTiers.rewardPoints[0]);
    expect(
      (
        await adapter.move(
          card('rewardPoints'),
          mv({ operation: 'redeem_reward', unit: 'scores', quantity: 1, rewardId: tier }),
        )
      ).balanceAfter,
    ).toBe(70);
    const big = String(seed().rewardTiers.rewardPoints[1]);
    const err = await failure(
      adapter.move(card('rewardPoints'), mv({ operation: 'redeem_reward', unit: 'scores', rewardId: big })),
    );
    expect(err).toMatchObject({ code: 'insufficient_points', applied: 'no' });
    expect(
      (await failure(adapter.move(card('rewardPoints'), mv({ operation: 'redeem_reward', unit: 'scores' })))).code,
    ).toBe('validation_failed');
    expect(
      (
        await failure(
          adapter.move(card('rewardPoints'), mv({ operation: 'redeem_reward', unit: 'scores', rewardId: '424242' })),
        )
      ).code,
    ).toMatch(/reward_not_found|provider_rejected/);
  });

  it('redeems a coupon once', async () => {
    await adapter.move(card('coupon'), mv({ operation: 'redeem_coupon', unit: 'rewards', quantity: 0 }));
    expect((await adapter.balance(card('coupon'))).units).toEqual({ rewards: 0 });
    const err = await failure(
      adapter.move(card('coupon'), mv({ operation: 'redeem_coupon', unit: 'rewards', quantity: 0 })),
    );
    expect(err).toMatchObject({ code: 'coupon_already_redeemed', applied: 'no' });
    expect(sim().counters()['cards.redeem-coupon']).toBe(1);
  });

  it('refuses what the card type cannot do, naming what it supports, without calling the provider', async () => {
    const cases: [Parameters<typeof card>[0], Partial<Movement>][] = [
      ['stamp', { unit: 'points' }],
      ['stamp', { operation: 'visit', unit: 'visits' }],
      ['coupon', { unit: 'rewards' }],
      ['membership', { unit: 'visits' }],
      ['membershipUnlimited', { operation: 'redeem', unit: 'visits' }],
      ['rewardSpend', { unit: 'scores' }],
      ['cashback', { operation: 'redeem_coupon', unit: 'points' }],
      ['discount', { unit: 'amount', money: money('1.00') }],
    ];
    for (const [k, m] of cases) {
      const err = await failure(adapter.move(card(k), mv(m)));
      expect(err).toMatchObject({ code: 'unsupported_operation', applied: 'no' });
      expect(err.message).toContain('It supports');
      expect(err.extra.supported).toEqual((await adapter.cardCapabilities(card(k))).operations);
    }
    expect(sim().counters()).toEqual({});
  });

  it('refuses an overdraft with what the card holds, before calling the provider', async () => {
    const err = await failure(adapter.move(card('stamp'), mv({ operation: 'redeem', quantity: 50 })));
    expect(err).toMatchObject({ code: 'insufficient_points', applied: 'no' });
    expect(err.message).toContain('holds 3 stamps');
    expect(err.extra.available).toBe(3);
    expect(
      (await failure(adapter.move(card('cashback'), mv({ operation: 'redeem', unit: 'amount', quantity: 10_000 }))))
        .message,
    ).toContain('12.50');
    expect(sim().counters()).toEqual({});
  });
});

describe('history', () => {
  it('lists operations newest first, with units, signs and the txn id from the comment', async () => {
    await adapter.move(card('cashback'), mv({ unit: 'points', quantity: 5 }));
    await adapter.move(
      card('cashback'),
      mv({ unit: 'amount', quantity: 250, txnId: 'txn_01ARZ3NDEKTSV4RRFFQ69G5FAW', reason: '' }),
    );
    await adapter.move(card('cashback'), mv({ operation: 'redeem', unit: 'points', quantity: 3, reason: 'Refund' }));
    const h = await adapter.history!(card('cashback'), { limit: 10 });
    expect(h.map((e) => [e.operation, e.unit, e.delta, e.balanceAfter, e.txnId])).toEqual([
      ['redeem', 'points', -3, 42, TXN],
      ['award', 'amount', 250, 1500, 'txn_01ARZ3NDEKTSV4RRFFQ69G5FAW'],
      ['award', 'points', 5, 45, TXN],
    ]);
    expect(h[0]!.comment).toBe(`Refund [lgw:${TXN}]`);
    expect(await adapter.history!(card('cashback'), { limit: 2 })).toHaveLength(2);
    expect(await adapter.history!(card('cashback'), { limit: 10, fromMs: Date.now() + 60_000 })).toEqual([]);
  });
});

describe('cards', () => {
  it('gets, lists, issues (again: the same card) and deletes cards', async () => {
    const c = await adapter.getCard(card('stamp'));
    expect(c).toMatchObject({
      reference: card('stamp'),
      cardType: 'stamp',
      status: 'active',
      programReference: String(seed().templates.stamp),
      customerReference: seed().customers.first,
    });
    expect(c!.customer).toMatchObject({ first_name: 'Ada', email: 'ada@example.com' });
    expect(c!.links).toMatchObject({ apple: expect.any(String), install: expect.any(String) });
    expect(await adapter.getCard('999999-999-999')).toBeNull();
    const list = await adapter.listCards!({ customerReference: seed().customers.first, page: 1, perPage: 50 });
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.data.every((x) => x.customerReference === seed().customers.first)).toBe(true);
    const input = {
      customerReference: seed().customers.second,
      programReference: String(seed().templates.stamp),
      customer: null,
      externalReference: null,
    };
    const issued = await adapter.issueCard!(input);
    expect(issued).toMatchObject({ cardType: 'stamp', customerReference: seed().customers.second });
    expect((await adapter.issueCard!(input)).reference).toBe(issued.reference);
    expect((await failure(adapter.issueCard!({ ...input, programReference: '999' }))).code).toBe('program_not_found');
    await adapter.deleteCard!(issued.reference);
    expect(await adapter.getCard(issued.reference)).toBeNull();
    expect((await failure(adapter.deleteCard!(issued.reference))).code).toBe('card_not_found');
  });

  it('issues a card to a new customer given by personal data', async () => {
    const c = await adapter.issueCard!({
      customerReference: null,
      programReference: String(seed().templates.cashback),
      customer: { first_name: 'Grace', email: 'grace@example.com' },
      externalReference: 'ext-1',
    });
    const cus = await adapter.getCustomer!(c.customerReference!);
    expect(cus).toMatchObject({ first_name: 'Grace', external_reference: 'ext-1', cardReferences: [c.reference] });
  });

  it("caches a card's type for cardTypeCacheSeconds", async () => {
    const input = {
      customerReference: seed().customers.second,
      programReference: String(seed().templates.gift),
      customer: null,
      externalReference: null,
    };
    const cached = highlight.create(conn());
    const uncached = highlight.create(conn({ cardTypeCacheSeconds: 0 }));
    const ref = (await cached.issueCard!(input)).reference;
    await uncached.cardCapabilities(ref);
    await adapter.deleteCard!(ref);
    expect((await cached.cardCapabilities(ref)).cardType).toBe('gift');
    expect((await failure(uncached.cardCapabilities(ref))).code).toBe('card_not_found');
    await Promise.all([cached.close(), uncached.close()]);
  });

  it('lists the earned rewards', async () => {
    expect(await adapter.rewards!(card('stamp'))).toEqual([
      expect.objectContaining({ status: 'available', unit: 'stamps', count: 1 }),
    ]);
    const r = await adapter.rewards!(card('rewardPoints'));
    expect(r).toEqual([
      expect.objectContaining({ id: String(seed().rewardTiers.rewardPoints[0]), cost: 50, unit: 'scores', count: 2 }),
    ]);
    expect(await adapter.rewards!(card('gift'))).toEqual([]);
  });
});

describe('customers', () => {
  it('lists, searches, gets, creates, updates and deletes', async () => {
    const all = await adapter.listCustomers!({ connection: 'hl', page: 1, per_page: 20 });
    expect(all.meta).toMatchObject({ page: 1, total: 2, has_more: false });
    expect(
      (await adapter.listCustomers!({ connection: 'hl', search: 'alan@example.com' })).data.map((c) => c.reference),
    ).toEqual([seed().customers.second]);
    expect(
      (await adapter.listCustomers!({ connection: 'hl', phone: '+447700900001' })).data.map((c) => c.last_name),
    ).toEqual(['Lovelace']);
    expect(
      (await adapter.listCustomers!({ connection: 'hl', search: card('gift') })).data.map((c) => c.reference),
    ).toEqual([seed().customers.first]);
    expect((await adapter.listCustomers!({ connection: 'hl', search: 'nobody' })).data).toEqual([]);
    const ada = await adapter.getCustomer!(seed().customers.first);
    expect(ada).toMatchObject({ first_name: 'Ada', birthday: '1985-12-10' });
    expect(ada!.cardReferences).toContain(card('stamp'));
    expect(await adapter.getCustomer!('cus_nope')).toBeNull();

    const dup = await failure(
      adapter.createCustomer!({ connection: 'hl', first_name: 'Ada', email: 'ada@example.com' }),
    );
    expect(dup).toMatchObject({ code: 'customer_exists', applied: 'no' });
    const created = await adapter.createCustomer!({
      connection: 'hl',
      first_name: 'Edsger',
      last_name: 'Dijkstra',
      email: 'ewd@example.com',
      programReference: String(seed().templates.stamp),
    });
    expect(created).toMatchObject({ first_name: 'Edsger', last_name: 'Dijkstra' });
    expect(created.cardReferences).toHaveLength(1);
    const updated = await adapter.updateCustomer!(created.reference, { phone: '+31 20 555 0000' });
    expect(updated.phone).toBe('+31 20 555 0000');
    await adapter.deleteCustomer!(created.reference);
    expect(await adapter.getCustomer!(created.reference)).toBeNull();
    expect((await failure(adapter.deleteCustomer!(created.reference))).code).toBe('customer_not_found');
    expect((await failure(adapter.updateCustomer!('cus_nope', { first_name: 'X' }))).code).toBe('customer_not_found');
  });
});

describe('programs and pushes', () => {
  it('lists templates with reward tiers', async () => {
    const list = await adapter.listPrograms!({ page: 1, perPage: 50 });
    expect(list.data.map((p) => p.card_type)).toEqual(
      expect.arrayContaining(['stamp', 'cashback', 'multipass', 'coupon', 'discount', 'gift', 'membership', 'reward']),
    );
    const p = await adapter.getProgram!(String(seed().templates.rewardSpend));
    expect(p).toMatchObject({
      card_type: 'reward',
      rewards: [{ id: String(seed().rewardTiers.rewardSpend[0]), cost: 25, unit: 'scores' }, expect.anything()],
    });
    expect(await adapter.getProgram!('999')).toBeNull();
  });

  it('sends one push per card, one per program, one per template for the whole connection', async () => {
    const n1 = await adapter.notify!({ message: 'Hi', cardReferences: [card('stamp'), card('cashback')] });
    expect(n1).toMatchObject({ recipients: 2, status: 'sent', message: 'Hi' });
    expect(sim().counters()['pushes.create']).toBe(2);
    await adapter.notify!({
      message: 'Hi',
      programReference: String(seed().templates.stamp),
      scheduledAt: '2030-01-01T10:00:00Z',
    });
    expect(sim().counters()['pushes.create']).toBe(3);
    await adapter.notify!({ message: 'Hi all' });
    expect(sim().counters()['pushes.create']).toBe(3 + Object.keys(seed().templates).length);
    expect(
      (await failure(adapter.notify!({ message: 'x', cardReferences: [card('stamp'), '999999-999-999'] }))).code,
    ).toBe('card_not_found');
    expect(sim().counters()['pushes.create']).toBe(3 + Object.keys(seed().templates).length);
  });
});

describe('failures', () => {
  it('maps wrong credentials to provider_auth_failed without the key in the message', async () => {
    const bad = highlight.create(conn({ apiKey: 'wrong-key-123' }));
    const err = await failure(bad.balance(card('stamp')));
    expect(err).toMatchObject({ code: 'provider_auth_failed', applied: 'no' });
    expect(err.message).not.toContain('wrong-key-123');
    await bad.close();
  });

  it('passes a 429 on as provider_rate_limited with Retry-After', async () => {
    sim().setRateLimit({ requests: 1, perSeconds: 5 });
    await adapter.balance(card('stamp'));
    const err = await failure(adapter.move(card('stamp'), mv({})));
    expect(err).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
    expect(err.extra.retryAfter).toBe('5');
  });

  it('queues requests over the connection rate limit instead of sending them', async () => {
    // Highlight allows exactly what the connection is told: a third read sent at once would meet a 429.
    sim().setRateLimit({ requests: 2, perSeconds: 0.5 });
    const slow = highlight.create(conn({ rateLimit: { requests: 2, perSeconds: 0.5, marginMs: 250 } }));
    try {
      const reads = await Promise.all([1, 2, 3].map(() => slow.balance(card('gift'))));
      expect(reads).toHaveLength(3);
    } finally {
      await slow.close();
    }
    // Every read reached Highlight, none was refused, and no window of Highlight's saw more than 2.
    const stats = sb.sim.stats();
    expect(stats.requests).toBeGreaterThanOrEqual(3);
    expect(stats.rateLimited).toBe(0);
    expect(stats.maxInWindow).toBeLessThanOrEqual(2);
  });

  it('5xx: provider_unavailable, applied unknown on writes and no on reads', async () => {
    sim().inject({ kind: 'status', status: 503, match: 'add-stamp' });
    expect(await failure(adapter.move(card('stamp'), mv({})))).toMatchObject({
      code: 'provider_unavailable',
      applied: 'unknown',
    });
    sim().inject({ kind: 'status', status: 500, match: '/cards' });
    expect(await failure(adapter.balance(card('stamp')))).toMatchObject({
      code: 'provider_unavailable',
      applied: 'no',
    });
  });

  it('timeouts and dropped connections on writes: applied unknown', async () => {
    const quick = highlight.create(conn({ timeoutMs: 300 }));
    await quick.cardCapabilities(card('stamp'));
    sim().inject({ kind: 'timeout', match: 'add-stamp' });
    expect(await failure(quick.move(card('stamp'), mv({})))).toMatchObject({
      code: 'provider_timeout',
      applied: 'unknown',
    });
    sim().inject({ kind: 'drop', match: 'add-stamp' });
    expect(await failure(quick.move(card('stamp'), mv({})))).toMatchObject({ applied: 'unknown' });
    await quick.close();
  });

  it('malformed bodies: provider_bad_response', async () => {
    await adapter.cardCapabilities(card('stamp'));
    sim().inject({ kind: 'malformed', match: 'add-stamp' });
    expect(await failure(adapter.move(card('stamp'), mv({})))).toMatchObject({
      code: 'provider_bad_response',
      applied: 'unknown',
    });
    sim().inject({ kind: 'malformed', match: '/templates' });
    expect(await failure(adapter.listPrograms!({ page: 1, perPage: 10 }))).toMatchObject({
      code: 'provider_bad_response',
      applied: 'no',
    });
  });

  it('refuses references that cannot be Highlight ids without a call', async () => {
    expect((await failure(adapter.balance('a/b'))).code).toBe('card_not_found');
    expect(await adapter.getCustomer!('a b')).toBeNull();
  });
});
