import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/config/api-keys.js';
import { ulid } from '../../src/lib/ids.js';
import { duplicateRedis } from '../../src/redis/client.js';
import { keySpace } from '../../src/redis/keys.js';
import { expectProblem, KEYS } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/** Reversals and bulk on external providers, through the HTTP API against the simulators. */

let sb: SandboxGateway;
beforeAll(async () => {
  sb = await startSandboxGateway();
});
afterAll(async () => sb?.close());

const balanceOf = async (card: string) => (await sb.gw.request('GET', `/v1/points/balance/${card}`)).body;

describe('reversals at a provider', () => {
  it('reverses a Highlight stamp award partly, then fully, once', async () => {
    const card = `hl:${sb.hl.seed.cards.stampVisit}`;
    const before = (await balanceOf(card)).available as number;
    const award = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 4, reason: 'Order 7' },
    });
    expect(award.status, award.text).toBe(201);

    const partial = await sb.gw.request('POST', `/v1/transactions/${award.body.id}/reverse`, {
      body: { points: 1, reference_id: 'refund-7a' },
    });
    expect(partial.status, partial.text).toBe(201);
    expect(partial.body).toMatchObject({
      type: 'adjust',
      unit: 'stamps',
      points: -1,
      delta: -1,
      reversal_of: award.body.id,
      balance_after: before + 3,
    });

    expectProblem(
      await sb.gw.request('POST', `/v1/transactions/${award.body.id}/reverse`, { body: { points: 4 } }),
      422,
      'reversal_exceeds_original',
    );
    const full = await sb.gw.request('POST', `/v1/transactions/${award.body.id}/reverse`, { body: {} });
    expect(full.status, full.text).toBe(201);
    expect(full.body).toMatchObject({ points: -3, delta: -3, balance_after: before });
    // Retrying the full reversal replays it; reversing again is refused.
    const again = await sb.gw.request('POST', `/v1/transactions/${award.body.id}/reverse`, { body: {} });
    expect(again.body.id).toBe(full.body.id);
    expect((await sb.gw.request('GET', `/v1/transactions/${award.body.id}`)).body.reversed_points).toBe(4);
    expect((await balanceOf(card)).available).toBe(before);
    expect(sb.hl.sim.counters()['cards.subtract-stamp']).toBe(2);
  });

  it('two concurrent partial reversals can never take back more than the original gave', async () => {
    const card = `hl:${sb.hl.seed.cards.gift}`;
    const award = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 100, reason: 'Gift top-up' },
    });
    expect(award.status, award.text).toBe(201);
    const before = sb.hl.sim.counters()['cards.subtract-point'] ?? 0;
    const [a, b] = await Promise.all(
      ['refund-a', 'refund-b'].map((ref) =>
        sb.gw.request('POST', `/v1/transactions/${award.body.id}/reverse`, { body: { points: 80, reference_id: ref } }),
      ),
    );
    expect([a!.status, b!.status].sort()).toEqual([201, 422]);
    expect([a!, b!].find((r) => r.status === 422)!.body.code).toBe('reversal_exceeds_original');
    expect((sb.hl.sim.counters()['cards.subtract-point'] ?? 0) - before).toBe(1);
    expect((await sb.gw.request('GET', `/v1/transactions/${award.body.id}`)).body.reversed_points).toBe(80);
    // What is left can still be reversed.
    const rest = await sb.gw.request('POST', `/v1/transactions/${award.body.id}/reverse`, { body: {} });
    expect(rest.status, rest.text).toBe(201);
    expect(rest.body.points).toBe(-20);
  });

  it('reverses a Loyalty.lt redeem by giving the points back', async () => {
    const card = `lt:${sb.lt.seed.cards.active.card_number}`;
    const before = (await balanceOf(card)).available as number;
    const redeem = await sb.gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: 40, reason: 'Voucher', reference_id: 'order-r1' },
    });
    expect(redeem.status, redeem.text).toBe(201);
    expect(redeem.body.balance_after).toBe(before - 40);
    const rev = await sb.gw.request('POST', `/v1/transactions/${redeem.body.id}/reverse`, { body: {} });
    expect(rev.status, rev.text).toBe(201);
    expect(rev.body).toMatchObject({ points: 40, delta: 40 });
    expect((await balanceOf(card)).available).toBe(before);
  });

  it('a card that cannot take points back cannot be reversed (Leal)', async () => {
    const card = `leal:${sb.leal.seed.customers.fresh.id}.${sb.leal.seed.customers.fresh.customerCardId}`;
    const award = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'Coffee' },
    });
    expect(award.status, award.text).toBe(201);
    expectProblem(
      await sb.gw.request('POST', `/v1/transactions/${award.body.id}/reverse`, { body: {} }),
      422,
      'unsupported_operation',
    );
  });
});

describe('bulk across providers', () => {
  it(
    'runs as a job: 202, then GET /v1/bulk/{id} shows each item on four providers and the ledger; a retry names ' +
      'the same bulk and applies nothing twice',
    async () => {
      const ledgerCard = (await sb.gw.request('POST', '/v1/cards', { body: {} })).body.id;
      const items = [
        { type: 'award', card_id: ledgerCard, points: 10, reason: 'bulk' },
        { type: 'award', card_id: `hl:${sb.hl.seed.cards.stamp}`, points: 1, reason: 'bulk' },
        { type: 'award', card_id: `ct:${sb.ct.seed.stampCardId}.${sb.ct.seed.freshUserId}`, points: 3, reason: 'bulk' },
        { type: 'award', card_id: `lt:${sb.lt.seed.cards.empty.card_number}`, points: 25, reason: 'bulk' },
        {
          type: 'redeem',
          card_id: `leal:${sb.leal.seed.customers.withStamps.id}.${sb.leal.seed.customers.withStamps.customerCardId}`,
          points: 1,
          reason: 'bulk',
        },
      ];
      const first = await sb.gw.request('POST', '/v1/points/bulk', {
        body: { transactions: items },
        headers: { 'idempotency-key': 'bulk-x1' },
      });
      expect(first.status, first.text).toBe(202);
      expect(first.headers.get('location')).toBe(`/v1/bulk/${first.body.id}`);
      expect(first.body).toMatchObject({ total: 5 });
      let done = first.body;
      for (let i = 0; i < 200 && done.status !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        done = (await sb.gw.request('GET', `/v1/bulk/${first.body.id}`)).body;
      }
      expect(done).toMatchObject({ status: 'completed', total: 5, submitted: 5, succeeded: 4, failed: 1, pending: 0 });
      expect(done.results.map((r: { state: string }) => r.state)).toEqual([
        'succeeded',
        'succeeded',
        'succeeded',
        'succeeded',
        'rejected',
      ]);
      expect(done.results[4].error.code).toBe('unsupported_operation');
      const applied = [sb.hl, sb.ct, sb.lt].map((h) => h.sim.applied());
      const second = await sb.gw.request('POST', '/v1/points/bulk', {
        body: { transactions: items },
        headers: { 'idempotency-key': 'bulk-x1' },
      });
      expect(second.status).toBe(202);
      expect(second.body.id).toBe(first.body.id);
      expect([first.headers.get('idempotent-replayed'), second.headers.get('idempotent-replayed')]).toEqual([
        null,
        'true',
      ]);
      // The same key again names the same bulk and sends nothing.
      expect([sb.hl, sb.ct, sb.lt].map((h) => h.sim.applied())).toEqual(applied);
      // Another key: a new bulk, whose items are new transactions, applied once more at each provider.
      const other = await sb.gw.request('POST', '/v1/points/bulk', {
        body: { transactions: items },
        headers: { 'idempotency-key': 'bulk-x2' },
      });
      expect(other.status, other.text).toBe(202);
      expect(other.body.id).not.toBe(first.body.id);
      let otherDone = other.body;
      for (let i = 0; i < 200 && otherDone.status !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        otherDone = (await sb.gw.request('GET', `/v1/bulk/${other.body.id}`)).body;
      }
      expect(otherDone).toMatchObject({ status: 'completed', succeeded: 4, failed: 1 });
      const txnIds = (bulk: { results: { transaction?: { id: string }; transaction_id?: string }[] }) =>
        bulk.results.slice(0, 4).map((r) => r.transaction?.id ?? r.transaction_id);
      expect(txnIds(otherDone).every((id) => typeof id === 'string')).toBe(true);
      expect(txnIds(otherDone).filter((id) => txnIds(done).includes(id))).toEqual([]);
      expect([sb.hl, sb.ct, sb.lt].map((h) => h.sim.applied())).toEqual(applied.map((n) => n + 1));
      // Another client cannot read it.
      expectProblem(
        await sb.gw.request('GET', `/v1/bulk/${first.body.id}`, { key: KEYS.other }),
        404,
        'bulk_not_found',
      );
    },
  );
});

describe('bulk jobs left by an earlier version', () => {
  it('runs a job with unchecked items (checked as the edge would); old results still read', async () => {
    // As an earlier version left them in Redis: the request's items as given, under `input`, and the job.
    const keys = keySpace(sb.gw.prefix);
    const bulkId = `blk_${ulid()}`;
    const clientId = `key_${hashKey(KEYS.admin).slice(0, 12)}`;
    const items = [
      { type: 'award', card_id: `hl:${sb.hl.seed.cards.stamp}`, points: 1, reason: 'legacy bulk' },
      { type: 'award', card_id: `hl:${sb.hl.seed.cards.stamp}`, points: -3, reason: 'legacy bulk' },
    ];
    await sb.gw.redis.hset(keys.bulk(bulkId), {
      id: bulkId,
      client: clientId,
      total: '2',
      submitted: '0',
      created_at: String(Date.now()),
      input: JSON.stringify(items),
    });
    const connection = duplicateRedis(sb.gw.redis, { maxRetriesPerRequest: null });
    const queue = new Queue('bulk', { connection, prefix: keys.queuePrefix });
    try {
      const ctx = { clientId, method: 'POST', path: '/v1/points/bulk', admin: true };
      await queue.add('bulk', { bulkId, ctx }, { jobId: bulkId, removeOnComplete: true, removeOnFail: true });
    } finally {
      await queue.close();
      connection.disconnect();
    }
    let view = (await sb.gw.request('GET', `/v1/bulk/${bulkId}`)).body;
    for (let i = 0; i < 200 && view.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      view = (await sb.gw.request('GET', `/v1/bulk/${bulkId}`)).body;
    }
    expect(view).toMatchObject({ status: 'completed', succeeded: 1, failed: 1 });
    expect(view.results.map((r: { state: string; status: number }) => [r.state, r.status])).toEqual([
      ['succeeded', 201],
      ['rejected', 400],
    ]);
    expect(view.results[1].error.code).toBe('invalid_points_amount');

    // A result stored by an earlier version (its HTTP status, no outcome) reads as it did.
    const old = { index: 1, status: 400, replayed: false, error: { code: 'validation_failed', detail: 'old' } };
    await sb.gw.redis.hset(keys.bulkItems(bulkId), '1', JSON.stringify(old));
    const again = await sb.gw.request('GET', `/v1/bulk/${bulkId}`);
    expect(again.status, again.text).toBe(200);
    expect(again.body.results[1]).toMatchObject({ index: 1, status: 400, state: 'rejected', error: old.error });
  });
});

describe('purchases and refunds at Highlight', () => {
  it('a spend stamp card takes a purchase (add-purchase) and its refund (subtract-purchase), once each', async () => {
    const card = `hl:${sb.hl.seed.cards.stampSpend}`;
    const body = { amount: { amount: '25.00', currency: 'EUR' }, reason: 'Order 9', reference_id: 'order-9' };
    const bought = await sb.gw.request('POST', `/v1/cards/${card}/purchases`, { body });
    expect(bought.status, bought.text).toBe(201);
    // What the purchase earned in stamps is the provider's rule: no delta, no balance_after claimed.
    expect(bought.body).toMatchObject({
      type: 'purchase',
      unit: 'amount',
      points: 2500,
      delta: 0,
      balance_after: null,
    });
    const refund = {
      amount: { amount: '25.00', currency: 'EUR' },
      reason: 'Order 9 returned',
      reference_id: 'refund-9',
    };
    const back = await sb.gw.request('POST', `/v1/cards/${card}/purchases/refund`, { body: refund });
    expect(back.status, back.text).toBe(201);
    expect(back.body).toMatchObject({
      type: 'refund_purchase',
      unit: 'amount',
      points: 2500,
      amount: { amount: '25.00', currency: 'EUR' },
    });
    // The same refund again: replayed.
    await sb.gw.request('POST', `/v1/cards/${card}/purchases/refund`, { body: refund });
    expect(sb.hl.sim.counters()['cards.add-purchase']).toBe(1);
    expect(sb.hl.sim.counters()['cards.subtract-purchase']).toBe(1);
  });

  it('a cashback refund takes the amount back (subtract-transaction-amount), exact to the cent', async () => {
    const card = `hl:${sb.hl.seed.cards.cashback}`;
    const before = (await balanceOf(card)).units.amount as number;
    const back = await sb.gw.request('POST', `/v1/cards/${card}/purchases/refund`, {
      body: { amount: { amount: '0.07', currency: 'EUR' } },
    });
    expect(back.status, back.text).toBe(201);
    expect(back.body).toMatchObject({ unit: 'amount', points: 7, delta: -7, balance_after: before - 7 });
  });

  it('a stamp card without spend mechanics has no refunds', async () => {
    const res = await sb.gw.request('POST', `/v1/cards/hl:${sb.hl.seed.cards.stamp}/purchases/refund`, {
      body: { amount: { amount: '1.00', currency: 'EUR' } },
    });
    expectProblem(res, 422, 'unsupported_operation');
  });
});
