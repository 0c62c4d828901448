import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHighlightSandbox } from '../../src/sandbox/highlight/simulator.js';
import { settled } from '../helpers/dispatch.js';
import { startGateway, suiteRedis, type TestGateway } from '../helpers/gateway.js';
import { TEST_RATE_MARGIN_MS } from '../helpers/sandbox.js';
import { type ServerProcess, spawnServer } from '../helpers/server-process.js';

/**
 * Scale-out: an API process (role api, in this test process) and worker processes
 * (`src/server.ts --role worker`) on one Redis. A worker killed with SIGKILL mid-run loses
 * nothing: another takes its jobs over, and the ledger keeps every transaction exactly once.
 * A worker told SIGTERM finishes its running jobs and exits 0.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Worker = ServerProcess;

const sb = createHighlightSandbox({ rateLimit: { requests: 10, perSeconds: 1 } });
const dir = mkdtempSync(join(tmpdir(), 'lgw-workers-'));
const prefix = `t${randomBytes(5).toString('hex')}`;
const workers: Worker[] = [];
let gw: TestGateway;
let connectionsFile: string;
let card: string;

function startWorker(): Worker {
  const w = spawnServer(['--role', 'worker'], {
    ...suiteRedis(),
    REDIS_KEY_PREFIX: prefix,
    CONNECTIONS_FILE: connectionsFile,
    API_KEYS: 'worker_admin_key_0001:admin',
    DATA_DIR: dir,
    LOG_LEVEL: 'info',
    EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
    // A killed worker's jobs are taken over within a few seconds.
    DISPATCH_LOCK_MS: '2000',
    DISPATCH_STALLED_INTERVAL_MS: '1000',
    SHUTDOWN_GRACE_MS: '10000',
  });
  workers.push(w);
  return w;
}

async function ready(w: Worker): Promise<void> {
  // A generous bound: a process compiles the gateway with tsx at start, slow on a loaded machine.
  for (let i = 0; i < 1200; i++) {
    if (w.output().includes('worker started')) return;
    if (w.proc.exitCode !== null) throw new Error(`worker exited: ${w.output()}`);
    await sleep(50);
  }
  throw new Error(`worker never started: ${w.output()}`);
}

beforeAll(async () => {
  const url = await sb.sim.start(0);
  connectionsFile = join(dir, 'connections.json');
  const conn = {
    id: 'hl',
    provider: 'highlight',
    baseUrl: url,
    timeoutMs: 3000,
    rateLimit: { requests: 10, perSeconds: 1, marginMs: TEST_RATE_MARGIN_MS },
    balanceCacheMs: 0,
    ...sb.credentials,
    ...sb.settings,
  };
  writeFileSync(connectionsFile, JSON.stringify([conn]));
  gw = await startGateway({ env: { ROLE: 'api' }, connections: [conn], prefix });
  card = `hl:${(sb.seed.cards as Record<string, string>).stamp}`;
});

// Each test starts from a fresh simulator: no faults, empty counters, stats and operation log.
beforeEach(() => sb.sim.reset());

afterAll(async () => {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  await gw?.close();
  await sb.sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const award = (i: number, tag: string) =>
  gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points: 1, reason: `${tag} ${i}`, reference_id: `${tag}-${i}` },
    headers: { prefer: 'respond-async' },
  });

describe('worker processes', () => {
  it('a worker killed with SIGKILL mid-run: a second worker finishes the work, nothing lost, nothing ' +
    'doubled', async () => {
    const first = startWorker();
    await ready(first);
    // Every move takes a moment at the provider, so that some are in flight when the worker dies.
    sb.sim.inject({ kind: 'latency', ms: 2000, times: 1e9, match: '^POST ' });
    const accepted = await Promise.all(Array.from({ length: 40 }, (_, i) => award(i, 'kill')));
    expect(accepted.map((r) => r.status)).toEqual(Array(40).fill(202));
    const ids = accepted.map((r) => r.body.id as string);
    // The first ten are applied (2 s each) and the next ones are on their way: kill it then.
    for (let i = 0; i < 800 && sb.sim.stats().requests < 12; i++) await sleep(25);
    first.proc.kill('SIGKILL');
    await first.exited;
    const appliedAtKill = Object.keys(sb.sim.appliedByTxn()).length;
    expect(appliedAtKill).toBeLessThan(40);
    // Killed mid-call: some transactions were being sent (processing) and their outcome is unknown.
    const midCall = (await gw.store.getMany(ids)).filter((r) => r.status === 'processing').map((r) => r.id);
    expect(midCall.length, first.output().slice(-3000)).toBeGreaterThan(0);

    const second = startWorker();
    await ready(second);
    const recs = await settled(gw, ids, 90_000);
    expect(recs.filter((r) => r.status !== 'succeeded').map((r) => `${r.id} ${r.status} ${r.error_code}`)).toEqual([]);
    const applied = sb.sim.appliedByTxn();
    expect(ids.filter((id) => applied[id] !== 1)).toEqual([]);
    expect(sb.sim.stats().rateLimited).toBe(0);
    // Those were reconciled first (Highlight's /operations searched for their id), then settled.
    expect(second.output()).toContain('reconciled');
    expect(recs.filter((r) => midCall.includes(r.id)).every((r) => r.status === 'succeeded')).toBe(true);

    second.proc.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, 150_000);

  it('SIGTERM: the worker finishes the jobs it is running, takes no more, and exits 0; the next worker does the ' +
    'rest', async () => {
    const w = startWorker();
    await ready(w);
    sb.sim.inject({ kind: 'latency', ms: 1000, times: 1e9, match: '^POST ' });
    const accepted = await Promise.all(Array.from({ length: 30 }, (_, i) => award(i, 'term')));
    const ids = accepted.map((r) => r.body.id as string);
    // Some moves on their way (a card read may come first).
    for (let i = 0; i < 200 && sb.sim.stats().requests < 3; i++) await sleep(25);
    w.proc.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    // Nothing left half-done: whatever it was sending has its answer recorded.
    const after = await gw.store.getMany(ids);
    expect(after.filter((r) => r.status === 'processing')).toEqual([]);
    expect(after.filter((r) => r.status === 'succeeded').length).toBeGreaterThan(0);
    expect(after.filter((r) => r.status === 'queued').length).toBeGreaterThan(0);

    // The latency goes; the operation log stays, so that a transaction sent by both workers counts twice.
    await fetch(new URL('/_sandbox/faults', sb.sim.url), { method: 'DELETE' });
    const next = startWorker();
    await ready(next);
    const recs = await settled(gw, ids, 90_000);
    expect(recs.filter((r) => r.status !== 'succeeded')).toEqual([]);
    // Applied exactly once at Highlight, whichever worker sent it.
    const applied = sb.sim.appliedByTxn();
    expect(ids.filter((id) => applied[id] !== 1).map((id) => `${id} x${applied[id] ?? 0}`)).toEqual([]);
    next.proc.kill('SIGTERM');
    await next.exited;
  }, 150_000);
});
