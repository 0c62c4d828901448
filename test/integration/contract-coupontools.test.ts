import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/domain/errors.js';
import type { Movement, ProviderAdapter } from '../../src/providers/adapter.js';
import type { CoupontoolsAdapter } from '../../src/providers/coupontools/coupontools-adapter.js';
import { coupontools } from '../../src/providers/coupontools/index.js';
import type { CoupontoolsSettings as CoupontoolsConnection } from '../../src/providers/coupontools/settings.js';
import { createCoupontoolsSandbox } from '../../src/sandbox/coupontools/simulator.js';

/**
 * Contract test of the Coupontools adapter against the Coupontools simulator (a black box: seeded
 * ids come from `sandbox.seed`). No gateway: the adapter is called directly.
 */

type Sandbox = ReturnType<typeof createCoupontoolsSandbox>;
type Seed = {
  stampCardId: number;
  stampCardCode: string;
  membershipCardId: number;
  userWithRewardId: number;
  userWithRewardStamps: number;
  availableRewardId: number;
  freshUserId: number;
  voidedUserId: number;
};

let sandbox: Sandbox;
let url: string;
let seed: Seed;
let adapter: CoupontoolsAdapter;
const adapters: CoupontoolsAdapter[] = [];
/** Every error an adapter threw in this file: none may carry a secret. */
const errors: GatewayError[] = [];

function connection(over: Partial<CoupontoolsConnection> = {}): CoupontoolsConnection {
  return {
    id: 'x',
    provider: 'coupontools',
    baseUrl: url,
    timeoutMs: 2000,
    ...sandbox.credentials,
    ...sandbox.settings,
    ...over,
  } as CoupontoolsConnection;
}
function make(over: Partial<CoupontoolsConnection> = {}): CoupontoolsAdapter {
  const a = coupontools.create(connection(over)) as CoupontoolsAdapter;
  adapters.push(a);
  return a;
}
async function failure(p: Promise<unknown>): Promise<GatewayError & { applied?: 'no' | 'unknown' }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    errors.push(e);
    return e;
  }
  throw new Error('expected a failure');
}
const mv = (over: Partial<Movement>): Movement => ({
  operation: 'award',
  unit: 'stamps',
  quantity: 1,
  money: null,
  rewardId: null,
  txnId: 'txn_01JD3X5Q8T2M4N6P8R0S2T4V6W',
  reason: 'test',
  referenceId: null,
  staff: null,
  dedupKey: 'k1',
  notify: true,
  ...over,
});
const counters = (): Record<string, number> => sandbox.sim.counters() as Record<string, number>;
const stampRef = (user: number): string => `${seed.stampCardId}.${user}`;

beforeAll(async () => {
  sandbox = createCoupontoolsSandbox();
  url = await sandbox.sim.start();
  seed = sandbox.seed as unknown as Seed;
});
beforeEach(() => {
  sandbox.sim.reset();
  sandbox.sim.setRateLimit({ requests: 100_000, perSeconds: 1 });
  adapter = make();
});
afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.close()));
});
afterAll(async () => {
  await sandbox.sim.stop();
  const { apiKey, apiSecret } = sandbox.credentials;
  for (const e of errors) {
    expect(e.message).not.toContain(apiKey);
    expect(e.message).not.toContain(apiSecret);
    expect(JSON.stringify(e.extra)).not.toContain(apiSecret);
  }
});

describe('programs (loyalty cards)', () => {
  it('lists, gets (by id or code) and copies programs', async () => {
    const list = await adapter.listPrograms!({ page: 1, perPage: 10 });
    expect(list.data.map((p) => p.reference)).toEqual(
      expect.arrayContaining([String(seed.stampCardId), String(seed.membershipCardId)]),
    );
    expect(list.meta).toMatchObject({ page: 1, total: list.data.length, has_more: false });
    const stamp = list.data.find((p) => p.reference === String(seed.stampCardId))!;
    expect(stamp.card_type).toBe('stamp');
    expect(list.data.find((p) => p.reference === String(seed.membershipCardId))!.card_type).toBe('membership');

    const one = await adapter.listPrograms!({ page: 1, perPage: 1 });
    expect(one.meta.has_more).toBe(true);

    expect(await adapter.getProgram!(String(seed.stampCardId))).toEqual(stamp);
    expect(await adapter.getProgram!(seed.stampCardCode)).toEqual(stamp);
    expect(await adapter.getProgram!('424242')).toBeNull();

    const copy = await adapter.copyProgram!(String(seed.stampCardId), 'Summer card');
    expect(copy).toMatchObject({ name: 'Summer card', card_type: 'stamp' });
    expect(copy.reference).not.toBe(String(seed.stampCardId));
    expect(counters().copy_loyalty_card).toBe(1);
    expect(await adapter.getProgram!(copy.reference)).toMatchObject({ name: 'Summer card' });

    const e = await failure(adapter.copyProgram!('424242', 'x'));
    expect(e.code).toBe('program_not_found');
  });
});

describe('cards (users of a loyalty card)', () => {
  it('gets a card as <loyaltyCardId>.<userId>, with customer and status', async () => {
    const card = await adapter.getCard(stampRef(seed.userWithRewardId));
    expect(card).toMatchObject({
      reference: stampRef(seed.userWithRewardId),
      cardType: 'stamp',
      status: 'active',
      programReference: String(seed.stampCardId),
      customerReference: stampRef(seed.userWithRewardId),
    });
    expect((await adapter.getCard(stampRef(seed.voidedUserId)))!.status).toBe('voided');
    expect(await adapter.getCard(stampRef(999_999))).toBeNull();
    expect(await adapter.getCard('not-a-ref')).toBeNull();
  });

  it("lists a program's cards with pagination, voided ones included", async () => {
    const all = await adapter.listCards!({ programReference: String(seed.stampCardId), page: 1, perPage: 50 });
    const refs = all.data.map((c) => c.reference);
    expect(refs).toEqual(
      expect.arrayContaining([
        stampRef(seed.userWithRewardId),
        stampRef(seed.freshUserId),
        stampRef(seed.voidedUserId),
      ]),
    );
    expect(all.meta.has_more).toBe(false);

    const p1 = await adapter.listCards!({ programReference: String(seed.stampCardId), page: 1, perPage: 1 });
    const p2 = await adapter.listCards!({ programReference: String(seed.stampCardId), page: 2, perPage: 1 });
    expect(p1.data).toHaveLength(1);
    expect(p1.meta.has_more).toBe(true);
    expect(p2.data).toHaveLength(1);
    expect(p2.data[0]!.reference).not.toBe(p1.data[0]!.reference);

    const byCustomer = await adapter.listCards!({
      customerReference: stampRef(seed.freshUserId),
      page: 1,
      perPage: 20,
    });
    expect(byCustomer.data.map((c) => c.reference)).toEqual([stampRef(seed.freshUserId)]);

    expect((await failure(adapter.listCards!({ programReference: '424242', page: 1, perPage: 20 }))).code).toBe(
      'program_not_found',
    );
    expect((await failure(adapter.listCards!({ page: 1, perPage: 20 }))).code).toBe('validation_failed');
  });

  it('issues a card (create user), in bulk too', async () => {
    const card = await adapter.issueCard!({
      programReference: String(seed.stampCardId),
      customerReference: null,
      customer: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
      externalReference: null,
    });
    expect(card.reference).toMatch(new RegExp(`^${seed.stampCardId}\\.[A-Za-z0-9_~@+=!$*()-]+$`));
    expect(card).toMatchObject({
      status: 'active',
      cardType: 'stamp',
      customer: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' },
    });
    expect(counters().create_user).toBe(1);
    expect((await adapter.balance(card.reference)).units.stamps).toBe(0);

    // Issuing to an existing customer copies their data into a user of the other program.
    const m = await adapter.issueCard!({
      programReference: String(seed.membershipCardId),
      customerReference: card.reference,
      customer: null,
      externalReference: null,
    });
    expect(m).toMatchObject({
      cardType: 'membership',
      programReference: String(seed.membershipCardId),
      customer: { email: 'ada@example.com' },
    });

    const bulk = await adapter.bulkCreateUsers(String(seed.stampCardId), [
      { first_name: 'B', email: 'b@example.com', city: 'Gent' },
      { first_name: 'C', custom_1: 'x' },
    ]);
    expect(bulk.created).toBe(2);
    expect(bulk.cards.map((c) => c.customer?.first_name)).toEqual(['B', 'C']);
    expect(counters().bulk_create_users).toBe(1);

    const e = await failure(
      adapter.issueCard!({
        programReference: '424242',
        customerReference: null,
        customer: { first_name: 'X' },
        externalReference: null,
      }),
    );
    expect(e).toMatchObject({ code: 'program_not_found' });
    const b = await failure(
      adapter.issueCard!({
        programReference: String(seed.stampCardId),
        customerReference: null,
        customer: { first_name: 'X', birthday: '1990-01-01' },
        externalReference: null,
      }),
    );
    expect(b.code).toBe('validation_failed');
    expect(counters().create_user).toBe(2);
  });

  it('voids a card; a voided card takes no stamps', async () => {
    const ref = stampRef(seed.freshUserId);
    const card = await adapter.voidCard!(ref);
    expect(card).toMatchObject({ reference: ref, status: 'voided' });
    expect(counters().void_user).toBe(1);
    const e = await failure(adapter.move(ref, mv({ quantity: 1 })));
    expect(e).toMatchObject({ code: 'provider_rejected', applied: 'no' });
    expect((await failure(adapter.voidCard!(stampRef(999_999)))).code).toBe('card_not_found');
  });

  it('deletes a card and a customer (delete user)', async () => {
    await adapter.deleteCard!(stampRef(seed.freshUserId));
    expect(await adapter.getCard(stampRef(seed.freshUserId))).toBeNull();
    await adapter.deleteCustomer!(stampRef(seed.userWithRewardId));
    expect(await adapter.getCustomer!(stampRef(seed.userWithRewardId))).toBeNull();
    expect(counters().delete_user).toBe(2);
    expect((await failure(adapter.deleteCard!(stampRef(999_999)))).code).toBe('card_not_found');
    expect((await failure(adapter.deleteCustomer!(stampRef(999_999)))).code).toBe('customer_not_found');
  });
});

describe('capabilities and moves', () => {
  it('declares stamp and membership card types; cardCapabilities follows the program type', async () => {
    expect(coupontools.cardTypes.map((c) => c.cardType)).toEqual(['stamp', 'membership']);
    expect((adapter as ProviderAdapter).history).toBeUndefined();
    const stamp = await adapter.cardCapabilities(stampRef(seed.userWithRewardId));
    expect(stamp).toMatchObject({ cardType: 'stamp', nativeUnit: 'stamps' });
    expect(stamp.operations).toEqual(expect.arrayContaining(['award', 'redeem_reward', 'rewards', 'void_card']));
    expect(stamp.operations).not.toEqual(expect.arrayContaining(['redeem']));
    const member = await adapter.issueCard!({
      programReference: String(seed.membershipCardId),
      customerReference: null,
      customer: { first_name: 'M' },
      externalReference: null,
    });
    const caps = await adapter.cardCapabilities(member.reference);
    expect(caps.cardType).toBe('membership');
    expect(caps.operations).not.toContain('award');
    expect((await failure(adapter.cardCapabilities(stampRef(999_999)))).code).toBe('card_not_found');
    expect((await failure(adapter.cardCapabilities('junk'))).code).toBe('card_not_found');
  });

  it('awards stamps with only {amount}; balance and balanceAfter agree', async () => {
    const ref = stampRef(seed.userWithRewardId);
    const before = await adapter.balance(ref);
    expect(before).toMatchObject({ nativeUnit: 'stamps', units: { stamps: seed.userWithRewardStamps, rewards: 1 } });
    const r = await adapter.move(ref, mv({ quantity: 3 }));
    expect(r.balanceAfter).toBe(seed.userWithRewardStamps + 3);
    expect(counters().add_stamps).toBe(1);
    expect(counters().update_user ?? 0).toBe(0);
    expect((await adapter.balance(ref)).units.stamps).toBe(seed.userWithRewardStamps + 3);
    expect((await failure(adapter.move(stampRef(999_999), mv({})))).code).toBe('card_not_found');
  });

  it("normalizes a membership card's balance to rewards", async () => {
    const member = await adapter.issueCard!({
      programReference: String(seed.membershipCardId),
      customerReference: null,
      customer: { first_name: 'M' },
      externalReference: null,
    });
    expect(await adapter.balance(member.reference)).toEqual({
      nativeUnit: 'rewards',
      units: { rewards: 0 },
      totalEarned: null,
      totalRedeemed: null,
    });
  });

  it('refuses what the card type cannot do, without calling the provider', async () => {
    const ref = stampRef(seed.userWithRewardId);
    for (const op of ['redeem', 'adjust', 'expire', 'visit', 'purchase', 'redeem_coupon'] as const) {
      const e = await failure(adapter.move(ref, mv({ operation: op, quantity: op === 'purchase' ? 0 : 1 })));
      expect(e.code, op).toBe('unsupported_operation');
      expect(e.message).toContain('stamp card supports award in stamps');
    }
    expect((await failure(adapter.move(ref, mv({ unit: 'points' })))).code).toBe('unsupported_operation');
    expect((await failure(adapter.move(ref, mv({ unit: 'visits' })))).code).toBe('unsupported_operation');
    const member = await adapter.issueCard!({
      programReference: String(seed.membershipCardId),
      customerReference: null,
      customer: { first_name: 'M' },
      externalReference: null,
    });
    const e = await failure(adapter.move(member.reference, mv({ quantity: 2 })));
    expect(e.code).toBe('unsupported_operation');
    expect(e.message).toContain('membership');
    expect(counters().add_stamps ?? 0).toBe(0);
  });

  it('lists rewards and uses one (redeem_reward); a used or unknown reward is refused', async () => {
    const ref = stampRef(seed.userWithRewardId);
    expect(await adapter.rewards!(ref)).toEqual([
      expect.objectContaining({ id: String(seed.availableRewardId), status: 'available', count: 1 }),
    ]);
    const r = await adapter.move(
      ref,
      mv({ operation: 'redeem_reward', unit: 'rewards', quantity: 1, rewardId: String(seed.availableRewardId) }),
    );
    expect(r.balanceAfter).toBe(0);
    expect(counters().use_rewards).toBe(1);
    expect(await adapter.rewards!(ref)).toEqual([
      expect.objectContaining({ id: String(seed.availableRewardId), status: 'used' }),
    ]);
    expect((await adapter.balance(ref)).units.rewards).toBe(0);

    const again = await failure(
      adapter.move(ref, mv({ operation: 'redeem_reward', unit: 'rewards', rewardId: String(seed.availableRewardId) })),
    );
    expect(again).toMatchObject({ code: 'reward_not_available' });
    expect(again.message).toContain('The card holds');
    const none = await failure(
      adapter.move(
        stampRef(seed.freshUserId),
        mv({ operation: 'redeem_reward', unit: 'rewards', rewardId: String(seed.availableRewardId) }),
      ),
    );
    expect(none.code).toBe('reward_not_found');
    expect(counters().use_rewards).toBe(1);
  });
});

describe('customers (= users)', () => {
  it('creates, gets, updates (without stamps) and searches customers', async () => {
    const c = await adapter.createCustomer!({
      connection: 'x',
      first_name: 'Grace',
      email: 'grace@example.com',
      programReference: String(seed.stampCardId),
    });
    expect(c).toMatchObject({ first_name: 'Grace', email: 'grace@example.com', cardReferences: [c.reference] });
    expect(await adapter.getCustomer!(c.reference)).toMatchObject({
      reference: c.reference,
      email: 'grace@example.com',
    });

    const u = await adapter.updateCustomer!(c.reference, { last_name: 'Hopper', phone: '+1 555 0100' });
    expect(u).toMatchObject({ first_name: 'Grace', last_name: 'Hopper', phone: '+1 555 0100' });
    expect(counters().update_user).toBe(1);
    expect(counters().add_stamps ?? 0).toBe(0);
    expect((await adapter.balance(c.reference)).units.stamps).toBe(0);

    const found = await adapter.listCustomers!({ connection: 'x', email: 'grace@example.com' });
    expect(found.data.map((x) => x.reference)).toEqual([c.reference]);
    const search = await adapter.listCustomers!({ connection: 'x', search: 'hopp' });
    expect(search.data.map((x) => x.reference)).toEqual([c.reference]);
    const page = await adapter.listCustomers!({ connection: 'x', page: 1, per_page: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.meta.has_more).toBe(true);

    expect((await failure(adapter.updateCustomer!(stampRef(999_999), { first_name: 'X' }))).code).toBe(
      'customer_not_found',
    );
    expect((await failure(adapter.createCustomer!({ connection: 'x', first_name: 'X' }))).code).toBe(
      'validation_failed',
    );
    expect(await adapter.getCustomer!(stampRef(999_999))).toBeNull();
  });
});

describe('push notifications', () => {
  it('groups cards by program, sends to a program, or to every program', async () => {
    const member = await adapter.issueCard!({
      programReference: String(seed.membershipCardId),
      customerReference: null,
      customer: { first_name: 'M' },
      externalReference: null,
    });
    const n = await adapter.notify!({
      message: 'Double stamps!',
      cardReferences: [stampRef(seed.userWithRewardId), stampRef(seed.freshUserId), member.reference],
    });
    expect(n).toMatchObject({ message: 'Double stamps!', status: 'sent', recipients: 3 });
    expect(counters().push_notification).toBe(2);
    await adapter.notify!({ message: 'hello', programReference: String(seed.stampCardId) });
    expect(counters().push_notification).toBe(3);
    await adapter.notify!({ message: 'hello all' });
    expect(counters().push_notification).toBe(5);
    expect((await failure(adapter.notify!({ message: 'later', scheduledAt: '2030-01-01T00:00:00Z' }))).code).toBe(
      'unsupported_operation',
    );
    expect((await failure(adapter.notify!({ message: 'x', programReference: '424242' }))).code).toBe(
      'program_not_found',
    );
  });
});

describe('provider failures', () => {
  it('wrong credentials → provider_auth_failed, no secret in the message', async () => {
    const bad = make({ apiKey: 'wrong-key-123', apiSecret: 'wrong-secret-456' });
    const e = await failure(bad.listPrograms!({ page: 1, perPage: 10 }));
    expect(e).toMatchObject({ code: 'provider_auth_failed', applied: 'no' });
    expect(e.message).not.toContain('wrong-secret-456');
    expect(e.message).not.toContain('wrong-key-123');
  });

  it('429 → provider_rate_limited with Retry-After', async () => {
    await adapter.listPrograms!({ page: 1, perPage: 10 });
    sandbox.sim.setRateLimit({ requests: 1, perSeconds: 30 });
    await adapter.getCard(stampRef(seed.freshUserId));
    const e = await failure(adapter.getCard(stampRef(seed.freshUserId)));
    expect(e).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
    expect(Number(e.extra.retryAfter)).toBeGreaterThan(0);
  });

  it('client-side rateLimit refuses when the wait would pass the timeout', async () => {
    const slow = make({ rateLimit: { requests: 2, perSeconds: 60 }, timeoutMs: 500 });
    await slow.getCard(stampRef(seed.freshUserId)); // the program list, then the user
    expect(await failure(slow.getCard(stampRef(seed.freshUserId)))).toMatchObject({
      code: 'provider_rate_limited',
      applied: 'no',
    });
  });

  it('5xx → provider_unavailable: applied unknown on writes, no on reads', async () => {
    sandbox.sim.inject({ kind: 'status', status: 503 });
    expect(await failure(adapter.balance(stampRef(seed.freshUserId)))).toMatchObject({
      code: 'provider_unavailable',
      applied: 'no',
    });
    await adapter.listPrograms!({ page: 1, perPage: 10 });
    sandbox.sim.inject({ kind: 'status', status: 500, applied: true, match: 'POST' });
    expect(await failure(adapter.move(stampRef(seed.freshUserId), mv({ quantity: 2 })))).toMatchObject({
      code: 'provider_unavailable',
      applied: 'unknown',
    });
  });

  it('a refusal without a known body → provider_rejected, applied no', async () => {
    await adapter.listPrograms!({ page: 1, perPage: 10 });
    sandbox.sim.inject({ kind: 'status', status: 422, match: 'POST' });
    expect(await failure(adapter.move(stampRef(seed.freshUserId), mv({ quantity: 2 })))).toMatchObject({
      code: 'provider_rejected',
      applied: 'no',
    });
  });

  it('timeout and dropped connection on a write → applied unknown', async () => {
    const quick = make({ timeoutMs: 300 });
    await quick.listPrograms!({ page: 1, perPage: 10 });
    sandbox.sim.inject({ kind: 'timeout', applied: true, match: 'POST' });
    expect(await failure(quick.move(stampRef(seed.freshUserId), mv({ quantity: 2 })))).toMatchObject({
      code: 'provider_timeout',
      applied: 'unknown',
    });
    sandbox.sim.inject({ kind: 'drop', applied: true, match: 'PUT' });
    expect(await failure(quick.voidCard!(stampRef(seed.freshUserId)))).toMatchObject({ applied: 'unknown' });
    sandbox.sim.inject({ kind: 'timeout' });
    expect(await failure(quick.getCard(stampRef(seed.freshUserId)))).toMatchObject({
      code: 'provider_timeout',
      applied: 'no',
    });
  });

  it('malformed body → provider_bad_response (unknown on writes)', async () => {
    sandbox.sim.inject({ kind: 'malformed' });
    expect(await failure(adapter.getCard(stampRef(seed.freshUserId)))).toMatchObject({
      code: 'provider_bad_response',
      applied: 'no',
    });
    sandbox.sim.inject({ kind: 'malformed' });
    expect(await failure(adapter.listPrograms!({ page: 1, perPage: 10 }))).toMatchObject({
      code: 'provider_bad_response',
    });
    await adapter.listPrograms!({ page: 1, perPage: 10 });
    sandbox.sim.inject({ kind: 'malformed', applied: true, match: 'POST' });
    expect(await failure(adapter.move(stampRef(seed.freshUserId), mv({ quantity: 2 })))).toMatchObject({
      code: 'provider_bad_response',
      applied: 'unknown',
    });
  });
});

/**
 * Error bodies the simulator does not produce but the documents describe (v3 failures with HTTP 200,
 * generic {message}/{error}) or that only the provider's own text can signal (insufficient stamps):
 * a stub server answers every request with a fixed status and body.
 */
describe('error bodies (stub server)', () => {
  let stub: Server;
  let answer: { status: number; body: string } = { status: 200, body: '{}' };
  /** Per-method answers that take precedence over `answer`. */
  let byMethod: Record<string, { status: number; body: string }> = {};
  let stubUrl = '';
  beforeAll(async () => {
    stub = createServer((req, res) => {
      req.resume();
      const a = byMethod[req.method ?? ''] ?? answer;
      req.on('end', () => res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v4`;
  });
  afterAll(() => new Promise<void>((r) => stub.close(() => r())));
  const v3 = (code: number, message: string) =>
    JSON.stringify({ status: { status: 'failed', errors: { error_code: code, error_message: message } } });
  beforeEach(() => {
    byMethod = {};
  });
  const stubAdapter = () => make({ baseUrl: stubUrl, apiKey: 'stub-key-abcdef', apiSecret: 'stub-secret-ghijkl' });

  it('a 200 whose body says failed is an error, mapped by v3 code and message', async () => {
    const a = stubAdapter();
    answer = { status: 200, body: v3(1000, 'Bad credentials') };
    expect(await failure(a.listPrograms!({ page: 1, perPage: 5 }))).toMatchObject({
      code: 'provider_auth_failed',
      applied: 'no',
    });
    answer = { status: 200, body: v3(502, 'Campaign not found') };
    expect(await failure(a.getProgram!('1'))).toMatchObject({ code: 'program_not_found', applied: 'no' });
    answer = { status: 200, body: v3(310, 'Invalid value for email') };
    expect(await failure(a.listPrograms!({ page: 1, perPage: 5 }))).toMatchObject({
      code: 'provider_rejected',
      applied: 'no',
    });
    answer = { status: 200, body: JSON.stringify({ success: false, message: 'nope' }) };
    expect(await failure(a.listPrograms!({ page: 1, perPage: 5 }))).toMatchObject({ code: 'provider_rejected' });
  });

  it('insufficient, duplicate and generic bodies; secrets echoed by the provider are redacted', async () => {
    const a = stubAdapter();
    answer = { status: 200, body: JSON.stringify([{ id: 7, name: 'Card', type: 'stamp' }]) };
    await a.listPrograms!({ page: 1, perPage: 5 });
    // The user has no rewards list (unknown shape): the reward is not pre-checked, the provider refuses.
    byMethod = { GET: { status: 200, body: JSON.stringify({ id: 1, stamps: 3 }) } };
    answer = { status: 422, body: JSON.stringify({ error: 'Not enough stamps to use this reward' }) };
    const e = await failure(a.move('7.1', mv({ operation: 'redeem_reward', unit: 'rewards', rewardId: '3' })));
    expect(e).toMatchObject({ code: 'insufficient_points', applied: 'no' });
    expect(e.message).toContain('The card holds 3 stamps');
    answer = {
      status: 200,
      body: JSON.stringify({
        status: { status: 'failed', errors: [{ error_code: 342, error_message: 'Reward 3 has already been used' }] },
      }),
    };
    expect(
      await failure(a.move('7.1', mv({ operation: 'redeem_reward', unit: 'rewards', rewardId: '3' }))),
    ).toMatchObject({ code: 'reward_not_available' });
    byMethod = {};
    answer = { status: 400, body: JSON.stringify({ message: 'Insufficient stamps' }) };
    expect(await failure(a.move('7.1', mv({ quantity: 1 })))).toMatchObject({
      code: 'insufficient_points',
      applied: 'no',
    });
    answer = { status: 409, body: JSON.stringify({ error: { code: 'duplicate', message: 'User already exists' } }) };
    expect(await failure(a.createCustomer!({ connection: 'x', email: 'a@b.co', programReference: '7' }))).toMatchObject(
      { code: 'customer_exists' },
    );
    answer = { status: 400, body: JSON.stringify({ message: 'bad header x-api-secret=stub-secret-ghijkl' }) };
    const leak = await failure(a.move('7.1', mv({ quantity: 1 })));
    expect(leak.message).not.toContain('stub-secret-ghijkl');
    expect(leak.message).toContain('[redacted]');
    answer = { status: 200, body: 'not json' };
    expect(await failure(a.move('7.1', mv({ quantity: 1 })))).toMatchObject({
      code: 'provider_bad_response',
      applied: 'unknown',
    });
  });

  it('reads other plausible user shapes (stamps_count, wrapped data, used flags, voided as 1)', async () => {
    const a = stubAdapter();
    answer = { status: 200, body: JSON.stringify({ data: [{ id: 7, name: 'Card', type: 'Stamp' }] }) };
    await a.listPrograms!({ page: 1, perPage: 5 });
    answer = {
      status: 200,
      body: JSON.stringify({
        data: {
          stat_id: '55',
          stamps_count: '4',
          is_voided: 1,
          rewards: [
            { reward_id: 3, title: 'Cake', used: true },
            { id: 4, status: 'open' },
          ],
        },
      }),
    };
    expect(await a.balance('7.55')).toEqual({
      nativeUnit: 'stamps',
      units: { stamps: 4, rewards: 1 },
      totalEarned: null,
      totalRedeemed: null,
    });
    expect((await a.getCard('7.55'))!.status).toBe('voided');
    expect(await a.rewards!('7.55')).toEqual([
      { id: '3', name: 'Cake', status: 'used', cost: null, unit: null, count: 0 },
      { id: '4', name: null, status: 'available', cost: null, unit: null, count: 1 },
    ]);
    answer = { status: 200, body: JSON.stringify({ id: 55, current_stamps: 'lots' }) };
    expect(await failure(a.balance('7.55'))).toMatchObject({ code: 'provider_bad_response', applied: 'no' });
  });
});
