import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckout } from '../../examples/checkout.js';
import { type GatewayEvent, type Receiver, startReceiver } from '../../examples/receiver.js';
import { sleep } from '../../src/lib/time.js';
import { KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * The examples in examples/ run against a gateway on a real port: the checkout integration (link, show, reverse
 * on a refund made outside the platform) and the webhook receiver (Standard Webhooks signatures verified).
 */

const SHOPIFY_SECRET = 'shpss_examples_secret_01';

let gw: TestGateway;
let receiver: Receiver | null = null;
beforeAll(async () => {
  gw = await startGateway({
    connections: [{ id: 'ledger', provider: 'ledger' }],
    shops: [
      {
        id: 'webshop',
        platform: 'shopify',
        secret: SHOPIFY_SECRET,
        connection: 'ledger',
        currency: 'EUR',
        earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
      },
    ],
    env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,1,1' },
  });
});
afterAll(async () => {
  await receiver?.close();
  await gw?.close();
});

/** Shopify's signed delivery (what the platform sends; not the example's job). */
async function shopifyPaid(order: Record<string, unknown>): Promise<void> {
  const body = JSON.stringify(order);
  const res = await fetch(`${gw.url}/v1/hooks/shopify/webshop`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/paid',
      'x-shopify-webhook-id': `examples-${String(order.id)}`,
      'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body, 'utf8').digest('base64'),
    },
    body,
  });
  expect(res.status).toBe(200);
}

async function until<T>(what: string, get: () => Promise<T> | T, test: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 100; i++) {
    last = await get();
    if (test(last)) return last;
    await sleep(100);
  }
  throw new Error(`${what} never came: ${JSON.stringify(last)}`);
}

describe('examples/', () => {
  it('receiver.ts verifies deliveries; checkout.ts links, shows the card, and reverses on a refund', async () => {
    const logged: string[] = [];
    const handled: GatewayEvent[] = [];
    // The receiver first (its URL is what is subscribed), then the subscription, whose secret it then uses.
    receiver = await startReceiver({
      log: (line) => logged.push(line),
      onEvent: (e) => {
        handled.push(e);
      },
    });
    const sub = await gw.request('POST', '/v1/webhooks', {
      body: { url: receiver.url, events: ['order.awarded', 'transaction.reversed'] },
      key: KEYS.admin,
    });
    expect(sub.status, sub.text).toBe(201);
    receiver.useSecret(sub.body.secret);

    const checkout = createCheckout({ baseUrl: gw.url, apiKey: KEYS.write, shopId: 'webshop' });
    const card = await checkout.linkCustomer({ id: '7001', email: 'ada@example.com', firstName: 'Ada' });
    expect(card).toMatch(/^ledger:/);
    // Again (a retried sign-up): the same card, the same link.
    expect(await checkout.linkCustomer({ id: '7001', email: 'ada@example.com', firstName: 'Ada' })).toBe(card);
    expect(await checkout.order('6001')).toBeNull();

    await shopifyPaid({
      id: 6001,
      name: '#6001',
      currency: 'EUR',
      subtotal_price: '25.00',
      total_price: '29.90',
      customer: { id: 7001, email: 'ada@example.com' },
    });
    const awarded = await until(
      'the award',
      () => checkout.order('6001'),
      (o) => o?.status === 'awarded',
    );
    const award = awarded!.transactions.find((t) => t.kind === 'award')!;
    const shown = await checkout.showCard(card);
    expect(shown.balance.available).toBe(25);
    expect(shown.history.map((e) => [e.type, e.points])).toEqual([['award', 25]]);

    // Refunded at the till: 5 of the 25 points back, once however often it is retried.
    const reversal = await checkout.reverseOnRefund({ orderId: '6001', refundId: 'till-1', points: 5 });
    // A reversal is a compensating adjust of the award.
    expect(reversal).toMatchObject({ type: 'adjust', reversal_of: award.id, points: 5, reference_id: 'refund-till-1' });
    const retried = await checkout.reverseOnRefund({ orderId: '6001', refundId: 'till-1', points: 5 });
    expect(retried.id).toBe(reversal.id);
    expect((await checkout.showCard(card)).balance.available).toBe(20);

    // Paying with points: 15 held for the cart, 12 spent when the payment went through, 3 back.
    const hold = await checkout.holdPoints(card, 15, 'cart-9');
    expect((await checkout.showCard(card)).balance).toMatchObject({ available: 5, held: 15 });
    expect(await checkout.capturePoints(hold.id, 12)).toMatchObject({ status: 'captured', captured_points: 12 });
    const abandoned = await checkout.holdPoints(card, 8, 'cart-10');
    expect(await checkout.releasePoints(abandoned.id)).toMatchObject({ status: 'released' });
    expect((await checkout.showCard(card)).balance).toMatchObject({ available: 8, held: 0 });

    // The receiver: both events, verified, each once, logged.
    const events = await until(
      'the events',
      () => receiver!.events,
      (evs) => evs.some((e) => e.type === 'order.awarded') && evs.some((e) => e.type === 'transaction.reversed'),
    );
    expect(events.find((e) => e.type === 'order.awarded')!.data).toMatchObject({ id: 'webshop:6001', points: 25 });
    expect(events.find((e) => e.type === 'transaction.reversed')!.data).toMatchObject({ reversal_id: reversal.id });
    expect(handled.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(logged.some((l) => l.includes('order.awarded'))).toBe(true);
    expect(receiver.refused).toBe(0);

    // A forged delivery (signed with another secret, or tampered with) is refused with 401.
    const forged = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'evt_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==',
      },
      body: JSON.stringify({ id: 'evt_forged', type: 'order.awarded', data: {} }),
    });
    expect(forged.status).toBe(401);
    expect(receiver.refused).toBe(1);
    expect(receiver.events.some((e) => e.id === 'evt_forged')).toBe(false);
  });
});
