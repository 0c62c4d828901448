import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * GET /metrics: who may read it (an admin key, or the bearer METRICS_TOKEN), and that the series
 * the operations guide names (docs/operations.md, "Metrics") are there, with route patterns (never
 * raw URLs) and counts that follow what was done; and that no secret ever appears in it.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition text's samples (comments skipped). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of a metric's samples whose labels include `match`. */
function sum(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

const TOKEN = 'metrics-token-0123456789abcdef';

describe('GET /metrics: access', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => gw?.close());

  it('needs a key (401), refuses a read key (403), answers an admin key with the Prometheus text format', async () => {
    expectProblem(await gw.request('GET', '/metrics', { key: null }), 401, 'unauthorized');
    const read = await gw.request('GET', '/metrics', { key: KEYS.read });
    expectProblem(read, 403, 'forbidden');
    expectProblem(await gw.request('GET', '/metrics', { key: KEYS.write }), 403, 'forbidden');
    const res = await gw.request('GET', '/metrics', { key: KEYS.admin });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parse(res.text);
    // Process metrics and event-loop lag, on the app's own registry.
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('with METRICS_TOKEN set, answers its bearer token (no key), and refuses another token', async () => {
    const ok = await gw.request('GET', '/metrics', { key: null, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.text).toContain('lgw_http_requests_total');
    const wrong = await gw.request('GET', '/metrics', {
      key: null,
      headers: { authorization: `Bearer ${TOKEN.replace(/.$/, 'x')}` },
    });
    expectProblem(wrong, 401, 'unauthorized');
    // The token opens /metrics only.
    const elsewhere = await gw.request('GET', '/v1/connections', {
      key: null,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expectProblem(elsewhere, 401, 'unauthorized');
  });

  it('without METRICS_TOKEN, a bearer token opens nothing', async () => {
    const plain = await startGateway();
    try {
      const res = await plain.request('GET', '/metrics', { key: null, headers: { authorization: `Bearer ${TOKEN}` } });
      expectProblem(res, 401, 'unauthorized');
    } finally {
      await plain.close();
    }
  });
});

describe('GET /metrics: the series', () => {
  let sb: SandboxGateway;
  beforeAll(async () => {
    sb = await startSandboxGateway({ env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => sb?.close());

  const scrape = async () => {
    const res = await sb.gw.request('GET', '/metrics', { key: KEYS.admin });
    expect(res.status, res.text).toBe(200);
    return { text: res.text, samples: parse(res.text) };
  };

  it('counts HTTP requests by route pattern, provider calls, transactions, replays, 429s and queues', async () => {
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    const balance = await sb.gw.request('GET', `/v1/points/balance/${card}`);
    expect(balance.status, balance.text).toBe(200);
    await sb.gw.request('GET', '/v1/transactions/txn_00000000000000000000000000'); // 404
    await sb.gw.request('GET', '/no-such-route-7f3a'); // 404 without a route
    const body = { card_id: card, points: 2, reason: 'metrics' };
    const award = await sb.gw.request('POST', '/v1/points/award', {
      body,
      headers: { 'idempotency-key': 'metrics-1' },
    });
    expect(award.status, award.text).toBe(201);
    const again = await sb.gw.request('POST', '/v1/points/award', {
      body,
      headers: { 'idempotency-key': 'metrics-1' },
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    // A 429 from the provider on a read: counted, then the read is tried again once the hold ends.
    sb.hl.sim.inject({ kind: 'status', status: 429, match: '^GET ' });
    const limited = await sb.gw.request('GET', `/v1/points/balance/${card}`);
    expect(limited.status).toBeLessThan(500);

    const { text, samples } = await scrape();

    // HTTP: route patterns, never the raw URL (no card id, no transaction id in a label).
    const byRoute = (route: string, status: string) =>
      sum(samples, 'lgw_http_requests_total', { method: 'GET', route, status });
    expect(byRoute('/v1/points/balance/:card_id', '200')).toBeGreaterThanOrEqual(1);
    expect(byRoute('/v1/transactions/:id', '404')).toBe(1);
    expect(sum(samples, 'lgw_http_requests_total', { method: 'POST', route: '/v1/points/award' })).toBe(2);
    expect(sum(samples, 'lgw_http_request_duration_seconds_count', { method: 'POST', route: '/v1/points/award' })).toBe(
      2,
    );
    expect(text).not.toContain(sb.hl.seed.cards.stamp);
    expect(text).not.toContain('txn_0000');
    expect(text).not.toContain('no-such-route-7f3a');
    expect(sum(samples, 'lgw_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(sum(samples, 'lgw_idempotent_replays_total', { method: 'POST', route: '/v1/points/award' })).toBe(1);

    // Provider calls by connection, operation (the adapter method) and outcome, with latency.
    expect(sum(samples, 'lgw_provider_calls_total', { connection: 'hl', operation: 'move', outcome: 'ok' })).toBe(1);
    expect(
      sum(samples, 'lgw_provider_call_duration_seconds_count', { connection: 'hl', operation: 'move', outcome: 'ok' }),
    ).toBe(1);
    expect(
      sum(samples, 'lgw_provider_calls_total', { connection: 'hl', outcome: 'provider_rate_limited' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sum(samples, 'lgw_provider_rate_limited_total', { connection: 'hl' })).toBeGreaterThanOrEqual(1);

    // Transactions: settled by this process, and the store's index by status.
    expect(sum(samples, 'lgw_transactions_settled_total', { connection: 'hl', status: 'succeeded' })).toBe(1);
    expect(sum(samples, 'lgw_transactions', { status: 'succeeded' })).toBeGreaterThanOrEqual(1);

    // Queues: every connection's, read at scrape time; nothing left waiting.
    for (const connection of ['hl', 'ct', 'leal', 'lt']) {
      for (const state of ['waiting', 'active', 'delayed', 'prioritized']) {
        expect(
          samples.some(
            (s) => s.name === 'lgw_queue_jobs' && s.labels.connection === connection && s.labels.state === state,
          ),
          `${connection} ${state}`,
        ).toBe(true);
      }
      expect(sum(samples, 'lgw_queue_oldest_waiting_age_seconds', { connection })).toBe(0);
    }

    // Declared even before anything was counted (dashboards find them).
    for (const name of ['lgw_rate_gate_waits_total', 'lgw_reconciliations_total']) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }

    // No secret: no API key, no provider credential, no metrics token.
    for (const secret of [
      ...Object.values(KEYS),
      TOKEN,
      ...[sb.hl, sb.ct, sb.leal, sb.lt].flatMap((h) => Object.values(h.credentials)),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('shows waiting jobs and their age while a connection is held', async () => {
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.dispatch.holdConnection('hl', 1500);
    const pending = sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'held' },
      headers: { prefer: 'respond-async' },
    });
    expect((await pending).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    const { samples } = await scrape();
    const queued =
      sum(samples, 'lgw_queue_jobs', { connection: 'hl', state: 'waiting' }) +
      sum(samples, 'lgw_queue_jobs', { connection: 'hl', state: 'prioritized' }) +
      sum(samples, 'lgw_queue_jobs', { connection: 'hl', state: 'delayed' });
    expect(queued).toBeGreaterThanOrEqual(1);
    expect(sum(samples, 'lgw_queue_oldest_waiting_age_seconds', { connection: 'hl' })).toBeGreaterThan(0.1);
  });
});
