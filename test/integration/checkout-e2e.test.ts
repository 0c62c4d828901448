import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient, type GatewayClient, type Schemas } from '../../clients/typescript/index.js';
import { sleep } from '../../src/lib/time.js';
import { controlledClock } from '../helpers/clock.js';
import { KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';
import {
  type CheckedResponse,
  eventProblems,
  responseProblems,
  validateResponses,
} from '../helpers/openapi-responses.js';

/**
 * A whole checkout, end to end (issue 10, "Proven end to end"), through the generated TypeScript client only:
 * every call a shop's integration makes goes through `createGatewayClient`, and every answer it gets is checked
 * against openapi/openapi.json (test/helpers/openapi-responses.ts). The only other requests are the ones a shop
 * platform makes, signed Shopify webhooks, and the gateway's own deliveries to a local receiver, checked with
 * the reference Standard Webhooks library.
 */

const SHOPIFY_SECRET = 'shpss_e2e_secret_0001';
const SHOP = 'webshop';
const PENDING_SHOP = 'returns';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

let gw: TestGateway;
let receiver: Server;
let receiverUrl: string;
const deliveries: Delivery[] = [];
const checked: CheckedResponse[] = [];
/** The shop's back office: a write key. */
let shop: GatewayClient;
/** The shop's operator: an admin key (webhook subscriptions need one). */
let admin: GatewayClient;

beforeAll(async () => {
  gw = await startGateway({
    connections: [{ id: 'ledger', provider: 'ledger' }],
    shops: [
      {
        id: SHOP,
        platform: 'shopify',
        secret: SHOPIFY_SECRET,
        connection: 'ledger',
        currency: 'EUR',
        earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
      },
      {
        id: PENDING_SHOP,
        platform: 'shopify',
        secret: SHOPIFY_SECRET,
        connection: 'ledger',
        currency: 'EUR',
        earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
        pendingDays: 14,
      },
    ],
    env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,1,1' },
  });
  shop = createGatewayClient({ baseUrl: gw.url, apiKey: KEYS.write });
  admin = createGatewayClient({ baseUrl: gw.url, apiKey: KEYS.admin });
  shop.use(validateResponses(checked));
  admin.use(validateResponses(checked));

  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/loyalty`;
});
afterAll(async () => {
  await gw?.close();
  receiver?.closeAllConnections();
  await new Promise((ok) => receiver?.close(ok));
});

/** What Shopify sends: the topic, a delivery id, and the base64 HMAC-SHA256 of the raw body with the app's secret. */
let deliveryNo = 0;
async function shopify(topic: string, payload: unknown, shopId = SHOP): Promise<Response> {
  const body = JSON.stringify(payload);
  return fetch(`${gw.url}/v1/hooks/shopify/${shopId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-webhook-id': `e2e-delivery-${++deliveryNo}`,
      'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body, 'utf8').digest('base64'),
    },
    body,
  });
}

/** Polls until `test` holds (at most ~10 s), through the client. */
async function until<T>(what: string, get: () => Promise<T>, test: (v: T) => boolean, tries = 100): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await get();
    if (test(last)) return last;
    await sleep(100);
  }
  throw new Error(`${what} never came: ${JSON.stringify(last)}`);
}

const order = async (id: string) => {
  const { data, response } = await shop.GET('/v1/orders/{id}', { params: { path: { id } } });
  return response.status === 200 ? data! : null;
};
const balance = async (card: string) => {
  const { data, error } = await shop.GET('/v1/points/balance/{card_id}', { params: { path: { card_id: card } } });
  expect(error).toBeUndefined();
  return data!;
};

type Event = { id: string; type: string; created_at: string; data: Record<string, unknown> };

/** The deliveries, each verified with `standardwebhooks` and by the document's webhooks section. */
async function verifiedEvents(secret: string): Promise<Event[]> {
  const out: Event[] = [];
  for (const d of deliveries) {
    const event = new Webhook(secret).verify(d.body, {
      'webhook-id': String(d.headers['webhook-id']),
      'webhook-timestamp': String(d.headers['webhook-timestamp']),
      'webhook-signature': String(d.headers['webhook-signature']),
    }) as Event;
    expect(d.headers['webhook-id']).toBe(event.id);
    expect(await eventProblems(event), `${event.type} ${event.id}`).toEqual([]);
    out.push(event);
  }
  return out;
}

describe('a checkout, end to end, through the generated client', () => {
  it('card, link, webhook subscription; a paid order awarded; a refund reversed in proportion; the events', async () => {
    // 1. The customer signs up: a card on the built-in ledger, keyed by the shop's customer id.
    const issued = await shop.POST('/v1/cards', {
      body: { external_reference: `${SHOP}:7001`, customer: { first_name: 'Ada', email: 'ada@example.com' } },
      params: { header: { 'idempotency-key': 'e2e-card-7001' } },
    });
    expect(issued.response.status, JSON.stringify(issued.error)).toBe(201);
    const card = issued.data!.id;
    expect(card).toMatch(/^ledger:/);

    // 2. Linked to the customer's id at the shop; the same link again is the same link.
    const link = await shop.POST('/v1/links', { body: { shop_id: SHOP, shop_customer_id: '7001', card_id: card } });
    expect(link.response.status, JSON.stringify(link.error)).toBe(201);
    const again = await shop.POST('/v1/links', { body: { shop_id: SHOP, shop_customer_id: '7001', card_id: card } });
    expect(again.response.status).toBe(200);
    expect(again.data!.id).toBe(link.data!.id);
    const links = await shop.GET('/v1/links', { params: { query: { card_id: card } } });
    expect(links.data!.data.map((l) => l.id)).toEqual([link.data!.id]);

    // 3. The shop's receiver subscribes to what a checkout makes happen.
    const sub = await admin.POST('/v1/webhooks', {
      body: {
        url: receiverUrl,
        events: ['transaction.succeeded', 'order.awarded', 'transaction.reversed'],
        description: 'checkout e2e',
      },
    });
    expect(sub.response.status, JSON.stringify(sub.error)).toBe(201);
    const secret = sub.data!.secret;

    // 4. The order is paid: Shopify says so, signed. 40.00 of subtotal at 1 point per EUR: 40 points.
    const paid = {
      id: 5001,
      name: '#5001',
      currency: 'EUR',
      subtotal_price: '40.00',
      total_price: '44.90',
      email: 'ada@example.com',
      customer: { id: 7001, email: 'ada@example.com' },
    };
    const hook = await shopify('orders/paid', paid);
    expect(hook.status, await hook.clone().text()).toBe(200);
    const awarded = (await until(
      'the award',
      () => order(`${SHOP}:5001`),
      (o) => o?.status === 'awarded',
    ))!;
    expect(awarded).toMatchObject({ card_id: card, points: 40, basis_amount: '40.00', paid: true, points_reversed: 0 });
    expect(awarded.transactions).toHaveLength(1);
    const award = awarded.transactions[0]!;
    expect(award).toMatchObject({ kind: 'award', points: 40, status: 'succeeded' });
    const txn = await shop.GET('/v1/transactions/{id}', { params: { path: { id: award.id } } });
    expect(txn.data).toMatchObject({ id: award.id, type: 'award', card_id: card, points: 40, status: 'succeeded' });

    // 5. The balance and the history show it.
    expect((await balance(card)).available).toBe(40);
    const history = await shop.GET('/v1/points/history/{card_id}', {
      params: { path: { card_id: card }, query: { limit: 10 } },
    });
    expect(history.data!.data.map((e) => [e.id, e.type, e.points])).toEqual([[award.id, 'award', 40]]);

    // With a return window (`pendingDays`) the award waits, shown as `pending`: the next test.

    // 6. A quarter of the order is refunded: a quarter of the points is reversed, keyed by the refund.
    const refund = { id: 9001, order_id: 5001, transactions: [{ kind: 'refund', status: 'success', amount: '10.00' }] };
    expect((await shopify('refunds/create', refund)).status).toBe(200);
    const refunded = (await until(
      'the reversal',
      () => order(`${SHOP}:5001`),
      (o) => o?.points_reversed === 10,
    ))!;
    expect(refunded).toMatchObject({ status: 'partially_reversed', points: 40, refunded_amount: '10.00' });
    const reversal = refunded.transactions.find((t) => t.kind === 'refund')!;
    expect(reversal).toMatchObject({ points: 10, refund_id: '9001', status: 'succeeded' });
    expect((await balance(card)).available).toBe(30);
    const original = await shop.GET('/v1/transactions/{id}', { params: { path: { id: award.id } } });
    expect(original.data!.reversed_points).toBe(10);

    // 7. The receiver got each event, signed (verified with standardwebhooks) and as the document describes it.
    const wanted = (events: Event[]) =>
      events.some((e) => e.type === 'transaction.succeeded' && e.data.id === award.id) &&
      events.some((e) => e.type === 'order.awarded' && e.data.id === `${SHOP}:5001`) &&
      events.some((e) => e.type === 'transaction.reversed' && e.data.reversal_id === reversal.id);
    const events = await until('the events', () => verifiedEvents(secret), wanted);
    expect(events.find((e) => e.type === 'order.awarded')!.data).toMatchObject({ card_id: card, points: 40 });
    expect(events.find((e) => e.type === 'transaction.reversed')!.data).toMatchObject({
      id: award.id,
      reversed_points: 10,
    });
    expect(
      events.every((e) => ['transaction.succeeded', 'order.awarded', 'transaction.reversed'].includes(e.type)),
    ).toBe(true);
    // Each event once (a retry would carry the same webhook-id): the receiver answered 204 to each.
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // 8. The operator sees the deliveries, and unsubscribes.
    const attempts = await admin.GET('/v1/webhooks/{id}/deliveries', { params: { path: { id: sub.data!.id } } });
    expect(attempts.data!.data.every((a) => a.outcome === 'delivered')).toBe(true);
    const gone = await admin.DELETE('/v1/webhooks/{id}', { params: { path: { id: sub.data!.id } } });
    expect(gone.response.status).toBe(204);

    // Every answer above was checked against openapi/openapi.json by the client's middleware.
    const seen = new Set(checked.map((c) => `${c.method} ${c.path} ${c.status}`));
    for (const call of [
      'POST /v1/cards 201',
      'POST /v1/links 201',
      'POST /v1/links 200',
      'GET /v1/links 200',
      'POST /v1/webhooks 201',
      'GET /v1/orders/{id} 200',
      'GET /v1/transactions/{id} 200',
      'GET /v1/points/balance/{card_id} 200',
      'GET /v1/points/history/{card_id} 200',
      'GET /v1/webhooks/{id}/deliveries 200',
      'DELETE /v1/webhooks/{id} 204',
    ])
      expect(seen, call).toContain(call);
  });

  it('holds at checkout: points held while the customer pays, captured in part; another released', async () => {
    const card = (await shop.POST('/v1/cards', { body: {} })).data!.id;
    await shop.POST('/v1/points/award', { body: { card_id: card, points: 100, reason: 'Welcome' } });
    const held = await shop.POST('/v1/points/holds', {
      body: { card_id: card, points: 60, reference_id: 'cart-77' },
      params: { header: { 'idempotency-key': 'hold-cart-77' } },
    });
    expect(held.response.status).toBe(201);
    expect(held.data).toMatchObject({ status: 'active', points: 60 });
    expect(await balance(card)).toMatchObject({ available: 40, held: 60 });
    // Paid: 45 of the 60 points used; the rest goes back.
    const captured = await shop.POST('/v1/points/holds/{id}/capture', {
      params: { path: { id: held.data!.id }, header: { 'idempotency-key': 'capture-cart-77' } },
      body: { points: 45 },
    });
    expect(captured.data).toMatchObject({ status: 'captured', captured_points: 45 });
    expect(await balance(card)).toMatchObject({ available: 55, held: 0 });
    // Another checkout abandoned: released.
    const other = await shop.POST('/v1/points/holds', { body: { card_id: card, points: 20, reference_id: 'cart-78' } });
    const released = await shop.POST('/v1/points/holds/{id}/release', {
      params: { path: { id: other.data!.id } },
      body: {},
    });
    expect(released.data).toMatchObject({ status: 'released' });
    const again = await shop.POST('/v1/points/holds/{id}/capture', {
      params: { path: { id: other.data!.id } },
      body: {},
    });
    expect(again.response.status).toBe(409);
    expect(again.error).toMatchObject({ code: 'hold_not_active' });
    expect(await balance(card)).toMatchObject({ available: 55, held: 0 });
    const hold = await shop.GET('/v1/points/holds/{id}', { params: { path: { id: held.data!.id } } });
    expect(hold.data).toMatchObject({ status: 'captured' });
  });

  it('pending points: a paid order waits in pending through its return window, then is activated by itself', async () => {
    const card = (await shop.POST('/v1/cards', { body: {} })).data!.id;
    await shop.POST('/v1/links', { body: { shop_id: PENDING_SHOP, shop_customer_id: '7100', card_id: card } });
    const paid = {
      id: 6001,
      name: '#6001',
      currency: 'EUR',
      subtotal_price: '25.00',
      total_price: '29.90',
      customer: { id: 7100 },
    };
    expect((await shopify('orders/paid', paid, PENDING_SHOP)).status).toBe(200);
    const pending = (await until(
      'pending',
      () => order(`${PENDING_SHOP}:6001`),
      (o) => o?.status === 'pending',
    ))!;
    expect(pending).toMatchObject({ points: 25, transactions: [], activates_at: expect.any(String) });
    expect(await balance(card)).toMatchObject({ available: 0, pending: 25 });
    const clock = controlledClock();
    try {
      clock.advancePast(pending.activates_at!, 1000);
      // The activation is a delayed job: its worker looks for due ones at least every few seconds.
      const active = (await until(
        'the activation',
        () => order(`${PENDING_SHOP}:6001`),
        (o) => o?.status === 'awarded',
        300,
      ))!;
      expect(active.transactions).toMatchObject([{ kind: 'award', points: 25, status: 'succeeded' }]);
      expect(await balance(card)).toMatchObject({ available: 25, pending: 0 });
    } finally {
      clock.restore();
    }
  });

  it('the response check is no formality: answers unlike the document are refused, naming what differs', async () => {
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json', 'x-request-id': 'req_1', ...headers },
      });
    // A real answer, through the client, passes; a 404 problem is described too.
    const missing = await shop.GET('/v1/orders/{id}', { params: { path: { id: `${SHOP}:404404` } } });
    expect(missing.response.status).toBe(404);
    expect(checked.at(-1)).toEqual({ method: 'GET', path: '/v1/orders/{id}', status: 404 });

    expect(await responseProblems('GET', '/v1/orders/{id}', answer(200, { id: 'x' }))).toEqual([
      expect.stringMatching(/^body \(root\): fails required \(\/components\/schemas\/Order\/required\)/),
    ]);
    const problems = await responseProblems('GET', '/v1/points/balance/{card_id}', answer(418, {}));
    expect(problems).toEqual(['418 is not a response GET /v1/points/balance/{card_id} declares']);
    const noRequestId = new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    expect(await responseProblems('GET', '/v1/links', noRequestId)).toContain(
      'header X-Request-Id is required and was not sent',
    );
    expect(
      await responseProblems('GET', '/v1/links', answer(200, { data: [] }, { 'content-type': 'text/html' })),
    ).toEqual(['content-type "text/html", declared: application/json']);
    const order: Partial<Schemas['Order']> = { id: 'x', status: 'awarded' };
    expect(
      await eventProblems({ id: 'evt_1', type: 'order.awarded', created_at: 'yesterday', data: order }),
    ).not.toEqual([]);
  });
});
