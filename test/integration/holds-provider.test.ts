import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/lib/time.js';
import { expectProblem } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * A hold at an external provider (Loyalty.lt's simulator, slowed down): the hold is answered
 * while its redemption is still on its way, and nothing is captured before the points are taken.
 */

let sb: SandboxGateway;
let card: string;
beforeAll(async () => {
  sb = await startSandboxGateway({ env: { DISPATCH_WAIT_MS: '100' } });
  card = `lt:${(sb.lt.seed as { cards: { empty: { card_number: string } } }).cards.empty.card_number}`;
  const seeded = await sb.gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points: 100, reason: 'seed' },
  });
  expect(seeded.status, seeded.text).toBeLessThan(300);
  for (let i = 0; i < 100; i++) {
    if ((await sb.gw.request('GET', `/v1/transactions/${seeded.body.id}`)).body.status === 'succeeded') break;
    await sleep(100);
  }
}, 60_000);
afterAll(async () => sb?.close());

describe('holds at a provider', () => {
  it('a capture waits for the redemption to be applied: 409 in flight until then, then captured', async () => {
    sb.lt.sim.inject({ kind: 'latency', ms: 1500, times: 1e9, match: '^POST ' });
    const hold = await sb.gw.request('POST', '/v1/points/holds', {
      body: { card_id: card, points: 40, reference_id: 'cart-slow' },
    });
    expect(hold.status, hold.text).toBe(201);
    const early = await sb.gw.request('POST', `/v1/points/holds/${hold.body.id}/capture`);
    expectProblem(early, 409, 'idempotency_in_flight');
    expect(early.headers.get('retry-after')).toBe('2');
    let captured = early;
    for (let i = 0; i < 100 && captured.status !== 200; i++) {
      await sleep(200);
      captured = await sb.gw.request('POST', `/v1/points/holds/${hold.body.id}/capture`);
    }
    expect(captured.body).toMatchObject({ status: 'captured', captured_points: 40 });
    sb.lt.sim.clearFaults();
  });
});
