/**
 * `npm run bench:profile`: where a gateway process spends its CPU on the built-in ledger. A report, not a test.
 *
 * Starts the gateway (`src/server.ts` under `node --cpu-prof`, LOG_LEVEL=info to /dev/null, an embedded
 * redis-server with AOF on), sends PROFILE_CASE requests (award: new Idempotency-Key each; balance; replay: one
 * key again and again) with autocannon for PROFILE_SECONDS, stops the process and sums the profile's samples: CPU
 * per request, and the self time by area of the code (our src/ folders, Fastify, ioredis, pino, node's own) and by
 * function. PROFILE_OUT keeps the .cpuprofile (open it in Chrome DevTools) instead of deleting it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, startEmbeddedRedis } from '../src/redis/embedded-redis.js';
import { waitFor } from './wait.js';

const CASE = process.env.PROFILE_CASE ?? 'award';
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 32);
const KEY = 'bench_admin_key_0001';
const root = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The area of the code a frame belongs to: a src/ folder, a package, node's internals, or the VM. */
function areaOf(url: string, name: string): string {
  if (url === '') return name === '(garbage collector)' ? 'garbage collection' : name === '(idle)' ? 'idle' : '(vm)';
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src && !url.includes('node_modules')) return `src/${src[1]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const dir = mkdtempSync(join(tmpdir(), 'lgw-profile-'));
const profDir = join(dir, 'prof');
const redis = await startEmbeddedRedis({ dir, appendonly: true, appendfsync: 'everysec' });
let child: ChildProcess | undefined;
try {
  const port = await freePort();
  child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--import', 'tsx', join(root, 'src/server.ts')],
    {
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
    },
  );
  const gw = `http://127.0.0.1:${port}`;
  await waitFor(`${gw}/readyz`);
  const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };
  const cards: string[] = [];
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${gw}/v1/cards`, { method: 'POST', headers, body: '{}' });
    cards.push(((await res.json()) as { id: string }).id);
  }
  const body = (i: number) => JSON.stringify({ card_id: cards[i % cards.length], points: 1, reason: 'profile' });
  let n = 0;
  const run = Date.now().toString(36);
  const request: autocannon.Request =
    CASE === 'balance'
      ? { method: 'GET', path: `/v1/points/balance/${cards[0]}`, headers }
      : CASE === 'replay'
        ? {
            method: 'POST',
            path: '/v1/points/award',
            headers: { ...headers, 'idempotency-key': 'again' },
            body: body(0),
          }
        : {
            method: 'POST',
            path: '/v1/points/award',
            headers,
            setupRequest: (req) => {
              const i = n++;
              return { ...req, body: body(i), headers: { ...req.headers, 'idempotency-key': `${run}-${i}` } };
            },
          };
  const load = (seconds: number) =>
    autocannon({ url: gw, connections: CONNECTIONS, duration: seconds, requests: [request] });
  await load(2); // warm-up: the JIT, the pools
  const r = await load(SECONDS);
  const requests = r.requests.total;
  child.kill('SIGINT'); // --cpu-prof writes the profile as the process exits
  await new Promise((resolve) => child!.once('exit', resolve));
  child = undefined;

  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile;
  // Only the samples of the measured run: its last SECONDS (the profile starts at process start).
  const byNode = new Map(prof.nodes.map((nd) => [nd.id, nd]));
  const selfUs = new Map<number, number>();
  let t = prof.endTime;
  const from = prof.endTime - (SECONDS + 0.5) * 1e6;
  for (let i = prof.samples.length - 1; i >= 0; i--) {
    const dt = prof.timeDeltas[i + 1] ?? 0;
    t -= prof.timeDeltas[i + 1] ?? 0;
    if (t < from) break;
    selfUs.set(prof.samples[i]!, (selfUs.get(prof.samples[i]!) ?? 0) + dt);
  }
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const nd = byNode.get(id)!;
    const area = areaOf(nd.callFrame.url, nd.callFrame.functionName);
    if (area === 'idle' || nd.callFrame.functionName === '(program)') {
      if (area !== 'idle') areas.set('(program)', (areas.get('(program)') ?? 0) + us);
      if (area === 'idle') continue;
    }
    busy += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const short = nd.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/');
    const fn = `${nd.callFrame.functionName || '(anonymous)'} ${short}:${nd.callFrame.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
  }
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(
    `profile: ${CASE}, ${SECONDS} s, ${CONNECTIONS} connections: ${requests} requests (${f(requests / SECONDS, 0)}/s), ` +
      `${r.non2xx + r.errors} not 2xx`,
  );
  console.log(
    `CPU of the gateway process per request: ${f(busy / requests)} µs (busy ${f(busy / 1e6 / SECONDS, 2)} of one core)\n`,
  );
  console.log('| area (self time) | µs per request | share |');
  console.log('| --- | --- | --- |');
  for (const [area, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 14)) {
    console.log(`| ${area} | ${f(us / requests)} | ${f((100 * us) / busy, 0)}% |`);
  }
  console.log('\n| function (self time) | µs per request |');
  console.log('| --- | --- |');
  for (const [fn, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`| ${fn} | ${f(us / requests, 2)} |`);
  }
  if (process.env.PROFILE_OUT) {
    renameSync(join(profDir, file), process.env.PROFILE_OUT);
    console.log(`\nprofile kept: ${process.env.PROFILE_OUT}`);
  }
} finally {
  child?.kill('SIGTERM');
  await sleep(500);
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
