import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/hash.js';
import { keySpace } from '../../src/redis/keys.js';
import { award, issueCard, KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ env: { IDEMPOTENCY_WAIT_MS: '300' } });
});
afterAll(async () => gw.close());

const historyLength = async (card: string) =>
  (await gw.request('GET', `/v1/points/history/${card}?limit=100`)).body.data.length as number;

describe('Idempotency-Key', () => {
  it('replays the stored response for the same key and body, bare or quoted', async () => {
    const card = await issueCard(gw);
    const body = { card_id: card, points: 10, reason: 'order' };
    const first = await gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': '"k-1"' } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    // Key order in the body does not matter: the fingerprint is over canonical JSON.
    const reordered = await gw.request('POST', '/v1/points/award', {
      rawBody: JSON.stringify({ reason: 'order', points: 10, card_id: card }),
      headers: { 'idempotency-key': 'k-1', 'content-type': 'application/json' },
    });
    expect(reordered.body).toEqual(first.body);
    expect(await historyLength(card)).toBe(1);
  });

  it('refuses the same key with another body (422) and on another route', async () => {
    const card = await issueCard(gw);
    await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 10, reason: 'a' },
      headers: { 'idempotency-key': 'k-2' },
    });
    const other = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 11, reason: 'a' },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    const route = await gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: 10, reason: 'a' },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(route.body.code).toBe('idempotency_key_reused');
    expect(await historyLength(card)).toBe(1);
  });

  it('answers 409 idempotency_in_flight while another process holds the key', async () => {
    const card = await issueCard(gw);
    // Another gateway process has claimed this key and is still working (its lease runs).
    const keys = keySpace(gw.prefix);
    const record = keys.idempotency(`key_${sha256(KEYS.admin).slice(0, 12)}`, sha256('k-busy'));
    const { fingerprint } = await import('../../src/idempotency/key.js');
    const body = { card_id: card, points: 5, reason: 'busy' };
    await gw.redis.hset(keys.txn('txn_01BUSY0000000000000000000X'), {
      id: 'txn_01BUSY0000000000000000000X',
      status: 'processing',
      lease_until: String(Date.now() + 60_000),
      connection: 'ledger',
      card_id: card,
      type: 'award',
    });
    await gw.redis.hset(record, {
      fp: fingerprint('POST', '/v1/points/award', body),
      state: 'in_flight',
      resource: 'txn_01BUSY0000000000000000000X',
    });
    const res = await gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': 'k-busy' } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('idempotency_in_flight');
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('finishes the work of a claimer that died mid-way (lease expired), exactly once', async () => {
    const card = await issueCard(gw);
    const keys = keySpace(gw.prefix);
    const { fingerprint } = await import('../../src/idempotency/key.js');
    const body = { card_id: card, points: 7, reason: 'crash' };
    const id = 'txn_01CRASH000000000000000000X';
    // Claimed by a process that crashed before applying: transaction processing, lease over.
    await gw.redis.hset(keys.txn(id), {
      id,
      type: 'award',
      status: 'processing',
      lease_until: String(Date.now() - 1),
      card_id: card,
      connection: 'ledger',
      points: '7',
      delta: '7',
      reason: 'crash',
      created_at: String(Date.now()),
      reversed_points: '0',
      source: 'api',
    });
    await gw.redis.hset(keys.idempotency(`key_${sha256(KEYS.admin).slice(0, 12)}`, sha256('k-crash')), {
      fp: fingerprint('POST', '/v1/points/award', body),
      state: 'in_flight',
      resource: id,
    });
    const res = await gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': 'k-crash' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id, status: 'succeeded', balance_after: 7 });
    const again = await gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': 'k-crash' } });
    expect(again.body).toEqual(res.body);
    expect((await gw.request('GET', `/v1/points/balance/${card}`)).body.available).toBe(7);
  });

  it('100 concurrent identical requests make one entry and 100 identical answers', async () => {
    const card = await issueCard(gw);
    const body = { card_id: card, points: 3, reason: 'burst' };
    const all = await Promise.all(
      Array.from({ length: 100 }, () =>
        gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': 'burst-1' } }),
      ),
    );
    expect(new Set(all.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    expect(all.filter((r) => r.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    expect(await historyLength(card)).toBe(1);
    expect((await gw.request('GET', `/v1/points/balance/${card}`)).body.available).toBe(3);
  });

  it('100 concurrent identical requests without a key but with a reference_id make one entry', async () => {
    const card = await issueCard(gw);
    const body = { card_id: card, points: 4, reason: 'burst', reference_id: 'order-77' };
    const all = await Promise.all(Array.from({ length: 100 }, () => gw.request('POST', '/v1/points/award', { body })));
    expect(new Set(all.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    expect(await historyLength(card)).toBe(1);
  });

  it('100 concurrent redeems racing for the same points: exactly as many succeed as the balance allows', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 50);
    const all = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        gw.request('POST', '/v1/points/redeem', {
          body: { card_id: card, points: 1, reason: 'race', reference_id: `r-${i}` },
        }),
      ),
    );
    expect(all.filter((r) => r.status === 201)).toHaveLength(50);
    expect(all.filter((r) => r.body.code === 'insufficient_points')).toHaveLength(50);
    expect((await gw.request('GET', `/v1/points/balance/${card}`)).body.available).toBe(0);
  });

  it('reference_id is the natural key: a second award with it returns the first transaction', async () => {
    const card = await issueCard(gw);
    const first = await award(gw, card, 10, { reference_id: 'order-9' });
    const second = await award(gw, card, 999, { reference_id: 'order-9' });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    // Same reference on another type is another transaction.
    const redeem = await gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: 1, reason: 'x', reference_id: 'order-9' },
    });
    expect(redeem.body.id).not.toBe(first.body.id);
    // A new key with an already used reference_id still never awards twice.
    const keyed = await award(gw, card, 10, { reference_id: 'order-9' }).then(() =>
      gw.request('POST', '/v1/points/award', {
        body: { card_id: card, points: 10, reason: 'test award', reference_id: 'order-9' },
        headers: { 'idempotency-key': 'fresh-key' },
      }),
    );
    expect(keyed.body.id).toBe(first.body.id);
    expect((await gw.request('GET', `/v1/points/balance/${card}`)).body.available).toBe(9);
  });

  it('a refused request keeps no claim: the same key succeeds once the cause is fixed', async () => {
    const card = await issueCard(gw);
    const body = { card_id: card, points: 20, reason: 'later' };
    const refused = await gw.request('POST', '/v1/points/redeem', { body, headers: { 'idempotency-key': 'k-retry' } });
    expect(refused.body.code).toBe('insufficient_points');
    await award(gw, card, 20);
    const ok = await gw.request('POST', '/v1/points/redeem', { body, headers: { 'idempotency-key': 'k-retry' } });
    expect(ok.status).toBe(201);
    expect(ok.body.balance_after).toBe(0);
  });

  it('keeps keys for IDEMPOTENCY_TTL_HOURS', async () => {
    const card = await issueCard(gw);
    await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'ttl' },
      headers: { 'idempotency-key': 'k-ttl' },
    });
    const keys = keySpace(gw.prefix);
    const ttl = await gw.redis.pttl(keys.idempotency(`key_${sha256(KEYS.admin).slice(0, 12)}`, sha256('k-ttl')));
    expect(ttl).toBeGreaterThan(23 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3_600_000);
  });
});

describe('text that is not Unicode', () => {
  it('refuses lone surrogates with 400, never 500', async () => {
    const card = await issueCard(gw);
    for (const raw of [
      `{"card_id":"${card}","points":1,"reason":"a\\ud800b"}`,
      `{"card_id":"${card}","points":1,"reason":"ok","metadata":{"k\\udc00":"v"}}`,
      `{"card_id":"${card}","points":1,"reason":"ok","metadata":{"k":["\\udfff"]}}`,
    ]) {
      const res = await gw.request('POST', '/v1/points/award', {
        rawBody: raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    // A proper surrogate pair (an emoji) is fine.
    const ok = await gw.request('POST', '/v1/points/award', {
      rawBody: `{"card_id":"${card}","points":1,"reason":"\\ud83c\\udf89 party"}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.reason).toBe('🎉 party');
    expect(await historyLength(card)).toBe(1);
  });
});
