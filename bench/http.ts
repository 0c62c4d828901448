/**
 * `npm run bench`: HTTP throughput and latency of the gateway against a bare Fastify route,
 * measured in the same run on the same machine. A report, not a test: it asserts nothing.
 *
 * The gateway runs as its own process (`src/server.ts`, LOG_LEVEL=info, logs to /dev/null) on an
 * embedded redis-server with AOF on, as `npm start` runs it; autocannon drives it from here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, startEmbeddedRedis } from '../src/redis/embedded-redis.js';
import { waitFor } from './wait.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEY = 'bench_admin_key_0001';
const root = new URL('..', import.meta.url).pathname;

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function startChild(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function load(name: string, opts: autocannon.Options): Promise<Result> {
  const r = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts });
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

const dir = mkdtempSync(join(tmpdir(), 'lgw-bench-'));
const redis = await startEmbeddedRedis({ dir, appendonly: true, appendfsync: 'everysec' });
const children: ChildProcess[] = [];
try {
  const barePort = await freePort();
  children.push(startChild([join(root, 'bench/bare-server.ts'), String(barePort)], {}));
  await waitFor(`http://127.0.0.1:${barePort}/hello`);

  const gwPort = await freePort();
  children.push(
    startChild([join(root, 'src/server.ts')], {
      PORT: String(gwPort),
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
      API_KEYS: `${KEY}:admin`,
      LOG_LEVEL: 'info',
      DATA_DIR: dir,
      EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
    }),
  );
  const gw = `http://127.0.0.1:${gwPort}`;
  const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };
  await waitFor(`${gw}/readyz`);
  const card = (await (await fetch(`${gw}/v1/cards`, { method: 'POST', headers, body: '{}' })).json()) as {
    id: string;
  };
  const awardBody = JSON.stringify({ card_id: card.id, points: 1, reason: 'bench' });
  await fetch(`${gw}/v1/points/award`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': 'replayed-key' },
    body: awardBody,
  });

  console.log(
    `loyalty-gateway HTTP benchmark: ${DURATION} s per case, ${CONNECTIONS} connections, node ${process.version}\n`,
  );
  const results: Result[] = [];
  // Warm both servers up (JIT, connection pools) before measuring.
  await autocannon({ url: `http://127.0.0.1:${barePort}/hello`, connections: CONNECTIONS, duration: 2 });
  await autocannon({ url: `${gw}/v1/points/balance/${card.id}`, headers, connections: CONNECTIONS, duration: 2 });

  results.push(await load('bare Fastify route (baseline)', { url: `http://127.0.0.1:${barePort}/hello` }));
  results.push(await load('GET balance', { url: `${gw}/v1/points/balance/${card.id}`, headers }));
  let n = 0;
  const run = Date.now().toString(36);
  results.push(
    await load('POST award, new Idempotency-Key', {
      url: gw,
      requests: [
        {
          method: 'POST',
          path: '/v1/points/award',
          headers,
          body: awardBody,
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `${run}-${n++}` } }),
        },
      ],
    }),
  );
  results.push(
    await load('POST award, replayed key', {
      url: gw,
      requests: [
        {
          method: 'POST',
          path: '/v1/points/award',
          headers: { ...headers, 'idempotency-key': 'replayed-key' },
          body: awardBody,
        },
      ],
    }),
  );

  const base = results[0]!.rps;
  const targets: Record<string, number> = {
    'GET balance': 0.5,
    'POST award, new Idempotency-Key': 0.3,
    'POST award, replayed key': 0.5,
  };
  const pad = (s: string, w: number) => s.padEnd(w);
  const row = (cells: [string, number][]) => cells.map(([s, w]) => pad(s, w)).join('');
  console.log(
    row([
      ['case', 36],
      ['req/s', 10],
      ['p50 ms', 8],
      ['p99 ms', 8],
      ['ratio', 8],
      ['target', 12],
      ['non-2xx', 0],
    ]),
  );
  for (const r of results) {
    const ratio = r.rps / base;
    const target = targets[r.name];
    const met = target ? `>=${target}${ratio >= target ? ' ok' : ' MISS'}` : '-';
    console.log(
      row([
        [r.name, 36],
        [r.rps.toFixed(0), 10],
        [String(r.p50), 8],
        [String(r.p99), 8],
        [ratio.toFixed(2), 8],
        [met, 12],
        [String(r.non2xx + r.errors), 0],
      ]),
    );
  }
  const bal = (await (await fetch(`${gw}/v1/points/balance/${card.id}`, { headers })).json()) as { available: number };
  console.log(`\ncard balance after the run: ${bal.available} points (1 + one per new-key award: ${n} sent)`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
