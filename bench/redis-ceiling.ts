/**
 * `npm run bench:redis`: the ceiling of one Redis under built-in ledger awards. A report, not a test.
 *
 * BENCH_GATEWAYS gateway processes (default 2, `src/server.ts`, role all, built-in ledger only) share one
 * embedded redis-server (AOF on, fsync every second, as `npm start` runs it); autocannon sends awards with a
 * new Idempotency-Key each, over BENCH_CARDS cards (default 200), to every process at once for BENCH_SECONDS
 * (default 20). On a 2-core machine the gateways and the load generator share the second core, so Redis is not
 * driven to 100% here: what is measured is what Redis spends on one award (its own CPU, read from INFO before
 * and after, divided by the awards made), and the ceiling follows from it: one Redis core / CPU per award. The
 * report also gives the commands per award and where Redis's time goes (INFO commandstats).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { freePort, startEmbeddedRedis } from '../src/redis/embedded-redis.js';
import { waitFor } from './wait.js';

const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 2);
const CARDS = Number(process.env.BENCH_CARDS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const KEY = 'bench_admin_key_0001';
const root = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Redis's own CPU (main thread and the rest, seconds), commands processed, and per-command time. */
async function redisSample(r: Redis) {
  const info = await r.info('all');
  const num = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+),usec=(\d+)/gm)) {
    commands.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return {
    cpu: num('used_cpu_user') + num('used_cpu_sys'),
    commands: num('total_commands_processed'),
    perCommand: commands,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'lgw-bench-redis-'));
const redis = await startEmbeddedRedis({ dir, appendonly: true, appendfsync: 'everysec' });
const children: ChildProcess[] = [];
const probe = new Redis(redis.url, { lazyConnect: false });
try {
  const urls: string[] = [];
  for (let i = 0; i < GATEWAYS; i++) {
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
          LOG_LEVEL: 'info',
          DATA_DIR: join(dir, `gw${i}`),
          EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
          AUDIT_INTERVAL_SECONDS: '0',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    urls.push(`http://127.0.0.1:${port}`);
  }
  for (const u of urls) await waitFor(`${u}/readyz`);
  const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };
  const cards: string[] = [];
  for (let i = 0; i < CARDS; i++) {
    const res = await fetch(`${urls[i % urls.length]}/v1/cards`, { method: 'POST', headers, body: '{}' });
    cards.push(((await res.json()) as { id: string }).id);
  }
  const bodies = cards.map((id) => JSON.stringify({ card_id: id, points: 1, reason: 'bench' }));
  const run = Date.now().toString(36);
  let n = 0;
  const drive = (url: string, seconds: number) =>
    autocannon({
      url,
      connections: CONNECTIONS,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/v1/points/award',
          headers,
          setupRequest: (req) => {
            const i = n++;
            return {
              ...req,
              body: bodies[i % bodies.length],
              headers: { ...req.headers, 'idempotency-key': `${run}-${i}` },
            };
          },
        },
      ],
    });
  console.log(
    `redis ceiling bench: ${GATEWAYS} gateway processes on one redis-server, awards over ${CARDS} cards, ` +
      `${SECONDS} s, ${CONNECTIONS} connections per process, node ${process.version}`,
  );
  // Warm up (JIT, pools), then measure.
  await Promise.all(urls.map((u) => drive(u, 3)));
  const before = await redisSample(probe);
  const t0 = performance.now();
  const results = await Promise.all(urls.map((u) => drive(u, SECONDS)));
  const wall = (performance.now() - t0) / 1000;
  const after = await redisSample(probe);

  const awards = results.reduce((s, r) => s + r.requests.total - r.non2xx, 0);
  const failed = results.reduce((s, r) => s + r.non2xx + r.errors, 0);
  const cpu = after.cpu - before.cpu;
  const usPerAward = (cpu * 1e6) / awards;
  const commandsPerAward = (after.commands - before.commands - 2) / awards; // INFO itself counts twice
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log('');
  console.log('| figure | value |');
  console.log('| --- | --- |');
  console.log(`| awards per second, all processes | ${f(awards / wall, 0)} |`);
  console.log(`| answers other than 2xx, errors | ${failed} |`);
  console.log(`| Redis CPU busy (one core = 1.00) | ${f(cpu / wall, 2)} |`);
  console.log(`| Redis CPU per award | ${f(usPerAward)} µs |`);
  console.log(`| Redis commands per award | ${f(commandsPerAward, 2)} |`);
  console.log(`| ceiling of one Redis core (1 s / CPU per award) | ~${f(1e6 / usPerAward, 0)} awards/s |`);
  const rows = [...after.perCommand]
    .map(([name, a]) => {
      const b = before.perCommand.get(name) ?? { calls: 0, usec: 0 };
      return { name, calls: a.calls - b.calls, usec: a.usec - b.usec };
    })
    .filter((r) => r.calls > 0 && r.name !== 'info')
    .sort((x, y) => y.usec - x.usec);
  console.log('\n| command (INFO commandstats) | calls per award | µs per call | µs per award |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows.slice(0, 8)) {
    console.log(`| ${r.name} | ${f(r.calls / awards, 2)} | ${f(r.usec / r.calls)} | ${f(r.usec / awards)} |`);
  }
  console.log(
    '\nµs per award in commandstats is time inside the commands; the rest of Redis CPU per award is reading, ' +
      'parsing and answering them, and the AOF.',
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
  probe.disconnect();
  await sleep(1000);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
