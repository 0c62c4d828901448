import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep } from '../../src/lib/time.js';
import { createLoyaltyltSandbox } from '../../src/sandbox/loyaltylt/simulator.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A shop on an external provider (Loyalty.lt's simulator): the award is settled by a worker, so a
 * refund that follows must read the award as it stands, not as it was queued (a review found
 * refunds on provider connections never reversed).
 */

const SECRET = 'shpss_provider_secret';
let gw: TestGateway;
let lt: ReturnType<typeof createLoyaltyltSandbox>;
beforeAll(async () => {
  const rateLimit = { requests: 10_000, perSeconds: 1 };
  lt = createLoyaltyltSandbox({ rateLimit });
  const url = await lt.sim.start(0);
  gw = await startGateway({
    connections: [
      { id: 'ledger', provider: 'ledger' },
      {
        id: 'lt',
        provider: 'loyaltylt',
        baseUrl: url,
        timeoutMs: 3000,
        rateLimit,
        balanceCacheMs: 0,
        ...lt.credentials,
        ...lt.settings,
      },
    ],
    shops: [
      {
        id: 'ltshop',
        platform: 'shopify',
        secret: SECRET,
        connection: 'lt',
        earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
      },
    ],
  });
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await lt?.sim.stop();
});

const send = (topic: string, payload: unknown, id: string) => {
  const body = JSON.stringify(payload);
  return gw.request('POST', '/v1/hooks/shopify/ltshop', {
    rawBody: body,
    key: null,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-webhook-id': id,
      'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
    },
  });
};
async function order(until: (o: { status: string; points_reversed: number }) => boolean) {
  for (let i = 0; i < 300; i++) {
    const o = (await gw.request('GET', '/v1/orders/ltshop:9001')).body;
    if (until(o)) return o;
    await sleep(100);
  }
  throw new Error('the order never got there');
}

it('a refund of an order on a provider connection reverses its share once the award is applied', async () => {
  const card = `lt:${(lt.seed as { cards: { empty: { card_number: string } } }).cards.empty.card_number}`;
  const link = await gw.request('POST', '/v1/links', {
    body: { shop_id: 'ltshop', shop_customer_id: 'c1', card_id: card },
  });
  expect(link.status).toBe(201);
  const paid = {
    id: 9001,
    name: '#9001',
    currency: 'EUR',
    customer: { id: 'c1' },
    subtotal_price: '100.00',
    total_price: '120.00',
  };
  // The refund right behind the payment: it may arrive while the award is still queued at the provider.
  expect((await send('orders/paid', paid, 'd1')).status).toBe(200);
  const refund = { id: 77, order_id: 9001, transactions: [{ kind: 'refund', status: 'success', amount: '50.00' }] };
  expect((await send('refunds/create', refund, 'd2')).status).toBe(200);
  const done = await order((o) => o.points_reversed === 50);
  expect(done).toMatchObject({ status: 'partially_reversed', points: 100, points_reversed: 50 });
});
