/**
 * `npm run bench:load`: a mixed workload at a fixed arrival rate, open loop (a request is sent on
 * schedule whether or not the earlier ones were answered, as real clients do): 70% balance reads,
 * 20% awards, 10% redeems, over LOAD_CARDS built-in ledger cards, at LOAD_RATE requests a second
 * for LOAD_SECONDS. Prints the throughput reached, p50 / p99 / p99.9 latency, errors (any answer
 * but 2xx, or none; there should be 0) and the gateway process's resident memory at the start and
 * the end (read from its /metrics), which should be flat. A report, not a test: it asserts nothing.
 *
 * The gateway runs as its own process (src/server.ts, LOG_LEVEL=info, logs to /dev/null) on an
 * embedded redis-server with AOF on, as `npm start` runs it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort, startEmbeddedRedis } from '../src/redis/embedded-redis.js';

const RATE = Number(process.env.LOAD_RATE ?? 300);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const CARDS = Number(process.env.LOAD_CARDS ?? 50);
const KEY = 'bench_admin_key_0001';
const root = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'lgw-bench-load-'));
const redis = await startEmbeddedRedis({ dir, appendonly: true, appendfsync: 'everysec' });
const port = await freePort();
const gateway: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/server.ts')], {
  cwd: root,
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    API_KEYS: `${KEY}:admin`,
    LOG_LEVEL: 'info',
    DATA_DIR: dir,
    EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
    AUDIT_INTERVAL_SECONDS: '0',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
const agent = new Agent({ connections: 256, pipelining: 1 });
const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };

async function call(method: 'GET' | 'POST', path: string, body?: unknown, extra: Record<string, string> = {}) {
  const res = await request(`${base}${path}`, {
    method,
    dispatcher: agent,
    headers: { ...headers, ...extra },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

/** The gateway's resident memory, from its own /metrics (prom-client's process metrics). */
async function rssMb(): Promise<number> {
  const { text } = await call('GET', '/metrics');
  const m = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return m ? Number(m[1]) / 1048576 : Number.NaN;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

try {
  for (let i = 0; i < 300; i++) {
    const ok = await call('GET', '/readyz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  const cards: string[] = [];
  for (let i = 0; i < CARDS; i++) {
    const card = JSON.parse((await call('POST', '/v1/cards', {})).text) as { id: string };
    await call('POST', '/v1/points/award', { card_id: card.id, points: 1_000_000, reason: 'seed' });
    cards.push(card.id);
  }
  const memStart = await rssMb();
  console.log(
    `loyalty-gateway load benchmark: ${RATE} requests/s for ${SECONDS} s (70% balance, 20% award, 10% redeem) over ` +
      `${CARDS} cards, node ${process.version}`,
  );

  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const started = performance.now();
  const total = RATE * SECONDS;
  let n = 0;
  for (let i = 0; i < total; i++) {
    // Open loop: request i is due at i / RATE seconds, whatever happened to the others.
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const card = cards[i % CARDS]!;
    const kind = i % 10 < 7 ? 'balance' : i % 10 < 9 ? 'award' : 'redeem';
    const t0 = performance.now();
    const p =
      kind === 'balance'
        ? call('GET', `/v1/points/balance/${card}`)
        : call(
            'POST',
            `/v1/points/${kind}`,
            { card_id: card, points: 1, reason: 'load' },
            { 'idempotency-key': `l-${n++}` },
          );
    pending.push(
      p.then(
        (r) => {
          latencies.push(performance.now() - t0);
          if (r.status < 200 || r.status > 299)
            errors[`${kind} ${r.status}`] = (errors[`${kind} ${r.status}`] ?? 0) + 1;
        },
        (err: Error) => {
          errors[`${kind} ${err.message}`] = (errors[`${kind} ${err.message}`] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  const memEnd = await rssMb();
  latencies.sort((a, b) => a - b);
  const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
  console.log(
    `  throughput   ${(latencies.length / elapsed).toFixed(0)} answers/s (asked ${RATE}/s), ${latencies.length} answers in ${elapsed.toFixed(1)} s`,
  );
  console.log(
    `  latency      p50 ${pct(latencies, 0.5).toFixed(1)} ms, p99 ${pct(latencies, 0.99).toFixed(1)} ms, ` +
      `p99.9 ${pct(latencies, 0.999).toFixed(1)} ms, max ${(latencies.at(-1) ?? 0).toFixed(1)} ms`,
  );
  console.log(`  errors       ${errorCount}${errorCount ? ` ${JSON.stringify(errors)}` : ''}`);
  console.log(`  memory (RSS) ${memStart.toFixed(0)} MB at the start, ${memEnd.toFixed(0)} MB at the end`);
} finally {
  gateway.kill('SIGTERM');
  await new Promise((ok) => gateway.once('exit', ok));
  await agent.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
