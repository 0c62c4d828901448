import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ping } from '../../src/redis/embedded-redis.js';
import { expectProblem, historyOf, issueCard, type Res, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Redis away, through the API: a gateway on a redis-server of its own, which the test stops
 * (SIGTERM, then started again on the same port and data) and stalls (SIGSTOP, then SIGCONT).
 * While Redis is away every route that needs it answers 503 problem+json with Retry-After, within
 * about REDIS_COMMAND_TIMEOUT_MS, never a 500 and never a hang; what was acknowledged before is
 * still there after; service comes back by itself.
 */

const dir = mkdtempSync(join(tmpdir(), 'lgw-redis-away-'));
let port: number;
let redis: ChildProcess;
let gw: TestGateway;
let card: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startRedis(): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
    { stdio: 'ignore' },
  );
  await waitFor(() => ping(port));
}

async function stopRedis(): Promise<void> {
  const exited = new Promise((ok) => redis.once('exit', ok));
  redis.kill('SIGTERM');
  await exited;
}

const fetchReady = (): Promise<Res> => gw.request('GET', '/readyz', { key: null });

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  gw = await startGateway({ redisUrl: `redis://127.0.0.1:${port}`, env: { REDIS_COMMAND_TIMEOUT_MS: '300' } });
  card = await issueCard(gw);
});

afterAll(async () => {
  redis.kill('SIGCONT');
  await gw?.close().catch(() => undefined);
  if (redis.exitCode === null) await stopRedis();
  rmSync(dir, { recursive: true, force: true });
});

/** Requests covering every family that needs Redis: reads, writes, idempotent writes, bulk, lists. */
const requests = (tag: string) => [
  () => gw.request('GET', `/v1/points/balance/${card}`),
  () => gw.request('GET', `/v1/points/history/${card}`),
  () => gw.request('GET', `/v1/cards/${card}`),
  () => gw.request('GET', '/v1/transactions?status=needs_review&limit=5'),
  () =>
    gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 5, reason: 'away' },
      headers: { 'idempotency-key': `away-${tag}` },
    }),
  () => gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points: 1, reason: 'away' } }),
  () => gw.request('POST', '/v1/cards', { body: {}, headers: { 'idempotency-key': `away-card-${tag}` } }),
  () =>
    gw.request('POST', '/v1/points/bulk', {
      body: { transactions: [{ type: 'award', card_id: card, points: 1, reason: 'away bulk' }] },
      headers: { 'idempotency-key': `away-bulk-${tag}` },
    }),
];

async function whileAway(tag: string): Promise<void> {
  const answers = await Promise.all(requests(tag).map((r) => r()));

  for (const res of answers) {
    expectProblem(res, 503, 'service_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }
  const ready = await fetchReady();
  expectProblem(ready, 503, 'service_unavailable');
  expect(ready.body.detail).toContain('Redis');
  expect(ready.headers.get('retry-after')).toBe('1');
  // The process itself is up: liveness stays green.
  expect((await gw.request('GET', '/healthz', { key: null })).status).toBe(200);
}

/** The balance, and that everything answered 2xx again. */
async function back(): Promise<number> {
  await waitFor(async () => (await fetchReady()).status === 200);
  const balance = await gw.request('GET', `/v1/points/balance/${card}`);
  expect(balance.status, balance.text).toBe(200);
  return balance.body.available as number;
}

describe('Redis away', () => {
  it('stopped: 503 with Retry-After on every route that needs it, nothing acknowledged lost, back by itself', async () => {
    const acked = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 40, reason: 'before the outage' },
      headers: { 'idempotency-key': 'before-stop' },
    });
    expect(acked.status, acked.text).toBe(201);

    await stopRedis();
    await whileAway('stopped');

    await startRedis();
    expect(await back()).toBe(40);
    // One warn line when the outage began and one, with its length, when it ended: not one per retry.
    const warned = (msg: string) => gw.logs.filter((l) => l.includes(msg)).map((l) => JSON.parse(l));
    expect(warned('redis unreachable')).toHaveLength(1);
    expect(warned('redis reachable again')).toEqual([
      expect.objectContaining({ level: 40, outage_ms: expect.any(Number) }),
    ]);
    // The acknowledged award is there once; its key still replays it.
    const replay = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 40, reason: 'before the outage' },
      headers: { 'idempotency-key': 'before-stop' },
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(acked.body.id);
    // A write refused during the outage wrote nothing: its key is free and applies now, once.
    const retried = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 5, reason: 'away' },
      headers: { 'idempotency-key': 'away-stopped' },
    });
    expect(retried.status, retried.text).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await back()).toBe(45);
  }, 60_000);

  it('stalled (SIGSTOP): answers 503 instead of hanging for the stall, then serves again on SIGCONT', async () => {
    const before = await back();
    redis.kill('SIGSTOP');
    try {
      await whileAway('stalled');
      // The stall is noticed by the connection's probe (a PING a second), which the log tells.
      await waitFor(async () => gw.logs.some((l) => l.includes('redis not answering')));
    } finally {
      redis.kill('SIGCONT');
    }
    // A command sent into the stall may still run when Redis resumes (the write below was answered 503 but
    // its claim may land): its retry answers either its one transaction or 409 while that claim's lease
    // runs, never a second award. The balance is what the ledger's history says, whatever happened.
    await back();
    const retry = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 5, reason: 'away' },
      headers: { 'idempotency-key': 'away-stalled' },
    });
    expect([201, 409], retry.text).toContain(retry.status);
    const fresh = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 7, reason: 'after the stall' },
      headers: { 'idempotency-key': 'after-stall' },
    });
    expect(fresh.status, fresh.text).toBe(201);
    // One warn line when the stall began and one, with its length, when Redis answered again.
    const warned = (msg: string) => gw.logs.filter((l) => l.includes(msg)).map((l) => JSON.parse(l));
    expect(warned('redis not answering')).toHaveLength(1);
    expect(warned('redis answering again')).toEqual([
      expect.objectContaining({ level: 40, outage_ms: expect.any(Number) }),
    ]);
    const history = await historyOf(gw, card);
    const sum = history.reduce((n: number, e: { delta: number }) => n + e.delta, 0);
    const now = await back();
    expect(now).toBe(sum);
    expect(now).toBeGreaterThanOrEqual(before + 7);
    expect(
      history.filter((e: { idempotency_key?: string; reason?: string }) => e.reason === 'after the stall'),
    ).toHaveLength(1);
  }, 60_000);
});

describe('Redis full', () => {
  it('a write Redis refuses (OOM under noeviction) answers 503, reads still answer, writes resume when it has room', async () => {
    const admin = new Redis(port, '127.0.0.1');
    try {
      await admin.config('SET', 'maxmemory', '1');
      const refused = await gw.request('POST', '/v1/points/award', {
        body: { card_id: card, points: 3, reason: 'full' },
        headers: { 'idempotency-key': 'while-full' },
      });
      expectProblem(refused, 503, 'service_unavailable');
      expect((await gw.request('GET', `/v1/points/balance/${card}`)).status).toBe(200);
      await admin.config('SET', 'maxmemory', '0');
      const after = await gw.request('POST', '/v1/points/award', {
        body: { card_id: card, points: 3, reason: 'full' },
        headers: { 'idempotency-key': 'while-full' },
      });
      expect(after.status, after.text).toBe(201);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
  });
});
