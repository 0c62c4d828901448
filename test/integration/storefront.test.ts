import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, issueCard, KEYS, type Res, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Customer tokens (issue 12, part 1): a storefront page reaches its customer's own card through
 * /v1/me with an HS256 token its shop's backend signs (here with `jose`, the maintained JOSE
 * library, as a shop's backend would) and the shop's publishable key; nothing else, and never
 * another customer's card. CORS answers only the shop's origins.
 */

const PK = 'pk_test_storefront_01';
const K1 = 'k1-secret-000000000000000000000000000001';
const K2 = 'k2-secret-000000000000000000000000000002';
const ORIGIN = 'https://shop.example';

let gw: TestGateway;
let cardA: string;
let cardB: string;
beforeAll(async () => {
  gw = await startGateway({
    shops: [
      {
        id: 'store',
        platform: 'shopify',
        secret: 'shpss_storefront_0001',
        connection: 'ledger',
        earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
        publishableKey: PK,
        allowedOrigins: [ORIGIN],
        tokenSecrets: [
          { kid: 'k1', secret: K1 },
          { kid: 'k2', secret: K2 },
        ],
      },
    ],
  });
  cardA = await issueCard(gw);
  cardB = await issueCard(gw);
  for (const [card, customer] of [
    [cardA, 'c1'],
    [cardB, 'c2'],
  ] as const) {
    await gw.request('POST', '/v1/points/award', { body: { card_id: card, points: 100, reason: 'seed' } });
    const l = await gw.request('POST', '/v1/links', {
      body: { shop_id: 'store', shop_customer_id: customer, card_id: card },
    });
    expect(l.status, l.text).toBe(201);
  }
});
afterAll(async () => gw?.close());

const key = (s: string) => new TextEncoder().encode(s);
async function token(
  sub: string,
  opts: {
    kid?: string;
    secret?: string;
    alg?: string;
    exp?: number;
    iat?: number;
    extra?: Record<string, unknown>;
  } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(opts.extra ?? {})
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', kid: opts.kid ?? 'k1' })
    .setSubject(sub)
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 600)
    .sign(key(opts.secret ?? K1));
}
const as = (
  tok: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Res> =>
  gw.request(method, path, {
    key: null,
    body,
    headers: { authorization: `Bearer ${tok}`, 'x-publishable-key': PK, ...headers },
  });

describe('customer tokens', () => {
  it("reach the customer's own card: balance with held and pending, history, a hold and its release", async () => {
    const t = await token('c1');
    const me = await as(t, 'GET', '/v1/me');
    expect(me.status, me.text).toBe(200);
    expect(me.body).toMatchObject({
      shop_id: 'store',
      card_id: cardA,
      balance: { available: 100, held: 0, pending: 0 },
    });
    const history = await as(t, 'GET', '/v1/me/history?limit=5');
    expect(history.body.data[0]).toMatchObject({ type: 'award', points: 100 });

    const hold = await as(t, 'POST', '/v1/me/holds', { points: 30, reference_id: 'cart-1' });
    expect(hold.status, hold.text).toBe(201);
    expect((await as(t, 'GET', '/v1/me')).body.balance).toMatchObject({ available: 70, held: 30 });
    // Another customer's token cannot touch it, nor see that it exists.
    expectProblem(await as(await token('c2'), 'POST', `/v1/me/holds/${hold.body.id}/release`), 404, 'hold_not_found');
    const released = await as(t, 'POST', `/v1/me/holds/${hold.body.id}/release`);
    expect(released.body).toMatchObject({ status: 'released' });
    expect((await as(t, 'GET', '/v1/me')).body.balance).toMatchObject({ available: 100, held: 0 });
    // The checkout backend captures a page's hold with its own key.
    const h2 = await as(t, 'POST', '/v1/me/holds', { points: 10, reference_id: 'cart-2' });
    const captured = await gw.request('POST', `/v1/points/holds/${h2.body.id}/capture`);
    expect(captured.body).toMatchObject({ status: 'captured', card_id: cardA });
    // c2 sees only its own card.
    expect((await as(await token('c2'), 'GET', '/v1/me')).body).toMatchObject({ card_id: cardB });
  });

  it('a token holds at most its max_hold_points; a second key (rotation) works; the gateway mints tokens too', async () => {
    const limited = await token('c2', { extra: { max_hold_points: 20 } });
    expectProblem(
      await as(limited, 'POST', '/v1/me/holds', { points: 30, reference_id: 'cart-9' }),
      400,
      'validation_failed',
    );
    expect((await as(await token('c2', { kid: 'k2', secret: K2 }), 'GET', '/v1/me')).status).toBe(200);
    const minted = await gw.request('POST', '/v1/customer-tokens', {
      body: { shop_id: 'store', customer: 'c1', ttl_seconds: 300 },
      key: KEYS.write,
    });
    expect(minted.status, minted.text).toBe(201);
    expect((await as(minted.body.token, 'GET', '/v1/me')).body.card_id).toBe(cardA);
  });

  it('refuses alg none, other algorithms, a wrong kid or secret, expired, future and over-long tokens (401)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsecured = new UnsecuredJWT({})
      .setSubject('c1')
      .setIssuedAt()
      .setExpirationTime(now + 600)
      .encode();
    const cases: [string, Promise<string> | string][] = [
      ['alg none', unsecured],
      ['HS512', token('c1', { alg: 'HS512' })],
      ['unknown kid', token('c1', { kid: 'k9' })],
      ['wrong secret', token('c1', { secret: 'x'.repeat(40) })],
      ['expired', token('c1', { iat: now - 7200, exp: now - 3600 })],
      ['issued in the future', token('c1', { iat: now + 600, exp: now + 1200 })],
      ['more than an hour', token('c1', { exp: now + 7200 })],
      ['not a JWT', 'hello'],
    ];
    for (const [what, t] of cases) {
      const res = await as(await t, 'GET', '/v1/me');
      expect(res.status, `${what}: ${res.text}`).toBe(401);
      expect(res.body.code).toBe('unauthorized');
    }
    const good = await token('c1');
    expectProblem(
      await gw.request('GET', '/v1/me', { key: null, headers: { authorization: `Bearer ${good}` } }),
      401,
      'unauthorized',
    );
    expectProblem(
      await as(good, 'GET', '/v1/me', undefined, { 'x-publishable-key': 'pk_other_storefront' }),
      401,
      'unauthorized',
    );
  });

  it('reaches nothing but /v1/me: every other route is 403 for a token', async () => {
    const t = await token('c1');
    expectProblem(await as(t, 'GET', `/v1/points/balance/${cardA}`), 403, 'forbidden');
    expectProblem(
      await as(t, 'POST', '/v1/points/award', { card_id: cardA, points: 5, reason: 'x' }),
      403,
      'forbidden',
    );
    expectProblem(await as(t, 'GET', '/v1/transactions?status=needs_review'), 403, 'forbidden');
  });
});

describe('CORS', () => {
  it("answers the shop's origins only, preflights included, never with credentials", async () => {
    const preflight = (origin: string) =>
      fetch(`${gw.url}/v1/me`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization,x-publishable-key',
        },
      });
    const ok = await preflight(ORIGIN);
    expect(ok.status).toBeLessThan(300);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-publishable-key');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const t = await token('c1');
    const from = async (origin: string) => as(t, 'GET', '/v1/me', undefined, { origin });
    expect((await from(ORIGIN)).headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await from('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
