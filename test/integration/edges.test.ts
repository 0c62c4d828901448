import { afterAll, beforeAll, expect, it } from 'vitest';
import { award, startGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());
it('body-less POSTs, bad URLs, metadata key length, control characters, blank keys', async () => {
  const noBody = await gw.request('POST', '/v1/cards');
  expect(noBody.status).toBe(201);
  const card = noBody.body.id;
  const a = await award(gw, card, 10);
  const rev = await gw.request('POST', `/v1/transactions/${a.body.id}/reverse`);
  expect(rev.status).toBe(201);
  const bad = await gw.request('GET', '/v1/cards/%zz');
  expect(bad.status).toBe(400);
  expect(bad.body.code).toBe('validation_failed');
  const long = await gw.request('GET', `/v1/cards/${'a'.repeat(400)}`);
  expect(long.status).toBe(400);
  expect(long.headers.get('content-type')).toContain('problem+json');
  const mk = await award(gw, card, 1, { metadata: { ['k'.repeat(65)]: 1 } });
  expect(mk.body.code).toBe('validation_failed');
  const cc = await award(gw, card, 1, { reason: 'a\u0000b' });
  expect(cc.body.code).toBe('validation_failed');
  const nl = await award(gw, card, 1, { reason: 'line1\nline2' });
  expect(nl.status).toBe(201);
  const sp = await gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points: 1, reason: 'x' },
    headers: { 'idempotency-key': '"  "' },
  });
  expect(sp.body.code).toBe('invalid_idempotency_key');
});
