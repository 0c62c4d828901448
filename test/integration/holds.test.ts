import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/lib/time.js';
import { expectProblem, issueCard, KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Holds at checkout on the built-in ledger, through real HTTP: points held are out of `available`
 * and shown as `held`; capture (in full or in part), release and expiry end a hold once, racing
 * calls included; nobody else can spend held points.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

async function cardWith(points: number): Promise<string> {
  const card = await issueCard(gw);
  const res = await gw.request('POST', '/v1/points/award', { body: { card_id: card, points, reason: 'seed' } });
  expect(res.status, res.text).toBe(201);
  return card;
}
const balance = async (card: string) => {
  const b = (await gw.request('GET', `/v1/points/balance/${card}`)).body;
  return { available: b.available as number, held: b.held as number };
};
let refs = 0;
const hold = (card: string, points: number, extra: Record<string, unknown> = {}, key?: string) =>
  gw.request('POST', '/v1/points/holds', {
    body: { card_id: card, points, reference_id: `cart-${++refs}`, ...extra },
    headers: key ? { 'idempotency-key': key } : {},
  });
const act = (id: string, what: 'capture' | 'release', body: unknown = {}, key?: string) =>
  gw.request('POST', `/v1/points/holds/${id}/${what}`, { body, headers: key ? { 'idempotency-key': key } : {} });

describe('holds at checkout', () => {
  it('holds points out of available, shown as held; nobody else can spend them; capture keeps them, once', async () => {
    const card = await cardWith(100);
    const h = await hold(card, 80, { reference_id: 'cart-a' });
    expect(h.status, h.text).toBe(201);
    expect(h.headers.get('location')).toBe(`/v1/points/holds/${h.body.id}`);
    expect(h.body).toMatchObject({
      status: 'active',
      points: 80,
      unit: 'points',
      card_id: card,
      captured_points: null,
    });
    expect(await balance(card)).toEqual({ available: 20, held: 80 });
    // The same checkout again: the same hold.
    const again = await hold(card, 80, { reference_id: 'cart-a' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(h.body.id);
    // Held points are not anyone else's to redeem.
    expectProblem(
      await gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points: 30, reason: 'other' } }),
      400,
      'insufficient_points',
    );

    const captured = await act(h.body.id, 'capture', {}, 'cap-1');
    expect(captured.status, captured.text).toBe(200);
    expect(captured.body).toMatchObject({ status: 'captured', captured_points: 80, release_id: null });
    expect(await balance(card)).toEqual({ available: 20, held: 0 });
    // A retry of the same call answers it again; another capture is refused.
    const retried = await act(h.body.id, 'capture', {}, 'cap-1');
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expectProblem(await act(h.body.id, 'capture', {}, 'cap-2'), 409, 'hold_not_active');
    expectProblem(await act(h.body.id, 'release'), 409, 'hold_not_active');
    expect((await gw.request('GET', `/v1/points/holds/${h.body.id}`)).body.status).toBe('captured');
    const events = await gw.request('GET', '/v1/events?type=hold.captured', { key: KEYS.admin });
    expect(events.body.data.some((e: { data: { id: string } }) => e.data.id === h.body.id)).toBe(true);
  });

  it('a partial capture gives the rest back; a release gives everything back', async () => {
    const card = await cardWith(100);
    const a = await hold(card, 50);
    const b = await hold(card, 30);
    expect(await balance(card)).toEqual({ available: 20, held: 80 });
    const part = await act(a.body.id, 'capture', { points: 20 });
    expect(part.body).toMatchObject({
      status: 'captured',
      captured_points: 20,
      release_id: expect.stringMatching(/^txn_/),
    });
    expect(await balance(card)).toEqual({ available: 50, held: 30 });
    expectProblem(await act(b.body.id, 'capture', { points: 31 }), 400, 'validation_failed');
    const released = await act(b.body.id, 'release');
    expect(released.body).toMatchObject({ status: 'released', release_id: expect.stringMatching(/^txn_/) });
    expect(await balance(card)).toEqual({ available: 80, held: 0 });
  });

  it('a hold past its time releases itself; capturing it then is refused', async () => {
    const card = await cardWith(40);
    const h = await hold(card, 40, { ttl_seconds: 1 });
    expect(await balance(card)).toEqual({ available: 0, held: 40 });
    let status = 'active';
    for (let i = 0; i < 100 && status === 'active'; i++) {
      await sleep(100);
      status = (await gw.request('GET', `/v1/points/holds/${h.body.id}`)).body.status;
    }
    expect(status).toBe('expired');
    expect(await balance(card)).toEqual({ available: 40, held: 0 });
    expectProblem(await act(h.body.id, 'capture'), 409, 'hold_not_active');
  });

  it('capture racing release: exactly one wins, and the points add up', async () => {
    for (let round = 0; round < 5; round++) {
      const card = await cardWith(60);
      const h = await hold(card, 60);
      const [c, r] = await Promise.all([act(h.body.id, 'capture'), act(h.body.id, 'release')]);
      expect([c.status, r.status].sort()).toEqual([200, 409]);
      const b = await balance(card);
      expect(b.held).toBe(0);
      expect(b.available).toBe(c.status === 200 ? 0 : 60);
    }
  });

  it('two requests for one checkout at once make one hold: the other answers it, or is told to retry', async () => {
    const card = await cardWith(100);
    const body = { reference_id: 'cart-race' };
    const [a, b] = await Promise.all([hold(card, 60, body, 'race-a'), hold(card, 60, body, 'race-b')]);
    const made = [a, b].filter((r) => r.status === 201);
    expect(made).toHaveLength(1);
    for (const r of [a, b].filter((x) => x.status !== 201)) {
      if (r.status === 200) expect(r.body.id).toBe(made[0]!.body.id);
      else expectProblem(r, 409, 'idempotency_in_flight');
    }
    expect(await balance(card)).toEqual({ available: 40, held: 60 });
    const again = await hold(card, 60, body, 'race-c');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(made[0]!.body.id);
  });

  it('refuses what is not a hold', async () => {
    expectProblem(await gw.request('GET', '/v1/points/holds/hld_01JD3X7B2C4D6E8F0G2H4J6K8M'), 404, 'hold_not_found');
    expectProblem(await act('hld_01JD3X7B2C4D6E8F0G2H4J6K8M', 'release'), 404, 'hold_not_found');
    const card = await cardWith(10);
    expectProblem(await hold(card, 11), 400, 'insufficient_points');
    expectProblem(await hold(card, 5, { ttl_seconds: 604_801 }), 400, 'validation_failed');
    expect(await balance(card)).toEqual({ available: 10, held: 0 });
  });
});
