import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RequestClaims, type RequestWrite } from '../../src/idempotency/request-claims.js';
import { createRedis, ready } from '../../src/redis/client.js';
import { freePort } from '../../src/redis/embedded-redis.js';
import { keySpace } from '../../src/redis/keys.js';
import { expectProblem, historyOf, issueCard, KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';
import { type ServerProcess, spawnServer } from '../helpers/server-process.js';

/**
 * Faster recovery after a crash: a gateway process killed while it holds an Idempotency-Key's
 * claim leaves the claim behind; its heartbeat lapses within a few seconds and a retry takes the
 * claim over then, not after the whole lease (30 s). A live process's claim is never taken over.
 *
 * The request stays in flight honestly: the child gateway reaches Redis through a TCP proxy that
 * holds back the built-in ledger's apply script (a slow link to Redis, on that one connection).
 * Its heartbeat runs on a connection of its own, which the proxy passes through.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A proxy to the suite's redis-server that stalls a connection once it sends the ledger's apply (its card buckets key). */
class StallingProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Connections held back, with what they sent since (never forwarded unless released). */
  private readonly held = new Map<Socket, { upstream: Socket; buffered: Buffer[] }>();
  stalled = 0;

  constructor(private readonly match: string) {}

  async start(): Promise<string> {
    const target = new URL(inject('redisUrl'));
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      this.sockets.add(client);
      this.sockets.add(upstream);
      upstream.on('data', (d) => client.write(d));
      client.on('data', (d) => {
        const h = this.held.get(client);
        if (h) {
          h.buffered.push(d);
          return;
        }
        if (d.toString('latin1').includes(this.match)) {
          this.stalled++;
          this.held.set(client, { upstream, buffered: [d] });
          return;
        }
        upstream.write(d);
      });
      const end = () => {
        // A killed client's held commands are dropped: they never reach Redis.
        this.held.delete(client);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      client.on('error', end);
      upstream.on('close', end);
      upstream.on('error', end);
    });
    const port = await freePort();
    await new Promise<void>((ok) => this.server!.listen(port, '127.0.0.1', ok));
    return `redis://127.0.0.1:${port}`;
  }

  /** Lets the held connections go on (what they sent reaches Redis, in order). */
  release(): void {
    for (const [client, h] of this.held) {
      this.held.delete(client);
      for (const b of h.buffered) h.upstream.write(b);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}

interface Child extends ServerProcess {
  url: string;
}

const children: Child[] = [];
const dirs: string[] = [];

async function startChild(prefix: string, redisUrl: string, extra: Record<string, string> = {}): Promise<Child> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lgw-crash-'));
  dirs.push(dir);
  const server = spawnServer([], {
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    PORT: String(port),
    HOST: '127.0.0.1',
    API_KEYS: `${KEYS.admin}:admin,${KEYS.write}:read+write`,
    DATA_DIR: dir,
    LOG_LEVEL: 'info',
    EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
    IDEMPOTENCY_WAIT_MS: '2000',
    ...extra,
  });
  const child = { ...server, url: `http://127.0.0.1:${port}` };
  children.push(child);
  for (let i = 0; i < 1200; i++) {
    if (child.proc.exitCode !== null) throw new Error(`gateway exited: ${child.output()}`);
    const ok = await fetch(`${child.url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    await sleep(50);
  }
  throw new Error(`gateway never started: ${child.output()}`);
}

function awardAt(url: string, card: string, key: string): Promise<{ status: number; body: any }> {
  return fetch(`${url}/v1/points/award`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEYS.admin, 'idempotency-key': key },
    body: JSON.stringify({ card_id: card, points: 70, reason: 'crash test' }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown }));
}

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a claim whose process is gone', () => {
  let gw: TestGateway;
  let proxy: StallingProxy;
  let proxyUrl: string;
  const prefix = `t${randomBytes(5).toString('hex')}`;

  beforeAll(async () => {
    gw = await startGateway({ prefix });
    proxy = new StallingProxy(':buckets');
    proxyUrl = await proxy.start();
  });
  afterAll(async () => {
    await proxy.stop();
    await gw.close();
  });

  it('is taken over within seconds of the process being killed, and the award is applied once', async () => {
    const card = await issueCard(gw);
    const child = await startChild(prefix, proxyUrl);
    const key = `crash-${randomBytes(4).toString('hex')}`;
    const first = awardAt(child.url, card, key).catch(() => null);
    for (let i = 0; proxy.stalled === 0; i++) {
      if (i > 800) throw new Error(`the award never reached the ledger: ${child.output()}`);
      await sleep(25);
    }
    // In flight: claimed, not applied. Then the process is killed.
    child.proc.kill('SIGKILL');
    await child.exited;
    const killedAt = Date.now();
    expect(await first).toBeNull();

    const deadline = killedAt + 15_000;
    let res = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 70, reason: 'crash test' },
      headers: { 'idempotency-key': key },
    });
    const seen: number[] = [res.status];
    while (res.status === 409 && Date.now() < deadline) {
      await sleep(100);
      res = await gw.request('POST', '/v1/points/award', {
        body: { card_id: card, points: 70, reason: 'crash test' },
        headers: { 'idempotency-key': key },
      });
      seen.push(res.status);
    }
    console.log(
      `crash takeover: retry succeeded ${Date.now() - killedAt} ms after SIGKILL (statuses seen: ${[...new Set(seen)].join(', ')})`,
    );
    expect(res.status, res.text).toBe(201);
    expect(res.body.balance_after).toBe(70);

    // Once: the balance and the history hold one award.
    const again = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 70, reason: 'crash test' },
      headers: { 'idempotency-key': key },
    });
    expect(again.body.id).toBe(res.body.id);
    const bal = await gw.request('GET', `/v1/points/balance/${card}`);
    expect(bal.body.available).toBe(70);
    const history = await historyOf(gw, card);
    expect(history.filter((t) => t.type === 'award')).toHaveLength(1);
  }, 90_000);

  it('is not taken over while its process is alive (its heartbeat runs): a duplicate waits, then 409', async () => {
    const card = await issueCard(gw);
    const stalledBefore = proxy.stalled;
    // Its Redis commands wait out the slow link instead of timing out.
    const child = await startChild(prefix, proxyUrl, { REDIS_COMMAND_TIMEOUT_MS: '30000' });
    const key = `live-${randomBytes(4).toString('hex')}`;
    const first = awardAt(child.url, card, key);
    for (let i = 0; proxy.stalled === stalledBefore; i++) {
      if (i > 800) throw new Error(`the award never reached the ledger: ${child.output()}`);
      await sleep(25);
    }
    // Longer than any heartbeat TTL: the live process keeps its claim.
    await sleep(6_000);
    const dup = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 70, reason: 'crash test' },
      headers: { 'idempotency-key': key },
    });
    expectProblem(dup, 409, 'idempotency_in_flight');

    // The slow link recovers: the first request finishes, and the duplicate replays it.
    proxy.release();
    const done = await first;
    expect(done.status).toBe(201);
    const replay = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 70, reason: 'crash test' },
      headers: { 'idempotency-key': key },
    });
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(done.body.id);
    const bal = await gw.request('GET', `/v1/points/balance/${card}`);
    expect(bal.body.available).toBe(70);
    child.proc.kill('SIGTERM');
    await child.exited;
  }, 90_000);
});

describe('request claims (cards, customers, bulk...) and their owner', () => {
  const keys = keySpace(`t${randomBytes(5).toString('hex')}`);
  const redis = createRedis(inject('redisUrl'), { commandTimeoutMs: 2000 });
  const claims = (id: string) =>
    new RequestClaims(redis, {
      leaseMs: 30_000,
      ttlMs: 60_000,
      waitMs: 300,
      owner: { id, heartbeatPrefix: keys.instancePrefix },
    });
  const crashing: RequestWrite<unknown> = {
    newResource: () => 'res_first',
    run: async () => {
      throw new Error('the process stops here');
    },
    takeover: 'resume',
  };
  const finishing: RequestWrite<{ made: string }> = {
    newResource: () => 'res_second',
    run: async (resource) => ({ kind: 'created', body: { made: resource } }),
    takeover: 'resume',
  };
  const scope = () => ({ key: keys.idempotency('c1', randomBytes(8).toString('hex')), fingerprint: 'fp' });

  beforeAll(() => ready(redis));
  afterAll(async () => {
    const stream = redis.scanStream({ match: `${keys.prefix}:*`, count: 1000 });
    for await (const batch of stream) if ((batch as string[]).length) await redis.del(...(batch as string[]));
    await redis.quit();
  });

  it('a claim whose owner has no heartbeat is taken over at once, with its resource', async () => {
    const s = scope();
    await expect(claims('inst_GONE').run(s, crashing)).rejects.toThrow('the process stops here');
    const res = await claims('inst_LIVE').run(s, finishing);
    expect(res).toMatchObject({ resumed: true, answer: { body: { made: 'res_first' } } });
  });

  it("a claim whose owner's heartbeat is there waits, as today", async () => {
    const s = scope();
    await redis.set(keys.instance('inst_BUSY'), '1', 'PX', 10_000);
    await expect(claims('inst_BUSY').run(s, crashing)).rejects.toThrow('the process stops here');
    await expect(claims('inst_LIVE').run(s, finishing)).rejects.toMatchObject({ code: 'idempotency_in_flight' });
  });

  it('a claim without an owner (an earlier version) keeps its lease', async () => {
    const s = scope();
    await redis.hset(
      s.key,
      'fp',
      'fp',
      'state',
      'in_flight',
      'resource',
      'res_old',
      'lease_until',
      Date.now() + 30_000,
    );
    await expect(claims('inst_LIVE').run(s, finishing)).rejects.toMatchObject({ code: 'idempotency_in_flight' });
    await redis.hset(s.key, 'lease_until', Date.now() - 1);
    const res = await claims('inst_LIVE').run(s, finishing);
    expect(res).toMatchObject({ resumed: true, answer: { body: { made: 'res_old' } } });
  });
});
