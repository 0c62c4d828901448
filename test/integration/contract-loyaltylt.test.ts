import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/domain/errors.js';
import type { Movement, ProviderAdapter } from '../../src/providers/adapter.js';
import { loyaltylt } from '../../src/providers/loyaltylt/index.js';
import type { LoyaltyltSettings as LoyaltyltConnection } from '../../src/providers/loyaltylt/settings.js';
import { createLoyaltyltSandbox } from '../../src/sandbox/loyaltylt/simulator.js';

/** The Loyalty.lt adapter against the sandbox simulator, used as a black box. */

type Sandbox = ReturnType<typeof createLoyaltyltSandbox>;

let sb: Sandbox;
let base: string;
let adapter: ProviderAdapter;
const extra: ProviderAdapter[] = [];
/** Every error the adapters threw in this file, to check that none carries a secret. */
const thrown: ProviderError[] = [];

const conn = (over: Partial<LoyaltyltConnection> = {}): LoyaltyltConnection =>
  ({
    id: 'x',
    provider: 'loyaltylt',
    baseUrl: base,
    timeoutMs: 2000,
    ...sb.credentials,
    ...sb.settings,
    ...over,
  }) as LoyaltyltConnection;

const other = (over: Partial<LoyaltyltConnection>): ProviderAdapter => {
  const a = loyaltylt.create(conn(over));
  extra.push(a);
  return a;
};

let seq = 0;
const txnId = (): string => `txn_01J${String(++seq).padStart(23, '0')}`;

function mv(operation: Movement['operation'], quantity: number, over: Partial<Movement> = {}): Movement {
  const id = txnId();
  return {
    operation,
    unit: 'points',
    quantity,
    money: null,
    rewardId: null,
    txnId: id,
    reason: `Test ${operation}`,
    referenceId: 'ORDER-1',
    staff: 'anna',
    dedupKey: `lgw-${id}`,
    notify: false,
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    thrown.push(err as ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

const counters = (): Record<string, number> => sb.sim.counters() as Record<string, number>;
const CARD = (): string => sb.seed.cardNumber as string;
const EMPTY = (): string => String(sb.seed.emptyCardId);
const INACTIVE = (): string => String(sb.seed.inactiveCardId);

beforeAll(async () => {
  sb = createLoyaltyltSandbox();
  base = await sb.sim.start(0);
});
afterAll(async () => {
  for (const a of extra) await a.close();
  await sb.sim.stop();
  // No secret in any error message the adapters produced.
  expect(thrown.length).toBeGreaterThan(10);
  for (const e of thrown) {
    expect(e.message).not.toContain(sb.credentials.apiKey as string);
    expect(e.message).not.toContain(sb.credentials.apiSecret as string);
  }
});
beforeEach(() => {
  sb.sim.reset();
  sb.sim.setRateLimit({ requests: 1000, perSeconds: 1 });
  adapter = loyaltylt.create(conn());
});
afterEach(async () => adapter.close());

describe('capabilities and references', () => {
  it('declares one points card type and answers it for a card_number, a card_id and a QR code', async () => {
    expect(loyaltylt.cardTypes).toHaveLength(1);
    const [points] = loyaltylt.cardTypes;
    expect(points).toMatchObject({ cardType: 'points', units: ['points'], nativeUnit: 'points' });
    expect(points!.operations).toEqual(
      expect.arrayContaining([
        'award',
        'redeem',
        'adjust',
        'expire',
        'reverse',
        'purchase',
        'balance',
        'history',
        'issue_card',
        'get_card',
        'list_cards',
      ]),
    );
    expect(points!.operations).not.toContain('visit');
    expect(await adapter.cardCapabilities(CARD())).toEqual(points);
    expect(await adapter.cardCapabilities(String(sb.seed.cardId))).toEqual(points);
    const qr = (sb.seed.cards as Record<string, { qr_code: string }>).active!.qr_code;
    expect(await adapter.cardCapabilities(qr)).toEqual(points);
  });

  it('answers card_not_found for an unknown card, by number and by id', async () => {
    expect((await failure(adapter.cardCapabilities('999-999-999'))).code).toBe('card_not_found');
    const e = await failure(adapter.move('999999', mv('award', 5)));
    expect(e.code).toBe('card_not_found');
    expect(e.applied).toBe('no');
  });

  it('refuses what a points card cannot do, without calling the provider', async () => {
    await adapter.cardCapabilities(CARD());
    const before = counters();
    for (const m of [
      mv('visit', 1),
      mv('redeem_reward', 0, { rewardId: '1' }),
      mv('redeem_coupon', 0),
      mv('award', 3, { unit: 'stamps' }),
      mv('redeem', 3, { unit: 'amount' }),
      mv('expire', 0),
    ]) {
      const e = await failure(adapter.move(CARD(), m));
      expect(e.code).toBe('unsupported_operation');
      expect(e.applied).toBe('no');
      expect(e.message).toContain('award, redeem, adjust, expire');
    }
    expect((await failure(adapter.move(CARD(), mv('purchase', 0)))).code).toBe('validation_failed');
    expect(counters()).toEqual(before);
  });
});

describe('movements', () => {
  it('awards through transactions/create and answers the new balance and the transaction id', async () => {
    const r = await adapter.move(CARD(), mv('award', 25));
    expect(r.balanceAfter).toBe(525);
    expect(r.providerReference).toMatch(/^\d+$/);
    expect(counters()['transactions.create']).toBe(1);
    expect((await adapter.balance(CARD())).units.points).toBe(525);
  });

  it('redeems through transactions/create points_redeemed, and refuses more than the card holds', async () => {
    const r = await adapter.move(CARD(), mv('redeem', 120));
    expect(r.balanceAfter).toBe(380);
    const e = await failure(adapter.move(CARD(), mv('redeem', 1000)));
    expect(e.code).toBe('insufficient_points');
    expect(e.applied).toBe('no');
    expect(e.message).toContain('The card holds 380 points.');
    expect((await adapter.balance(CARD())).units.points).toBe(380);
  });

  it('adjusts both ways (+ transactions/create, − deduct-points) and expires a number of points', async () => {
    expect((await adapter.move(CARD(), mv('adjust', 40))).balanceAfter).toBe(540);
    const minus = await adapter.move(CARD(), mv('adjust', -15));
    expect(minus.balanceAfter).toBe(525);
    expect(minus.providerReference).toMatch(/^\d+$/);
    expect((await adapter.move(CARD(), mv('expire', 25))).balanceAfter).toBe(500);
    expect(counters()).toMatchObject({ 'transactions.create': 1, 'transactions.deductPoints': 2 });
    const e = await failure(adapter.move(EMPTY(), mv('expire', 1)));
    expect(e.code).toBe('insufficient_points');
    expect(e.message).toContain('holds 0 points');
  });

  it('books a purchase: the provider computes the points from the amount', async () => {
    const r = await adapter.move(
      CARD(),
      mv('purchase', 0, { unit: 'amount', money: { decimal: '10.50', minor: 1050, currency: 'EUR' } }),
    );
    expect(r.balanceAfter).toBe(500 + Math.floor(10.5 * (sb.seed.pointsPerEuro as number)));
  });

  it('treats a repeated order_id (the dedupKey) as already applied, without applying it twice', async () => {
    const m = mv('award', 30);
    const first = await adapter.move(CARD(), m);
    const again = await loyaltylt.create(conn()).move(CARD(), m);
    expect(again).toEqual({ balanceAfter: 530, providerReference: first.providerReference });
    expect(counters()['transactions.create']).toBe(1);
    expect((await adapter.balance(CARD())).units.points).toBe(530);
  });

  it('keeps a dedupKey used by another gateway transaction a duplicate', async () => {
    const m = mv('award', 30);
    await adapter.move(CARD(), m);
    const e = await failure(adapter.move(CARD(), mv('award', 30, { dedupKey: m.dedupKey })));
    expect(e.code).toBe('duplicate_at_provider');
    expect(e.applied).toBe('no');
  });

  it('maps a blocked card to card_blocked', async () => {
    for (const m of [mv('award', 1), mv('adjust', -1)]) {
      const e = await failure(adapter.move(INACTIVE(), m));
      expect(e.code).toBe('card_blocked');
      expect(e.applied).toBe('no');
    }
  });
});

describe('balance, history and cards', () => {
  it('normalizes the balance with lifetime totals', async () => {
    await adapter.move(CARD(), mv('redeem', 100));
    expect(await adapter.balance(CARD())).toEqual({
      nativeUnit: 'points',
      units: { points: 400 },
      totalEarned: 500,
      totalRedeemed: 100,
    });
  });

  it('reads the history newest first, one entry per movement, with the gateway txn ids', async () => {
    const award = mv('award', 10);
    const redeem = mv('redeem', 4);
    const expire = mv('expire', 2, { reason: '' });
    for (const m of [award, redeem, expire]) await adapter.move(CARD(), m);
    await adapter.move(EMPTY(), mv('award', 9));
    const h = await adapter.history!(CARD(), { limit: 10 });
    expect(h.map((e) => [e.operation, e.delta, e.txnId])).toEqual([
      ['expire', -2, expire.txnId],
      ['redeem', -4, redeem.txnId],
      ['award', 10, award.txnId],
      ['award', 500, null],
    ]);
    expect(h[0]!.comment).toMatch(/expired.*\[lgw:txn_/i);
    expect(h.every((e) => e.unit === 'points')).toBe(true);
    expect(h[1]!.balanceAfter).toBe(506);
    expect(await adapter.history!(CARD(), { limit: 2 })).toHaveLength(2);
    const recent = await adapter.history!(CARD(), { limit: 10, fromMs: Date.now() - 60_000 });
    expect(recent).toHaveLength(3);
  });

  it('gets a card, by number or id, and null for an unknown one', async () => {
    const card = await adapter.getCard(String(sb.seed.cardId));
    expect(card).toMatchObject({
      reference: CARD(),
      cardType: 'points',
      status: 'active',
      customerReference: String(sb.seed.userId),
      customer: { email: sb.seed.userEmail },
    });
    expect(await adapter.getCard('999-999-999')).toBeNull();
    expect(await adapter.getCard(INACTIVE())).toMatchObject({ status: 'inactive', providerStatus: expect.any(String) });
  });

  it('lists cards page by page, and by customer', async () => {
    const p1 = await adapter.listCards!({ page: 1, perPage: 2 });
    expect(p1.data).toHaveLength(2);
    expect(p1.meta).toEqual({ page: 1, per_page: 2, total: 3, has_more: true });
    const p2 = await adapter.listCards!({ page: 2, perPage: 2 });
    expect(p2.meta.has_more).toBe(false);
    const bob = await adapter.listCards!({ customerReference: '2', page: 1, perPage: 20 });
    expect(bob.data.map((c) => c.customerReference)).toEqual(['2']);
  });

  it('issues a card through transactions/create for a user email or id', async () => {
    // Loyalty.lt keeps only the email: a name or an external reference would be lost, so they are refused.
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: null,
            programReference: null,
            customer: { email: 'x@example.com', first_name: 'X' },
            externalReference: null,
          }),
        )
      ).code,
    ).toBe('validation_failed');
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: null,
            programReference: null,
            customer: { email: 'x@example.com' },
            externalReference: 'cus-9',
          }),
        )
      ).code,
    ).toBe('validation_failed');
    const made = await adapter.issueCard!({
      customerReference: null,
      programReference: null,
      customer: { email: 'new@example.com' },
      externalReference: null,
    });
    expect(made).toMatchObject({ cardType: 'points', status: 'active', customer: { email: 'new@example.com' } });
    expect((await adapter.balance(made.reference)).units.points).toBe(0);
    const existing = await adapter.issueCard!({
      customerReference: '2',
      programReference: null,
      customer: null,
      externalReference: null,
    });
    expect(existing.reference).toBe((sb.seed.cards as Record<string, { card_number: string }>).empty!.card_number);
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: null,
            programReference: null,
            customer: null,
            externalReference: null,
          }),
        )
      ).code,
    ).toBe('validation_failed');
    expect(
      (
        await failure(
          adapter.issueCard!({
            customerReference: '777',
            programReference: null,
            customer: null,
            externalReference: null,
          }),
        )
      ).code,
    ).toBe('customer_not_found');
  });

  it('speaks the lt locale too', async () => {
    const lt = other({ locale: 'lt' });
    expect((await lt.balance(CARD())).units.points).toBe(500);
    expect(await lt.getCard('999-999-999')).toBeNull();
  });
});

describe('failures', () => {
  it('maps wrong credentials to provider_auth_failed without leaking them', async () => {
    const bad = other({ apiKey: 'wrong-key-123', apiSecret: 'wrong-secret-456' });
    const e = await failure(bad.balance(CARD()));
    expect(e.code).toBe('provider_auth_failed');
    expect(e.message).not.toMatch(/wrong-key-123|wrong-secret-456/);
    expect((await failure(bad.move(CARD(), mv('award', 1)))).applied).toBe('no');
  });

  it('maps 429 to provider_rate_limited with Retry-After (header, or body retry_after)', async () => {
    sb.sim.inject({ kind: 'status', status: 429 });
    const e = await failure(adapter.balance(CARD()));
    expect(e.code).toBe('provider_rate_limited');
    expect(e.extra.retryAfter).toMatch(/^\d+$/);
    sb.sim.setRateLimit({ requests: 1, perSeconds: 60 });
    const w = await failure(adapter.move(CARD(), mv('award', 1)));
    expect(w.code).toBe('provider_rate_limited');
    expect(w.applied).toBe('no');
    expect(Number(w.extra.retryAfter)).toBeGreaterThan(1);
  });

  it('applies the connection rateLimit setting locally', async () => {
    const limited = other({ rateLimit: { requests: 2, perSeconds: 60 } });
    await limited.getCard(CARD());
    await limited.getCard(CARD());
    const e = await failure(limited.getCard(CARD()));
    expect(e.code).toBe('provider_rate_limited');
    expect(Number(e.extra.retryAfter)).toBeGreaterThan(50);
  });

  it('maps 5xx to provider_unavailable: unknown for writes, no for reads', async () => {
    await adapter.cardCapabilities(CARD());
    sb.sim.inject({ kind: 'status', status: 503 });
    const w = await failure(adapter.move(CARD(), mv('award', 1)));
    expect([w.code, w.applied]).toEqual(['provider_unavailable', 'unknown']);
    sb.sim.inject({ kind: 'status', status: 500 });
    const r = await failure(adapter.balance(CARD()));
    expect([r.code, r.applied]).toEqual(['provider_unavailable', 'no']);
  });

  it('maps a timeout on a write to provider_timeout, applied unknown', async () => {
    await adapter.cardCapabilities(CARD());
    sb.sim.inject({ kind: 'timeout' });
    const e = await failure(adapter.move(CARD(), mv('award', 1)));
    expect([e.code, e.applied]).toEqual(['provider_timeout', 'unknown']);
  });

  it('maps a dropped connection on a write to applied unknown', async () => {
    await adapter.cardCapabilities(CARD());
    sb.sim.inject({ kind: 'drop' });
    const e = await failure(adapter.move(CARD(), mv('adjust', -1)));
    expect(e.applied).toBe('unknown');
  });

  it('maps a malformed body to provider_bad_response', async () => {
    await adapter.cardCapabilities(CARD());
    sb.sim.inject({ kind: 'malformed' });
    const w = await failure(adapter.move(CARD(), mv('award', 1)));
    expect([w.code, w.applied]).toEqual(['provider_bad_response', 'unknown']);
    sb.sim.inject({ kind: 'malformed' });
    const r = await failure(adapter.getCard(CARD()));
    expect([r.code, r.applied]).toEqual(['provider_bad_response', 'no']);
    sb.sim.inject({ kind: 'malformed' });
    expect((await failure(adapter.history!(CARD(), { limit: 5 }))).code).toBe('provider_bad_response');
  });
});
