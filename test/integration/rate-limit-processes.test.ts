import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/embedded-redis.js';
import { createHighlightSandbox } from '../../src/sandbox/highlight/simulator.js';
import { suiteRedis } from '../helpers/gateway.js';
import { TEST_RATE_MARGIN_MS } from '../helpers/sandbox.js';
import { type ServerProcess, spawnServer } from '../helpers/server-process.js';

/**
 * One provider connection's rate limit, held across processes: two API processes and two worker
 * processes (`src/server.ts --role api|worker`) on one Redis, all sending to one simulator that
 * refuses (429) a request over its limit. Writes go through the workers; balance reads are sent by
 * the API processes themselves. The simulator counts every arrival: never more than the limit in
 * any sliding window, never a 429, every award applied exactly once.
 */

const LIMIT = { requests: 10, perSeconds: 1 };
const KEY = 'procs_admin_key_0001';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sb = createHighlightSandbox({ rateLimit: LIMIT });
const dir = mkdtempSync(join(tmpdir(), 'lgw-procs-'));
const prefix = `t${randomBytes(5).toString('hex')}`;
const procs: ServerProcess[] = [];
const apis: string[] = [];
let card: string;

async function startProcess(role: 'api' | 'worker', connectionsFile: string, port = 0): Promise<void> {
  const server = spawnServer(['--role', role], {
    ...suiteRedis(),
    REDIS_KEY_PREFIX: prefix,
    CONNECTIONS_FILE: connectionsFile,
    API_KEYS: `${KEY}:admin`,
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
  });
  procs.push(server);
  const started = role === 'api' ? /listening on/ : /worker started/;
  for (let i = 0; i < 600; i++) {
    if (started.test(server.output())) return;
    if (server.proc.exitCode !== null) throw new Error(`${role} exited: ${server.output()}`);
    await sleep(50);
  }
  throw new Error(`${role} never started: ${server.output()}`);
}

async function call(api: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(api + path, {
    method,
    headers: { 'x-api-key': KEY, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

beforeAll(async () => {
  const url = await sb.sim.start(0);
  const connectionsFile = join(dir, 'connections.json');
  writeFileSync(
    connectionsFile,
    JSON.stringify([
      {
        id: 'hl',
        provider: 'highlight',
        baseUrl: url,
        timeoutMs: 5000,
        rateLimit: { ...LIMIT, marginMs: TEST_RATE_MARGIN_MS },
        balanceCacheMs: 0,
        ...sb.credentials,
        ...sb.settings,
      },
    ]),
  );
  const ports = [await freePort(), await freePort()];
  await Promise.all([
    ...ports.map((p) => startProcess('api', connectionsFile, p)),
    startProcess('worker', connectionsFile),
    startProcess('worker', connectionsFile),
  ]);
  apis.push(...ports.map((p) => `http://127.0.0.1:${p}`));
  card = `hl:${(sb.seed.cards as Record<string, string>).stamp}`;
}, 60_000);

afterAll(async () => {
  await Promise.all(
    procs.map(
      ({ proc }) =>
        new Promise<void>((ok) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return ok();
          proc.once('exit', () => ok());
          proc.kill('SIGTERM');
          setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
  await sb.sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a connection rate limit across processes', () => {
  it('two API processes and two workers: never over the limit in any sliding window, no 429, each award once', async () => {
    sb.sim.reset();
    // 20 awards (answered 202 at once, sent by either worker) and 10 balance reads (sent by the API
    // processes themselves), half through each API process, all at once: 30 requests for 10 a second.
    const awards = Array.from({ length: 20 }, (_, i) =>
      call(
        apis[i % 2]!,
        'POST',
        '/v1/points/award',
        { card_id: card, points: 1, reason: `procs ${i}`, reference_id: `procs-${i}` },
        { prefer: 'respond-async' },
      ),
    );
    const reads = Array.from({ length: 10 }, (_, i) => call(apis[i % 2]!, 'GET', `/v1/points/balance/${card}`));
    const accepted = await Promise.all(awards);
    expect(accepted.map((r) => r.status)).toEqual(Array(20).fill(202));
    expect((await Promise.all(reads)).filter((r) => r.status !== 200).map((r) => r.text)).toEqual([]);

    const ids = accepted.map((r) => r.body.id as string);
    const pending = new Set(ids);
    const statuses = new Map<string, string>();
    for (let i = 0; i < 600 && pending.size > 0; i++) {
      for (const id of [...pending]) {
        const t = await call(apis[0]!, 'GET', `/v1/transactions/${id}`);
        if (['succeeded', 'failed', 'needs_review'].includes(t.body.status)) {
          statuses.set(id, t.body.status);
          pending.delete(id);
        }
      }
      if (pending.size > 0) await sleep(200);
    }
    expect([...pending]).toEqual([]);
    expect([...statuses.values()].filter((s) => s !== 'succeeded')).toEqual([]);

    const stats = sb.sim.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.maxInWindow).toBeLessThanOrEqual(LIMIT.requests);
    // Every award and every read reached the provider (card reads for the awards come on top).
    expect(stats.requests).toBeGreaterThanOrEqual(30);
    const applied = sb.sim.appliedByTxn();
    expect(ids.filter((id) => applied[id] !== 1)).toEqual([]);
  }, 90_000);
});
