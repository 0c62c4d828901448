/**
 * `npm run bench:dispatch`: sustained dispatch into a provider limited to 10 requests/s. A report,
 * not a test: it prints figures and asserts nothing.
 *
 * The gateway runs as its own process (`src/server.ts`, role all) on an embedded redis-server;
 * the Highlight simulator runs here, limited to 10 requests per sliding second (429 beyond), and
 * counts every request it receives. For BENCH_DISPATCH_SECONDS (default 60) this script keeps a
 * backlog of BENCH_BACKLOG (default 20) awards queued at the gateway (Prefer: respond-async), so
 * the connection is never idle, and then reports:
 *   - provider requests/s as a share of the limit (counted by the simulator over the run);
 *   - the most requests the simulator saw in any sliding second, and the 429s it answered;
 *   - accept (202) to applied (the transaction's completed_at), p50 / p99, at that backlog;
 *   - the gateway's own overhead per dispatched call: a synchronous award through the gateway to
 *     an unlimited simulator, minus the same request sent to that simulator directly (p50, p99);
 *   - a slow provider: BENCH_BURST (default 200) awards sent at once to a simulator limited to 10/s that
 *     answers every request in 300 ms, then in 1 s: the share of the quota used, i.e. the requests the
 *     simulator saw per second from the first arrival to the last, over the limit (200 evenly spaced
 *     requests reach (200 - 1) / 199 = 1.0 by this measure);
 *   - a fault mix: BENCH_BURST awards at once to a simulator limited to 10/s that applies 20% of them and
 *     then never answers (the connection times out after 10 s) and answers 10% of all requests, reads
 *     too, with a 503: the time until every transaction is final, how many went to needs_review, and
 *     how many were applied twice.
 * BENCH_DISPATCH_CASES (comma-separated: sustained, overhead, slow, faults; default all) picks the cases.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startEmbeddedRedis } from '../src/redis/embedded-redis.js';
import type { Fault } from '../src/sandbox/harness.js';
import { createHighlightSandbox } from '../src/sandbox/highlight/simulator.js';
import { waitFor } from './wait.js';

const SECONDS = Number(process.env.BENCH_DISPATCH_SECONDS ?? 60);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 20);
const OVERHEAD_CALLS = Number(process.env.BENCH_OVERHEAD_CALLS ?? 300);
const BURST = Number(process.env.BENCH_BURST ?? 200);
const CASES = new Set((process.env.BENCH_DISPATCH_CASES ?? 'sustained,overhead,slow,faults').split(','));
const FAULT_TIMEOUT_MS = 10_000;
const LIMIT = 10;
const KEY = 'bench_admin_key_0001';
const root = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const dir = mkdtempSync(join(tmpdir(), 'lgw-bench-dispatch-'));
const redis = await startEmbeddedRedis({ dir, appendonly: true, appendfsync: 'everysec' });
const limited = createHighlightSandbox({ rateLimit: { requests: LIMIT, perSeconds: 1 } });
const open = createHighlightSandbox({ rateLimit: { requests: 1_000_000, perSeconds: 1 } });
const slow300 = createHighlightSandbox({ rateLimit: { requests: LIMIT, perSeconds: 1 } });
const slow1000 = createHighlightSandbox({ rateLimit: { requests: LIMIT, perSeconds: 1 } });
const faulty = createHighlightSandbox({ rateLimit: { requests: LIMIT, perSeconds: 1 } });
const serials = (sb: typeof limited) => sb.seed.cards as Record<string, string>;
const children: ChildProcess[] = [];
try {
  const limitedUrl = await limited.sim.start(0);
  const openUrl = await open.sim.start(0);
  const slow300Url = await slow300.sim.start(0);
  const slow1000Url = await slow1000.sim.start(0);
  const faultyUrl = await faulty.sim.start(0);
  const conn = (
    id: string,
    url: string,
    sb: typeof limited,
    rateLimit: { requests: number; perSeconds: number },
    timeoutMs = 5000,
  ) => ({
    id,
    provider: 'highlight',
    baseUrl: url,
    timeoutMs,
    rateLimit,
    balanceCacheMs: 0,
    ...sb.credentials,
    ...sb.settings,
  });
  const connectionsFile = join(dir, 'connections.json');
  writeFileSync(
    connectionsFile,
    JSON.stringify([
      conn('hl', limitedUrl, limited, { requests: LIMIT, perSeconds: 1 }),
      conn('fast', openUrl, open, { requests: 100_000, perSeconds: 1 }),
      conn('slow300', slow300Url, slow300, { requests: LIMIT, perSeconds: 1 }),
      conn('slow1000', slow1000Url, slow1000, { requests: LIMIT, perSeconds: 1 }),
      conn('faulty', faultyUrl, faulty, { requests: LIMIT, perSeconds: 1 }, FAULT_TIMEOUT_MS),
    ]),
  );
  const port = await freePort();
  children.push(
    spawn(process.execPath, ['--import', 'tsx', join(root, 'src/server.ts')], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        API_KEYS: `${KEY}:admin`,
        LOG_LEVEL: 'warn',
        DATA_DIR: dir,
        CONNECTIONS_FILE: connectionsFile,
        EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const gw = `http://127.0.0.1:${port}`;
  await waitFor(`${gw}/readyz`);
  const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };
  const cards = [`hl:${serials(limited).stamp}`, `hl:${serials(limited).discount}`];
  // The cards' types, read once (they are remembered), so the run measures awards.
  for (const c of cards) await fetch(`${gw}/v1/cards/${c}`, { headers });
  limited.sim.reset();

  const f = (x: number, d = 1) => x.toFixed(d);
  const rows: string[] = [];
  const row = (figure: string, value: string, target = '') => rows.push(`| ${figure} | ${value} | ${target} |`);

  /** Every transaction of `ids` final (not queued or processing): ms from `since`, or null at `deadline`. */
  const untilFinal = async (ids: string[], since: number, deadline: number) => {
    const left = new Set(ids);
    const statuses = new Map<string, number>();
    while (left.size > 0 && Date.now() < deadline) {
      for (const id of [...left]) {
        const t = (await (await fetch(`${gw}/v1/transactions/${id}`, { headers })).json()) as { status: string };
        if (t.status === 'queued' || t.status === 'processing') continue;
        left.delete(id);
        statuses.set(t.status, (statuses.get(t.status) ?? 0) + 1);
      }
      if (left.size > 0) await sleep(250);
    }
    return { ms: left.size === 0 ? Date.now() - since : null, statuses, unfinished: left.size };
  };
  /** BURST awards sent at once (Prefer: respond-async) to cards of the connection `conn`. */
  const burst = async (connId: string, sb: typeof limited, tag: string, faults: Fault[]) => {
    const onConn = [`${connId}:${serials(sb).stamp}`, `${connId}:${serials(sb).discount}`];
    for (const c of onConn) await fetch(`${gw}/v1/cards/${c}`, { headers });
    sb.sim.reset();
    for (const fault of faults) sb.sim.inject(fault);
    const t0 = Date.now();
    const ids = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const res = await fetch(`${gw}/v1/points/award`, {
          method: 'POST',
          headers: { ...headers, prefer: 'respond-async' },
          body: JSON.stringify({ card_id: onConn[i % 2], points: 1, reason: 'bench', reference_id: `${tag}-${i}` }),
        });
        const body = (await res.json()) as { id: string };
        if (res.status !== 202 && res.status !== 201) throw new Error(`award answered ${res.status}`);
        return body.id;
      }),
    );
    return { t0, ids };
  };
  const statusText = (m: Map<string, number>) => [...m].map(([s, c]) => `${s} ${c}`).join(', ');

  if (CASES.has('sustained')) {
    // ---- sustained: keep BACKLOG awards queued for SECONDS ----
    console.log(
      `dispatch bench: ${SECONDS} s of awards into a Highlight simulator limited to ${LIMIT} requests/s, ` +
        `${BACKLOG} kept queued`,
    );
    const accepted = new Map<string, number>();
    let n = 0;
    const started = Date.now();
    const stopAt = started + SECONDS * 1000;
    const pending = new Set<string>();
    const feeder = async () => {
      while (Date.now() < stopAt) {
        if (pending.size >= BACKLOG) {
          await sleep(20);
          continue;
        }
        const i = n++;
        const res = await fetch(`${gw}/v1/points/award`, {
          method: 'POST',
          headers: { ...headers, prefer: 'respond-async' },
          body: JSON.stringify({ card_id: cards[i % 2], points: 1, reason: 'bench', reference_id: `bench-${i}` }),
        });
        const body = (await res.json()) as { id: string };
        if (res.status !== 202) throw new Error(`award answered ${res.status}: ${JSON.stringify(body)}`);
        accepted.set(body.id, Date.now());
        pending.add(body.id);
      }
    };
    const watcher = async () => {
      while (Date.now() < stopAt + 60_000 && (Date.now() < stopAt || pending.size > 0)) {
        for (const id of [...pending]) {
          const t = (await (await fetch(`${gw}/v1/transactions/${id}`, { headers })).json()) as { status: string };
          if (t.status !== 'queued' && t.status !== 'processing') pending.delete(id);
        }
        await sleep(100);
      }
    };
    await Promise.all([feeder(), feeder(), watcher()]);
    const stats = limited.sim.stats();
    const arrivals = limited.sim.arrivals().filter((t) => t <= stopAt && t >= started + 2000);
    const span = (Math.min(stopAt, Date.now()) - (started + 2000)) / 1000;
    const rps = arrivals.length / span;

    const latencies: number[] = [];
    const statuses = new Map<string, number>();
    for (const [id, at] of accepted) {
      const t = (await (await fetch(`${gw}/v1/transactions/${id}`, { headers })).json()) as {
        status: string;
        completed_at: string | null;
      };
      statuses.set(t.status, (statuses.get(t.status) ?? 0) + 1);
      if (t.completed_at) latencies.push(Date.parse(t.completed_at) - at);
    }
    const doubled = Object.values(limited.sim.appliedByTxn()).filter((c) => c > 1).length;
    row(`sustained: awards accepted / transactions ${statusText(statuses)}`, String(accepted.size), 'all succeeded');
    row(`sustained: provider requests/s (simulator, ${f(span, 0)} s after a 2 s warm-up)`, f(rps, 2));
    row('sustained: share of the limit', f(rps / LIMIT, 3), '>= 0.95');
    row('sustained: most requests in any sliding second', String(stats.maxInWindow), `<= ${LIMIT}`);
    row('sustained: 429s received', String(stats.rateLimited), '0');
    row('sustained: transactions applied twice', String(doubled), '0');
    row(
      `sustained: accept -> applied p50 / p99 (backlog ${BACKLOG})`,
      `${f(pct(latencies, 50), 0)} / ${f(pct(latencies, 99), 0)} ms`,
      '~backlog / limit',
    );
  }

  if (CASES.has('overhead')) {
    // ---- overhead: sync awards through the gateway vs the same request sent directly ----
    const fastCard = serials(open).stamp!;
    const viaGateway: number[] = [];
    await fetch(`${gw}/v1/cards/fast:${fastCard}`, { headers });
    for (let i = 0; i < OVERHEAD_CALLS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${gw}/v1/points/award`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ card_id: `fast:${fastCard}`, points: 1, reason: 'overhead' }),
      });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`sync award answered ${res.status}`);
      viaGateway.push(performance.now() - t0);
    }
    const direct: number[] = [];
    const apiKey = open.credentials.apiKey!;
    for (let i = 0; i < OVERHEAD_CALLS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${openUrl}/cards/${fastCard}/add-stamp`, {
        method: 'POST',
        headers: { 'x-api-key': apiKey, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ stamps: 1, comment: 'overhead' }),
      });
      await res.arrayBuffer();
      direct.push(performance.now() - t0);
    }
    row(
      'overhead: sync award through the gateway p50 / p99 (unlimited simulator)',
      `${f(pct(viaGateway, 50))} / ${f(pct(viaGateway, 99))} ms`,
    );
    row(
      'overhead: same request to the simulator directly p50 / p99',
      `${f(pct(direct, 50))} / ${f(pct(direct, 99))} ms`,
    );
    row(
      'overhead: gateway overhead per dispatched call p50 / p99',
      `${f(pct(viaGateway, 50) - pct(direct, 50))} / ${f(pct(viaGateway, 99) - pct(direct, 99))} ms`,
      '<= 2 / <= 6 ms',
    );
  }

  if (CASES.has('slow')) {
    // ---- a slow provider: the share of the quota used when every answer takes 300 ms, then 1 s ----
    for (const [connId, sb, ms] of [
      ['slow300', slow300, 300],
      ['slow1000', slow1000, 1000],
    ] as const) {
      console.log(`dispatch bench: ${BURST} awards at once, the provider answering in ${ms} ms`);
      const { t0, ids } = await burst(connId, sb, `slow${ms}`, [{ kind: 'latency', ms, times: 1e9 }]);
      const done = await untilFinal(ids, t0, t0 + 10 * 60_000);
      const arrivals = sb.sim.arrivals();
      const busy = ((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)) / 1000;
      const share = busy > 0 ? (arrivals.length - 1) / busy / LIMIT : NaN;
      const stats = sb.sim.stats();
      row(`slow ${ms} ms: transactions ${statusText(done.statuses)}`, String(ids.length), 'all succeeded');
      row(`slow ${ms} ms: share of the quota used (first to last arrival)`, f(share, 3), '>= 0.92');
      row(
        `slow ${ms} ms: most requests in any sliding second / 429s`,
        `${stats.maxInWindow} / ${stats.rateLimited}`,
        `<= ${LIMIT} / 0`,
      );
      row(
        `slow ${ms} ms: time until all final`,
        done.ms === null ? `${done.unfinished} unfinished` : `${f(done.ms / 1000)} s`,
      );
    }
  }

  if (CASES.has('faults')) {
    // ---- a fault mix: 20% applied then never answered (10 s timeout), 10% of all requests a 503 ----
    console.log(
      `dispatch bench: ${BURST} awards at once; 20% applied then timed out (${FAULT_TIMEOUT_MS / 1000} s), 10% 503`,
    );
    faulty.sim.seedFaults(14);
    const { t0, ids } = await burst('faulty', faulty, 'faults', [
      { kind: 'status', status: 503, probability: 0.1, times: 1e9 },
      { kind: 'timeout', applied: true, ms: FAULT_TIMEOUT_MS + 5000, probability: 0.2, times: 1e9, match: '^POST ' },
    ]);
    const done = await untilFinal(ids, t0, t0 + 15 * 60_000);
    const doubled = Object.values(faulty.sim.appliedByTxn()).filter((c) => c > 1).length;
    row(`faults: transactions ${statusText(done.statuses)}`, String(ids.length));
    row(
      'faults: time until every transaction is final',
      done.ms === null ? `${done.unfinished} unfinished` : `${f(done.ms / 1000)} s`,
      '<= 90 s',
    );
    row('faults: needs_review', String(done.statuses.get('needs_review') ?? 0), '0');
    row('faults: applied twice', String(doubled), '0');
  }

  console.log('');
  console.log('| figure | value | target |');
  console.log('| --- | --- | --- |');
  for (const r of rows) console.log(r);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await sleep(1500);
  await limited.sim.stop();
  await open.sim.stop();
  await slow300.sim.stop();
  await slow1000.sim.stop();
  await faulty.sim.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
