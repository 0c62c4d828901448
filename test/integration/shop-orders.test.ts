import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/lib/time.js';
import { controlledClock, type TestClock } from '../helpers/clock.js';
import { expectProblem, issueCard, KEYS, type Res, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Shop order webhooks in, through real HTTP: Shopify and WooCommerce deliveries signed as each
 * platform documents (base64 HMAC-SHA256 of the raw body with the shop's secret), turned into
 * one award per order, proportional reversals per refund, and the rest reversed on cancellation.
 */

const SHOPIFY_SECRET = 'shpss_test_secret_0001';
const WC_SECRET = 'wc_test_secret_0001';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({
    connections: [{ id: 'ledger', provider: 'ledger' }],
    shops: [
      {
        id: 'shop',
        platform: 'shopify',
        secret: SHOPIFY_SECRET,
        connection: 'ledger',
        currency: 'EUR',
        earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor', minOrder: '5.00' },
      },
      {
        id: 'other',
        platform: 'shopify',
        secret: 'another_shops_secret',
        connection: 'ledger',
        earn: { pointsPerUnit: 2, basis: 'total', rounding: 'round' },
        enroll: true,
      },
      {
        id: 'wc',
        platform: 'woocommerce',
        secret: WC_SECRET,
        connection: 'ledger',
        earn: { pointsPerUnit: 10, basis: 'subtotal', rounding: 'round' },
      },
    ],
  });
});
afterAll(async () => gw?.close());

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body, 'utf8').digest('base64');

let deliveries = 0;
function shopify(
  topic: string,
  payload: unknown,
  opts: { shop?: string; secret?: string; delivery?: string; signature?: string | null; raw?: string } = {},
): Promise<Res> {
  const body = opts.raw ?? JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-shopify-topic': topic,
    'x-shopify-webhook-id': opts.delivery ?? `dlv-${++deliveries}`,
  };
  const signature = opts.signature === undefined ? sign(opts.secret ?? SHOPIFY_SECRET, body) : opts.signature;
  if (signature !== null) headers['x-shopify-hmac-sha256'] = signature;
  return gw.request('POST', `/v1/hooks/shopify/${opts.shop ?? 'shop'}`, { rawBody: body, headers, key: null });
}

function woo(payload: unknown, opts: { delivery?: string; topic?: string } = {}): Promise<Res> {
  const body = JSON.stringify(payload);
  return gw.request('POST', '/v1/hooks/woocommerce/wc', {
    rawBody: body,
    key: null,
    headers: {
      'content-type': 'application/json',
      'x-wc-webhook-topic': opts.topic ?? 'order.updated',
      'x-wc-webhook-delivery-id': opts.delivery ?? `wc-${++deliveries}`,
      'x-wc-webhook-signature': sign(WC_SECRET, body),
    },
  });
}

let orderNo = 1000;
const paid = (over: Record<string, unknown> = {}) => ({
  id: ++orderNo,
  name: `#${orderNo}`,
  currency: 'EUR',
  subtotal_price: '42.90',
  total_price: '49.90',
  email: 'ada@example.com',
  customer: { id: 7001, email: 'ada@example.com' },
  ...over,
});

/** The order once the worker has processed what was delivered (its status is no longer `received`). */
async function order(id: string, until: (o: Record<string, unknown>) => boolean = (o) => o.status !== 'received') {
  let last: Res | null = null;
  for (let i = 0; i < 100; i++) {
    last = await gw.request('GET', `/v1/orders/${id}`);
    if (last.status === 200 && until(last.body)) return last.body;
    await sleep(100);
  }
  throw new Error(`order ${id} never got there: ${last?.text}`);
}

const balance = async (card: string) =>
  (await gw.request('GET', `/v1/points/balance/${card}`)).body.available as number;

async function linkedCard(shopCustomerId: string, shop = 'shop'): Promise<string> {
  const card = await issueCard(gw);
  const res = await gw.request('POST', '/v1/links', {
    body: { shop_id: shop, shop_customer_id: shopCustomerId, card_id: card },
  });
  expect(res.status, res.text).toBe(201);
  return card;
}

describe('signatures', () => {
  it("refuses a delivery whose HMAC is missing, wrong, another shop's, or of a body changed by one byte; records nothing", async () => {
    const o = paid();
    const body = JSON.stringify(o);
    const cases: [string, Promise<Res>][] = [
      ['missing', shopify('orders/paid', o, { signature: null })],
      ['wrong', shopify('orders/paid', o, { signature: 'bm90IGEgc2lnbmF0dXJl' })],
      ["another shop's secret", shopify('orders/paid', o, { secret: 'another_shops_secret' })],
      [
        'one byte changed',
        shopify('orders/paid', o, { raw: body.replace('42.90', '42.91'), signature: sign(SHOPIFY_SECRET, body) }),
      ],
    ];
    for (const [what, res] of cases) {
      const r = await res;
      expect(r.status, what).toBe(401);
      expectProblem(r, 401, 'invalid_signature');
    }
    await sleep(300);
    expectProblem(await gw.request('GET', `/v1/orders/shop:${o.id}`), 404, 'order_not_found');
    // The right one is taken, with no API key.
    const ok = await shopify('orders/paid', o);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ received: true, order_id: String(o.id) });
    expectProblem(await shopify('orders/paid', o, { shop: 'nope' }), 404, 'shop_not_found');
    expectProblem(await shopify('orders/paid', o, { shop: 'wc' }), 404, 'shop_not_found');
  });
});

describe('Shopify orders', () => {
  it('orders/paid earns floor(subtotal x rate) on the linked card, once, however often it is delivered', async () => {
    const card = await linkedCard('8001');
    const o = paid({ customer: { id: 8001 } });
    // 20 identical deliveries at once, then the same payment again under another delivery id.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => shopify('orders/paid', o, { delivery: `same-${o.id}` })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect((await shopify('orders/paid', o)).status).toBe(200);
    const got = await order(`shop:${o.id}`);
    expect(got).toMatchObject({ status: 'awarded', card_id: card, points: 42, basis_amount: '42.90', paid: true });
    expect(got.transactions).toHaveLength(1);
    await sleep(300);
    expect(await balance(card)).toBe(42);
    const events = await gw.request('GET', '/v1/events?type=order.awarded', { key: KEYS.admin });
    expect(events.body.data.some((e: { data: { id: string } }) => e.data.id === `shop:${o.id}`)).toBe(true);
  });

  it('refunds reverse in proportion, keyed by refund id; the one completing the refund takes what is left', async () => {
    const card = await linkedCard('8002');
    const o = paid({ customer: { id: 8002 }, subtotal_price: '30.00' });
    await shopify('orders/paid', o);
    await order(`shop:${o.id}`);
    expect(await balance(card)).toBe(30);
    const refund = (id: number, amount: string) => ({
      id,
      order_id: o.id,
      transactions: [{ kind: 'refund', status: 'success', amount }],
    });
    // 10.00 of 30.00: a third of 30 points.
    await shopify('refunds/create', refund(1, '10.00'));
    await shopify('refunds/create', refund(1, '10.00')); // the same refund again (another delivery)
    let got = await order(`shop:${o.id}`, (x) => x.points_reversed === 10);
    expect(got.status).toBe('partially_reversed');
    // 7.00 more: 17/30 of 30 is 17 in all.
    await shopify('refunds/create', refund(2, '7.00'));
    got = await order(`shop:${o.id}`, (x) => x.points_reversed === 17);
    // The rest of the money (and more than was paid): what is left, never more.
    await shopify('refunds/create', refund(3, '20.00'));
    got = await order(`shop:${o.id}`, (x) => x.status === 'reversed');
    expect(got.points_reversed).toBe(30);
    expect(got.transactions.map((t: { kind: string; points: number }) => [t.kind, t.points])).toEqual([
      ['award', 30],
      ['refund', 10],
      ['refund', 7],
      ['refund', 13],
    ]);
    await sleep(200);
    expect(await balance(card)).toBe(0);
  });

  it('orders/cancelled reverses what is left', async () => {
    const card = await linkedCard('8003');
    const o = paid({ customer: { id: 8003 }, subtotal_price: '20.00' });
    await shopify('orders/paid', o);
    await order(`shop:${o.id}`);
    await shopify('refunds/create', {
      id: 9,
      order_id: o.id,
      transactions: [{ kind: 'refund', status: 'success', amount: '5.00' }],
    });
    await order(`shop:${o.id}`, (x) => x.points_reversed === 5);
    await shopify('orders/cancelled', { ...o, cancelled_at: '2026-12-01T10:00:00Z' });
    const got = await order(`shop:${o.id}`, (x) => x.status === 'reversed');
    expect(got).toMatchObject({ points: 20, points_reversed: 20, cancelled: true });
    expect(await balance(card)).toBe(0);
  });

  it('below the minimum order, or in another currency: ignored, with the reason', async () => {
    await linkedCard('8004');
    const small = paid({ customer: { id: 8004 }, subtotal_price: '4.99' });
    const usd = paid({ customer: { id: 8004 }, currency: 'USD' });
    await shopify('orders/paid', small);
    await shopify('orders/paid', usd);
    expect(await order(`shop:${small.id}`)).toMatchObject({
      status: 'ignored',
      reason: expect.stringContaining('minimum of 5.00'),
    });
    expect(await order(`shop:${usd.id}`)).toMatchObject({ status: 'ignored', reason: expect.stringContaining('USD') });
    const list = await gw.request('GET', '/v1/orders?shop_id=shop&status=ignored');
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual(
      expect.arrayContaining([`shop:${small.id}`, `shop:${usd.id}`]),
    );
  });

  it('a customer with no card is unmatched until linked; then a replay awards, once', async () => {
    const o = paid({ customer: { id: 8005, email: 'grace@example.com' }, email: 'grace@example.com' });
    await shopify('orders/paid', o);
    expect(await order(`shop:${o.id}`)).toMatchObject({
      status: 'unmatched',
      card_id: null,
      reason: expect.any(String),
    });
    const events = await gw.request('GET', '/v1/events?type=order.unmatched', { key: KEYS.admin });
    expect(events.body.data.some((e: { data: { id: string } }) => e.data.id === `shop:${o.id}`)).toBe(true);
    const card = await issueCard(gw);
    // By email this time.
    const link = await gw.request('POST', '/v1/links', {
      body: { shop_id: 'shop', email: 'Grace@Example.com', card_id: card },
    });
    expect(link.status, link.text).toBe(201);
    const again = await gw.request('POST', '/v1/links', {
      body: { shop_id: 'shop', email: 'grace@example.com', card_id: card },
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(link.body.id);
    const other = await issueCard(gw);
    expectProblem(
      await gw.request('POST', '/v1/links', { body: { shop_id: 'shop', email: 'grace@example.com', card_id: other } }),
      409,
      'link_exists',
    );
    const replayed = await gw.request('POST', `/v1/orders/shop:${o.id}/replay`);
    expect(replayed.status, replayed.text).toBe(200);
    expect(replayed.body).toMatchObject({ status: 'awarded', card_id: card, points: 42 });
    await gw.request('POST', `/v1/orders/shop:${o.id}/replay`);
    expect(await balance(card)).toBe(42);
    expect((await gw.request('GET', `/v1/links?card_id=${card}`)).body.data).toHaveLength(1);
    expect((await gw.request('DELETE', `/v1/links/${link.body.id}`)).status).toBe(204);
    expect((await gw.request('GET', `/v1/links?card_id=${card}`)).body.data).toHaveLength(0);
  });

  it('links a customer once, even when asked for two cards at the same time', async () => {
    const [c1, c2] = [await issueCard(gw), await issueCard(gw)];
    const [a, b] = await Promise.all(
      [c1, c2].map((card_id) =>
        gw.request('POST', '/v1/links', { body: { shop_id: 'shop', shop_customer_id: '8800', card_id } }),
      ),
    );
    expect([a!.status, b!.status].sort()).toEqual([201, 409]);
    const won = a!.status === 201 ? c1 : c2;
    const links = [
      ...(await gw.request('GET', `/v1/links?card_id=${c1}`)).body.data,
      ...(await gw.request('GET', `/v1/links?card_id=${c2}`)).body.data,
    ];
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ card_id: won, shop_customer_id: '8800' });
  });

  it('enroll: a new customer gets a card on the shop connection, linked, and earns on it', async () => {
    const o = paid({ customer: { id: 9001, email: 'new@example.com' }, total_price: '10.25' });
    await shopify('orders/paid', o, { shop: 'other', secret: 'another_shops_secret' });
    const got = await order(`other:${o.id}`);
    // total 10.25 x 2 = 20.5, rounded: 21.
    expect(got).toMatchObject({ status: 'awarded', points: 21, card_id: expect.stringMatching(/^ledger:/) });
    expect((await gw.request('GET', `/v1/links?card_id=${got.card_id}`)).body.data[0]).toMatchObject({
      shop_id: 'other',
      shop_customer_id: '9001',
    });
  });
});

describe('WooCommerce orders', () => {
  it('answers the webhook ping; completed earns, refunds reverse in proportion, refunded reverses the rest', async () => {
    const ping = await gw.request('POST', '/v1/hooks/woocommerce/wc', {
      rawBody: 'webhook_id=42',
      key: null,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(ping.status, ping.text).toBe(200);

    const card = await linkedCard('55', 'wc');
    const base = {
      id: 501,
      number: '501',
      currency: 'EUR',
      customer_id: 55,
      billing: { email: 'wc@example.com' },
      total: '12.50',
      line_items: [
        { subtotal: '8.00', total: '7.00' },
        { subtotal: '3.00', total: '3.00' },
      ],
      refunds: [] as { id: number; total: string }[],
    };
    expect((await woo({ ...base, status: 'processing' }, { topic: 'order.created' })).status).toBe(200);
    expect(await order('wc:501')).toMatchObject({ status: 'ignored', reason: 'status processing changes nothing' });
    await woo({ ...base, status: 'completed' });
    // subtotal: the lines after discounts, 10.00 x 10 = 100 points.
    expect(await order('wc:501', (x) => x.status !== 'ignored')).toMatchObject({ status: 'awarded', points: 100 });
    await woo({ ...base, status: 'completed', refunds: [{ id: 71, total: '-2.50' }] });
    await order('wc:501', (x) => x.points_reversed === 25);
    await woo({
      ...base,
      status: 'refunded',
      refunds: [
        { id: 71, total: '-2.50' },
        { id: 72, total: '-10.00' },
      ],
    });
    const got = await order('wc:501', (x) => x.status === 'reversed');
    expect(got.points_reversed).toBe(100);
    expect(await balance(card)).toBe(0);
  });
});

describe('pending points (the return window)', () => {
  let pg: TestGateway;
  let clock: TestClock;
  beforeAll(async () => {
    pg = await startGateway({
      shops: [
        {
          id: 'pend',
          platform: 'shopify',
          secret: SHOPIFY_SECRET,
          connection: 'ledger',
          earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
          pendingDays: 14,
        },
      ],
    });
    clock = controlledClock();
  });
  afterAll(async () => {
    clock?.restore();
    await pg?.close();
  });

  const send = (topic: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    return pg.request('POST', '/v1/hooks/shopify/pend', {
      rawBody: body,
      key: null,
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-webhook-id': `p-${++deliveries}`,
        'x-shopify-hmac-sha256': sign(SHOPIFY_SECRET, body),
      },
    });
  };
  const get = async (id: string, until: (o: Record<string, unknown>) => boolean) => {
    // The activation is a delayed job: its worker looks for due ones at least every few seconds.
    for (let i = 0; i < 300; i++) {
      const r = await pg.request('GET', `/v1/orders/${id}`);
      if (r.status === 200 && until(r.body)) return r.body;
      await sleep(100);
    }
    throw new Error(`order ${id} never got there`);
  };
  const bal = async (card: string) => {
    const b = (await pg.request('GET', `/v1/points/balance/${card}`)).body;
    return { available: b.available as number, pending: b.pending as number };
  };

  it('points wait in pending; a refund inside the window takes its share off; at its end they are awarded by themselves', async () => {
    const card = await issueCard(pg);
    await pg.request('POST', '/v1/links', { body: { shop_id: 'pend', shop_customer_id: '1', card_id: card } });
    const o = paid({ customer: { id: 1 }, subtotal_price: '40.00' });
    await send('orders/paid', o);
    const pending = await get(`pend:${o.id}`, (x) => x.status === 'pending');
    expect(pending).toMatchObject({
      points: 40,
      points_reversed: 0,
      transactions: [],
      activates_at: expect.any(String),
    });
    expect(await bal(card)).toEqual({ available: 0, pending: 40 });
    // A quarter refunded inside the window: 10 points off, before the customer could spend them.
    await send('refunds/create', {
      id: 1,
      order_id: o.id,
      transactions: [{ kind: 'refund', status: 'success', amount: '10.00' }],
    });
    await get(`pend:${o.id}`, (x) => x.points_reversed === 10);
    expect(await bal(card)).toEqual({ available: 0, pending: 30 });

    clock.advancePast(pending.activates_at as string, 1000);
    const done = await get(`pend:${o.id}`, (x) => x.status === 'partially_reversed' || x.status === 'awarded');
    expect(done.transactions).toMatchObject([{ kind: 'award', points: 30, status: 'succeeded' }]);
    expect(await bal(card)).toEqual({ available: 30, pending: 0 });
    const events = await pg.request('GET', '/v1/events?type=points.activated', { key: KEYS.admin });
    expect(events.body.data.some((e: { data: { id: string } }) => e.data.id === `pend:${o.id}`)).toBe(true);
  });

  it('a cancellation inside the window cancels the pending points: nothing is ever awarded', async () => {
    const card = await issueCard(pg);
    await pg.request('POST', '/v1/links', { body: { shop_id: 'pend', shop_customer_id: '2', card_id: card } });
    const o = paid({ customer: { id: 2 }, subtotal_price: '25.00' });
    await send('orders/paid', o);
    const pending = await get(`pend:${o.id}`, (x) => x.status === 'pending');
    await send('orders/cancelled', { ...o, cancelled_at: '2026-12-01T10:00:00Z' });
    await get(`pend:${o.id}`, (x) => x.status === 'reversed');
    expect(await bal(card)).toEqual({ available: 0, pending: 0 });
    clock.advancePast(pending.activates_at as string, 1000);
    await sleep(1500);
    const after = (await pg.request('GET', `/v1/orders/pend:${o.id}`)).body;
    expect(after).toMatchObject({ status: 'reversed', transactions: [] });
    expect(await bal(card)).toEqual({ available: 0, pending: 0 });
  });
});
