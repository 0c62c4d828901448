import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHighlightSandbox, type HighlightSandbox } from '../../src/sandbox/highlight/simulator.js';
import { heldBack } from '../helpers/order.js';

let sb: HighlightSandbox;
let base: string;
let root: string;
const cards = () => sb.seed.cards as Record<string, string>;
const customers = () => sb.seed.customers as Record<string, string>;

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const res = await fetch(base + path, {
    method,
    headers: { 'X-API-Key': sb.credentials.apiKey!, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const op = (serial: string, name: string, body?: unknown) => call('POST', `/cards/${serial}/${name}`, body);

beforeAll(async () => {
  sb = createHighlightSandbox({ rateLimit: { requests: 100_000, perSeconds: 1 } });
  base = await sb.sim.start(0);
  root = base.replace(/\/api\/v2$/, '');
});
afterAll(async () => sb?.sim.stop());
beforeEach(() => sb.sim.reset());

describe('auth, envelope and errors', () => {
  it('refuses a missing or wrong key with 401 and message; accepts the header in any case', async () => {
    const none = await fetch(`${base}/cards`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 401, message: 'API key is missing' });
    const wrong = await call('GET', '/cards', undefined, { 'X-API-Key': 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 401, message: 'Invalid API key' });
    const lower = await fetch(`${base}/templates`, { headers: { 'x-api-key': sb.credentials.apiKey! } });
    expect(lower.status).toBe(200);
  });

  it('answers 404 with the envelope and a message for unknown cards, customers and paths', async () => {
    const card = await call('GET', '/cards/999999-999-999');
    expect(card.status).toBe(404);
    expect(card.body).toMatchObject({ code: 404, message: 'Card not found' });
    expect(typeof card.body.responseId).toBe('string');
    expect((await call('GET', '/customers/cus_nope')).body.message).toBe('Customer not found');
    expect((await op('999999-999-999', 'add-stamp', { stamps: 1 })).status).toBe(404);
    expect((await call('GET', '/nothing')).body).toMatchObject({ code: 404, message: 'Route not found' });
    expect((await op(cards().stamp!, 'add-amount', { amount: 1 })).status).toBe(404);
  });

  it('answers 422 with field errors for invalid bodies, 400 for malformed JSON', async () => {
    const v = await op(cards().stamp!, 'add-stamp', { stamps: '2', purchaseSum: -1, comment: 5 });
    expect(v.status).toBe(422);
    expect(v.body).toMatchObject({ code: 422, message: 'Validation failed' });
    expect(Object.keys(v.body.errors).sort()).toEqual(['comment', 'purchaseSum', 'stamps']);
    expect((await op(cards().stamp!, 'add-stamp', { stamps: 1.5 })).status).toBe(422);
    expect((await op(cards().cashback!, 'add-transaction-amount', { amount: 1.234 })).status).toBe(422);
    expect((await call('POST', '/customers', { surname: 'x' })).body.errors.firstName).toBeDefined();
    const bad = await fetch(`${base}/customers`, {
      method: 'POST',
      headers: { 'x-api-key': sb.credentials.apiKey! },
      body: '{"firstName":',
    });
    expect(bad.status).toBe(400);
    expect(sb.sim.applied()).toBe(0);
  });
});

describe('customers', () => {
  it('creates (201), finds, updates, refuses duplicates (409) and deletes', async () => {
    const created = await call('POST', '/customers', {
      firstName: 'Grace',
      surname: 'Hopper',
      email: 'grace@example.com',
      phone: '+447700900003',
      gender: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      code: 201,
      data: { firstName: 'Grace', email: 'grace@example.com', segments: [] },
    });
    const id = created.body.data.id as string;
    const found = await call('GET', '/customers?email=GRACE@example.com');
    expect(found.body.meta).toEqual({ currentPage: 1, itemsPerPage: 20, totalItems: 1 });
    expect(found.body.data[0].id).toBe(id);
    expect((await call('POST', '/customers', { firstName: 'Ada2', email: 'ada@example.com' })).status).toBe(409);
    expect((await call('POST', '/customers', { firstName: 'X', phone: '+44 7700 900001' })).status).toBe(409);
    expect((await call('PATCH', `/customers/${id}`, { email: 'alan@example.com' })).status).toBe(409);
    const patched = await call('PATCH', `/customers/${id}`, { surname: 'Murray Hopper' });
    expect(patched.body.data.surname).toBe('Murray Hopper');
    expect((await call('GET', `/customers/${id}`)).body.data.surname).toBe('Murray Hopper');
    expect((await call('DELETE', `/customers/${id}`)).status).toBe(204);
    expect((await call('GET', `/customers/${id}`)).status).toBe(404);
    expect(sb.sim.counters()).toEqual({ 'customers.create': 1, 'customers.update': 1, 'customers.delete': 1 });
  });
});

describe('cards', () => {
  it('lists with filters and meta, issues (201), patches, deletes', async () => {
    const all = await call('GET', `/cards?customerEmail=ada@example.com&itemsPerPage=5&page=2`);
    expect(all.body.meta).toEqual({ currentPage: 2, itemsPerPage: 5, totalItems: 13 });
    expect(all.body.data).toHaveLength(5);
    const byTemplate = await call('GET', '/cards?templateId=101');
    expect(byTemplate.body.data.map((c: { id: string }) => c.id)).toEqual([cards().stamp]);
    expect((await call('GET', `/cards?customerId=${customers().second}`)).body.meta.totalItems).toBe(0);

    const issued = await call('POST', '/cards', {
      customerId: customers().second,
      templateId: 101,
      customFields: [{ id: 1, value: 'a' }],
    });
    expect(issued.status).toBe(201);
    const card = issued.body.data;
    expect(card.id).toMatch(/^\d{6}-\d{3}-\d{3}$/);
    expect(card).toMatchObject({
      type: 'stamp',
      templateId: 101,
      customerId: customers().second,
      status: 'not_installed',
    });
    expect(card.balance).toMatchObject({ currentNumberOfUses: 0, numberStampsTotal: 8, numberRewardsUnused: 0 });
    expect(card.directInstallLink.apple).toContain(card.id);
    expect((await call('POST', '/cards', { customerId: customers().second, templateId: 101 })).status).toBe(409);
    expect((await call('POST', '/cards', { customerId: 'cus_nope', templateId: 101 })).status).toBe(404);
    expect((await call('POST', '/cards', { customerId: customers().second, templateId: 999 })).status).toBe(404);
    expect((await call('POST', '/cards', { customerId: customers().second })).status).toBe(422);

    const patched = await call('PATCH', `/cards/${card.id}`, {
      customFields: [
        { id: 1, value: 'b' },
        { id: 2, value: 'c' },
      ],
    });
    expect(patched.body.data.customFields).toEqual([
      { id: 1, value: 'b' },
      { id: 2, value: 'c' },
    ]);
    expect((await call('DELETE', `/cards/${card.id}`)).status).toBe(204);
    expect((await call('GET', `/cards/${card.id}`)).status).toBe(404);
    expect(sb.sim.counters()).toEqual({ 'cards.create': 1, 'cards.update': 1, 'cards.delete': 1 });
  });

  it('shows each seeded card with its type and balance', async () => {
    const get = async (k: string) => (await call('GET', `/cards/${cards()[k]}`)).body.data;
    expect((await get('stamp')).balance).toMatchObject({
      currentNumberOfUses: 3,
      numberStampsTotal: 8,
      stampsBeforeReward: 5,
      numberRewardsUnused: 1,
    });
    expect(await get('cashback')).toMatchObject({ type: 'cashback', balance: { balance: 12.5, bonusBalance: 40 } });
    expect(await get('coupon')).toMatchObject({ type: 'coupon', couponRedeemed: false });
    expect((await get('discount')).balance).toMatchObject({ balance: 150, discountPercentage: 10 });
    expect((await get('membership')).balance).toMatchObject({ currentNumberOfUses: 3, balance: 7 });
    const reward = await get('rewardPoints');
    expect(reward).toMatchObject({ type: 'reward', balance: { balance: 120 } });
    expect(reward.availableRewardTiers.map((t: { id: number }) => t.id)).toEqual([1111]);
  });
});

describe('balance operations', () => {
  it('stamps roll over into rewards; subtract-reward records comment and purchaseSum in operations', async () => {
    const s = cards().stamp!;
    const added = await op(s, 'add-stamp', { stamps: 6, comment: 'tx-1' });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({
      code: 200,
      data: { id: s, balance: { currentNumberOfUses: 1, numberRewardsUnused: 2 } },
    });
    const red = await op(s, 'subtract-reward', { rewards: 1, comment: 'gw:abc', purchaseSum: 10.5 });
    expect(red.body.data.balance.numberRewardsUnused).toBe(1);
    expect((await op(s, 'subtract-reward', { rewards: 2 })).status).toBe(400);
    const refused = await op(s, 'subtract-stamp', { stamps: 2 });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^Insufficient balance/);

    const ops = await call('GET', `/operations?cardId=${s}`);
    expect(ops.body.meta.totalItems).toBe(2);
    expect(ops.body.data[0]).toMatchObject({
      cardId: s,
      comment: 'gw:abc',
      purchaseSum: 10.5,
      amount: -1,
      balance: 1,
      eventId: 42,
      templateId: 101,
    });
    expect(ops.body.data[1]).toMatchObject({ comment: 'tx-1', amount: 6, purchaseSum: null });
    const today = new Date().toISOString().slice(0, 10);
    expect(
      (await call('GET', `/operations?customerId=${customers().first}&startDate=${today}&endDate=${today}`)).body.meta
        .totalItems,
    ).toBe(2);
    expect((await call('GET', '/operations?startDate=2000-01-01&endDate=2000-01-02')).body.meta.totalItems).toBe(0);
    expect((await call('GET', '/operations?startDate=01/02/2020')).status).toBe(422);
    expect(sb.sim.counters()).toEqual({ 'cards.add-stamp': 1, 'cards.subtract-reward': 1 });
  });

  it('refuses operations on card types (and mechanics) they do not apply to', async () => {
    const c = cards();
    const refusals: [string, string, unknown][] = [
      ['cashback', 'add-stamp', { stamps: 1 }],
      ['stamp', 'add-visit', { visits: 1 }],
      ['stamp', 'add-purchase', { amount: 5 }],
      ['rewardSpend', 'add-scores', { scores: 5 }],
      ['rewardPoints', 'add-purchase', { amount: 5 }],
      ['membership', 'add-visit', { visits: 1 }],
      ['membershipUnlimited', 'subtract-visit', { visits: 1 }],
      ['gift', 'add-transaction-amount', { amount: 1 }],
      ['stamp', 'redeem-coupon', undefined],
      ['multipass', 'receive-reward', { id: 1111 }],
      ['gift', 'set-membership-tier', { period: 'month', tierId: 801 }],
    ];
    for (const [card, name, body] of refusals) {
      const r = await op(c[card]!, name, body);
      expect(r.status, `${name} on ${card}`).toBe(400);
      expect(r.body.message).toContain('is not available');
    }
    expect(sb.sim.applied()).toBe(0);
  });

  it('applies every operation to the card types it is for', async () => {
    const c = cards();
    const cases: [string, string, unknown, Record<string, unknown>][] = [
      ['stampVisit', 'add-visit', { visits: 9 }, { currentNumberOfUses: 1, numberRewardsUnused: 1 }],
      ['stamp', 'add-reward', { rewards: 2 }, { numberRewardsUnused: 3 }],
      ['cashback', 'add-transaction-amount', { amount: 0.1 }, { balance: 12.6 }],
      ['cashback', 'subtract-transaction-amount', { amount: 12.6 }, { balance: 0 }],
      ['cashback', 'add-point', { points: 2 }, { bonusBalance: 42 }],
      ['cashback', 'subtract-point', { points: 42 }, { bonusBalance: 0 }],
      ['discount', 'add-point', { points: 350 }, { balance: 500, discountPercentage: 15 }],
      ['gift', 'subtract-point', { points: 20.25 }, { balance: 29.75 }],
      ['multipass', 'add-scores', { scores: 5 }, { balance: 105 }],
      ['multipass', 'subtract-scores', { scores: 105 }, { balance: 0 }],
      ['multipass', 'add-visit', { visits: 1 }, { currentNumberOfUses: 3 }],
      ['multipass', 'subtract-visit', { visits: 3 }, { currentNumberOfUses: 0 }],
      ['membership', 'subtract-visit', { visits: 7 }, { currentNumberOfUses: 10, balance: 0 }],
      ['membershipUnlimited', 'add-visit', { visits: 1 }, { currentNumberOfUses: 5 }],
      ['rewardSpend', 'add-purchase', { amount: 10.1, purchaseSum: 10.1 }, { balance: 45.1 }],
      ['rewardSpend', 'subtract-purchase', { amount: 0.1 }, { balance: 45 }],
      ['rewardSpend', 'receive-reward', { id: 1101, purchaseSum: 3 }, { balance: 20 }],
      ['rewardPoints', 'add-scores', { scores: 80 }, { balance: 200 }],
      ['rewardPoints', 'subtract-scores', { scores: 100 }, { balance: 100 }],
    ];
    for (const [card, name, body, balance] of cases) {
      const r = await op(c[card]!, name, body);
      expect(r.status, `${name} on ${card}: ${JSON.stringify(r.body)}`).toBe(200);
      expect(r.body.data.balance, `${name} on ${card}`).toMatchObject(balance);
    }
    expect((await op(c.membership!, 'subtract-visit', { visits: 1 })).status).toBe(400);
    expect((await op(c.rewardPoints!, 'receive-reward', { id: 1112 })).status).toBe(400);
    expect((await op(c.rewardPoints!, 'receive-reward', { id: 1101 })).status).toBe(422);
    expect((await op(c.multipass!, 'subtract-scores', { scores: 1 })).status).toBe(400);
    expect(sb.sim.applied()).toBe(cases.length);
    expect((await call('GET', '/operations?itemsPerPage=100')).body.meta.totalItems).toBe(cases.length);
  });

  it('redeems a coupon once, sets membership tier and expiration date', async () => {
    const c = cards();
    const first = await op(c.coupon!, 'redeem-coupon');
    expect(first.body.data.couponRedeemed).toBe(true);
    const second = await op(c.coupon!, 'redeem-coupon', { comment: 'again' });
    expect(second.status).toBe(400);
    expect(second.body.message).toContain('already been redeemed');

    const tier = await op(c.membership!, 'set-membership-tier', { period: 'year', tierId: 802 });
    expect(tier.body.data.membershipTier).toMatchObject({ id: 802, period: 'year' });
    expect(tier.body.data.balance).toMatchObject({ currentNumberOfUses: 0, balance: 20 });
    expect((await op(c.membership!, 'set-membership-tier', { period: 'decade', tierId: 999 })).status).toBe(422);

    const exp = await op(c.gift!, 'set-expiration-date', { expiresAt: '2020-01-01' });
    expect(exp.body.data).toMatchObject({ status: 'expired', expiresAt: '2020-01-01T23:59:59.000Z' });
    expect((await op(c.gift!, 'add-point', { points: 1 })).body.message).toBe('Card has expired');
    expect((await op(c.gift!, 'set-expiration-date', {})).body.data.status).toBe('active');
    expect(sb.sim.counters()).toEqual({
      'cards.redeem-coupon': 1,
      'cards.set-membership-tier': 1,
      'cards.set-expiration-date': 2,
    });
  });
});

describe('reward mechanics and readings', () => {
  it('a reward card with visit mechanics counts visits, which receive-reward takes', async () => {
    const c = cards().rewardVisit!;
    const seeded = (await call('GET', `/cards/${c}`)).body.data;
    expect(seeded.balance).toMatchObject({ balance: 0, currentNumberOfUses: 7 });
    expect(seeded.availableRewardTiers.map((t: { id: number }) => t.id)).toEqual([1131]);
    expect((await op(c, 'add-visit', { visits: 1 })).body.data.balance).toMatchObject({
      balance: 0,
      currentNumberOfUses: 8,
    });
    const got = await op(c, 'receive-reward', { id: 1131, comment: 'class' });
    expect(got.body.data.balance).toMatchObject({ balance: 0, currentNumberOfUses: 3 });
    expect(got.body.data.availableRewardTiers).toEqual([]);
    const refused = await op(c, 'receive-reward', { id: 1131 });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('3 visits');
    const ops = (await call('GET', `/operations?cardId=${c}`)).body.data;
    expect(ops[0]).toMatchObject({ eventId: 44, amount: -5, balance: 3, comment: 'class' });
  });

  it('switches the cashback readings over PUT /_sandbox/readings (kept across a reset), refusing unknown ones', async () => {
    const readings = (body: unknown) =>
      fetch(`${root}/_sandbox/readings`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    try {
      const put = await readings({ cashbackPointsField: 'balance', transactionAmountCredit: 'rate' });
      expect(put.status).toBe(200);
      expect(await put.json()).toEqual({ cashbackPointsField: 'balance', transactionAmountCredit: 'rate' });
      expect((await readings({ cashbackPointsField: 'points' })).status).toBe(400);
      sb.sim.reset();
      const c = cards().cashback!;
      expect((await call('GET', `/cards/${c}`)).body.data.balance).toMatchObject({ balance: 40, bonusBalance: 12.5 });
      // 5% of 20.00 (template 103) is credited; the operation says what moved.
      const credited = await op(c, 'add-transaction-amount', { amount: 20 });
      expect(credited.body.data.balance).toMatchObject({ balance: 40, bonusBalance: 13.5 });
      expect((await op(c, 'add-point', { points: 2 })).body.data.balance).toMatchObject({ balance: 42 });
      const ops = (await call('GET', `/operations?cardId=${c}`)).body.data;
      expect(ops.map((o: { amount: number; balance: number }) => [o.amount, o.balance])).toEqual([
        [2, 42],
        [1, 13.5],
      ]);
    } finally {
      await readings({ cashbackPointsField: 'bonusBalance', transactionAmountCredit: 'amount' });
    }
  });
});

describe('pushes and templates', () => {
  it('sends (201), lists and gets pushes', async () => {
    const sent = await call('POST', '/pushes', { message: 'Hello', templateId: 101, cardId: cards().stamp });
    expect(sent.status).toBe(201);
    expect(sent.body.data).toMatchObject({
      id: 1,
      message: 'Hello',
      templateId: 101,
      cardId: cards().stamp,
      status: 'sent',
    });
    const later = await call('POST', '/pushes', {
      message: 'Later',
      templateId: 110,
      scheduledAt: '2999-01-01T10:00:00Z',
    });
    expect(later.body.data.status).toBe('scheduled');
    expect((await call('GET', '/pushes')).body.meta.totalItems).toBe(2);
    expect((await call('GET', '/pushes/1')).body.data.message).toBe('Hello');
    expect((await call('GET', '/pushes/99')).status).toBe(404);
    expect((await call('POST', '/pushes', { templateId: 101 })).status).toBe(422);
    expect((await call('POST', '/pushes', { message: 'x', templateId: 102, cardId: cards().stamp })).status).toBe(404);
    expect(sb.sim.counters()).toEqual({ 'pushes.create': 2 });
  });

  it('lists templates with numeric type and reward tiers; settings describe mechanics', async () => {
    const list = await call('GET', '/templates');
    expect(list.body.meta.totalItems).toBe(13);
    const reward = await call('GET', '/templates/111');
    expect(reward.body.data).toMatchObject({ id: 111, type: 7 });
    expect(reward.body.data.rewardTiers.map((t: { id: number }) => t.id)).toEqual([1111, 1112]);
    expect(reward.body.data.mechanics).toBeUndefined();
    expect((await call('GET', '/templates/abc')).status).toBe(404);
    const settings = sb.settings.templates as Record<string, { mechanics: string; limits?: boolean }>;
    expect(settings['101']).toEqual({ mechanics: 'stamps' });
    expect(settings['102']).toEqual({ mechanics: 'visit' });
    expect(settings['108']).toEqual({ mechanics: 'visit', limits: true });
    expect(settings['110']!.mechanics).toBe('spend');
    expect(settings['111']!.mechanics).toBe('points');
  });
});

describe('rate limit, faults, reset', () => {
  it('answers 429 with Retry-After past the limit, and does not apply the refused request', async () => {
    sb.sim.setRateLimit({ requests: 3, perSeconds: 1 });
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => op(cards().stamp!, 'add-stamp', { stamps: 1 })),
      );
      const limited = results.filter((r) => r.status === 429);
      expect(limited).toHaveLength(2);
      expect(limited[0]!.body).toMatchObject({ code: 429, message: 'Too Many Requests' });
      expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited[0]!.headers.get('x-ratelimit-limit')).toBe('3');
      expect(sb.sim.counters()['cards.add-stamp']).toBe(3);
    } finally {
      sb.sim.setRateLimit({ requests: 100_000, perSeconds: 1 });
    }
  });

  it('injects status, drop, malformed, latency and timeout faults', async () => {
    const s = cards().stamp!;
    sb.sim.inject({ kind: 'status', status: 502, match: 'add-stamp' });
    expect((await op(s, 'add-stamp', { stamps: 1 })).status).toBe(502);
    expect(sb.sim.applied()).toBe(0);

    sb.sim.inject({ kind: 'drop', applied: true });
    await expect(op(s, 'add-stamp', { stamps: 1 })).rejects.toThrow();
    expect(sb.sim.counters()['cards.add-stamp']).toBe(1);

    await fetch(`${root}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ kind: 'malformed' }) });
    const bad = await fetch(`${base}/cards/${s}/add-stamp`, {
      method: 'POST',
      headers: { 'x-api-key': sb.credentials.apiKey! },
      body: '{"stamps":1}',
    });
    expect(bad.status).toBe(200);
    await expect(bad.json()).rejects.toThrow();
    expect(sb.sim.counters()['cards.add-stamp']).toBe(2);

    sb.sim.inject({ kind: 'latency', ms: 150, match: `^GET /cards/${s}$` });
    const late = await heldBack(
      () => call('GET', `/cards/${s}`),
      () => call('GET', '/cards'),
    );
    expect([late.held, late.slow.status]).toEqual([true, 200]);

    sb.sim.inject({ kind: 'timeout', ms: 5000 });
    await expect(
      fetch(`${base}/cards/${s}`, {
        headers: { 'x-api-key': sb.credentials.apiKey! },
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();

    const ops = await call('GET', `/operations?cardId=${s}`);
    expect(ops.body.meta.totalItems).toBe(2);
    expect(ops.body.data[0].balance).toBe(5);
  });

  it('reset restores the seed and clears counters', async () => {
    await op(cards().stamp!, 'add-stamp', { stamps: 1 });
    await call('POST', '/customers', { firstName: 'Temp' });
    const res = await fetch(`${root}/_sandbox/reset`, { method: 'POST' });
    expect(res.status).toBe(204);
    expect(await (await fetch(`${root}/_sandbox/counters`)).json()).toEqual({});
    expect((await call('GET', `/cards/${cards().stamp}`)).body.data.balance.currentNumberOfUses).toBe(3);
    expect((await call('GET', '/customers')).body.meta.totalItems).toBe(2);
    expect((await call('GET', '/operations')).body.meta.totalItems).toBe(0);
  });
});
