import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, historyOf, type Res } from '../helpers/gateway.js';
import { type SandboxGateway, type SandboxHandle, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * End to end, through the gateway's HTTP API against the four real sandbox simulators (real HTTP on
 * both sides): issue a card, award, balance, redeem, history (with who recorded each entry),
 * idempotent retries proven by the simulators' own counters, operations made at the provider
 * outside the gateway, and the card, customer, program, visit, purchase, coupon and notification
 * routes wherever the provider supports them.
 *
 * One gateway and one set of simulators for the whole file; nothing is reset in between (a reset
 * re-seeds a simulator), so each describe works on cards it issued itself or on seeded cards no
 * other describe touches, and counters are compared as differences.
 */

let sb: SandboxGateway;
beforeAll(async () => {
  sb = await startSandboxGateway();
});
afterAll(async () => sb?.close());

// ---- helpers ----

type Body = Record<string, unknown>;

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Res> =>
  sb.gw.request(method, path, { body, ...(headers ? { headers } : {}) });
const post = (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers);
const get = (path: string) => call('GET', path);

const award = (card: string, points: number, extra: Body = {}, headers?: Record<string, string>) =>
  post('/v1/points/award', { card_id: card, points, reason: 'Test award', ...extra }, headers);
const redeem = (card: string, points: number, extra: Body = {}, headers?: Record<string, string>) =>
  post('/v1/points/redeem', { card_id: card, points, reason: 'Test redeem', ...extra }, headers);

/** A transaction answer: 201, Location, and the fields given. */
function expectTxn(res: Res, fields: Body) {
  expect(res.status, res.text).toBe(201);
  expect(res.body.id).toMatch(/^txn_[0-9A-Z]{26}$/);
  expect(res.headers.get('location')).toBe(`/v1/transactions/${res.body.id}`);
  expect(res.body).toMatchObject({ status: 'succeeded', error: null, source: 'api', ...fields });
  return res.body as Body & { id: string };
}

/** How often the simulator applied an operation so far. */
const count = (h: SandboxHandle, op: string): number => h.sim.counters()[op] ?? 0;

/** Calls a simulator's own API directly, outside the gateway. */
async function direct(url: string, method: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The history entry of a gateway transaction. */
function entryOf(history: Body[], txnId: string): Body {
  const e = history.find((x) => x.id === txnId);
  expect(e, `history has ${txnId}: ${JSON.stringify(history.map((x) => x.id))}`).toBeDefined();
  return e!;
}

/**
 * Requirement 2 for one card: the same award twice with one Idempotency-Key, and twice with one
 * reference_id and no key, is applied once each (the simulator's counter proves it), and the
 * replay answers exactly what the first answer said, with Idempotent-Replayed: true.
 */
async function idempotentAwards(card: string, h: SandboxHandle, counter: string, points: number, tag: string) {
  const before = count(h, counter);
  const key = `e2e-${tag}-${Date.now()}`;
  const first = await award(card, points, { reason: `Keyed ${tag}` }, { 'idempotency-key': key });
  const t1 = expectTxn(first, { type: 'award', card_id: card, points, delta: points });
  expect(first.headers.get('idempotent-replayed')).toBeNull();
  expect(count(h, counter)).toBe(before + 1);
  const again = await award(card, points, { reason: `Keyed ${tag}` }, { 'idempotency-key': key });
  expect(again.status, again.text).toBe(201);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(again.body).toEqual(first.body);
  expect(count(h, counter)).toBe(before + 1);

  const ref = `order-${tag}-${Date.now()}`;
  const byRef = await award(card, points, { reason: `Ref ${tag}`, reference_id: ref });
  const t2 = expectTxn(byRef, { type: 'award', card_id: card, points, reference_id: ref });
  expect(byRef.headers.get('idempotent-replayed')).toBeNull();
  expect(count(h, counter)).toBe(before + 2);
  const byRefAgain = await award(card, points, { reason: `Ref ${tag}`, reference_id: ref });
  expect(byRefAgain.status, byRefAgain.text).toBe(201);
  expect(byRefAgain.headers.get('idempotent-replayed')).toBe('true');
  expect(byRefAgain.body).toEqual(byRef.body);
  expect(count(h, counter)).toBe(before + 2);

  // Each is in the history once.
  const hist = await historyOf(sb.gw, card);
  expect(hist.filter((e) => e.id === t1.id)).toHaveLength(1);
  expect(hist.filter((e) => e.id === t2.id)).toHaveLength(1);
  return { keyed: t1, byRef: t2 };
}

// ---- connections ----

describe('connections', () => {
  it('GET /v1/connections lists every connection with the card types it supports, and no secrets', async () => {
    const res = await get('/v1/connections');
    expect(res.status, res.text).toBe(200);
    const byId = Object.fromEntries((res.body.data as Body[]).map((c) => [c.id, c])) as Record<
      string,
      {
        provider: string;
        capabilities: {
          card_types?: { card_type: string; native_unit: string; operations: string[]; units: string[] }[];
          operations: string[];
        };
      }
    >;
    expect(Object.keys(byId).sort()).toEqual(['ct', 'hl', 'leal', 'ledger', 'lt']);
    expect(byId.hl!.provider).toBe('highlight');
    const types = (id: string) =>
      Object.fromEntries((byId[id]!.capabilities.card_types ?? []).map((t) => [t.card_type, t]));
    expect(Object.keys(types('hl')).sort()).toEqual([
      'cashback',
      'coupon',
      'discount',
      'gift',
      'membership',
      'multipass',
      'reward',
      'stamp',
    ]);
    expect(types('hl').stamp).toMatchObject({ native_unit: 'stamps', units: ['stamps', 'rewards'] });
    expect(types('hl').stamp!.operations).toEqual(
      expect.arrayContaining(['award', 'redeem', 'redeem_reward', 'history']),
    );
    expect(types('hl').cashback).toMatchObject({ native_unit: 'points' });
    expect(types('hl').cashback!.units.sort()).toEqual(['amount', 'points']);
    expect(types('hl').coupon!.operations).toContain('redeem_coupon');
    expect(types('ct').stamp).toMatchObject({ native_unit: 'stamps' });
    expect(types('ct').stamp!.operations).toEqual(expect.arrayContaining(['award', 'redeem_reward']));
    expect(types('ct').stamp!.operations).not.toContain('redeem');
    expect(Object.keys(types('leal'))).toEqual(['stamp']);
    expect(types('leal').stamp!.operations).not.toContain('redeem');
    expect(Object.keys(types('lt'))).toEqual(['points']);
    expect(types('lt').points).toMatchObject({ native_unit: 'points', units: ['points'] });
    expect(types('lt').points!.operations).toEqual(expect.arrayContaining(['award', 'redeem', 'purchase', 'history']));
    expect(byId.hl!.capabilities.operations).toEqual(
      expect.arrayContaining(['issue_card', 'customers', 'programs', 'notify']),
    );
    expect(byId.ct!.capabilities.operations).toEqual(expect.arrayContaining(['copy_program', 'void_card', 'notify']));
    for (const h of [sb.hl, sb.ct, sb.leal, sb.lt])
      for (const secret of Object.values(h.credentials)) expect(res.text).not.toContain(secret);
  });
});

// ---- Highlight ----

describe('highlight: stamp card', () => {
  let card: string;
  let serial: string;
  const txns: Record<string, string> = {};

  it('issues a stamp card to an existing customer (POST /v1/cards)', async () => {
    const before = count(sb.hl, 'cards.create');
    const res = await post('/v1/cards', {
      connection: 'hl',
      program_id: `hl:${sb.hl.seed.templates.stamp}`,
      customer_id: `hl:${sb.hl.seed.customers.second}`,
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      connection: 'hl',
      card_type: 'stamp',
      program_id: `hl:${sb.hl.seed.templates.stamp}`,
      customer_id: `hl:${sb.hl.seed.customers.second}`,
      capabilities: { native_unit: 'stamps' },
    });
    expect(res.body.id).toMatch(/^hl:\d{6}-\d{3}-\d{3}$/);
    expect(res.headers.get('location')).toBe(`/v1/cards/${res.body.id}`);
    expect(count(sb.hl, 'cards.create')).toBe(before + 1);
    card = res.body.id;
    serial = res.body.reference;
    expect(card).toBe(`hl:${serial}`);
  });

  it(
    'the issued card says what this card supports, as GET /v1/cards/{id} does (template 101 has no visit or ' +
      'purchase mechanics)',
    async () => {
      const issued = await post('/v1/cards', {
        connection: 'hl',
        program_id: `hl:${sb.hl.seed.templates.stamp}`,
        customer_id: `hl:${sb.hl.seed.customers.second}`,
      });
      expect(issued.status, issued.text).toBe(201);
      expect(issued.body.id).toBe(card); // the customer's card of that template, again
      const got = await get(`/v1/cards/${card}`);
      expect(got.status, got.text).toBe(200);
      expect(got.body.capabilities.operations).not.toContain('visit');
      expectProblem(await post(`/v1/cards/${card}/visits`, {}), 422, 'unsupported_operation');
      expect(issued.body.capabilities).toEqual(got.body.capabilities);
    },
  );

  it('award, balance, redeem, reward redeem and history, in stamps, each entry recorded by both', async () => {
    const a = expectTxn(await award(card, 3, { reason: 'Three coffees' }), {
      type: 'award',
      card_id: card,
      connection: 'hl',
      unit: 'stamps',
      points: 3,
      delta: 3,
      balance_after: 3,
    });
    txns.award = a.id;

    const bal = await get(`/v1/points/balance/${card}`);
    expect(bal.status, bal.text).toBe(200);
    expect(bal.body).toMatchObject({
      card_id: card,
      connection: 'hl',
      unit: 'stamps',
      available: 3,
      units: { stamps: 3, rewards: 0 },
    });

    const r = expectTxn(await redeem(card, 1, { reason: 'Stamp taken back' }), {
      type: 'redeem',
      unit: 'stamps',
      points: 1,
      delta: -1,
      balance_after: 2,
    });
    txns.redeem = r.id;

    // More than the card holds: refused, nothing sent.
    const before = count(sb.hl, 'cards.subtract-stamp');
    expectProblem(await redeem(card, 50), 400, 'insufficient_points');
    expect(count(sb.hl, 'cards.subtract-stamp')).toBe(before);

    // 2 + 7 = 9 stamps on an 8-stamp card: one reward earned, 1 stamp left.
    const a2 = expectTxn(await award(card, 7, { reason: 'Seven coffees' }), {
      type: 'award',
      unit: 'stamps',
      points: 7,
      balance_after: 1,
    });
    txns.award2 = a2.id;
    const bal2 = await get(`/v1/points/balance/${card}`);
    expect(bal2.body).toMatchObject({ unit: 'stamps', available: 1, units: { stamps: 1, rewards: 1 } });

    const rewards = await get(`/v1/cards/${card}/rewards`);
    expect(rewards.status, rewards.text).toBe(200);
    expect(rewards.body.card_id).toBe(card);
    expect(rewards.body.data).toHaveLength(1);
    expect(rewards.body.data[0]).toMatchObject({ status: 'available', count: 1, cost: 8, unit: 'stamps' });
    const rr = expectTxn(
      await post(`/v1/cards/${card}/rewards/redeem`, {
        value: { amount: '3.50', currency: 'EUR' },
        reason: 'Free coffee',
      }),
      {
        type: 'redeem_reward',
        unit: 'rewards',
        points: 1,
        delta: -1,
        balance_after: 0,
        amount: { amount: '3.50', currency: 'EUR' },
      },
    );
    txns.reward = rr.id;
    expect((await get(`/v1/points/balance/${card}`)).body.units).toEqual({ stamps: 1, rewards: 0 });

    const hist = await historyOf(sb.gw, card);
    for (const [name, id] of Object.entries(txns)) {
      const e = entryOf(hist, id);
      expect(e.recorded_by, name).toBe('both');
      expect(e.source, name).toBe('api');
      expect(e.card_id).toBe(card);
    }
    expect(entryOf(hist, txns.award!)).toMatchObject({
      type: 'award',
      delta: 3,
      balance_after: 3,
      unit: 'stamps',
      reason: 'Three coffees',
    });
    expect(entryOf(hist, txns.redeem!)).toMatchObject({ type: 'redeem', delta: -1, balance_after: 2 });
    expect(entryOf(hist, txns.reward!)).toMatchObject({ type: 'redeem_reward', delta: -1 });
    // Newest first, and nothing recorded twice.
    expect(hist.map((e) => e.id)).toEqual([txns.reward, txns.award2, txns.redeem, txns.award]);
  });

  it('an award retried with the same Idempotency-Key, or the same reference_id, is stamped once', async () => {
    await idempotentAwards(card, sb.hl, 'cards.add-stamp', 1, 'hl-stamp');
    expect((await get(`/v1/points/balance/${card}`)).body.units.stamps).toBe(3);
  });

  it('a stamp added directly at Highlight shows in the history as recorded_by provider', async () => {
    const res = await direct(
      `${sb.hl.url}/cards/${serial}/add-stamp`,
      'POST',
      { 'x-api-key': sb.hl.credentials.apiKey! },
      { stamps: 1, comment: 'Walk-in stamp at the till' },
    );
    expect(res.status).toBe(200);
    const hist = await historyOf(sb.gw, card);
    const outside = hist.filter((e) => e.recorded_by === 'provider');
    expect(outside).toHaveLength(1);
    expect(outside[0]).toMatchObject({
      source: 'provider',
      status: 'succeeded',
      card_id: card,
      connection: 'hl',
      type: 'award',
      unit: 'stamps',
      points: 1,
      delta: 1,
      balance_after: 4,
      reason: 'Walk-in stamp at the till',
    });
    expect(outside[0]!.id).toMatch(/^prv_/);
    // It is the newest entry, and the gateway's own entries are still matched.
    expect(hist[0]!.id).toBe(outside[0]!.id);
    expect(hist.filter((e) => e.recorded_by === 'gateway')).toEqual([]);
    expect((await get(`/v1/points/balance/${card}`)).body.available).toBe(4);
  });
});

describe('highlight: cashback card', () => {
  let card: string;
  const txns: string[] = [];

  it('issues a cashback card', async () => {
    const res = await post('/v1/cards', {
      connection: 'hl',
      program_id: `hl:${sb.hl.seed.templates.cashback}`,
      customer_id: `hl:${sb.hl.seed.customers.second}`,
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ card_type: 'cashback', capabilities: { native_unit: 'points' } });
    expect(res.body.capabilities.operations).toEqual(expect.arrayContaining(['award', 'redeem', 'purchase']));
    card = res.body.id;
  });

  it('award, balance, redeem and history in points; purchases and redeems in money to the cent', async () => {
    txns.push(
      expectTxn(await award(card, 40), { type: 'award', unit: 'points', points: 40, delta: 40, balance_after: 40 }).id,
    );
    let bal = await get(`/v1/points/balance/${card}`);
    expect(bal.body).toMatchObject({ card_id: card, unit: 'points', available: 40, units: { points: 40, amount: 0 } });

    txns.push(
      expectTxn(await redeem(card, 15), { type: 'redeem', unit: 'points', points: 15, delta: -15, balance_after: 25 })
        .id,
    );

    // Purchases: money as a decimal string; the cashback balance is in minor units (cents).
    const p1 = expectTxn(
      await post(`/v1/cards/${card}/purchases`, {
        amount: { amount: '12.50', currency: 'EUR' },
        reason: 'Order #1001',
        reference_id: 'order-1001',
      }),
      {
        type: 'purchase',
        unit: 'amount',
        points: 1250,
        amount: { amount: '12.50', currency: 'EUR' },
        reference_id: 'order-1001',
        balance_after: 1250,
      },
    );
    txns.push(p1.id);
    const p2 = expectTxn(
      await post(`/v1/cards/${card}/purchases`, { amount: { amount: '0.29', currency: 'EUR' }, reason: 'Order #1002' }),
      {
        type: 'purchase',
        unit: 'amount',
        points: 29,
        amount: { amount: '0.29', currency: 'EUR' },
        balance_after: 1279,
      },
    );
    txns.push(p2.id);
    bal = await get(`/v1/points/balance/${card}`);
    expect(bal.body).toMatchObject({ unit: 'points', available: 25, units: { points: 25, amount: 1279 } });

    // A purchase in another currency is refused before anything is sent.
    expectProblem(
      await post(`/v1/cards/${card}/purchases`, { amount: { amount: '1.00', currency: 'USD' } }),
      400,
      'validation_failed',
    );

    // Redeem money: 3.33 of cashback.
    txns.push(
      expectTxn(await redeem(card, 333, { unit: 'amount' }), {
        type: 'redeem',
        unit: 'amount',
        points: 333,
        delta: -333,
        balance_after: 946,
      }).id,
    );
    bal = await get(`/v1/points/balance/${card}`);
    expect(bal.body.units).toEqual({ points: 25, amount: 946 });

    const hist = await historyOf(sb.gw, card);
    expect(hist.map((e) => e.id)).toEqual([...txns].reverse());
    for (const id of txns) expect(entryOf(hist, id).recorded_by).toBe('both');
    expect(entryOf(hist, p1.id)).toMatchObject({
      type: 'purchase',
      unit: 'amount',
      points: 1250,
      amount: { amount: '12.50', currency: 'EUR' },
    });
  });

  it('an award retried with the same Idempotency-Key, or the same reference_id, is applied once', async () => {
    await idempotentAwards(card, sb.hl, 'cards.add-point', 5, 'hl-cashback');
    expect((await get(`/v1/points/balance/${card}`)).body.available).toBe(35);
  });

  it(
    'a purchase on a cashback card moves the amount balance: its delta is the amount credited, like an award in ' +
      'unit amount',
    async () => {
      const before = (await get(`/v1/points/balance/${card}`)).body.units.amount as number;
      const p = await post(`/v1/cards/${card}/purchases`, {
        amount: { amount: '2.05', currency: 'EUR' },
        reason: 'Order #1003',
      });
      expectTxn(p, { type: 'purchase', unit: 'amount', points: 205, balance_after: before + 205 });
      const a = await award(card, 205, { unit: 'amount', reason: 'Same movement as an award' });
      expectTxn(a, { type: 'award', unit: 'amount', points: 205, delta: 205, balance_after: before + 410 });
      // add-transaction-amount 2.05 both times, so the same signed change.
      expect(p.body.delta).toBe(205);
    },
  );

  it(
    'a refund made directly at Highlight on a cashback card shows in the history as recorded_by provider, in ' +
      'minor units',
    async () => {
      // The seeded cashback card (12.50 cashback), not touched by the gateway elsewhere in this file.
      const seeded = `hl:${sb.hl.seed.cards.cashback}`;
      expect((await get(`/v1/points/balance/${seeded}`)).body.units).toEqual({ points: 40, amount: 1250 });
      const res = await direct(
        `${sb.hl.url}/cards/${sb.hl.seed.cards.cashback}/subtract-transaction-amount`,
        'POST',
        { 'x-api-key': sb.hl.credentials.apiKey! },
        { amount: 1.1, comment: 'Refund at the till' },
      );
      expect(res.status).toBe(200);
      expect((await get(`/v1/points/balance/${seeded}`)).body.units).toEqual({ points: 40, amount: 1140 });
      const hist = await get(`/v1/points/history/${seeded}`);
      expect(hist.status, hist.text).toBe(200);
      expect(hist.body.data).toHaveLength(1);
      expect(hist.body.data[0]).toMatchObject({
        recorded_by: 'provider',
        source: 'provider',
        type: 'redeem',
        unit: 'amount',
        points: 110,
        delta: -110,
        balance_after: 1140,
        reason: 'Refund at the till',
      });
    },
  );
});

describe('highlight: visits, coupons, customers, cards, programs and notifications', () => {
  it('records visits on a card whose template counts visits, and refuses them on one that does not', async () => {
    const issued = await post('/v1/cards', {
      connection: 'hl',
      program_id: `hl:${sb.hl.seed.templates.stampVisit}`,
      customer_id: `hl:${sb.hl.seed.customers.second}`,
    });
    expect(issued.status, issued.text).toBe(201);
    const card = issued.body.id as string;
    expect(issued.body.capabilities.operations).toContain('visit');
    const before = count(sb.hl, 'cards.add-visit');
    const v = expectTxn(await post(`/v1/cards/${card}/visits`, { visits: 2, reason: 'Lunch visit' }), {
      type: 'visit',
      unit: 'visits',
      points: 2,
      delta: 2,
    });
    expect(count(sb.hl, 'cards.add-visit')).toBe(before + 1);
    // Visit mechanics: one stamp per visit.
    expect((await get(`/v1/points/balance/${card}`)).body).toMatchObject({ unit: 'stamps', available: 2 });
    const hist = await historyOf(sb.gw, card);
    expect(entryOf(hist, v.id)).toMatchObject({ type: 'visit', recorded_by: 'both' });

    // The plain stamp template has no visit mechanics.
    const refused = await post(`/v1/cards/hl:${sb.hl.seed.cards.stamp}/visits`, { visits: 1 });
    expectProblem(refused, 422, 'unsupported_operation');
    expect(refused.body.supported).not.toContain('visit');
    expect(count(sb.hl, 'cards.add-visit')).toBe(before + 1);
  });

  it('redeems the coupon card once; the second time is 409 coupon_already_redeemed', async () => {
    const card = `hl:${sb.hl.seed.cards.coupon}`;
    expect((await get(`/v1/points/balance/${card}`)).body).toMatchObject({ unit: 'rewards', available: 1 });
    const before = count(sb.hl, 'cards.redeem-coupon');
    const first = await post(`/v1/cards/${card}/coupon/redeem`, {
      value: { amount: '5.00', currency: 'EUR' },
      reason: 'Coupon at till 3',
    });
    const t = expectTxn(first, { type: 'redeem_coupon', card_id: card, amount: { amount: '5.00', currency: 'EUR' } });
    expect(count(sb.hl, 'cards.redeem-coupon')).toBe(before + 1);
    const second = await post(`/v1/cards/${card}/coupon/redeem`, { reason: 'Again' });
    expectProblem(second, 409, 'coupon_already_redeemed');
    expect(count(sb.hl, 'cards.redeem-coupon')).toBe(before + 1);
    expect((await get(`/v1/points/balance/${card}`)).body).toMatchObject({ unit: 'rewards', available: 0 });
    const hist = await historyOf(sb.gw, card);
    expect(entryOf(hist, t.id)).toMatchObject({ type: 'redeem_coupon', recorded_by: 'both' });
    expect(hist.filter((e) => e.type === 'redeem_coupon')).toHaveLength(1);
  });

  it('customers: create, get, search, update, delete', async () => {
    const created = await post('/v1/customers', {
      connection: 'hl',
      first_name: 'Grace',
      last_name: 'Hopper',
      email: 'grace@example.com',
      phone: '+447700900003',
      external_reference: 'crm-grace',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      connection: 'hl',
      first_name: 'Grace',
      last_name: 'Hopper',
      email: 'grace@example.com',
      phone: '+447700900003',
      external_reference: 'crm-grace',
      card_ids: [],
    });
    const id = created.body.id as string;
    expect(id).toMatch(/^hl:cus_/);
    expect(created.headers.get('location')).toBe(`/v1/customers/${id}`);

    const got = await get(`/v1/customers/${id}`);
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ id, first_name: 'Grace', email: 'grace@example.com' });

    const byEmail = await get('/v1/customers?connection=hl&email=GRACE@example.com');
    expect(byEmail.status, byEmail.text).toBe(200);
    expect(byEmail.body.data.map((c: Body) => c.id)).toEqual([id]);
    const bySearch = await get(`/v1/customers?connection=hl&search=${encodeURIComponent('grace@example.com')}`);
    expect(bySearch.body.data.map((c: Body) => c.id)).toEqual([id]);
    const all = await get('/v1/customers?connection=hl');
    expect(all.body.data.map((c: Body) => c.id)).toEqual(
      expect.arrayContaining([id, `hl:${sb.hl.seed.customers.first}`]),
    );

    const patched = await call('PATCH', `/v1/customers/${id}`, { last_name: 'Murray Hopper' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ id, last_name: 'Murray Hopper', email: 'grace@example.com' });
    expect((await get(`/v1/customers/${id}`)).body.last_name).toBe('Murray Hopper');

    // Another customer's email: the provider refuses it.
    expectProblem(await call('PATCH', `/v1/customers/${id}`, { email: 'ada@example.com' }), 409, 'customer_exists');

    const del = await call('DELETE', `/v1/customers/${id}`);
    expect(del.status, del.text).toBe(204);
    expectProblem(await get(`/v1/customers/${id}`), 404, 'customer_not_found');
  });

  it("cards: list a customer's cards, get one, delete one", async () => {
    const customer = `hl:${sb.hl.seed.customers.second}`;
    const list = await get(`/v1/cards?connection=hl&customer_id=${customer}`);
    expect(list.status, list.text).toBe(200);
    const types = (list.body.data as Body[]).map((c) => c.card_type).sort();
    expect(types).toEqual(['cashback', 'stamp', 'stamp']);
    for (const c of list.body.data as Body[]) expect(c).toMatchObject({ connection: 'hl', customer_id: customer });
    expect(list.body.meta).toMatchObject({ page: 1 });

    const visitCard = (list.body.data as Body[]).find((c) => c.program_id === `hl:${sb.hl.seed.templates.stampVisit}`)!;
    const one = await get(`/v1/cards/${visitCard.id}`);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({ id: visitCard.id, card_type: 'stamp', customer_id: customer });
    expect(one.body.capabilities.operations).toContain('visit');

    // A balance read makes the gateway remember what the card supports (for a minute).
    expect((await get(`/v1/points/balance/${visitCard.id}`)).status).toBe(200);
    const del = await call('DELETE', `/v1/cards/${visitCard.id}`);
    expect(del.status, del.text).toBe(204);
    expectProblem(await get(`/v1/cards/${visitCard.id}`), 404, 'card_not_found');
    // Deleting it forgot that: an award is refused before anything is recorded (no transaction kept).
    const late = await award(visitCard.id as string, 1);
    expectProblem(late, 404, 'card_not_found');
    expect(late.body.transaction_id).toBeUndefined();
    expect(late.headers.get('location')).toBeNull();
    const after = await get(`/v1/cards?connection=hl&customer_id=${customer}`);
    expect(after.body.data).toHaveLength(2);
  });

  it('programs: list and get, with rewards and capabilities', async () => {
    const list = await get('/v1/programs?connection=hl');
    expect(list.status, list.text).toBe(200);
    const ids = (list.body.data as Body[]).map((p) => p.id);
    expect(ids).toEqual(
      expect.arrayContaining(Object.values(sb.hl.seed.templates as Record<string, number>).map((t) => `hl:${t}`)),
    );
    const stamp = (list.body.data as Body[]).find((p) => p.id === `hl:${sb.hl.seed.templates.stamp}`)!;
    expect(stamp).toMatchObject({ connection: 'hl', card_type: 'stamp', name: 'Coffee stamps' });

    const reward = await get(`/v1/programs/hl:${sb.hl.seed.templates.rewardPoints}`);
    expect(reward.status, reward.text).toBe(200);
    expect(reward.body).toMatchObject({
      id: `hl:${sb.hl.seed.templates.rewardPoints}`,
      card_type: 'reward',
      capabilities: { native_unit: 'scores' },
    });
    expect(reward.body.rewards.map((r: Body) => [r.id, r.cost])).toEqual([
      ['1111', 50],
      ['1112', 200],
    ]);
    expectProblem(await get('/v1/programs/hl:999'), 404, 'program_not_found');
    // Highlight has no copy endpoint.
    expectProblem(await post(`/v1/programs/hl:${sb.hl.seed.templates.stamp}/copy`, {}), 422, 'unsupported_operation');
  });

  it('notifications: to a program and to card ids', async () => {
    const before = count(sb.hl, 'pushes.create');
    const toProgram = await post('/v1/notifications', {
      connection: 'hl',
      program_id: `hl:${sb.hl.seed.templates.stamp}`,
      message: 'Double stamps this weekend!',
    });
    expect(toProgram.status, toProgram.text).toBe(201);
    expect(toProgram.body).toMatchObject({ connection: 'hl', message: 'Double stamps this weekend!', status: 'sent' });
    expect(count(sb.hl, 'pushes.create')).toBe(before + 1);

    const cards = [`hl:${sb.hl.seed.cards.stamp}`, `hl:${sb.hl.seed.cards.cashback}`];
    const toCards = await post(
      '/v1/notifications',
      { connection: 'hl', card_ids: cards, message: 'Thanks for visiting' },
      { 'idempotency-key': `e2e-push-${Date.now()}` },
    );
    expect(toCards.status, toCards.text).toBe(201);
    expect(toCards.body).toMatchObject({ connection: 'hl', message: 'Thanks for visiting', recipients: 2 });
    expect(String(toCards.body.id).split(',')).toHaveLength(2);
    expect(count(sb.hl, 'pushes.create')).toBe(before + 3);

    const list = await get('/v1/notifications?connection=hl');
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.length).toBe(3);
    const firstId = String(toProgram.body.id);
    const one = await get(`/v1/notifications/hl/${firstId}`);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({ id: firstId, connection: 'hl', message: 'Double stamps this weekend!' });
  });
});

// ---- Coupontools ----

describe('coupontools', () => {
  let card: string;
  let customer: string;

  it('programs: list, get and copy', async () => {
    const list = await get('/v1/programs?connection=ct');
    expect(list.status, list.text).toBe(200);
    expect((list.body.data as Body[]).map((p) => [p.id, p.card_type])).toEqual([
      [`ct:${sb.ct.seed.stampCardId}`, 'stamp'],
      [`ct:${sb.ct.seed.membershipCardId}`, 'membership'],
    ]);
    const one = await get(`/v1/programs/ct:${sb.ct.seed.stampCardId}`);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({
      id: `ct:${sb.ct.seed.stampCardId}`,
      name: 'Coffee Stamp Card',
      card_type: 'stamp',
      capabilities: { native_unit: 'stamps' },
    });

    const before = count(sb.ct, 'copy_loyalty_card');
    const copy = await post(
      `/v1/programs/ct:${sb.ct.seed.stampCardId}/copy`,
      { name: 'Summer stamps' },
      { 'idempotency-key': `e2e-copy-${Date.now()}` },
    );
    expect(copy.status, copy.text).toBe(201);
    expect(copy.body).toMatchObject({ connection: 'ct', name: 'Summer stamps', card_type: 'stamp' });
    expect(copy.body.id).not.toBe(`ct:${sb.ct.seed.stampCardId}`);
    expect(count(sb.ct, 'copy_loyalty_card')).toBe(before + 1);
    expect((await get(`/v1/programs/${copy.body.id}`)).body.name).toBe('Summer stamps');
  });

  it("issues a card (a new user of the loyalty card) with the customer's data", async () => {
    const res = await post('/v1/cards', {
      connection: 'ct',
      program_id: `ct:${sb.ct.seed.stampCardId}`,
      customer: { first_name: 'Dora', last_name: 'Marquez', email: 'dora@example.com' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      connection: 'ct',
      card_type: 'stamp',
      program_id: `ct:${sb.ct.seed.stampCardId}`,
      status: 'active',
    });
    expect(res.body.id).toMatch(new RegExp(`^ct:${sb.ct.seed.stampCardId}\\.\\d+$`));
    card = res.body.id;
    customer = res.body.customer_id;
    expect(customer).toBe(card);
  });

  it('award, balance, reward redeem, history (recorded by the gateway); plain redeem is not offered', async () => {
    const a = expectTxn(await award(card, 12, { reason: 'Twelve coffees' }), {
      type: 'award',
      unit: 'stamps',
      points: 12,
      delta: 12,
      balance_after: 2,
    });
    const bal = await get(`/v1/points/balance/${card}`);
    expect(bal.status, bal.text).toBe(200);
    expect(bal.body).toMatchObject({
      card_id: card,
      connection: 'ct',
      unit: 'stamps',
      available: 2,
      units: { stamps: 2, rewards: 1 },
    });

    const refused = await redeem(card, 1);
    expectProblem(refused, 422, 'unsupported_operation');
    expect(refused.body.supported).toContain('redeem_reward');

    const rewards = await get(`/v1/cards/${card}/rewards`);
    expect(rewards.status, rewards.text).toBe(200);
    const available = (rewards.body.data as Body[]).filter((r) => r.status === 'available');
    expect(available).toHaveLength(1);
    const rewardId = available[0]!.id as string;
    const before = count(sb.ct, 'use_rewards');
    const rr = expectTxn(await post(`/v1/cards/${card}/rewards/redeem`, { reward_id: rewardId }), {
      type: 'redeem_reward',
      unit: 'rewards',
      reward_id: rewardId,
      delta: -1,
      balance_after: 0,
    });
    expect(count(sb.ct, 'use_rewards')).toBe(before + 1);
    expect((await get(`/v1/points/balance/${card}`)).body.units).toEqual({ stamps: 2, rewards: 0 });
    // The same reward again: it is used.
    expectProblem(await post(`/v1/cards/${card}/rewards/redeem`, { reward_id: rewardId }), 422, 'reward_not_available');
    expect(count(sb.ct, 'use_rewards')).toBe(before + 1);

    const hist = await historyOf(sb.gw, card);
    expect(hist.map((e) => e.id)).toEqual([rr.id, a.id]);
    for (const e of hist) expect(e).toMatchObject({ recorded_by: 'gateway', source: 'api' });
  });

  it('an award retried with the same Idempotency-Key, or the same reference_id, is stamped once', async () => {
    await idempotentAwards(card, sb.ct, 'add_stamps', 3, 'ct');
    expect((await get(`/v1/points/balance/${card}`)).body.units.stamps).toBe(8);
  });

  it("customers and cards: get the customer, list the program's cards", async () => {
    const c = await get(`/v1/customers/${customer}`);
    expect(c.status, c.text).toBe(200);
    expect(c.body).toMatchObject({
      id: customer,
      first_name: 'Dora',
      last_name: 'Marquez',
      email: 'dora@example.com',
      card_ids: [card],
    });
    const list = await get(`/v1/cards?connection=ct&program_id=ct:${sb.ct.seed.stampCardId}&per_page=100`);
    expect(list.status, list.text).toBe(200);
    expect((list.body.data as Body[]).map((x) => x.id)).toContain(card);
    const mine = await get(`/v1/cards?connection=ct&customer_id=${customer}`);
    expect(mine.status, mine.text).toBe(200);
    expect((mine.body.data as Body[]).map((x) => x.id)).toEqual([card]);
  });

  it('notifications: to a program and to card ids', async () => {
    const before = count(sb.ct, 'push_notification');
    const toProgram = await post('/v1/notifications', {
      connection: 'ct',
      program_id: `ct:${sb.ct.seed.stampCardId}`,
      message: 'Double stamps today',
    });
    expect(toProgram.status, toProgram.text).toBe(201);
    expect(toProgram.body).toMatchObject({ connection: 'ct', message: 'Double stamps today' });
    const toCard = await post('/v1/notifications', {
      connection: 'ct',
      card_ids: [card],
      message: 'Your reward is waiting',
    });
    expect(toCard.status, toCard.text).toBe(201);
    expect(toCard.body).toMatchObject({ connection: 'ct', recipients: 1 });
    expect(count(sb.ct, 'push_notification')).toBe(before + 2);
  });

  it('PATCH status voided voids the card at the provider; DELETE removes a card', async () => {
    const before = count(sb.ct, 'void_user');
    const voided = await call('PATCH', `/v1/cards/${card}`, { status: 'voided' });
    expect(voided.status, voided.text).toBe(200);
    expect(voided.body).toMatchObject({ id: card, status: 'voided' });
    expect(count(sb.ct, 'void_user')).toBe(before + 1);
    expect((await get(`/v1/cards/${card}`)).body.status).toBe('voided');

    const other = await post('/v1/cards', {
      connection: 'ct',
      program_id: `ct:${sb.ct.seed.stampCardId}`,
      customer: { first_name: 'Temp', email: 'temp@example.com' },
    });
    expect(other.status, other.text).toBe(201);
    const del = await call('DELETE', `/v1/cards/${other.body.id}`);
    expect(del.status, del.text).toBe(204);
    expectProblem(await get(`/v1/cards/${other.body.id}`), 404, 'card_not_found');
  });
});

// ---- Leal ----

describe('leal', () => {
  let card: string;

  it('customers: create and get', async () => {
    const created = await post('/v1/customers', {
      connection: 'leal',
      first_name: 'Eve',
      last_name: 'Moreau',
      email: 'eve@example.com',
      external_reference: 'crm-eve',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      connection: 'leal',
      first_name: 'Eve',
      last_name: 'Moreau',
      email: 'eve@example.com',
      external_reference: 'crm-eve',
    });
    const id = created.body.id as string;
    expect(id).toMatch(/^leal:\d+$/);
    const got = await get(`/v1/customers/${id}`);
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ id, first_name: 'Eve', email: 'eve@example.com' });
    expectProblem(await get('/v1/customers/leal:999999'), 404, 'customer_not_found');
  });

  it("issues a card with a new customer's data in program_id", async () => {
    const before = count(sb.leal, 'customers.create');
    const res = await post('/v1/cards', {
      connection: 'leal',
      program_id: `leal:${sb.leal.seed.cardId}`,
      customer: { first_name: 'Finn', last_name: 'Berg', email: 'finn@example.com' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      connection: 'leal',
      card_type: 'stamp',
      program_id: `leal:${sb.leal.seed.cardId}`,
      status: 'active',
      capabilities: { native_unit: 'stamps' },
    });
    expect(res.body.id).toMatch(/^leal:\d+\.\d+$/);
    expect(res.body.customer_id).toBe(`leal:${res.body.reference.split('.')[0]}`);
    expect(count(sb.leal, 'customers.create')).toBe(before + 1);
    card = res.body.id;

    // Issuing again to that customer answers the card it holds.
    const again = await post('/v1/cards', {
      connection: 'leal',
      program_id: `leal:${sb.leal.seed.cardId}`,
      customer_id: res.body.customer_id,
    });
    expect(again.status, again.text).toBe(201);
    expect(again.body.id).toBe(card);
    const list = await get(`/v1/cards?connection=leal&customer_id=${res.body.customer_id}`);
    expect(list.status, list.text).toBe(200);
    expect((list.body.data as Body[]).map((c) => c.id)).toEqual([card]);
  });

  it('award, balance, reward redeem and history, recorded by the gateway', async () => {
    const a = expectTxn(await award(card, 12, { reason: 'Twelve coffees' }), {
      type: 'award',
      unit: 'stamps',
      points: 12,
      delta: 12,
      balance_after: 12,
    });
    const bal = await get(`/v1/points/balance/${card}`);
    expect(bal.status, bal.text).toBe(200);
    expect(bal.body).toMatchObject({
      card_id: card,
      connection: 'leal',
      unit: 'stamps',
      available: 12,
      units: { stamps: 12, rewards: 1 },
    });

    // Leal has no plain redeem: it names redeem_reward.
    const refused = await redeem(card, 2);
    expectProblem(refused, 422, 'unsupported_operation');

    const rewards = await get(`/v1/cards/${card}/rewards`);
    expect(rewards.status, rewards.text).toBe(200);
    const coffee = (rewards.body.data as Body[]).find((r) => r.id === String(sb.leal.seed.rewards.freeCoffee));
    expect(coffee).toMatchObject({ status: 'available', count: 1, cost: 10, unit: 'stamps' });
    const before = count(sb.leal, 'customer_cards.redeem');
    const rr = expectTxn(await post(`/v1/cards/${card}/rewards/redeem`, { reward_id: coffee!.id }), {
      type: 'redeem_reward',
      reward_id: coffee!.id,
      // Recorded in what it cost: the reward's 10 stamps.
      unit: 'stamps',
      points: 10,
      delta: -10,
      balance_after: 2,
    });
    expect(count(sb.leal, 'customer_cards.redeem')).toBe(before + 1);
    expect((await get(`/v1/points/balance/${card}`)).body).toMatchObject({
      available: 2,
      units: { stamps: 2, rewards: 0 },
    });

    const hist = await historyOf(sb.gw, card);
    expect(hist.map((e) => e.id)).toEqual([rr.id, a.id]);
    for (const e of hist) expect(e).toMatchObject({ recorded_by: 'gateway', source: 'api', status: 'succeeded' });
  });

  it('an award retried with the same Idempotency-Key, or the same reference_id, is stamped once', async () => {
    await idempotentAwards(card, sb.leal, 'customer_cards.stamp', 2, 'leal');
    expect((await get(`/v1/points/balance/${card}`)).body.available).toBe(6);
  });
});

// ---- Loyalty.lt ----

describe('loyaltylt', () => {
  let card: string;
  let userId: number;
  let cardId: number;

  it('issues a card to a customer by email (POST /v1/cards)', async () => {
    const res = await post('/v1/cards', {
      connection: 'lt',
      program_id: `lt:${sb.lt.seed.partnerCardId}`,
      customer: { email: 'dana@example.com' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      connection: 'lt',
      card_type: 'points',
      status: 'active',
      capabilities: { native_unit: 'points' },
    });
    expect(res.body.id).toMatch(/^lt:\d{3}-\d{3}-\d{3}$/);
    card = res.body.id;
    expect(res.body.customer_id).toMatch(/^lt:\d+$/);
    userId = Number(res.body.customer_id.slice(3));
    const info = await direct(`${sb.lt.url}/en/shop/loyalty-cards/info?card_number=${res.body.reference}`, 'GET', {
      'x-api-key': sb.lt.credentials.apiKey!,
      'x-api-secret': sb.lt.credentials.apiSecret!,
    });
    expect(info.status).toBe(200);
    cardId = info.body.data.id;
    expect(info.body.data.user_id).toBe(userId);

    const list = await get(`/v1/cards?connection=lt&customer_id=${res.body.customer_id}`);
    expect(list.status, list.text).toBe(200);
    expect((list.body.data as Body[]).map((c) => c.id)).toEqual([card]);
  });

  it('award, balance, redeem and history, each entry recorded by both', async () => {
    const a = expectTxn(await award(card, 100, { reason: 'Order #1002', reference_id: 'order-1002' }), {
      type: 'award',
      unit: 'points',
      points: 100,
      delta: 100,
      balance_after: 100,
    });
    let bal = await get(`/v1/points/balance/${card}`);
    expect(bal.status, bal.text).toBe(200);
    expect(bal.body).toMatchObject({
      card_id: card,
      connection: 'lt',
      unit: 'points',
      available: 100,
      units: { points: 100 },
      total_earned: 100,
      total_redeemed: 0,
    });

    const r = expectTxn(await redeem(card, 30, { reason: '3 EUR voucher' }), {
      type: 'redeem',
      unit: 'points',
      points: 30,
      delta: -30,
      balance_after: 70,
    });
    expectProblem(await redeem(card, 1000), 400, 'insufficient_points');
    bal = await get(`/v1/points/balance/${card}`);
    expect(bal.body).toMatchObject({ available: 70, total_earned: 100, total_redeemed: 30 });

    const hist = await historyOf(sb.gw, card);
    expect(entryOf(hist, a.id)).toMatchObject({
      recorded_by: 'both',
      type: 'award',
      delta: 100,
      balance_after: 100,
      reference_id: 'order-1002',
    });
    expect(entryOf(hist, r.id)).toMatchObject({ recorded_by: 'both', type: 'redeem', delta: -30, balance_after: 70 });
    expect(entryOf(hist, a.id).provider_reference).not.toBeNull();
    expect(hist.filter((e) => e.recorded_by === 'gateway')).toEqual([]);
    expect(hist.indexOf(entryOf(hist, r.id))).toBeLessThan(hist.indexOf(entryOf(hist, a.id)));
  });

  it('an award retried with the same Idempotency-Key, or the same reference_id, is applied once', async () => {
    await idempotentAwards(card, sb.lt, 'transactions.create', 5, 'lt');
    expect((await get(`/v1/points/balance/${card}`)).body.available).toBe(80);
  });

  it('a replay equals the first answer every time (400 awards by reference_id, each retried once)', async () => {
    // The seeded empty card 102, touched nowhere else. Each award is applied once, and its replay
    // must repeat the first answer exactly (README: "identical to the first answer").
    const other = `lt:${sb.lt.seed.cards.empty.card_number}`;
    const before = count(sb.lt, 'transactions.create');
    const differing: { ref: string; first: unknown; replay: unknown }[] = [];
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const ref = `replay-${batch}-${i}`;
          const first = await award(other, 1, { reason: 'Replay check', reference_id: ref });
          expect(first.status, first.text).toBe(201);
          const replay = await award(other, 1, { reason: 'Replay check', reference_id: ref });
          expect(replay.headers.get('idempotent-replayed')).toBe('true');
          if (JSON.stringify(replay.body) !== JSON.stringify(first.body)) {
            const diff = (b: Body) =>
              Object.fromEntries(
                Object.entries(b).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify((first.body as Body)[k])),
              );
            differing.push({ ref, first: { completed_at: first.body.completed_at }, replay: diff(replay.body) });
          }
        }),
      );
    }
    expect(count(sb.lt, 'transactions.create')).toBe(before + 400);
    expect((await get(`/v1/points/balance/${other}`)).body.available).toBe(400);
    expect(differing).toEqual([]);
  });

  it('points awarded directly at Loyalty.lt show in the history as recorded_by provider', async () => {
    const res = await direct(
      `${sb.lt.url}/en/shop/transactions/create`,
      'POST',
      { 'x-api-key': sb.lt.credentials.apiKey!, 'x-api-secret': sb.lt.credentials.apiSecret! },
      {
        user_id: userId,
        loyalty_card_id: cardId,
        order_id: `walk-in-${Date.now()}`,
        order_total: 25,
        points: 25,
        description: 'Walk-in purchase at the shop',
      },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const hist = await historyOf(sb.gw, card);
    const outside = hist.filter((e) => e.recorded_by === 'provider' && e.reason === 'Walk-in purchase at the shop');
    expect(outside).toHaveLength(1);
    expect(outside[0]).toMatchObject({
      source: 'provider',
      status: 'succeeded',
      card_id: card,
      connection: 'lt',
      type: 'award',
      unit: 'points',
      points: 25,
      delta: 25,
      balance_after: 105,
    });
    expect(outside[0]!.id).toMatch(/^prv_/);
    expect(hist[0]!.id).toBe(outside[0]!.id);
    expect((await get(`/v1/points/balance/${card}`)).body.available).toBe(105);
  });

  it("a purchase earns what the provider's rules give (1 point per whole euro)", async () => {
    const p = expectTxn(
      await post(`/v1/cards/${card}/purchases`, {
        amount: { amount: '12.50', currency: 'EUR' },
        reason: 'Order #1003',
      }),
      { type: 'purchase', amount: { amount: '12.50', currency: 'EUR' }, balance_after: 117 },
    );
    expect((await get(`/v1/points/balance/${card}`)).body.available).toBe(117);
    const hist = await historyOf(sb.gw, card);
    expect(entryOf(hist, p.id).recorded_by).toBe('both');
    const txn = await get(`/v1/transactions/${p.id}`);
    expect(txn.status, txn.text).toBe(200);
    expect(txn.body).toMatchObject({ id: p.id, status: 'succeeded', balance_after: 117 });
  });

  it('a purchase is recorded in a unit the card counts in (a Loyalty.lt card counts points only)', async () => {
    const units = (await get(`/v1/cards/${card}`)).body.capabilities.units as string[];
    expect(units).toEqual(['points']);
    const hist = await historyOf(sb.gw, card);
    const purchase = hist.find((e) => e.type === 'purchase')!;
    // balance_after 117 is a number of points; recorded with unit "amount" it reads as 1.17 EUR.
    expect(units).toContain(purchase.unit);
  });

  it('expire takes points at the provider; its delta is the signed change, as on the built-in ledger', async () => {
    const before = count(sb.lt, 'transactions.deductPoints');
    const ex = await post('/v1/points/expire', { card_id: card, points: 5, reason: 'Expired by request' });
    expectTxn(ex, { type: 'expire', unit: 'points', points: 5, balance_after: 112 });
    expect(count(sb.lt, 'transactions.deductPoints')).toBe(before + 1);
    expect((await get(`/v1/points/balance/${card}`)).body.available).toBe(112);
    expect(entryOf(await historyOf(sb.gw, card), ex.body.id).recorded_by).toBe('both');
    expect(ex.body.delta).toBe(-5);
  });

  it('history pages through the merged record with the cursor, newest first, each entry once', async () => {
    const all = await historyOf(sb.gw, card);
    expect(all.length).toBeGreaterThanOrEqual(8);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Res = await get(`/v1/points/history/${card}?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, page.text).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(3);
      paged.push(...page.body.data.map((e: Body) => e.id as string));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all.map((e) => e.id));
    const times = all.map((e) => Date.parse(e.created_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    // Filters apply to provider entries too.
    const awards = await get(`/v1/points/history/${card}?type=award`);
    expect(awards.body.data.map((e: Body) => e.recorded_by)).toContain('provider');
    expect(awards.body.data.every((e: Body) => e.type === 'award')).toBe(true);
    const byRef = await get(`/v1/points/history/${card}?reference_id=order-1002`);
    expect(byRef.body.data.map((e: Body) => e.reference_id)).toEqual(['order-1002']);
  });
});
