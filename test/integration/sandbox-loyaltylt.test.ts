import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLoyaltyltSandbox, type LoyaltyltSandbox } from '../../src/sandbox/loyaltylt/simulator.js';
import { heldBack } from '../helpers/order.js';

let sb: LoyaltyltSandbox;
let base: string;

beforeAll(async () => {
  sb = createLoyaltyltSandbox();
  base = await sb.sim.start(0);
});
afterAll(async () => sb.sim.stop());
beforeEach(() => {
  sb.sim.reset();
  sb.sim.setRateLimit({ requests: 300, perSeconds: 60 });
});

const auth = () => ({ 'X-API-Key': sb.credentials.apiKey!, 'X-API-Secret': sb.credentials.apiSecret! });

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth()) {
  const res = await fetch(base + path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const txt = await res.text();
  return { status: res.status, headers: res.headers, body: txt ? JSON.parse(txt) : undefined };
}

describe('Loyalty.lt sandbox', () => {
  it('exposes credentials, settings and seed', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Object.keys(sb.credentials).sort()).toEqual(['apiKey', 'apiSecret']);
    expect(sb.settings).toEqual({ locale: 'en' });
    expect(sb.seed).toMatchObject({ cardId: 101, cardNumber: '100-000-101', userId: 1, inactiveCardId: 103 });
  });

  it('refuses missing or wrong credentials with 401 / 1004, in the path language', async () => {
    const none = await call('GET', '/en/shop/loyalty-cards/balance?card_id=101', undefined, {});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false, code: 1004, message: 'Invalid or missing API credentials' });
    expect(typeof none.body.request_id).toBe('string');
    const wrong = await call('GET', '/lt/shop/loyalty-cards/balance?card_id=101', undefined, {
      'X-API-Key': sb.credentials.apiKey!,
      'X-API-Secret': 'nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toContain('Neteisingi');
  });

  it('creates a transaction, awards 1 point per whole EUR and de-duplicates on order_id', async () => {
    const first = await call('POST', '/en/shop/transactions/create', {
      user_id: 1,
      order_id: 'A-1',
      order_total: 42.99,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ success: true, code: 200 });
    expect(first.body.data).toMatchObject({
      points_awarded: 42,
      points_redeemed: 0,
      points_balance: 542,
      loyalty_card_id: 101,
      card_number: '100-000-101',
      user_id: 1,
      order_total: 42.99,
      currency: 'EUR',
    });
    expect(first.headers.get('x-request-id')).toBe(first.body.request_id);
    const again = await call('POST', '/en/shop/transactions/award-points', {
      user_id: 1,
      order_id: 'A-1',
      order_total: 42.99,
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      success: false,
      code: 'RESOURCE_ALREADY_EXISTS',
      message: 'Transaction already processed for this order',
    });
    const bal = await call('GET', '/en/shop/loyalty-cards/balance?card_number=100-000-101');
    expect(bal.body.data).toEqual({ card_id: 101, card_number: '100-000-101', points: 542 });
    expect(sb.sim.counters()).toEqual({ 'transactions.create': 1 });
  });

  it('redeems in the same call, refuses overspending, auto-creates user and card by email', async () => {
    const both = await call('POST', '/en/shop/transactions/create', {
      user_id: 1,
      order_id: 'B-1',
      order_total: 10,
      points: 5,
      points_redeemed: 100,
      points_discount_amount: 1,
    });
    expect(both.body.data).toMatchObject({ points_awarded: 5, points_redeemed: 100, points_balance: 405 });
    const over = await call('POST', '/lt/shop/transactions/create', {
      user_id: 2,
      order_id: 'B-2',
      order_total: 10,
      points_redeemed: 1,
    });
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ success: false, code: 'VALIDATION_ERROR', message: 'Nepakanka taškų' });
    const fresh = await call('POST', '/en/shop/transactions/create', {
      user_email: 'new@example.com',
      order_id: 'B-3',
      order_total: 7.5,
    });
    expect(fresh.body.data).toMatchObject({
      user_id: 4,
      loyalty_card_id: 104,
      card_number: '100-000-104',
      points_awarded: 7,
      points_balance: 7,
    });
    const blocked = await call('POST', '/en/shop/transactions/create', { user_id: 3, order_id: 'B-4', order_total: 5 });
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe(1201);
    const unknownUser = await call('POST', '/en/shop/transactions/create', {
      user_id: 999,
      order_id: 'B-5',
      order_total: 5,
    });
    expect(unknownUser.status).toBe(404);
    expect(sb.sim.counters()).toEqual({ 'transactions.create': 2, 'users.autoCreate': 1, 'cards.autoCreate': 1 });
  });

  it('deducts points without de-duplication', async () => {
    const d1 = await call('POST', '/en/shop/transactions/deduct-points', {
      card_id: 101,
      points: 100,
      description: 'refund',
    });
    expect(d1.status).toBe(200);
    expect(d1.body.data).toMatchObject({ points_deducted: 100, points_balance: 400, card_id: 101 });
    const d2 = await call('POST', '/en/shop/transactions/deduct-points', { card_number: '100-000-101', points: 100 });
    expect(d2.body.data.points_balance).toBe(300);
    const tooMuch = await call('POST', '/en/shop/transactions/deduct-points', { card_id: 101, points: 301 });
    expect(tooMuch.status).toBe(400);
    const inactive = await call('POST', '/en/shop/transactions/deduct-points', { card_id: 103, points: 1 });
    expect(inactive.status).toBe(403);
    expect(sb.sim.counters()).toEqual({ 'transactions.deductPoints': 2 });
  });

  it('lists cards and transactions, shows card info and one card', async () => {
    const cards = await call('GET', '/en/shop/loyalty-cards?per_page=2');
    expect(cards.body.data).toHaveLength(2);
    expect(cards.body.meta).toEqual({ current_page: 1, last_page: 2, per_page: 2, total: 3 });
    const one = await call('GET', '/en/shop/loyalty-cards/103');
    expect(one.body.data).toMatchObject({
      id: 103,
      card_number: '100-000-103',
      is_active: false,
      status: 'blocked',
      points: 50,
    });
    const info = await call('GET', '/en/shop/loyalty-cards/info?user_id=1');
    expect(info.body.data).toMatchObject({
      card_id: 101,
      points: 500,
      total_points_earned: 500,
      total_points_redeemed: 0,
      user: { id: 1, email: 'alice@example.com' },
    });
    await call('POST', '/en/shop/transactions/create', { user_id: 1, order_id: 'C-1', order_total: 3, shop_id: 7 });
    const txns = await call('GET', '/en/shop/transactions?card_id=101&page=1&per_page=50');
    expect(txns.body.meta).toEqual({ current_page: 1, last_page: 1, per_page: 50, total: 2 });
    expect(txns.body.data[0]).toMatchObject({
      type: 'earned',
      points: 3,
      order_id: 'C-1',
      shop_id: 7,
      order_total: 3,
      loyalty_card_id: 101,
    });
    expect(typeof txns.body.data[0].created_at).toBe('string');
    const byShop = await call('GET', '/en/shop/transactions?shop_id=7');
    expect(byShop.body.data).toHaveLength(1);
  });

  it('answers validation errors with 422 / 1100 and errors{field: [msgs]}', async () => {
    const bad = await call('POST', '/en/shop/transactions/create', { order_id: 12, order_total: 'abc' });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ success: false, code: 1100 });
    expect(Object.keys(bad.body.errors).sort()).toEqual(['order_id', 'order_total', 'user_email', 'user_id']);
    expect(bad.body.errors.order_id[0]).toBe('The order id field must be a string.');
    const lt = await call('GET', '/lt/shop/loyalty-cards/balance');
    expect(lt.status).toBe(422);
    expect(lt.body.errors.card_number[0]).toContain('privalomas');
    const perPage = await call('GET', '/en/shop/transactions?per_page=51');
    expect(perPage.status).toBe(422);
    expect(sb.sim.applied()).toBe(0);
  });

  it('answers 404 for unknown cards, routes and locales', async () => {
    const card = await call('GET', '/en/shop/loyalty-cards/balance?card_id=999');
    expect(card.status).toBe(404);
    expect(card.body).toMatchObject({ success: false, code: 1200, message: 'Loyalty card not found' });
    const lt = await call('GET', '/lt/shop/loyalty-cards/999');
    expect(lt.body).toMatchObject({ code: 1200, message: 'Lojalumo kortelė nerasta' });
    const locale = await call('GET', '/de/shop/loyalty-cards/101');
    expect(locale.status).toBe(404);
    expect(locale.body.code).toBe(1000);
    const legacy = await call('POST', '/api/points/award', { card_id: 101, points: 1 });
    expect(legacy.status).toBe(404);
    expect(legacy.body.success).toBe(false);
  });

  it('rate-limits with 429, retry_after and Retry-After', async () => {
    sb.sim.setRateLimit({ requests: 3, perSeconds: 60 });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await call('GET', '/lt/shop/loyalty-cards/balance?card_id=101');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const tooMany = 'Per daug užklausų. Bandykite vėliau.';
    expect(last!.body).toMatchObject({ success: false, code: 1005, message: tooMany });
    expect(last!.body.retry_after).toBeGreaterThan(0);
    expect(last!.headers.get('retry-after')).toBe(String(last!.body.retry_after));
    expect(last!.headers.get('x-ratelimit-limit')).toBe('3');
    expect(last!.headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('injects faults: status, drop, malformed, latency, timeout', async () => {
    const order = { user_id: 1, order_total: 1 };
    sb.sim.inject({ kind: 'status', status: 503 });
    const s = await call('POST', '/en/shop/transactions/create', { ...order, order_id: 'F-1' });
    expect(s.status).toBe(503);

    sb.sim.inject({ kind: 'drop' });
    await expect(fetch(`${base}/en/shop/loyalty-cards/balance?card_id=101`, { headers: auth() })).rejects.toThrow();

    sb.sim.inject({ kind: 'malformed' });
    const m = await fetch(`${base}/en/shop/transactions/create`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ ...order, order_id: 'F-2' }),
    });
    expect(m.status).toBe(200);
    await expect(m.json()).rejects.toThrow();

    sb.sim.inject({ kind: 'latency', ms: 200, match: 'loyalty-cards/balance' });
    const late = await heldBack(
      () => call('GET', '/en/shop/loyalty-cards/balance?card_id=101'),
      () => call('GET', '/en/shop/loyalty-cards?card_id=101'),
    );
    expect([late.held, late.slow.status]).toEqual([true, 200]);

    sb.sim.inject({ kind: 'timeout', applied: true, ms: 2000 });
    await expect(
      fetch(`${base}/en/shop/transactions/create`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ ...order, order_id: 'F-3' }),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();

    // The malformed and the applied-timeout calls happened; the 503 did not. Retrying F-3 is refused as a duplicate.
    expect(sb.sim.counters()).toEqual({ 'transactions.create': 2 });
    const retry = await call('POST', '/en/shop/transactions/create', { ...order, order_id: 'F-3' });
    expect(retry.status).toBe(409);
    const bal = await call('GET', '/en/shop/loyalty-cards/balance?card_id=101');
    expect(bal.body.data.points).toBe(502);
  });

  it('re-seeds on reset over HTTP', async () => {
    await call('POST', '/en/shop/transactions/deduct-points', { card_id: 101, points: 500 });
    const r = await fetch(`${base}/_sandbox/reset`, { method: 'POST' });
    expect(r.status).toBe(204);
    const bal = await call('GET', '/en/shop/loyalty-cards/balance?card_id=101');
    expect(bal.body.data.points).toBe(500);
    expect(sb.sim.counters()).toEqual({});
  });
});
