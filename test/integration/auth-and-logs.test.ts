import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../../src/api/problem.js';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { award, expectProblem, issueCard, KEYS, type Res, startGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
/** Every response this file saw, to search for leaked keys. */
const responses: Res[] = [];

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

async function send(
  method: string,
  path: string,
  opts: Parameters<TestGateway['request']>[2] = {},
  g: TestGateway = gw,
): Promise<Res> {
  const res = await g.request(method, path, opts);
  responses.push(res);
  return res;
}

interface LogLine {
  reqId?: string;
  msg?: string;
  status?: number;
  method?: string;
  url?: string;
  [k: string]: unknown;
}

function logLines(g: TestGateway = gw): LogLine[] {
  return g.logs
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The request's log line is written once the response has gone: wait for it briefly. */
async function linesFor(reqId: string, g: TestGateway = gw): Promise<LogLine[]> {
  for (let i = 0; i < 50; i++) {
    const lines = logLines(g).filter((l) => l.reqId === reqId);
    if (lines.length > 0) {
      await sleep(20);
      return logLines(g).filter((l) => l.reqId === reqId);
    }
    await sleep(10);
  }
  return [];
}

describe('authentication and scopes', () => {
  let card: string;
  beforeAll(async () => {
    card = await issueCard(gw);
    await award(gw, card, 100);
  });

  it('answers 401 unauthorized without a key, with an empty key and with an unknown key', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/connections'],
      ['GET', `/v1/points/balance/${card}`],
      ['GET', `/v1/points/history/${card}`],
      ['GET', `/v1/cards/${card}`],
      ['POST', '/v1/points/award', { card_id: card, points: 1, reason: 'r' }],
      ['POST', '/v1/points/adjust', { card_id: card, points: 1, reason: 'r' }],
      ['POST', '/v1/points/bulk', { transactions: [{ type: 'award', card_id: card, points: 1, reason: 'r' }] }],
      ['POST', '/v1/cards', {}],
      ['PATCH', `/v1/cards/${card}`, { status: 'blocked' }],
    ];
    for (const [method, path, body] of routes) {
      const none = await send(method, path, { body, key: null });
      expectProblem(none, 401, 'unauthorized');
      const empty = await send(method, path, { body, key: '' });
      expectProblem(empty, 401, 'unauthorized');
      const unknown = await send(method, path, { body, key: 'not_a_known_key_123' });
      expectProblem(unknown, 401, 'unauthorized');
      const almost = await send(method, path, { body, key: `${KEYS.admin}x` });
      expectProblem(almost, 401, 'unauthorized');
      const bearer = await send(method, path, { body, key: null, headers: { authorization: `Bearer ${KEYS.admin}` } });
      expectProblem(bearer, 401, 'unauthorized');
    }
    // Authentication comes before anything else: a bad body without a key is still 401.
    expectProblem(
      await send('POST', '/v1/points/award', {
        rawBody: '{',
        headers: { 'content-type': 'application/json' },
        key: null,
      }),
      401,
      'unauthorized',
    );
    expect((await send('GET', `/v1/points/balance/${card}`)).body.available).toBe(100);
  });

  it('answers 403 forbidden when the key lacks the scope, and writes nothing', async () => {
    const body = { card_id: card, points: 1, reason: 'r' };
    expectProblem(await send('POST', '/v1/points/award', { body, key: KEYS.read }), 403, 'forbidden');
    expectProblem(await send('POST', '/v1/points/redeem', { body, key: KEYS.read }), 403, 'forbidden');
    expectProblem(
      await send('POST', '/v1/points/bulk', { body: { transactions: [{ type: 'award', ...body }] }, key: KEYS.read }),
      403,
      'forbidden',
    );
    expectProblem(await send('POST', '/v1/cards', { body: {}, key: KEYS.read }), 403, 'forbidden');
    expectProblem(await send('POST', '/v1/points/adjust', { body, key: KEYS.write }), 403, 'forbidden');
    expectProblem(
      await send('POST', '/v1/points/expire', { body: { card_id: card }, key: KEYS.write }),
      403,
      'forbidden',
    );
    expectProblem(
      await send('PATCH', `/v1/cards/${card}`, { body: { status: 'blocked' }, key: KEYS.write }),
      403,
      'forbidden',
    );
    expectProblem(
      await send('PATCH', `/v1/cards/${card}`, { body: { status: 'blocked' }, key: KEYS.other }),
      403,
      'forbidden',
    );
    // The scope check comes before validation too.
    expectProblem(
      await send('POST', '/v1/points/adjust', { body: { nonsense: true }, key: KEYS.write }),
      403,
      'forbidden',
    );
    const f = await send('POST', '/v1/points/adjust', { body, key: KEYS.write });
    expect(f.body.detail).toContain('admin');
    const hist = await send('GET', `/v1/points/history/${card}`, { key: KEYS.read });
    expect(hist.body.data).toHaveLength(1);
    expect((await send('GET', `/v1/cards/${card}`, { key: KEYS.read })).body.status).toBe('active');
  });

  it('lets the read key read and the write key write', async () => {
    expect((await send('GET', `/v1/points/balance/${card}`, { key: KEYS.read })).status).toBe(200);
    expect((await send('GET', '/v1/connections', { key: KEYS.read })).status).toBe(200);
    expect(
      (await send('POST', '/v1/points/award', { body: { card_id: card, points: 1, reason: 'w' }, key: KEYS.write }))
        .status,
    ).toBe(201);
    expect(
      (await send('POST', '/v1/points/redeem', { body: { card_id: card, points: 1, reason: 'w' }, key: KEYS.other }))
        .status,
    ).toBe(201);
    expect((await send('POST', '/v1/cards', { body: {}, key: KEYS.write })).status).toBe(201);
  });

  it('lets the admin key do everything', async () => {
    const k = { key: KEYS.admin };
    const c = await send('POST', '/v1/cards', { ...k, body: { external_reference: 'admin-everything' } });
    expect(c.status).toBe(201);
    const id = c.body.id as string;
    const a = await send('POST', '/v1/points/award', { ...k, body: { card_id: id, points: 50, reason: 'a' } });
    expect(a.status).toBe(201);
    expect(
      (await send('POST', '/v1/points/redeem', { ...k, body: { card_id: id, points: 5, reason: 'r' } })).status,
    ).toBe(201);
    expect(
      (await send('POST', '/v1/points/adjust', { ...k, body: { card_id: id, points: -5, reason: 'fix' } })).status,
    ).toBe(201);
    expect((await send('POST', '/v1/points/expire', { ...k, body: { card_id: id, points: 5 } })).status).toBe(201);
    const bulk = await send('POST', '/v1/points/bulk', {
      ...k,
      body: {
        transactions: [
          { type: 'award', card_id: id, points: 10, reason: 'b' },
          { type: 'adjust', card_id: id, points: 1, reason: 'b' },
        ],
      },
    });
    expect(bulk.status).toBe(200);
    expect(bulk.body).toMatchObject({ succeeded: 2, failed: 0 });
    expect((await send('POST', `/v1/transactions/${a.body.id}/reverse`, { ...k, body: { points: 1 } })).status).toBe(
      201,
    );
    expect((await send('GET', `/v1/transactions/${a.body.id}`, k)).status).toBe(200);
    expect((await send('GET', `/v1/points/balance/${id}`, k)).body.available).toBe(50 - 5 - 5 - 5 + 10 + 1 - 1);
    expect((await send('GET', `/v1/points/history/${id}`, k)).body.data).toHaveLength(7);
    expect((await send('GET', `/v1/cards/${id}`, k)).status).toBe(200);
    expect(
      (await send('PATCH', `/v1/cards/${id}`, { ...k, body: { status: 'blocked', reason: 'lost' } })).body.status,
    ).toBe('blocked');
    expect((await send('PATCH', `/v1/cards/${id}`, { ...k, body: { status: 'active' } })).body.status).toBe('active');
    expect((await send('GET', '/v1/connections', k)).status).toBe(200);
  });
});

describe('open routes', () => {
  it('serves /healthz, /readyz, /openapi.json and /docs without a key', async () => {
    for (const key of [null, 'not_a_known_key_123']) {
      const health = await send('GET', '/healthz', { key });
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok' });
      const ready = await send('GET', '/readyz', { key });
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready' });
      const spec = await send('GET', '/openapi.json', { key });
      expect(spec.status).toBe(200);
      expect(spec.body.openapi).toBe('3.1.0');
      expect(Object.keys(spec.body.paths)).toContain('/v1/points/award');
      const docs = await send('GET', '/docs', { key });
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    }
  });

  it('describes every problem type at its type URI', async () => {
    const res = await send('GET', '/problems/insufficient_points', { key: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: 'insufficient_points', status: 400, title: 'Insufficient points' });
    for (const [code, title] of Object.entries(ERROR_CODES)) {
      const r = await send('GET', `/problems/${code}`, { key: null });
      expect(r.body).toEqual({ code, status: HTTP_STATUS[code as keyof typeof HTTP_STATUS], title });
    }
    for (const code of ['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expectProblem(await send('GET', `/problems/${code}`, { key: null }), 404, 'not_found');
    }
    // The type of a real error resolves.
    const unauth = await send('GET', '/v1/connections', { key: null });
    const described = await send('GET', unauth.body.type, { key: null });
    expect(described.body).toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('answers 404 not_found as a problem for an unknown route or method', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/v1/points/nope'],
      ['POST', '/v2/points/award'],
      ['DELETE', '/v1/points/award'],
      ['PUT', '/v1/cards'],
    ] as const) {
      const res = await send(method, path, { key: null });
      expectProblem(res, 404, 'not_found');
      expect(res.body.detail).toContain(path);
      const withKey = await send(method, path, { key: KEYS.admin });
      expectProblem(withKey, 404, 'not_found');
    }
  });
});

describe('per-client rate limit', () => {
  let limited: TestGateway;
  beforeAll(async () => {
    limited = await startGateway({ env: { CLIENT_RATE_LIMIT: '5/60' } });
  });
  afterAll(async () => limited?.close());

  it('answers the 6th request in the window with 429 rate_limited and retry-after', async () => {
    // The window is a fixed minute: do not start the count just before it turns.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 5_000) await sleep(left + 50);
    for (let i = 0; i < 5; i++) {
      const ok = await send('GET', '/v1/connections', { key: KEYS.read }, limited);
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers.get('ratelimit-limit')).toBe('5');
      expect(ok.headers.get('ratelimit-remaining')).toBe(String(4 - i));
    }
    const sixth = await send('GET', '/v1/connections', { key: KEYS.read }, limited);
    expectProblem(sixth, 429, 'rate_limited');
    const retry = Number(sixth.headers.get('retry-after'));
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(sixth.headers.get('ratelimit-remaining')).toBe('0');
    // The counters have keys of their own, not lock keys (a lock sweep must never see them).
    const counters = await limited.redis.keys(`{${limited.prefix}}:client-rate:*`);
    expect(counters.length).toBeGreaterThan(0);
    expect(await limited.redis.keys(`{${limited.prefix}}:lock:rate:*`)).toEqual([]);
    // A write is refused too, and not applied.
    const c = await issueCard(limited);
    const w = await send(
      'POST',
      '/v1/points/award',
      { body: { card_id: c, points: 1, reason: 'r' }, key: KEYS.read },
      limited,
    );
    expect(w.status).toBe(403);
    expectProblem(await send('GET', `/v1/points/balance/${c}`, { key: KEYS.read }, limited), 429, 'rate_limited');

    // Per client: another key still has its own budget; open routes are not counted.
    expect((await send('GET', '/v1/connections', { key: KEYS.write }, limited)).status).toBe(200);
    expect((await send('GET', '/healthz', { key: null }, limited)).status).toBe(200);
    expect((await send('GET', `/v1/points/balance/${c}`, { key: KEYS.admin }, limited)).body.available).toBe(0);
  });
});

describe('secrets and request logs', () => {
  it('never shows a key in a log line or a response, and logs one line per request', async () => {
    const card = await issueCard(gw);
    const made: Res[] = [];
    const secretReason = 'body-text-that-must-not-be-logged-7f3a';
    for (const key of Object.values(KEYS)) {
      made.push(await send('GET', '/v1/connections', { key }));
      made.push(
        await send('POST', '/v1/points/award', { key, body: { card_id: card, points: 1, reason: secretReason } }),
      );
      made.push(
        await send('POST', '/v1/points/adjust', { key, body: { card_id: card, points: 1, reason: secretReason } }),
      );
      made.push(await send('GET', '/v1/connections', { key: null, headers: { authorization: `Bearer ${key}` } }));
      made.push(
        await send('GET', `/v1/points/balance/${card}`, {
          key,
          headers: { authorization: `Basic ${Buffer.from(`user:${key}`).toString('base64')}` },
        }),
      );
      made.push(await send('GET', '/v1/connections', { key: `${key}-wrong` }));
      made.push(await send('GET', '/nope', { key }));
      made.push(
        await send('POST', '/v1/points/award', { key, rawBody: '{', headers: { 'content-type': 'application/json' } }),
      );
    }
    const statuses = new Set(made.map((r) => r.status));
    for (const s of [200, 201, 400, 401, 403, 404]) expect(statuses).toContain(s);

    for (const res of made) {
      const reqId = res.headers.get('x-request-id');
      expect(reqId).toMatch(/^req_/);
      const lines = await linesFor(reqId!);
      expect(lines, `log lines of ${reqId}`).toHaveLength(1);
      expect(lines[0]).toMatchObject({ reqId, status: res.status, msg: 'request' });
      expect(typeof lines[0]!.method).toBe('string');
      if (res.status >= 400 && res.headers.get('content-type')?.includes('problem'))
        expect(res.body.request_id).toBe(reqId);
    }

    const logs = gw.logs.join('');
    const bodies = responses.map((r) => r.text + JSON.stringify([...r.headers.entries()])).join('\n');
    for (const key of Object.values(KEYS)) {
      expect(logs.includes(key), `key ${key.slice(0, 5)}… in logs`).toBe(false);
      expect(bodies.includes(key), `key ${key.slice(0, 5)}… in a response`).toBe(false);
      expect(logs.includes(Buffer.from(`user:${key}`).toString('base64'))).toBe(false);
    }
    expect(logs).not.toContain(secretReason);
    expect(logs).not.toMatch(/x-api-key|authorization/i);
  });
});

describe('idempotency keys are per client', () => {
  it('does not mix up two clients that use the same Idempotency-Key', async () => {
    const card = await issueCard(gw);
    const headers = { 'idempotency-key': 'shared-key-1' };
    const w = await send('POST', '/v1/points/award', {
      key: KEYS.write,
      headers,
      body: { card_id: card, points: 10, reason: 'from write' },
    });
    expect(w.status).toBe(201);
    const o = await send('POST', '/v1/points/award', {
      key: KEYS.other,
      headers,
      body: { card_id: card, points: 20, reason: 'from other' },
    });
    expect(o.status, o.text).toBe(201);
    expect(o.headers.get('idempotent-replayed')).toBeNull();
    expect(o.body.id).not.toBe(w.body.id);
    // The same body from the other client is not a replay either.
    const o2 = await send('POST', '/v1/points/award', {
      key: KEYS.admin,
      headers,
      body: { card_id: card, points: 10, reason: 'from write' },
    });
    expect(o2.status).toBe(201);
    expect(o2.headers.get('idempotent-replayed')).toBeNull();
    expect(o2.body.id).not.toBe(w.body.id);
    // Within one client, the key still means what it meant.
    const again = await send('POST', '/v1/points/award', {
      key: KEYS.write,
      headers,
      body: { card_id: card, points: 10, reason: 'from write' },
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(w.body);
    expectProblem(
      await send('POST', '/v1/points/award', {
        key: KEYS.other,
        headers,
        body: { card_id: card, points: 99, reason: 'x' },
      }),
      422,
      'idempotency_key_reused',
    );
    expect((await send('GET', `/v1/points/balance/${card}`)).body.available).toBe(40);
  });
});
