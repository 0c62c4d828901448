import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { award, expectProblem, issueCard, KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

const CARD_ID = /^ledger:[A-Za-z0-9._~@+=!$*()-]{1,200}$/;

describe('issuing cards', () => {
  it('issues a card with customer, external_reference and metadata: 201 and a Location', async () => {
    const body = {
      customer: {
        first_name: 'Ada',
        last_name: 'Lovelace',
        email: 'ada@example.com',
        phone: '+44 20 7946 0958',
        birthday: '1815-12-10',
      },
      external_reference: 'customer-42',
      metadata: { segment: 'vip', signup: { channel: 'web' } },
    };
    const res = await gw.request('POST', '/v1/cards', { body });
    expect(res.status, res.text).toBe(201);
    expect(res.body.id).toMatch(CARD_ID);
    expect(res.headers.get('location')).toBe(`/v1/cards/${res.body.id}`);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(res.body).toMatchObject({
      connection: 'ledger',
      reference: res.body.id.slice('ledger:'.length),
      status: 'active',
      status_reason: null,
      customer: body.customer,
      external_reference: 'customer-42',
      metadata: body.metadata,
      capabilities: { units: ['points'] },
    });
    expect(res.body.capabilities.operations).toEqual(
      expect.arrayContaining(['award', 'redeem', 'adjust', 'block_card']),
    );
    expect(Date.parse(res.body.created_at)).not.toBeNaN();

    const got = await gw.request('GET', res.headers.get('location')!);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    const asRead = await gw.request('GET', `/v1/cards/${res.body.id}`, { key: KEYS.read });
    expect(asRead.body).toEqual(res.body);
    expect((await gw.request('GET', `/v1/points/balance/${res.body.id}`)).body.available).toBe(0);
  });

  it('issues a bare card with an empty body', async () => {
    const res = await gw.request('POST', '/v1/cards', { body: {} });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ customer: null, external_reference: null, metadata: null, status: 'active' });
  });

  it('answers 200 with the same card for the same external_reference', async () => {
    const first = await gw.request('POST', '/v1/cards', {
      body: { external_reference: 'customer-43', customer: { first_name: 'Grace' } },
    });
    expect(first.status).toBe(201);
    await award(gw, first.body.id, 25);
    const again = await gw.request('POST', '/v1/cards', {
      body: { external_reference: 'customer-43', customer: { first_name: 'Grace' } },
    });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(again.body).toMatchObject({ external_reference: 'customer-43', customer: { first_name: 'Grace' } });
    expect(again.headers.get('location')).toBe(`/v1/cards/${first.body.id}`);
    // Even from another client, and with other details: the reference names the card.
    const other = await gw.request('POST', '/v1/cards', {
      key: KEYS.other,
      body: { external_reference: 'customer-43' },
    });
    expect(other.status).toBe(200);
    expect(other.body.id).toBe(first.body.id);
    // The card's points are untouched.
    expect((await gw.request('GET', `/v1/points/balance/${first.body.id}`)).body.available).toBe(25);
    // A different reference is a different card.
    const next = await gw.request('POST', '/v1/cards', { body: { external_reference: 'customer-44' } });
    expect(next.status).toBe(201);
    expect(next.body.id).not.toBe(first.body.id);
  });

  it('replays on an Idempotency-Key, and refuses the key with another body', async () => {
    const headers = { 'idempotency-key': 'issue-card-1' };
    const body = { customer: { first_name: 'Alan', email: 'alan@example.com' } };
    const first = await gw.request('POST', '/v1/cards', { body, headers });
    expect(first.status).toBe(201);
    const again = await gw.request('POST', '/v1/cards', { body, headers });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    // Key order in the body does not matter.
    const reordered = await gw.request('POST', '/v1/cards', {
      body: { customer: { email: 'alan@example.com', first_name: 'Alan' } },
      headers,
    });
    expect(reordered.body.id).toBe(first.body.id);

    const otherBody = await gw.request('POST', '/v1/cards', {
      body: { customer: { first_name: 'Someone else' } },
      headers,
    });
    expectProblem(otherBody, 422, 'idempotency_key_reused');
    const emptyBody = await gw.request('POST', '/v1/cards', { body: {}, headers });
    expectProblem(emptyBody, 422, 'idempotency_key_reused');

    // The same key from another client is its own key.
    const otherClient = await gw.request('POST', '/v1/cards', {
      key: KEYS.other,
      body: { customer: { first_name: 'Someone else' } },
      headers,
    });
    expect(otherClient.status).toBe(201);
    expect(otherClient.body.id).not.toBe(first.body.id);
  });

  it('refuses a bad customer email (400) and a card on connection "nope" (404 unknown_connection)', async () => {
    for (const email of ['not-an-email', 'a@', '@b.com', 'a b@c.com']) {
      const res = await gw.request('POST', '/v1/cards', { body: { customer: { email } } });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field: '/customer/email' }));
    }
    const nope = await gw.request('POST', '/v1/cards', { body: { connection: 'nope' } });
    expectProblem(nope, 404, 'unknown_connection');
    expect(nope.body.detail).toContain('nope');
    const ok = await gw.request('POST', '/v1/cards', { body: { connection: 'ledger' } });
    expect(ok.status).toBe(201);
  });
});

describe('reading cards', () => {
  it('answers 404 card_not_found and unknown_connection', async () => {
    expectProblem(await gw.request('GET', '/v1/cards/ledger:c_NOPE'), 404, 'card_not_found');
    expectProblem(await gw.request('GET', '/v1/cards/nope:c_1'), 404, 'unknown_connection');
    expectProblem(await gw.request('GET', '/v1/cards/no-colon'), 400, 'validation_failed');
  });
});

describe('blocking', () => {
  it('refuses award and redeem on a blocked card, still adjusts, and takes awards again once unblocked', async () => {
    const card = await issueCard(gw, { external_reference: 'to-block' });
    await award(gw, card, 100);

    const block = await gw.request('PATCH', `/v1/cards/${card}`, {
      body: { status: 'blocked', reason: 'Reported lost' },
    });
    expect(block.status, block.text).toBe(200);
    expect(block.body).toMatchObject({
      id: card,
      status: 'blocked',
      status_reason: 'Reported lost',
      external_reference: 'to-block',
    });
    expect((await gw.request('GET', `/v1/cards/${card}`)).body.status).toBe('blocked');
    // Blocking again is a no-op.
    const twice = await gw.request('PATCH', `/v1/cards/${card}`, {
      body: { status: 'blocked', reason: 'Reported lost' },
    });
    expect(twice.status).toBe(200);
    expect(twice.body.status).toBe('blocked');

    const a = await award(gw, card, 10);
    expectProblem(a, 403, 'card_blocked');
    const r = await gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points: 10, reason: 'x' } });
    expectProblem(r, 403, 'card_blocked');
    // Also with a reference_id and an Idempotency-Key: the refusal leaves nothing behind.
    const keyed = await award(gw, card, 10, { reference_id: 'while-blocked' });
    expectProblem(keyed, 403, 'card_blocked');
    const withKey = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 10, reason: 'k' },
      headers: { 'idempotency-key': 'blocked-award' },
    });
    expectProblem(withKey, 403, 'card_blocked');

    const adj = await gw.request('POST', '/v1/points/adjust', {
      body: { card_id: card, points: -30, reason: 'correction' },
    });
    expect(adj.status, adj.text).toBe(201);
    expect(adj.body.balance_after).toBe(70);
    const adjUp = await gw.request('POST', '/v1/points/adjust', {
      body: { card_id: card, points: 5, reason: 'goodwill' },
    });
    expect(adjUp.body.balance_after).toBe(75);
    // Reading still works.
    expect((await gw.request('GET', `/v1/points/balance/${card}`, { key: KEYS.read })).body.available).toBe(75);

    const unblock = await gw.request('PATCH', `/v1/cards/${card}`, { body: { status: 'active' } });
    expect(unblock.status).toBe(200);
    expect(unblock.body.status).toBe('active');

    const after = await award(gw, card, 10);
    expect(after.status, after.text).toBe(201);
    expect(after.body.balance_after).toBe(85);
    // The refused reference_id and key were not used up.
    const keyedAgain = await award(gw, card, 10, { reference_id: 'while-blocked' });
    expect(keyedAgain.status).toBe(201);
    expect(keyedAgain.headers.get('idempotent-replayed')).toBeNull();
    const withKeyAgain = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 10, reason: 'k' },
      headers: { 'idempotency-key': 'blocked-award' },
    });
    expect(withKeyAgain.status).toBe(201);
    expect(withKeyAgain.headers.get('idempotent-replayed')).toBeNull();
    const redeem = await gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points: 5, reason: 'x' } });
    expect(redeem.status).toBe(201);

    const bal = (await gw.request('GET', `/v1/points/balance/${card}`)).body;
    expect(bal).toMatchObject({ available: 100, total_earned: 130, total_redeemed: 5, total_adjusted: -25 });
    const hist = await gw.request('GET', `/v1/points/history/${card}`);
    expect(hist.body.data.map((t: { type: string }) => t.type)).toEqual([
      'redeem',
      'award',
      'award',
      'award',
      'adjust',
      'adjust',
      'award',
    ]);
  });

  it('answers 404 for an unknown card and refuses a bad status', async () => {
    expectProblem(
      await gw.request('PATCH', '/v1/cards/ledger:c_NOPE', { body: { status: 'blocked' } }),
      404,
      'card_not_found',
    );
    expectProblem(
      await gw.request('PATCH', '/v1/cards/nope:c_1', { body: { status: 'blocked' } }),
      404,
      'unknown_connection',
    );
    const card = await issueCard(gw);
    for (const body of [{ status: 'frozen' }, {}, { status: 'blocked', reason: '' }, { status: 'blocked', extra: 1 }]) {
      expectProblem(await gw.request('PATCH', `/v1/cards/${card}`, { body }), 400, 'validation_failed');
    }
    expect((await gw.request('GET', `/v1/cards/${card}`)).body.status).toBe('active');
  });

  it('needs the admin scope to block', async () => {
    const card = await issueCard(gw);
    expectProblem(
      await gw.request('PATCH', `/v1/cards/${card}`, { key: KEYS.write, body: { status: 'blocked' } }),
      403,
      'forbidden',
    );
    expect((await gw.request('GET', `/v1/cards/${card}`)).body.status).toBe('active');
  });
});
