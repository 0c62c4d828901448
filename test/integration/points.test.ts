import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { award, issueCard, startGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

describe('award, redeem, adjust, balance, history', () => {
  it('awards and answers 201 with the transaction and a Location', async () => {
    const card = await issueCard(gw);
    const res = await award(gw, card, 120, { reference_id: 'order-1', staff: 'till-3', metadata: { total: '54.90' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/transactions/${res.body.id}`);
    expect(res.body).toMatchObject({
      type: 'award',
      status: 'succeeded',
      card_id: card,
      connection: 'ledger',
      points: 120,
      delta: 120,
      balance_after: 120,
      reference_id: 'order-1',
      staff: 'till-3',
      metadata: { total: '54.90' },
    });
    const got = await gw.request('GET', `/v1/transactions/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('redeems within the balance and refuses more, writing nothing', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 100);
    const ok = await gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: 40, reason: 'voucher' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ type: 'redeem', delta: -40, balance_after: 60 });
    const no = await gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: 61, reason: 'voucher' },
    });
    expect(no.status).toBe(400);
    expect(no.headers.get('content-type')).toContain('application/problem+json');
    expect(no.body).toMatchObject({
      code: 'insufficient_points',
      status: 400,
      available: 60,
      type: '/problems/insufficient_points',
    });
    const hist = await gw.request('GET', `/v1/points/history/${card}`);
    expect(hist.body.data).toHaveLength(2);
    const bal = await gw.request('GET', `/v1/points/balance/${card}`);
    expect(bal.body).toMatchObject({
      available: 60,
      total_earned: 100,
      total_redeemed: 40,
      total_expired: 0,
      total_adjusted: 0,
    });
  });

  it('adjusts both ways and keeps available = earned + adjusted - redeemed - expired', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 50);
    expect(
      (await gw.request('POST', '/v1/points/adjust', { body: { card_id: card, points: 25, reason: 'goodwill' } })).body
        .balance_after,
    ).toBe(75);
    expect(
      (await gw.request('POST', '/v1/points/adjust', { body: { card_id: card, points: -70, reason: 'fix' } })).body
        .balance_after,
    ).toBe(5);
    const neg = await gw.request('POST', '/v1/points/adjust', { body: { card_id: card, points: -6, reason: 'fix' } });
    expect(neg.body.code).toBe('insufficient_points');
    const zero = await gw.request('POST', '/v1/points/adjust', { body: { card_id: card, points: 0, reason: 'fix' } });
    expect(zero.status).toBe(400);
    expect(zero.body.code).toBe('invalid_points_amount');
    const bal = (await gw.request('GET', `/v1/points/balance/${card}`)).body;
    expect(bal.available).toBe(bal.total_earned + bal.total_adjusted - bal.total_redeemed - bal.total_expired);
    expect(bal).toMatchObject({ available: 5, total_adjusted: -45 });
  });

  it('answers 404 card_not_found and unknown_connection', async () => {
    const a = await award(gw, 'ledger:c_NOPE', 1);
    expect(a.status).toBe(404);
    expect(a.body.code).toBe('card_not_found');
    const b = await award(gw, 'highlight:544256-439-856', 1);
    expect(b.status).toBe(404);
    expect(b.body.code).toBe('unknown_connection');
    expect((await gw.request('GET', '/v1/points/balance/ledger:c_NOPE')).body.code).toBe('card_not_found');
    expect((await gw.request('GET', '/v1/points/history/ledger:c_NOPE')).body.code).toBe('card_not_found');
    expect((await gw.request('GET', '/v1/transactions/txn_NOPE')).body.code).toBe('transaction_not_found');
  });

  it('pages history newest first with an opaque keyset cursor and filters', async () => {
    const card = await issueCard(gw);
    for (let i = 0; i < 7; i++) await award(gw, card, i + 1, { reference_id: `r${i}`, staff: i % 2 ? 'odd' : 'even' });
    await gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points: 3, reason: 'x', staff: 'odd' } });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await gw.request('GET', `/v1/points/history/${card}?${q}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((t: { id: string }) => t.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(8);
    expect([...seen].sort().reverse()).toEqual(seen);

    const awards = await gw.request('GET', `/v1/points/history/${card}?type=award&staff=odd`);
    expect(awards.body.data.map((t: { points: number }) => t.points)).toEqual([6, 4, 2]);
    const byRef = await gw.request('GET', `/v1/points/history/${card}?reference_id=r4`);
    expect(byRef.body.data).toHaveLength(1);
    const future = await gw.request('GET', `/v1/points/history/${card}?from=2999-01-01T00:00:00Z`);
    expect(future.body.data).toHaveLength(0);
    const past = await gw.request('GET', `/v1/points/history/${card}?to=2000-01-01T00:00:00Z`);
    expect(past.body.data).toHaveLength(0);

    const first = await gw.request('GET', `/v1/points/history/${card}?limit=2`);
    const wrongFilters = await gw.request(
      'GET',
      `/v1/points/history/${card}?limit=2&type=redeem&cursor=${first.body.next_cursor}`,
    );
    expect(wrongFilters.body.code).toBe('invalid_cursor');
    expect((await gw.request('GET', `/v1/points/history/${card}?cursor=garbage`)).body.code).toBe('invalid_cursor');
    expect((await gw.request('GET', `/v1/points/history/${card}?limit=101`)).body.code).toBe('validation_failed');
  });

  it('lists connections without secrets', async () => {
    const res = await gw.request('GET', '/v1/connections', { key: 'test_read_key_00001' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      expect.objectContaining({
        id: 'ledger',
        provider: 'ledger',
        capabilities: expect.objectContaining({ units: ['points'] }),
      }),
    ]);
  });
});
