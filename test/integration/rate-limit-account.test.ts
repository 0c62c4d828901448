import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHighlightSandbox } from '../../src/sandbox/highlight/simulator.js';
import { settled } from '../helpers/dispatch.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TEST_RATE_MARGIN_MS } from '../helpers/sandbox.js';

/**
 * One limit per credential (issue 14 item 7): two connections with the same Highlight API key are
 * one account at Highlight, which counts its limit per key. They share one rate-limit log, so
 * together they never send more than the limit in any sliding second (today each had the whole
 * limit, and together they drew 429s).
 */

let gw: TestGateway;
let hl: ReturnType<typeof createHighlightSandbox>;
beforeAll(async () => {
  const rateLimit = { requests: 5, perSeconds: 1 };
  hl = createHighlightSandbox({ rateLimit });
  const url = await hl.sim.start(0);
  const conn = (id: string) => ({
    id,
    provider: 'highlight',
    baseUrl: url,
    rateLimit: { ...rateLimit, marginMs: TEST_RATE_MARGIN_MS },
    ...hl.credentials,
    ...hl.settings,
  });
  gw = await startGateway({ connections: [{ id: 'ledger', provider: 'ledger' }, conn('hl'), conn('hl2')] });
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await hl?.sim.stop();
});

it('two connections on one credential share its limit: no 429, never more than the limit in a sliding window', async () => {
  const stamp = (hl.seed as { cards: { stamp: string } }).cards.stamp;
  const answers = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      gw.request('POST', '/v1/points/award', {
        body: { card_id: `${i % 2 ? 'hl' : 'hl2'}:${stamp}`, points: 1, reason: `shared ${i}` },
        headers: { prefer: 'respond-async' },
      }),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(30).fill(202));
  const recs = await settled(
    gw,
    answers.map((a) => a.body.id as string),
  );
  expect(recs.filter((r) => r.status !== 'succeeded')).toEqual([]);
  const stats = hl.sim.stats();
  expect(stats.rateLimited).toBe(0);
  expect(stats.maxInWindow).toBeLessThanOrEqual(5);
});
