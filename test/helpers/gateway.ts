import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { expect, inject } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { parseApiKeys } from '../../src/config/api-keys.js';
import {
  type ConnectionConfig,
  DEFAULT_CONNECTIONS,
  parseConnections,
  parseShops,
} from '../../src/config/connections.js';
import { type Env, loadEnv } from '../../src/config/env.js';
import type { Dispatch } from '../../src/dispatch/dispatch.js';
import { REDACT_PATHS } from '../../src/logger.js';
import { createRedis, mastersOf, ready } from '../../src/redis/client.js';
import type { Gateway } from '../../src/services/gateway.js';
import type { TransactionStore } from '../../src/store/transaction-store.js';

export const KEYS = {
  admin: 'test_admin_key_0001',
  write: 'test_write_key_0001',
  read: 'test_read_key_00001',
  other: 'test_other_writer_01',
};

export interface TestGateway {
  url: string;
  redis: Redis;
  env: Env;
  prefix: string;
  gateway: Gateway;
  /** The gateway's transaction records. */
  store: TransactionStore;
  dispatch: Dispatch;
  /** Every log line the gateway wrote, as text. */
  logs: string[];
  request(
    method: string,
    path: string,
    opts?: { body?: unknown; rawBody?: string; key?: string | null; headers?: Record<string, string> },
  ): Promise<Res>;
  close(): Promise<void>;
}

export interface Res {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/**
 * A gateway on a real HTTP port, on the suite's redis-server under a key prefix of its own.
 * Requests go over the network with fetch, as a client's would.
 */
export async function startGateway(
  opts: {
    env?: Record<string, string>;
    connections?: unknown;
    /** The connections file's `shops`. */
    shops?: unknown[];
    prefix?: string;
    /** Another Redis than the suite's (a test that stops or stalls its own). */
    redisUrl?: string;
  } = {},
): Promise<TestGateway> {
  // A prefix of its own, unless the test wants several gateways on one ledger.
  const prefix = opts.prefix ?? `t${randomBytes(5).toString('hex')}`;
  const target = opts.redisUrl === undefined ? suiteRedis() : { REDIS_URL: opts.redisUrl };
  const env = loadEnv({
    ...target,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'info',
    EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
    AUDIT_INTERVAL_SECONDS: '0',
    IDEMPOTENCY_WAIT_MS: '2000',
    ...opts.env,
  });
  const connections: ConnectionConfig[] = opts.connections
    ? parseConnections(opts.connections, {})
    : DEFAULT_CONNECTIONS;
  const shops = opts.shops ? parseShops({ connections: [], shops: opts.shops }, connections, {}) : [];
  const apiKeys = parseApiKeys(
    `${KEYS.admin}:admin,${KEYS.write}:read+write,${KEYS.read}:read,${KEYS.other}:read+write`,
    'API_KEYS',
  );
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  const redis = createRedis(env.REDIS_URL!, {
    cluster: env.REDIS_CLUSTER,
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    log: logger,
  });
  await ready(redis);
  const { app, gateway } = await buildApp({ env, redis, connections, shops, apiKeys, logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  return {
    url,
    redis,
    env,
    prefix,
    gateway,
    store: gateway.store,
    dispatch: gateway.dispatch,
    logs,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const key = o.key === undefined ? KEYS.admin : o.key;
      if (key !== null) headers['x-api-key'] = key;
      let body: string | undefined = o.rawBody;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async close() {
      await app.close();
      // Leave no keys behind on the shared server.
      const keys = await keysMatching(redis, `{${prefix}}:*`);
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
      await redis.quit();
    },
  };
}

/**
 * The suite's Redis as a gateway's environment names it: REDIS_URL, and REDIS_CLUSTER=true on a cluster run
 * (TEST_REDIS_CLUSTER). For gateways in this process and for gateway processes (spawnServer).
 */
export function suiteRedis(): { REDIS_URL: string; REDIS_CLUSTER?: string } {
  return inject('redisCluster')
    ? { REDIS_URL: inject('redisUrl'), REDIS_CLUSTER: 'true' }
    : { REDIS_URL: inject('redisUrl') };
}

/** A connection to the suite's Redis (a Cluster connection on a cluster run), ready. */
export async function suiteRedisClient(opts: { commandTimeoutMs?: number } = {}): Promise<Redis> {
  const redis = createRedis(inject('redisUrl'), { cluster: inject('redisCluster'), ...opts });
  await ready(redis);
  return redis;
}

/**
 * Every key matching `pattern` (SCAN), on a standalone Redis or on every master of a Cluster (a Cluster's
 * SCAN would ask one random node).
 */
export async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of mastersOf(redis)) {
    for await (const batch of node.scanStream({ match: pattern, count: 1000 })) found.push(...(batch as string[]));
  }
  return found;
}

/** Issues a fresh card on the built-in ledger and returns its id. */
export async function issueCard(gw: TestGateway, body: Record<string, unknown> = {}): Promise<string> {
  const res = await gw.request('POST', '/v1/cards', { body });
  if (res.status !== 201) throw new Error(`issue card: ${res.status} ${res.text}`);
  return res.body.id as string;
}

export async function award(gw: TestGateway, cardId: string, points: number, extra: Record<string, unknown> = {}) {
  return gw.request('POST', '/v1/points/award', { body: { card_id: cardId, points, reason: 'test award', ...extra } });
}

/** Asserts an RFC 9457 problem response with this status and code. */
export function expectProblem(res: Res, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: `/problems/${code}`,
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code,
  });
  expect(res.body.title).not.toBe('');
  expect(res.body.detail).not.toBe('');
}

/** Every history entry of a card, newest first, through the cursor. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function historyOf(gw: TestGateway, card: string): Promise<any[]> {
  const all: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page = await gw.request('GET', `/v1/points/history/${card}?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    all.push(...page.body.data);
    cursor = page.body.next_cursor;
  } while (cursor);
  return all;
}
