import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCard, startGateway, type TestGateway } from '../helpers/gateway.js';

// Two gateway instances, each with its own Redis connection and HTTP server, on one ledger:
// what two processes behind a load balancer would be.
let a: TestGateway;
let b: TestGateway;
beforeAll(async () => {
  a = await startGateway();
  b = await startGateway({ prefix: a.prefix });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

describe('many gateways on one Redis', () => {
  it('100 identical requests split over two gateways make one entry and identical answers', async () => {
    const card = await issueCard(a);
    const body = { card_id: card, points: 5, reason: 'split burst' };
    const all = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? a : b).request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': 'split-1' } }),
      ),
    );
    expect(new Set(all.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    const hist = await b.request('GET', `/v1/points/history/${card}`);
    expect(hist.body.data).toHaveLength(1);
  });

  it('concurrent redeems through both gateways never overdraw the card', async () => {
    const card = await issueCard(b);
    await a.request('POST', '/v1/points/award', { body: { card_id: card, points: 40, reason: 'seed' } });
    const all = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? a : b).request('POST', '/v1/points/redeem', {
          body: { card_id: card, points: 1, reason: 'race', reference_id: `r${i}` },
        }),
      ),
    );
    expect(all.filter((r) => r.status === 201)).toHaveLength(40);
    expect(all.filter((r) => r.body.code === 'insufficient_points')).toHaveLength(20);
    expect((await a.request('GET', `/v1/points/balance/${card}`)).body).toMatchObject({
      available: 0,
      total_redeemed: 40,
    });
  });
});
