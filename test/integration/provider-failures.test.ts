import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem, startGateway } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * What the gateway does when a provider fails, through the HTTP API against a real simulator:
 * a refusal leaves nothing behind and may be retried; a call that may have been applied is kept
 * as needs_review and is never sent again, however often the client retries.
 */

/** Faults hit the stamp call itself, not the card lookup before it. */
const STAMP = '^POST .*/stamp$';

let sb: SandboxGateway;
let card: string;
beforeAll(async () => {
  sb = await startSandboxGateway({ timeoutMs: 800 });
  card = `leal:${sb.leal.seed.customers.fresh.id}.${sb.leal.seed.customers.fresh.customerCardId}`;
});
afterAll(async () => sb?.close());
beforeEach(() => sb.leal.sim.reset());

const stamp = (key: string, points = 2) =>
  sb.gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points, reason: 'Coffee' },
    headers: { 'idempotency-key': key },
  });
const stamps = () => sb.leal.sim.counters()['customer_cards.stamp'] ?? 0;

describe('provider failures', () => {
  it('a timeout after the provider applied it: 504, needs_review, and a retry never stamps again', async () => {
    sb.leal.sim.inject({ kind: 'timeout', applied: true, ms: 3000, match: STAMP });
    const first = await stamp('timeout-1');
    expectProblem(first, 504, 'provider_timeout');
    const txnId = first.body.transaction_id as string;
    expect(txnId).toMatch(/^txn_/);
    expect(first.headers.get('location')).toBe(`/v1/transactions/${txnId}`);
    const txn = await sb.gw.request('GET', `/v1/transactions/${txnId}`);
    expect(txn.body).toMatchObject({ status: 'needs_review', error: { code: 'provider_timeout' } });
    expect(stamps()).toBe(1);

    for (let i = 0; i < 3; i++) {
      const again = await stamp('timeout-1');
      expectProblem(again, 504, 'provider_timeout');
      expect(again.body.transaction_id).toBe(txnId);
    }
    expect(stamps()).toBe(1);
  });

  it('a provider 5xx: 503 provider_unavailable, kept as needs_review (it may have applied it)', async () => {
    sb.leal.sim.inject({ kind: 'status', status: 502, match: STAMP });
    const res = await stamp('5xx-1');
    expectProblem(res, 503, 'provider_unavailable');
    expect((await sb.gw.request('GET', `/v1/transactions/${res.body.transaction_id}`)).body.status).toBe(
      'needs_review',
    );
    expect(stamps()).toBe(0);
  });

  it('an answer that cannot be read: 502 provider_bad_response, needs_review', async () => {
    sb.leal.sim.inject({ kind: 'malformed', match: STAMP });
    const res = await stamp('malformed-1');
    expectProblem(res, 502, 'provider_bad_response');
    expect((await sb.gw.request('GET', `/v1/transactions/${res.body.transaction_id}`)).body.status).toBe(
      'needs_review',
    );
    expect(stamps()).toBe(1);
  });

  it('a dropped connection: needs_review, never re-sent', async () => {
    sb.leal.sim.inject({ kind: 'drop', applied: true, match: STAMP });
    const res = await stamp('drop-1');
    expect([502, 503]).toContain(res.status);
    expect((await sb.gw.request('GET', `/v1/transactions/${res.body.transaction_id}`)).body.status).toBe(
      'needs_review',
    );
    await stamp('drop-1');
    expect(stamps()).toBe(1);
  });

  it("the provider's rate limit: the connection waits it out and the write goes through, once", async () => {
    sb.leal.sim.setRateLimit({ requests: 1, perSeconds: 1 });
    try {
      await sb.gw.request('GET', `/v1/points/balance/${card}`); // uses the one slot
      const res = await stamp('limited-1');
      expect(res.status, res.text).toBe(201);
      expect(stamps()).toBe(1);
      expect((await stamp('limited-1')).headers.get('idempotent-replayed')).toBe('true');
      expect(stamps()).toBe(1);
    } finally {
      sb.leal.sim.setRateLimit({ requests: 1000, perSeconds: 1 });
    }
  });

  it('Leal: RateLimit-Remaining 0 makes the adapter wait for RateLimit-Reset instead of meeting a 429', async () => {
    // A gateway of its own, whose timeout leaves room to wait out a one-second window, with no
    // rate limit of its own (only Leal's headers hold it back) and no balance cache (every read
    // reaches Leal: with the default cache, reads 2 and 3 would be answered from it).
    const gw = await startGateway({
      connections: [
        {
          id: 'leal',
          provider: 'leal',
          baseUrl: sb.leal.url,
          ...sb.leal.credentials,
          ...sb.leal.settings,
          timeoutMs: 3000,
          balanceCacheMs: 0,
        },
      ],
    });
    try {
      sb.leal.sim.setRateLimit({ requests: 2, perSeconds: 1 });
      const reads = [];
      for (let i = 0; i < 3; i++) reads.push(await gw.request('GET', `/v1/points/balance/${card}`));
      expect(reads.map((r) => r.status)).toEqual([200, 200, 200]);
      // Every read reached Leal, and none met its 429: the third waited for RateLimit-Reset (a 429
      // would also end in a 200, retried after its Retry-After, so the 200s alone prove nothing).
      const stats = sb.leal.sim.stats();
      expect(stats.requests, 'requests that reached Leal').toBeGreaterThanOrEqual(3);
      expect(stats.rateLimited, 'requests Leal answered 429').toBe(0);
      expect(stats.maxInWindow).toBeLessThanOrEqual(2);
    } finally {
      sb.leal.sim.setRateLimit({ requests: 1000, perSeconds: 1 });
      await gw.close();
    }
  });

  it('a provider refusal (4xx) changes nothing and leaves the key free', async () => {
    const res = await sb.gw.request('POST', `/v1/cards/${card}/rewards/redeem`, {
      body: { reward_id: String(sb.leal.seed.rewards.freeCoffee) },
      headers: { 'idempotency-key': 'refused-1' },
    });
    expectProblem(res, 400, 'insufficient_points');
    expect(sb.leal.sim.applied()).toBe(0);
    const hist = await sb.gw.request('GET', `/v1/points/history/${card}`);
    expect(hist.body.data.filter((e: { type: string }) => e.type === 'redeem_reward')).toEqual([]);
  });
});

describe('a provider write that is not a transaction (a customer)', () => {
  it('failing after it may have applied: its error answers the key, replayed without Retry-After', async () => {
    sb.leal.sim.inject({ kind: 'status', status: 503, applied: true, match: '^POST .*/customers$' });
    const create = () =>
      sb.gw.request('POST', '/v1/customers', {
        body: { connection: 'leal', first_name: 'Ada', last_name: 'Lovelace', email: 'ada-replay@example.com' },
        headers: { 'idempotency-key': 'customer-5xx-1' },
      });
    const first = await create();
    expectProblem(first, 503, 'provider_unavailable');
    expect(first.headers.get('retry-after')).toBe('5');
    const created = sb.leal.sim.counters()['customers.create'] ?? 0;
    const again = await create();
    expectProblem(again, 503, 'provider_unavailable');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // Trying again later would get the same answer: a replay does not invite it.
    expect(again.headers.get('retry-after')).toBeNull();
    expect(again.body.detail).toBe(first.body.detail);
    expect(sb.leal.sim.counters()['customers.create'] ?? 0).toBe(created);
  });
});

describe('credentials', () => {
  it(
    'a wrong token: 502 provider_auth_failed; the token is in no error body, log line, connection listing or ' +
      'OpenAPI document',
    async () => {
      const token = 'leal_wrong_token_SECRET_93f1';
      const gw = await startGateway({
        connections: [
          {
            id: 'leal',
            provider: 'leal',
            baseUrl: sb.leal.url,
            token,
            accountId: sb.leal.settings.accountId,
            timeoutMs: 2000,
          },
        ],
      });
      try {
        const res = await gw.request('GET', `/v1/points/balance/${card}`);
        expectProblem(res, 502, 'provider_auth_failed');
        const award = await gw.request('POST', '/v1/points/award', { body: { card_id: card, points: 1, reason: 'x' } });
        expectProblem(award, 502, 'provider_auth_failed');
        const conns = await gw.request('GET', '/v1/connections');
        const doc = await gw.request('GET', '/openapi.json');
        for (const text of [res.text, award.text, conns.text, doc.text, gw.logs.join('\n')])
          expect(text).not.toContain(token);
        expect(conns.body.data[0].settings).not.toHaveProperty('token');
      } finally {
        await gw.close();
      }
    },
  );

  it('the sandbox credentials of every connection stay out of logs and listings', async () => {
    await sb.gw.request('GET', '/v1/connections');
    await sb.gw.request('GET', `/v1/points/balance/hl:${sb.hl.seed.cards.stamp}`);
    const all = [sb.hl, sb.ct, sb.leal, sb.lt].flatMap((h) => Object.values(h.credentials));
    const text = sb.gw.logs.join('\n') + (await sb.gw.request('GET', '/v1/connections')).text;
    for (const secret of all) expect(text).not.toContain(secret);
  });
});

describe('a provider that cannot be reached', () => {
  it('503 provider_unavailable and nothing recorded', async () => {
    const gw = await startGateway({
      connections: [
        {
          id: 'leal',
          provider: 'leal',
          baseUrl: 'http://127.0.0.1:9/api/v1',
          token: 't',
          accountId: 1,
          timeoutMs: 1000,
        },
      ],
    });
    try {
      const res = await gw.request('POST', '/v1/points/award', {
        body: { card_id: 'leal:1.2', points: 1, reason: 'x' },
      });
      expectProblem(res, 503, 'provider_unavailable');
      expect(res.body.transaction_id).toBeUndefined();
    } finally {
      await gw.close();
    }
  });
});
