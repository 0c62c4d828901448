import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isCluster, mastersOf } from '../../src/redis/client.js';
import { freePort } from '../../src/redis/embedded-redis.js';
import {
  award,
  issueCard,
  KEYS,
  keysMatching,
  startGateway,
  suiteRedis,
  type TestGateway,
} from '../helpers/gateway.js';
import { spawnServer } from '../helpers/server-process.js';

/**
 * On a cluster run (`npm run test:cluster`: scripts/redis-cluster.mjs, three masters), that the suite really runs
 * on a Redis Cluster and that the gateway's keys, its scripts' and BullMQ's included, all live in the one slot of
 * its prefix's hash tag, on one master; and that a gateway process configured as a user would (REDIS_CLUSTER=true,
 * seed nodes in REDIS_URL) starts, answers and stops on it. Skipped on a standalone run.
 */
describe.runIf(inject('redisCluster'))('on a Redis Cluster', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw?.close());

  it('connects to every master, and the masters share all 16384 slots', async () => {
    expect(isCluster(gw.redis)).toBe(true);
    expect(gw.env.REDIS_CLUSTER).toBe(true);
    const masters = mastersOf(gw.redis);
    expect(masters.length).toBe(3);
    const slots = (await gw.redis.cluster('SLOTS')) as [number, number, ...unknown[]][];
    expect(slots.length).toBeGreaterThanOrEqual(3);
    expect(slots.reduce((n, [from, to]) => n + (to - from + 1), 0)).toBe(16384);
  });

  it('keeps every key of a prefix in its one slot, on one master', async () => {
    const card = await issueCard(gw);
    expect((await award(gw, card, 40, { reference_id: 'cluster-1' })).status).toBe(201);
    expect(
      (await gw.request('POST', '/v1/points/redeem', { body: { card_id: card, points: 15, reason: 'r' } })).status,
    ).toBe(201);
    expect((await gw.request('GET', `/v1/points/balance/${card}`)).body).toMatchObject({ available: 25 });

    const pattern = `{${gw.prefix}}:*`;
    const perMaster = await Promise.all(mastersOf(gw.redis).map((m) => keysMatching(m, pattern)));
    const holding = perMaster.filter((keys) => keys.length > 0);
    expect(holding).toHaveLength(1);
    const slot = Number(await gw.redis.cluster('KEYSLOT', `{${gw.prefix}}`));
    for (const key of holding[0]!) expect(Number(await gw.redis.cluster('KEYSLOT', key))).toBe(slot);
    // The card, its buckets and history, the transactions and their natural keys: one slot.
    expect(holding[0]!.length).toBeGreaterThan(5);
  });

  it('runs as a process from REDIS_CLUSTER=true and seed nodes in REDIS_URL: ready, records, stops cleanly', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'lgw-cluster-'));
    const prefix = `t${randomBytes(5).toString('hex')}`;
    const server = spawnServer([], {
      ...suiteRedis(),
      REDIS_KEY_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_KEYS: `${KEYS.admin}:admin`,
      DATA_DIR: dir,
      EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
    });
    const url = `http://127.0.0.1:${port}`;
    const call = (method: string, path: string, body?: unknown) =>
      fetch(url + path, {
        method,
        headers: { 'x-api-key': KEYS.admin, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    try {
      let readyz = 0;
      for (let i = 0; i < 600 && readyz !== 200; i++) {
        if (server.proc.exitCode !== null) throw new Error(`gateway exited: ${server.output()}`);
        readyz = await fetch(`${url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (readyz !== 200) await new Promise((r) => setTimeout(r, 50));
      }
      expect(readyz, server.output()).toBe(200);
      const card = await call('POST', '/v1/cards', {});
      expect(card.status).toBe(201);
      const awarded = await call('POST', '/v1/points/award', { card_id: card.body.id, points: 7, reason: 'process' });
      expect(awarded.status).toBe(201);
      server.proc.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      // Its data is on the cluster, where the next process (or this test's connection) finds it.
      expect(await keysMatching(gw.redis, `{${prefix}}:card:*`)).not.toEqual([]);
    } finally {
      if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
      const keys = await keysMatching(gw.redis, `{${prefix}}:*`);
      if (keys.length) await gw.redis.del(...keys);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
