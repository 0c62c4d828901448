/**
 * `npm run bench:outage`: what clients see while Redis is away, under load. A report, not a test.
 *
 * The gateway runs as its own process (`src/server.ts`) on a redis-server of this script's own
 * (AOF on). 20 awards a second, each with a new Idempotency-Key, run through two outages of
 * OUTAGE_SECONDS (default 5): Redis stopped (SIGTERM, then started again on the same port and
 * data) and Redis stalled (SIGSTOP, then SIGCONT). It prints, per outage: the answers by status,
 * the 5xx other than 503, the slowest answer, and how long after Redis came back the first award
 * succeeded. Then, as a client would, it retries every award that was not acknowledged with the
 * same key, and checks that the card's balance is exactly one award per key: nothing acknowledged
 * lost, nothing applied twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ping } from '../src/redis/embedded-redis.js';

const OUTAGE_MS = Number(process.env.OUTAGE_SECONDS ?? 5) * 1000;
const RATE = Number(process.env.OUTAGE_RATE ?? 20);
const KEY = 'bench_admin_key_0001';
const root = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'lgw-bench-outage-'));
let redis: ChildProcess;
let redisPort = 0;

async function startRedis(): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 200 && !(await ping(redisPort)); i++) await sleep(25);
}

async function stopRedis(): Promise<void> {
  const exited = new Promise((ok) => redis.once('exit', ok));
  redis.kill('SIGTERM');
  await exited;
}

interface Answer {
  key: string;
  status: number;
  ms: number;
  at: number;
}

async function main() {
  redisPort = await freePort();
  await startRedis();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const gateway = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      API_KEYS: `${KEY}:admin`,
      LOG_LEVEL: 'warn',
      REDIS_COMMAND_TIMEOUT_MS: process.env.REDIS_COMMAND_TIMEOUT_MS ?? '1000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };
  try {
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await sleep(100);
    }
    const card = (await (await fetch(`${base}/v1/cards`, { method: 'POST', headers, body: '{}' })).json()) as {
      id: string;
    };

    const award = async (key: string): Promise<Answer> => {
      const t0 = performance.now();
      const status = await fetch(`${base}/v1/points/award`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': key },
        body: JSON.stringify({ card_id: card.id, points: 1, reason: 'bench' }),
        signal: AbortSignal.timeout(30_000),
      }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      );
      return { key, status, ms: performance.now() - t0, at: Date.now() };
    };

    const keys: string[] = [];
    /** Awards at RATE/s for `ms`, each with a new key; resolves with every answer once all are in. */
    const load = async (ms: number): Promise<Answer[]> => {
      const pending: Promise<Answer>[] = [];
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const key = `outage-${keys.length}`;
        keys.push(key);
        pending.push(award(key));
        await sleep(1000 / RATE);
      }
      return Promise.all(pending);
    };

    const report = (name: string, answers: Answer[], backAt: number) => {
      const by: Record<string, number> = {};
      for (const a of answers) by[a.status] = (by[a.status] ?? 0) + 1;
      const other5xx = answers.filter((a) => (a.status >= 500 && a.status !== 503) || a.status === 0).length;
      const firstOk = answers.filter((a) => a.status === 201 && a.at >= backAt).sort((a, b) => a.at - b.at)[0];
      const slowest = Math.max(...answers.map((a) => a.ms));
      console.log(
        `${name.padEnd(28)} answers ${JSON.stringify(by)}  5xx other than 503: ${other5xx}  slowest ${slowest.toFixed(0)} ms  ` +
          `first 201 after Redis is back: ${firstOk ? `${((firstOk.at - backAt) / 1000).toFixed(2)} s` : 'none'}`,
      );
    };

    console.log(
      `outage bench: ${RATE} awards/s, outages of ${OUTAGE_MS / 1000} s, Redis command timeout ${
        process.env.REDIS_COMMAND_TIMEOUT_MS ?? '1000'
      } ms`,
    );
    const answers: Answer[] = [];

    // Stopped: 2 s of load, OUTAGE_MS without Redis, then 3 s after it is back.
    const stopped = load(2000 + OUTAGE_MS + 3000);
    await sleep(2000);
    await stopRedis();
    await sleep(OUTAGE_MS);
    await startRedis();
    const stoppedBack = Date.now();
    const s = await stopped;
    report('Redis stopped (SIGTERM)', s, stoppedBack);
    answers.push(...s);

    // Stalled: the same with SIGSTOP / SIGCONT.
    const stalled = load(2000 + OUTAGE_MS + 3000);
    await sleep(2000);
    redis.kill('SIGSTOP');
    await sleep(OUTAGE_MS);
    redis.kill('SIGCONT');
    const stalledBack = Date.now();
    const t = await stalled;
    report('Redis stalled (SIGSTOP)', t, stalledBack);
    answers.push(...t);

    // A client retries what was not acknowledged, with the same key, until it is.
    let open = answers.filter((a) => a.status !== 201).map((a) => a.key);
    const retried = open.length;
    for (let round = 0; round < 45 && open.length > 0; round++) {
      const again = await Promise.all(open.map((k) => award(k)));
      open = again.filter((a) => a.status !== 201 && a.status !== 200).map((a) => a.key);
      if (open.length > 0) await sleep(1000);
    }
    const balance = (await (await fetch(`${base}/v1/points/balance/${card.id}`, { headers })).json()) as {
      available: number;
    };
    const acked = answers.filter((a) => a.status === 201).length;
    console.log(
      `awards sent ${keys.length}, acknowledged at once ${acked}, retried ${retried} (still open: ${open.length}); ` +
        `balance ${balance.available}: ${balance.available === keys.length ? 'one award per key' : 'MISMATCH'}`,
    );
  } finally {
    gateway.kill('SIGTERM');
    redis.kill('SIGCONT');
    await new Promise((ok) => gateway.once('exit', ok));
    await stopRedis().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
