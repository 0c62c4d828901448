import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, type Res } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * What a card cannot do is refused before anything is recorded or sent, with the operations it supports:
 * an adjust in a direction its card type cannot take, and an expire at a provider that names no points.
 * And expire takes `unit`, like redeem: a cashback card's amount, a multipass card's visits.
 */

let sb: SandboxGateway;
const hl = (name: string) => `hl:${(sb.hl.seed.cards as Record<string, string>)[name]}`;

beforeAll(async () => {
  sb = await startSandboxGateway();
});
afterAll(async () => sb?.close());

/** Failed transactions recorded on the connection (a refusal made after recording leaves one). */
async function failedCount(): Promise<number> {
  const res = await sb.gw.request('GET', '/v1/transactions?status=failed&connection=hl&limit=200');
  expect(res.status, res.text).toBe(200);
  return res.body.data.length as number;
}

/** Sends `write` on a card whose type the gateway already knows; asserts the refusal recorded and sent nothing. */
async function refusedUnrecorded(card: string, write: () => Promise<Res>): Promise<Res> {
  expect((await sb.gw.request('GET', `/v1/cards/${card}`)).status).toBe(200); // its type and template, read now
  const failed = await failedCount();
  const requests = sb.hl.sim.stats().requests;
  const res = await write();
  expectProblem(res, 422, 'unsupported_operation');
  expect(res.body.supported).toEqual(expect.arrayContaining(['balance']));
  expect(res.headers.get('location')).toBeNull();
  expect(res.body.transaction_id).toBeUndefined();
  expect(sb.hl.sim.stats().requests, 'requests sent to Highlight').toBe(requests);
  expect(await failedCount()).toBe(failed);
  return res;
}

const adjust = (card: string, points: number, unit?: string) =>
  sb.gw.request('POST', '/v1/points/adjust', {
    body: { card_id: card, points, ...(unit ? { unit } : {}), reason: 'direction test' },
  });

describe('an adjust in a direction the card type cannot take', () => {
  it.each([
    ['membership', 1, 'adds visits'],
    ['membershipUnlimited', -1, 'subtracts visits'],
    ['rewardSpend', 1, 'adds scores'],
    // A visit reward card counts visits, which Highlight only adds through a visit: no adjust at all.
    ['rewardVisit', 1, 'adjust'],
  ])('%s, %i: 422 unsupported_operation with supported, nothing recorded or sent', async (name, points, what) => {
    const res = await refusedUnrecorded(hl(name), () => adjust(hl(name), points));
    expect(res.body.detail).toContain(what);
  });

  it('the directions a card takes are in its capabilities', async () => {
    const limited = (await sb.gw.request('GET', `/v1/cards/${hl('membership')}`)).body.capabilities;
    expect(limited.adjust).toEqual({ add: [], subtract: ['visits'] });
    const unlimited = (await sb.gw.request('GET', `/v1/cards/${hl('membershipUnlimited')}`)).body.capabilities;
    expect(unlimited.adjust).toEqual({ add: ['visits'], subtract: [] });
  });

  it('the direction it can take still goes through', async () => {
    const res = await adjust(hl('membership'), -1);
    expect([201, 202], res.text).toContain(res.status);
  });
});

describe('expire at a provider', () => {
  it('without points: 422 unsupported_operation with supported, nothing recorded or sent', async () => {
    await refusedUnrecorded(hl('stamp'), () =>
      sb.gw.request('POST', '/v1/points/expire', { body: { card_id: hl('stamp'), reason: 'nothing named' } }),
    );
  });

  it("takes unit: a cashback card's amount and a multipass card's visits", async () => {
    const cashback = hl('cashback');
    const amountOf = async (card: string, unit: string) =>
      (await sb.gw.request('GET', `/v1/points/balance/${card}`)).body.units[unit] as number;
    const before = await amountOf(cashback, 'amount');
    const expired = await sb.gw.request('POST', '/v1/points/expire', {
      body: { card_id: cashback, points: 100, unit: 'amount', reason: 'expired credit' },
    });
    expect(expired.status, expired.text).toBe(201);
    expect(expired.body).toMatchObject({ type: 'expire', unit: 'amount', points: 100, delta: -100 });
    expect(await amountOf(cashback, 'amount')).toBe(before - 100);

    const visitsBefore = await amountOf(hl('multipass'), 'visits');
    const visits = await sb.gw.request('POST', '/v1/points/expire', {
      body: { card_id: hl('multipass'), points: 1, unit: 'visits', reason: 'expired visit' },
    });
    expect(visits.status, visits.text).toBe(201);
    expect(visits.body).toMatchObject({ type: 'expire', unit: 'visits', points: 1, delta: -1 });
    expect(await amountOf(hl('multipass'), 'visits')).toBe(visitsBefore - 1);
  });

  it('a unit the card does not count in is refused', async () => {
    const res = await sb.gw.request('POST', '/v1/points/expire', {
      body: { card_id: hl('stamp'), points: 1, unit: 'amount', reason: 'x' },
    });
    expectProblem(res, 422, 'unsupported_operation');
  });
});
