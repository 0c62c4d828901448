import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLealSandbox, type LealSandbox } from '../../src/sandbox/leal/simulator.js';
import { heldBack } from '../helpers/order.js';

let sb: LealSandbox;
let base: string;
let root: string;
const A = 4242;

beforeAll(async () => {
  sb = createLealSandbox({ rateLimit: { requests: 1000, perSeconds: 1 } });
  base = await sb.sim.start(0);
  root = new URL(base).origin;
});
afterAll(async () => sb?.sim.stop());
beforeEach(() => {
  sb.sim.setRateLimit({ requests: 1000, perSeconds: 1 });
  sb.sim.reset();
});

interface Res {
  status: number;
  body: any;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string | null; raw?: string } = {},
): Promise<Res> {
  const token = opts.token === undefined ? sb.credentials.token : opts.token;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: opts.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const state = async () => (await (await fetch(`${root}/_sandbox/state`)).json()) as any;
const cc = (customer: number, card: number, suffix = '') =>
  `/accounts/${A}/customers/${customer}/customer_cards/${card}${suffix}`;

describe('Leal sandbox: exports, status, auth', () => {
  it('exposes credentials, settings and seed', () => {
    expect(base).toMatch(/\/api\/v1$/);
    expect(sb.credentials).toEqual({ token: expect.any(String) });
    expect(sb.settings).toEqual({ accountId: 4242 });
    expect(sb.seed).toMatchObject({ accountId: 4242, cardId: 7, rewards: { freeCoffee: 71, freeCakeInactive: 72 } });
  });

  it('GET /status needs no token and reports the default limit of 20 per second', async () => {
    const other = createLealSandbox();
    const url = await other.sim.start(0);
    try {
      const res = await fetch(`${url}/status`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', rate_limit: { limit: 20, scope: 'token', window_seconds: 1 } });
      expect(res.headers.get('ratelimit-limit')).toBe('20');
      expect(res.headers.get('ratelimit-remaining')).toBe('19');
      expect(res.headers.get('ratelimit-policy')).toBe('20;w=1');
      expect(res.headers.get('ratelimit-reset')).toMatch(/^\d+$/);
    } finally {
      await other.sim.stop();
    }
  });

  it('refuses a missing or wrong token with 401 {error} and rate-limit headers', async () => {
    for (const token of [null, 'nope']) {
      const res = await call('GET', `/accounts/${A}/customers`, undefined, { token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: expect.stringMatching(/unauthorized/i) });
      expect(res.headers.get('ratelimit-limit')).toBe('1000');
    }
  });

  it('answers 404 {error} for an unknown account, customer, customer card and path', async () => {
    for (const path of [
      `/accounts/999/customers`,
      `/accounts/abc/cards`,
      `/accounts/${A}/customers/999`,
      cc(301, 502),
      cc(301, 999),
      `/nope`,
    ]) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body).toEqual({ error: expect.any(String) });
      expect(res.headers.get('ratelimit-remaining')).not.toBeNull();
    }
  });
});

describe('customers', () => {
  it('lists with pagination, search and exact external reference', async () => {
    let res = await call('GET', `/accounts/${A}/customers?items=1&page=2`);
    expect(res.status).toBe(200);
    expect(res.body.pagination).toEqual({ count: 2, items: 1, page: 2, pages: 2 });
    expect(res.body.customers.map((c: any) => c.id)).toEqual([302]);
    for (const q of ['ana', 'ANA.SILVA@', '0100001', 'POS-0001', '5e1d0000-0000-4000-8000-000000000501']) {
      res = await call('GET', `/accounts/${A}/customers?search=${encodeURIComponent(q)}`);
      expect(
        res.body.customers.map((c: any) => c.id),
        q,
      ).toEqual([301]);
    }
    res = await call('GET', `/accounts/${A}/customers?source=shopify&external_id=SHOP-0002`);
    expect(res.body.customers.map((c: any) => c.id)).toEqual([302]);
    res = await call('GET', `/accounts/${A}/customers?source=pos&external_id=SHOP-0002`);
    expect(res.body).toEqual({ customers: [], pagination: { count: 0, items: 20, page: 1, pages: 1 } });
    res = await call('GET', `/accounts/${A}/customers?page=0`);
    expect(res.status).toBe(422);
    expect(res.body.errors.page).toHaveLength(1);
  });

  it('shows a customer with its cards and stamp_count', async () => {
    const res = await call('GET', `/accounts/${A}/customers/301`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 301,
      account_id: A,
      first_name: 'Ana',
      stamp_count: 12,
      external_references: [{ source: 'pos', external_id: 'POS-0001' }],
    });
    expect(res.body.customer_cards.map((c: any) => c.id)).toEqual([501]);
  });

  it('creates (with card_id enrolment), upserts by external reference and refuses duplicates', async () => {
    const payload = {
      customer: {
        first_name: 'Cleo',
        last_name: 'Ng',
        email: 'cleo@example.com',
        birthday: '1999-02-28',
        metadata: { vip: true },
        external_references: [{ source: 'crm', external_id: 'C-9' }],
      },
      card_id: 7,
      send_card_links: true,
    };
    const created = await call('POST', `/accounts/${A}/customers`, payload);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 303,
      email: 'cleo@example.com',
      phone: null,
      metadata: { vip: true },
      stamp_count: 0,
    });
    expect(created.body.customer_cards).toHaveLength(1);
    expect(created.body.customer_cards[0]).toMatchObject({
      id: 503,
      card_id: 7,
      customer_id: 303,
      stamps_count: 0,
      status: 'active',
    });

    const again = await call('POST', `/accounts/${A}/customers`, payload);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(303);
    expect(again.body.customer_cards).toHaveLength(1);

    const dup = await call('POST', `/accounts/${A}/customers`, {
      customer: { first_name: 'X', email: 'CLEO@example.com' },
    });
    expect(dup.status).toBe(422);
    expect(dup.body).toEqual({ error: 'Validation failed', errors: { email: ['has already been taken'] } });

    const counters = sb.sim.counters();
    expect(counters).toEqual({ 'customers.create': 1, 'customer_cards.create': 1 });
    expect((await state()).notifications.card_links_sent).toBe(1);
  });

  it('validates the customer body', async () => {
    let res = await call('POST', `/accounts/${A}/customers`, {
      customer: { last_name: 'Y', email: 'bad', birthday: '2020-02-30', metadata: [] },
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors).sort()).toEqual(['birthday', 'email', 'first_name', 'metadata']);
    res = await call('POST', `/accounts/${A}/customers`, { customer: { first_name: 'Z' } });
    expect(res.body.errors).toEqual({ base: ['email or phone must be present'] });
    res = await call('POST', `/accounts/${A}/customers`, {});
    expect(res.body.errors).toEqual({ customer: ['is missing'] });
    res = await call('POST', `/accounts/${A}/customers`, {
      customer: { first_name: 'Z', phone: '+1 555 0199' },
      card_id: 99,
    });
    expect(res.status).toBe(404);
    res = await call('POST', `/accounts/${A}/customers`, undefined, { raw: '{"customer": ' });
    expect(res.status).toBe(400);
    expect(sb.sim.applied()).toBe(0);
  });

  it('patches given attributes only and keeps email/phone unique', async () => {
    const res = await call('PATCH', `/accounts/${A}/customers/302`, {
      customer: { phone: '+1 555 0102', metadata: { note: 'hi' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 302,
      first_name: 'Ben',
      email: 'ben.okafor@example.com',
      phone: '+1 555 0102',
      metadata: { note: 'hi' },
    });
    const dup = await call('PATCH', `/accounts/${A}/customers/302`, { customer: { email: 'ana.silva@example.com' } });
    expect(dup.status).toBe(422);
    expect(dup.body.errors.email).toEqual(['has already been taken']);
    expect(sb.sim.counters()).toEqual({ 'customers.update': 1 });
  });
});

describe('customer cards', () => {
  it('lists and shows with available rewards and wallet URLs', async () => {
    const list = await call('GET', `/accounts/${A}/customers/301/customer_cards`);
    expect(list.status).toBe(200);
    expect(list.body.customer_cards.map((c: any) => c.id)).toEqual([501]);
    const show = await call('GET', cc(301, 501));
    expect(show.body).toMatchObject({
      id: 501,
      account_id: A,
      customer_id: 301,
      card_id: 7,
      card_name: 'Coffee card',
      stamps_count: 12,
      stamps_remaining: 0,
      progress_percentage: 100,
      status: 'active',
      pass_installed: true,
      available_rewards: [{ id: 71, name: 'Free coffee', stamps_required: 10 }],
    });
    expect(show.body.apple_wallet_url).toContain(show.body.uuid);
    expect(show.body.google_wallet_url).toContain(show.body.uuid);
    for (const k of ['issued_at', 'created_at', 'updated_at'])
      expect(new Date(show.body[k]).toISOString()).toBe(show.body[k]);
  });

  it('stamps, records the ledger and counts notifications sent vs skipped', async () => {
    let res = await call('POST', cc(302, 502, '/stamp'), { stamps: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 502,
      stamps_count: 3,
      stamps_remaining: 7,
      progress_percentage: 30,
      available_rewards: [],
    });
    res = await call('POST', cc(302, 502, '/stamp'), { stamps: '7', skip_notifications: 1 });
    expect(res.body).toMatchObject({ stamps_count: 10, available_rewards: [{ id: 71 }] });
    const s = await state();
    expect(s.notifications).toMatchObject({ sent: 1, skipped: 1 });
    expect(s.ledger.map((e: any) => [e.event, e.stamps, e.balance_after, e.notification])).toEqual([
      ['stamp.earned', 3, 3, 'sent'],
      ['stamp.earned', 7, 10, 'skipped'],
    ]);
    expect(sb.sim.counters()).toEqual({ 'customer_cards.stamp': 2 });
  });

  it('refuses zero, negative, fractional or missing stamps and bad skip_notifications with 422', async () => {
    for (const body of [{ stamps: 0 }, { stamps: -2 }, { stamps: 1.5 }, {}, { stamps: 1, skip_notifications: 'yes' }]) {
      const res = await call('POST', cc(302, 502, '/stamp'), body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body).toEqual({ error: 'Validation failed', errors: expect.any(Object) });
    }
    expect(sb.sim.applied()).toBe(0);
  });

  it('redeems an active reward and refuses inactive, unknown, or unaffordable ones', async () => {
    const ok = await call('POST', cc(301, 501, '/redeem'), { reward_id: 71 });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      success: true,
      redemption: {
        id: 9001,
        reward_id: 71,
        reward_name: 'Free coffee',
        stamps_spent: 10,
        stamps_remaining: 2,
        redeemed_at: expect.any(String),
      },
    });
    expect((await call('GET', cc(301, 501))).body).toMatchObject({
      stamps_count: 2,
      stamps_remaining: 8,
      available_rewards: [],
    });

    const poor = await call('POST', cc(301, 501, '/redeem'), { reward_id: 71 });
    expect(poor.status).toBe(422);
    expect(poor.body).toEqual({ error: expect.stringMatching(/not enough stamps/i) });
    const inactive = await call('POST', cc(301, 501, '/redeem'), { reward_id: 72 });
    expect(inactive.status).toBe(422);
    expect(inactive.body.error).toMatch(/not active/);
    expect((await call('POST', cc(301, 501, '/redeem'), { reward_id: 999 })).status).toBe(404);
    expect((await call('POST', cc(301, 501, '/redeem'), {})).status).toBe(422);
    expect(sb.sim.counters()).toEqual({ 'customer_cards.redeem': 1 });
  });

  it('enrols an existing customer (simulator extension, not in the documents)', async () => {
    const created = await call('POST', `/accounts/${A}/customers`, {
      customer: { first_name: 'Dee', phone: '+15550100009' },
    });
    const id = created.body.id;
    const res = await call('POST', `/accounts/${A}/customers/${id}/customer_cards`, { card_id: 7 });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-sandbox-extension')).toBe('not-in-leal-docs');
    expect(res.body).toMatchObject({ customer_id: id, card_id: 7, stamps_count: 0 });
    const again = await call('POST', `/accounts/${A}/customers/${id}/customer_cards`, { card_id: 7 });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(res.body.id);
    expect((await call('POST', `/accounts/${A}/customers/${id}/customer_cards`, { card_id: 8 })).status).toBe(404);
    expect(sb.sim.counters()).toEqual({ 'customers.create': 1, 'customer_cards.create': 1 });
  });
});

describe('card templates and rewards', () => {
  it('lists card templates and filters rewards', async () => {
    const cards = await call('GET', `/accounts/${A}/cards`);
    expect(cards.body).toEqual({
      cards: [expect.objectContaining({ id: 7, name: 'Coffee card', stamps_required: 10 })],
    });
    const all = await call('GET', `/accounts/${A}/rewards?card_id=7`);
    expect(all.body.rewards.map((r: any) => [r.id, r.card_id, r.name, r.stamps_required, r.active])).toEqual([
      [71, 7, 'Free coffee', 10, true],
      [72, 7, 'Free cake', 15, false],
    ]);
    expect((await call('GET', `/accounts/${A}/rewards?active=false`)).body.rewards.map((r: any) => r.id)).toEqual([72]);
    expect((await call('GET', `/accounts/${A}/rewards?active=maybe`)).status).toBe(422);
  });
});

describe('rate limit, faults, reset', () => {
  it('answers 429 with Retry-After, RateLimit-* headers and {error}', async () => {
    sb.sim.setRateLimit({ requests: 3, perSeconds: 30 });
    const statuses: number[] = [];
    let last: Res | undefined;
    for (let i = 0; i < 5; i++) {
      last = await call('GET', `/accounts/${A}/cards`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.body).toEqual({ error: expect.any(String) });
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('ratelimit-limit')).toBe('3');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect(last!.headers.get('ratelimit-policy')).toBe('3;w=30');
  });

  it('injects status, drop, malformed, latency and timeout faults', async () => {
    sb.sim.inject({ kind: 'status', status: 503 });
    expect((await call('POST', cc(302, 502, '/stamp'), { stamps: 1 })).status).toBe(503);

    sb.sim.inject({ kind: 'drop' });
    await expect(call('POST', cc(302, 502, '/stamp'), { stamps: 1 })).rejects.toThrow();
    expect(sb.sim.applied()).toBe(0);

    sb.sim.inject({ kind: 'malformed' });
    const res = await fetch(`${base}${cc(302, 502, '/stamp')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sb.credentials.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stamps: 1 }),
    });
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
    expect(sb.sim.counters()).toEqual({ 'customer_cards.stamp': 1 });

    sb.sim.inject({ kind: 'latency', ms: 250, match: 'GET /accounts/\\d+/cards$' });
    const late = await heldBack(
      () => call('GET', `/accounts/${A}/cards`),
      () => call('GET', cc(302, 502)),
    );
    expect([late.held, late.slow.status, late.fast.status]).toEqual([true, 200, 200]);

    sb.sim.inject({ kind: 'timeout', applied: true, match: '/stamp$' });
    await expect(
      fetch(`${base}${cc(302, 502, '/stamp')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sb.credentials.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ stamps: 1 }),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    // The answer was lost but the stamp was applied: the gateway must reconcile, not blindly retry.
    expect(sb.sim.counters()).toEqual({ 'customer_cards.stamp': 2 });
    expect((await call('GET', cc(302, 502))).body.stamps_count).toBe(2);
  });

  it('reset restores the seed and clears counters', async () => {
    await call('POST', cc(301, 501, '/redeem'), { reward_id: 71 });
    await call('POST', `/accounts/${A}/customers`, { customer: { first_name: 'E', email: 'e@example.com' } });
    expect(sb.sim.applied()).toBe(2);
    const r = await fetch(`${root}/_sandbox/reset`, { method: 'POST' });
    expect(r.status).toBe(204);
    expect(sb.sim.applied()).toBe(0);
    expect((await call('GET', cc(301, 501))).body.stamps_count).toBe(12);
    expect((await call('GET', `/accounts/${A}/customers`)).body.pagination.count).toBe(2);
  });
});
