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
 *     an unlimited simulator, minus the same request sent to that simulator directly (p50, p99).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startEmbeddedRedis } from '../src/redis/embedded-redis.js';
import { createHighlightSandbox } from '../src/sandbox/highlight/simulator.js';

const SECONDS = Number(process.env.BENCH_DISPATCH_SECONDS ?? 60);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 20);
const OVERHEAD_CALLS = Number(process.env.BENCH_OVERHEAD_CALLS ?? 300);
const LIMIT = 10;
const KEY = 'bench_admin_key_0001';
const root = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function waitFor(url: string) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} never answered`);
}

const dir = mkdtempSync(join(tmpdir(), 'lgw-bench-dispatch-'));
const redis = await startEmbeddedRedis({ dir, appendonly: true, appendfsync: 'everysec' });
const limited = createHighlightSandbox({ rateLimit: { requests: LIMIT, perSeconds: 1 } });
const open = createHighlightSandbox({ rateLimit: { requests: 1_000_000, perSeconds: 1 } });
const serials = (sb: typeof limited) => sb.seed.cards as Record<string, string>;
const children: ChildProcess[] = [];
try {
  const limitedUrl = await limited.sim.start(0);
  const openUrl = await open.sim.start(0);
  const conn = (id: string, url: string, sb: typeof limited, rateLimit: { requests: number; perSeconds: number }) => ({
    id,
    provider: 'highlight',
    baseUrl: url,
    timeoutMs: 5000,
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

  // ---- sustained: keep BACKLOG awards queued for SECONDS ----
  console.log(
    `dispatch bench: ${SECONDS} s of awards into a Highlight simulator limited to ${LIMIT} requests/s, ${BACKLOG} ` +
      `kept queued`,
  );
  const accepted = new Map<string, number>();
  let _inFlight = 0;
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
      _inFlight++;
      const i = n++;
      const res = await fetch(`${gw}/v1/points/award`, {
        method: 'POST',
        headers: { ...headers, prefer: 'respond-async' },
        body: JSON.stringify({ card_id: cards[i % 2], points: 1, reason: 'bench', reference_id: `bench-${i}` }),
      });
      _inFlight--;
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
  const applied = limited.sim.appliedByTxn();
  const doubled = Object.values(applied).filter((c) => c > 1).length;

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

  const f = (x: number, d = 1) => x.toFixed(d);
  console.log('');
  console.log('| figure | value | target |');
  console.log('| --- | --- | --- |');
  console.log(
    `| awards accepted / transactions ${[...statuses].map(([s, c]) => `${s} ${c}`).join(', ')} | ${accepted.size} ` +
      `| all succeeded |`,
  );
  console.log(`| provider requests/s (simulator, ${f(span, 0)} s after a 2 s warm-up) | ${f(rps, 2)} | |`);
  console.log(`| share of the limit | ${f(rps / LIMIT, 3)} | >= 0.95 |`);
  console.log(`| most requests in any sliding second | ${stats.maxInWindow} | <= ${LIMIT} |`);
  console.log(`| 429s received | ${stats.rateLimited} | 0 |`);
  console.log(`| transactions applied twice | ${doubled} | 0 |`);
  console.log(
    `| accept -> applied p50 / p99 (backlog ${BACKLOG}) | ${f(pct(latencies, 50), 0)} / ` +
      `${f(pct(latencies, 99), 0)} ms | ~backlog / limit |`,
  );
  console.log(
    `| sync award through the gateway p50 / p99 (unlimited simulator) | ${f(pct(viaGateway, 50))} / ` +
      `${f(pct(viaGateway, 99))} ms | |`,
  );
  console.log(
    `| same request to the simulator directly p50 / p99 | ${f(pct(direct, 50))} / ${f(pct(direct, 99))} ms | |`,
  );
  console.log(
    `| gateway overhead per dispatched call p50 / p99 | ${f(pct(viaGateway, 50) - pct(direct, 50))} / ` +
      `${f(pct(viaGateway, 99) - pct(direct, 99))} ms | |`,
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
  await sleep(1500);
  await limited.sim.stop();
  await open.sim.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
