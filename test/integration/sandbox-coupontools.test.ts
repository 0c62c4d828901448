import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CoupontoolsSandbox, createCoupontoolsSandbox } from '../../src/sandbox/coupontools/simulator.js';
import { heldBack } from '../helpers/order.js';

let sb: CoupontoolsSandbox;
let base: string;
let root: string;

beforeAll(async () => {
  sb = createCoupontoolsSandbox();
  base = await sb.sim.start(0);
  root = new URL(base).origin;
});
afterAll(async () => sb.sim.stop());
beforeEach(() => {
  sb.sim.reset();
  sb.sim.setRateLimit({ requests: 1000, perSeconds: 1 });
});

const auth = () => ({ 'x-api-key': sb.credentials.apiKey!, 'x-api-secret': sb.credentials.apiSecret! });

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth()) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
}

const S = () => `/loyalty/loyalty-cards/${sb.seed.stampCardId}/stats`;
const errorOf = (code: number) => ({
  status: { status: 'failed', errors: { error_code: code, error_message: expect.any(String) } },
});

describe('coupontools v4 sandbox', () => {
  it('refuses missing or wrong credentials with 401 and the failed body', async () => {
    const none = await call('GET', '/loyalty/loyalty-cards', undefined, {});
    expect(none.status).toBe(401);
    expect(none.body).toEqual(errorOf(1000));
    const wrong = await call('GET', '/loyalty/loyalty-cards', undefined, {
      'x-api-key': sb.credentials.apiKey!,
      'x-api-secret': 'nope',
    });
    expect(wrong.status).toBe(401);
    const v3 = await call('GET', '/loyalty/loyalty-cards', undefined, {
      'X-Client-Id': sb.credentials.apiKey!,
      'X-Client-Secret': sb.credentials.apiSecret!,
    });
    expect(v3.status).toBe(401);
  });

  it('lists programs as a bare array and copies one', async () => {
    const list = await call('GET', '/loyalty/loyalty-cards');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      { id: 1001, code: 'ndoh57', name: 'Coffee Stamp Card', domain: expect.any(String), type: 'stamp' },
      {
        id: 1002,
        code: sb.seed.membershipCardCode,
        name: 'VIP Membership',
        domain: expect.any(String),
        type: 'membership',
      },
    ]);
    const copy = await call('POST', '/loyalty/loyalty-cards/1001/copy', { name: 'Summer stamps' });
    expect(copy.status).toBe(201);
    expect(copy.body).toMatchObject({ id: 1003, name: 'Summer stamps', type: 'stamp' });
    expect(Object.keys(copy.body).sort()).toEqual(['code', 'domain', 'id', 'name', 'type']);
    const tooLong = await call('POST', '/loyalty/loyalty-cards/1001/copy', { name: 'x'.repeat(51) });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toEqual(errorOf(300));
    expect((await call('GET', '/loyalty/loyalty-cards')).body).toHaveLength(3);
  });

  it('lists users with filter, pagination and include_voided query parameters', async () => {
    const list = await call('GET', S());
    expect(list.status).toBe(200);
    expect(list.body.map((u: { id: number }) => u.id)).toEqual([50001, 50002]);
    expect(list.headers.get('x-pagination-total')).toBe('2');
    const all = await call('GET', `${S()}?include_voided=true&pagination[page]=2&pagination[per_page]=2`);
    expect(all.body.map((u: { id: number }) => u.id)).toEqual([50003]);
    expect(all.headers.get('x-pagination-total-pages')).toBe('2');
    const byEmail = await call('GET', `${S()}?filter[email]=${encodeURIComponent('ALICE@example.com')}`);
    expect(byEmail.body).toHaveLength(1);
    expect(byEmail.body[0]).toMatchObject({
      id: 50001,
      stamps: 2,
      stamps_total: 12,
      stamps_required: 10,
      voided: false,
    });
    expect((await call('GET', `${S()}?page=2`)).body).toEqual(errorOf(301));
    expect((await call('GET', `${S()}?include_voided=yes`)).status).toBe(422);
  });

  it('gets one user, and answers 404 for unknown cards and users', async () => {
    const u = await call('GET', `${S()}/50001`);
    expect(u.status).toBe(200);
    expect(u.body).toMatchObject({
      id: 50001,
      loyalty_card_id: 1001,
      first_name: 'Alice',
      custom_1: null,
      stamps: 2,
      rewards: [{ id: 90001, status: 'available', used_at: null }],
    });
    const noCard = await call('GET', '/loyalty/loyalty-cards/999/stats/50001');
    expect(noCard.status).toBe(404);
    expect(noCard.body).toEqual(errorOf(520));
    const noUser = await call('GET', `${S()}/77777`);
    expect(noUser.status).toBe(404);
    expect(noUser.body).toEqual(errorOf(521));
    expect((await call('GET', '/loyalty/loyalty-cards/1002/stats/50001')).status).toBe(404);
    expect((await call('GET', '/loyalty/nothing')).body).toEqual(errorOf(599));
  });

  it('creates, bulk-creates, updates and deletes users', async () => {
    const c = await call('POST', S(), { first_name: 'Dirk', email: 'dirk@example.com', custom_3: 'gold' });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      id: 50004,
      first_name: 'Dirk',
      custom_3: 'gold',
      stamps: 0,
      rewards: [],
      voided: false,
    });
    const bad = await call('POST', S(), { email: 'not-an-email' });
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual(errorOf(300));
    expect((await call('POST', S(), { firstName: 'x' })).body).toEqual(errorOf(301));
    const bare = await call('POST', `${S()}/bulk`, [{ first_name: 'E' }, { first_name: 'F' }]);
    expect(bare.status).toBe(201);
    expect(bare.body.map((u: { id: number }) => u.id)).toEqual([50005, 50006]);
    const wrapped = await call('POST', `${S()}/bulk`, { users: [{ last_name: 'G' }] });
    expect(wrapped.status).toBe(201);
    const oneBad = await call('POST', `${S()}/bulk`, { users: [{ first_name: 'H' }, { phone: 5 }] });
    expect(oneBad.status).toBe(422);
    expect(oneBad.body.status.errors.error_message).toContain('users[1]');
    const upd = await call('POST', `${S()}/50004`, { city: 'Antwerpen', custom_3: null });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ city: 'Antwerpen', custom_3: null, first_name: 'Dirk' });
    expect((await call('POST', `${S()}/50004`, {})).status).toBe(400);
    const del = await call('DELETE', `${S()}/50004`);
    expect(del.body).toEqual({ id: 50004, deleted: true });
    expect((await call('GET', `${S()}/50004`)).status).toBe(404);
    expect(sb.sim.counters()).toEqual({ create_user: 1, bulk_create_users: 2, update_user: 1, delete_user: 1 });
  });

  it('adds stamps on the same path, rolling over into rewards, and refuses mixed bodies', async () => {
    const add = await call('POST', `${S()}/50002`, { amount: 23 });
    expect(add.status).toBe(200);
    expect(add.body).toMatchObject({ stamps: 3, stamps_total: 23 });
    expect(add.body.rewards).toHaveLength(2);
    expect(add.body.rewards.every((r: { status: string }) => r.status === 'available')).toBe(true);
    const mixed = await call('POST', `${S()}/50002`, { amount: 1, first_name: 'X' });
    expect(mixed.status).toBe(422);
    expect(mixed.body).toEqual(errorOf(302));
    expect((await call('POST', `${S()}/50002`, { amount: 0 })).status).toBe(422);
    expect((await call('POST', `${S()}/50002`, { amount: '2' })).status).toBe(422);
    const voided = await call('POST', `${S()}/50003`, { amount: 1 });
    expect(voided.status).toBe(422);
    expect(voided.body).toEqual(errorOf(341));
    const member = await call('POST', '/loyalty/loyalty-cards/1002/stats', { first_name: 'M' });
    expect(member.body).toMatchObject({ stamps: null, stamps_required: null, rewards: [] });
    const noStamps = await call('POST', `/loyalty/loyalty-cards/1002/stats/${member.body.id}`, { amount: 1 });
    expect(noStamps.body).toEqual(errorOf(340));
    expect(sb.sim.counters()).toEqual({ add_stamps: 1, create_user: 1 });
  });

  it('uses available rewards once and refuses used, foreign and voided ones', async () => {
    const use = await call('PUT', `${S()}/50001/rewards`, { reward_ids: [90001] });
    expect(use.status).toBe(200);
    expect(use.body.rewards[0]).toMatchObject({ id: 90001, status: 'used', used_at: expect.any(String) });
    const again = await call('PUT', `${S()}/50001/rewards`, { reward_ids: [90001] });
    expect(again.status).toBe(422);
    expect(again.body).toEqual(errorOf(342));
    expect((await call('PUT', `${S()}/50002/rewards`, { reward_ids: [90001] })).body).toEqual(errorOf(343));
    expect((await call('PUT', `${S()}/50001/rewards`, {})).body).toEqual(errorOf(200));
    const v = await call('PUT', `${S()}/50002/void`);
    expect(v.body).toMatchObject({ id: 50002, voided: true });
    expect((await call('PUT', `${S()}/50002/void`)).status).toBe(200);
    expect(sb.sim.counters()).toEqual({ use_rewards: 1, void_user: 1 });
  });

  it('sends push notifications to all active users or to listed ones', async () => {
    const all = await call('POST', '/loyalty/loyalty-cards/1001/push-notifications', {
      message: 'Double stamps today!',
    });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ recipient_stat_ids: [50001, 50002], recipients: 2 });
    const some = await call('POST', '/loyalty/loyalty-cards/1001/push-notifications', {
      message: 'Hi',
      recipient_stat_ids: [50002],
    });
    expect(some.body.recipients).toBe(1);
    expect((await call('POST', '/loyalty/loyalty-cards/1001/push-notifications', {})).status).toBe(400);
    expect(
      (
        await call('POST', '/loyalty/loyalty-cards/1001/push-notifications', {
          message: 'x',
          recipient_stat_ids: [50003],
        })
      ).body,
    ).toEqual(errorOf(344));
    expect((await call('POST', '/loyalty/loyalty-cards/1001/push-notifications', '{nope')).body).toEqual(errorOf(100));
    expect(sb.sim.counters()).toEqual({ push_notification: 2 });
  });

  it('rate-limits with 429, Retry-After and the failed body', async () => {
    sb.sim.setRateLimit({ requests: 3, perSeconds: 10 });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await call('GET', '/loyalty/loyalty-cards');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.body).toEqual(errorOf(1050));
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('injects status, drop, malformed, latency and timeout faults', async () => {
    sb.sim.inject({ kind: 'status', status: 503 });
    const s = await fetch(`${base}/loyalty/loyalty-cards`, { headers: auth() });
    expect(s.status).toBe(503);
    await s.text();

    sb.sim.inject({ kind: 'drop' });
    await expect(fetch(`${base}/loyalty/loyalty-cards`, { headers: auth() })).rejects.toThrow();

    sb.sim.inject({ kind: 'malformed', match: 'POST /loyalty/loyalty-cards/1001/stats/50002$' });
    const m = await fetch(`${base}${S()}/50002`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 1 }),
    });
    expect(m.status).toBe(200);
    await expect(m.json()).rejects.toThrow();
    // The malformed answer still applied the operation.
    expect((await call('GET', `${S()}/50002`)).body.stamps).toBe(1);

    sb.sim.inject({ kind: 'latency', ms: 300, match: '^GET /loyalty/loyalty-cards$' });
    const late = await heldBack(
      () => call('GET', '/loyalty/loyalty-cards'),
      () => call('GET', `${S()}/50002`),
    );
    expect([late.held, late.slow.status, late.fast.status]).toEqual([true, 200, 200]);

    sb.sim.inject({ kind: 'timeout', ms: 5000, applied: true, match: 'POST' });
    await expect(
      fetch(`${base}${S()}/50002`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 1 }),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    expect((await call('GET', `${S()}/50002`)).body.stamps).toBe(2);
    expect(sb.sim.counters()).toEqual({ add_stamps: 2 });
  });

  it('reset restores the seed and the control endpoints answer', async () => {
    await call('DELETE', `${S()}/50001`);
    const counters = await (await fetch(`${root}/_sandbox/counters`)).json();
    expect(counters).toEqual({ delete_user: 1 });
    expect((await fetch(`${root}/_sandbox/reset`, { method: 'POST' })).status).toBe(204);
    expect((await call('GET', `${S()}/50001`)).body.rewards).toHaveLength(1);
    expect(sb.sim.counters()).toEqual({});
  });
});
