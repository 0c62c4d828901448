import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/**
 * The gateway's Redis connection for request handling (RESP3). Auto-pipelining batches the
 * commands of concurrent requests into one round trip. While it is not connected a command fails
 * at once (no offline queue: a queued command would run when Redis is back, after its request
 * was answered 503, and write what that request was told was not written); a command without an
 * answer after `commandTimeoutMs` (Redis stalled) fails too, so a request answers 503 instead of
 * hanging for as long as Redis is away. Wait for `ready()` before the first command.
 *
 * `cluster: true` (REDIS_CLUSTER): `url` lists seed nodes of a Redis Cluster, comma-separated
 * (`redis://h1:7000,redis://h2:7001`), and the connection is an ioredis `Cluster` with the same
 * options on every node. Every key of the gateway carries one hash tag (keys.ts), so all its
 * commands and scripts go to the one node that serves that slot.
 *
 * Typing: ioredis's `Cluster` is no subclass of `Redis`, but it has the same commands, scripts
 * (defineCommand), pipelines, pub/sub and events, which is all the gateway uses. It is returned as a
 * `Redis` (this cast is the only one) so the rest of the code keeps one type. What differs, and must
 * go through this module: `duplicate()` (a Cluster's takes seed nodes first: use `duplicateRedis`),
 * and `scanStream()` / keyless commands such as KEYS, SCAN, FLUSHDB (a Cluster has no scanStream and
 * sends keyless commands to a random node: use `mastersOf` and ask each node).
 */
export function createRedis(
  url: string,
  opts: { cluster?: boolean; commandTimeoutMs?: number; log?: OutageLog } & RedisOptions = {},
): Redis {
  const { cluster, commandTimeoutMs, log, ...extra } = opts;
  const nodeOptions: RedisOptions = {
    protocol: 3,
    maxRetriesPerRequest: 2,
    connectionName: 'loyalty-gateway',
    // Auto-pipelining sends one batch at a time: a command may wait for the batch before its own to time out, and
    // only then start its own timeout. Half each, so a request waits at most about `commandTimeoutMs` in a stall.
    ...(commandTimeoutMs ? { commandTimeout: Math.max(25, Math.floor(commandTimeoutMs / 2)) } : {}),
    // Reconnect attempts every 50, 100, ... ms, at most 500 ms apart (ioredis's default grows to 2 s): service is
    // back within about half a second of Redis.
    retryStrategy: (times: number) => Math.min(times * 50, 500),
  };
  let redis: Redis;
  if (cluster) {
    const { enableAutoPipelining, enableOfflineQueue, lazyConnect, ...node } = extra;
    const seeds = clusterSeeds(url);
    const clusterOptions: ClusterOptions = {
      enableAutoPipelining: enableAutoPipelining ?? true,
      enableOfflineQueue: enableOfflineQueue ?? false,
      lazyConnect: lazyConnect ?? false,
      redisOptions: { ...nodeOptions, ...seeds.auth, ...node } as ClusterOptions['redisOptions'],
    };
    redis = new Cluster(seeds.nodes, clusterOptions) as unknown as Redis;
  } else {
    redis = new Redis(url, {
      ...nodeOptions,
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      lazyConnect: false,
      ...extra,
    });
  }
  // Without a command timeout a PING into a stall would wait for it: nothing to probe with.
  watchOutages(redis, log, Boolean(commandTimeoutMs));
  return redis;
}

/** Whether `redis` is an ioredis Cluster (made by createRedis with `cluster: true`, or duplicated from one). */
export function isCluster(redis: Redis): boolean {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/**
 * Another connection to the same Redis (or Cluster), with `overrides`: what `redis.duplicate(overrides)` does on a
 * standalone Redis. On a Cluster the options that are the cluster's own (offline queue, auto-pipelining) are set
 * on it and the others on each node's connection.
 */
export function duplicateRedis(redis: Redis, overrides: RedisOptions = {}): Redis {
  if (!isCluster(redis)) return redis.duplicate(overrides);
  const { enableOfflineQueue, enableAutoPipelining, ...node } = overrides;
  const cluster = redis as unknown as Cluster;
  return cluster.duplicate([], {
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    redisOptions: node as ClusterOptions['redisOptions'],
  }) as unknown as Redis;
}

/**
 * The connections to ask a keyless command (SCAN, KEYS, INFO...) that must see every key: the Cluster's
 * masters, or `redis` itself.
 */
export function mastersOf(redis: Redis): Redis[] {
  return isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
}

/**
 * Seed nodes and shared credentials from a comma-separated list of `redis://` / `rediss://` URLs. User, password
 * and TLS are taken from the first URL that has them and used for every node (the cluster names the others).
 */
export function clusterSeeds(list: string): {
  nodes: { host: string; port: number }[];
  auth: { username?: string; password?: string; tls?: object };
} {
  const urls = list
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '')
    .map((u) => new URL(u));
  const nodes = urls.map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) }));
  const withAuth = urls.find((u) => u.username !== '' || u.password !== '');
  const auth: { username?: string; password?: string; tls?: object } = {};
  if (withAuth?.username) auth.username = decodeURIComponent(withAuth.username);
  if (withAuth?.password) auth.password = decodeURIComponent(withAuth.password);
  if (urls.some((u) => u.protocol === 'rediss:')) auth.tls = {};
  return { nodes, auth };
}

/** Where an outage is told: a pino logger's warn suits. */
export interface OutageLog {
  warn(obj: object, msg: string): void;
}

/**
 * One warn line when Redis stops answering and one, with its length, when it is back: ioredis
 * emits an 'error' on every failed reconnect (several a second), which would otherwise reach
 * stderr raw ("Unhandled error event") or flood the log.
 */
function watchOutages(redis: Redis, log: OutageLog | undefined, stallProbe: boolean): void {
  let downSince: number | null = null;
  let ready = false;
  const down = (err?: Error) => {
    if (!ready || downSince !== null) return;
    downSince = Date.now();
    log?.warn({ err: err?.message ?? 'connection closed' }, 'redis unreachable: requests answer 503 until it is back');
  };
  redis.on('error', (err: Error) => down(err));
  // 'reconnecting', not 'close': a connection the gateway closes itself (quit at shutdown) is no outage.
  redis.on('reconnecting', () => down());
  // A Cluster reports a lost node this way (and refreshes its slots); the lost node's error itself is not the
  // Cluster's 'error'.
  if (isCluster(redis)) redis.on('node error', (err: Error) => down(err));
  redis.on('ready', () => {
    ready = true;
    if (downSince === null) return;
    log?.warn({ outage_ms: Date.now() - downSince }, 'redis reachable again');
    downSince = null;
  });
  if (log && stallProbe) watchStalls(redis, log);
}

/** How often a connected Redis is asked whether it still answers (a stall keeps the connection up). */
const STALL_PROBE_MS = 1000;

/**
 * A stalled Redis (SIGSTOP, a long fork, a slow disk) keeps its connection open: no 'reconnecting'
 * tells of it, only commands timing out. A PING a second, while connected, tells: one warn line
 * when a PING times out and one, with the stall's length, when one is answered again.
 */
function watchStalls(redis: Redis, log: OutageLog): void {
  let since: number | null = null;
  let probing = false;
  const probe = setInterval(async () => {
    if (probing || redis.status !== 'ready') return;
    probing = true;
    const sent = Date.now();
    try {
      await redis.ping();
      if (since !== null) {
        log.warn({ outage_ms: Date.now() - since }, 'redis answering again');
        since = null;
      }
    } catch (err) {
      if (since === null && /timed out/i.test((err as Error).message)) {
        since = sent;
        log.warn({ err: (err as Error).message }, 'redis not answering (stalled): requests answer 503 until it does');
      }
    } finally {
      probing = false;
    }
  }, STALL_PROBE_MS);
  probe.unref();
  redis.once('end', () => clearInterval(probe));
}

/**
 * Resolves once `redis` is connected (or was already); rejects after `timeoutMs` with the last error. On a
 * Cluster, it then connects to every master too (each node's connection is otherwise made by the first
 * command for it, and without an offline queue a second command sent while that connection is being made
 * would fail).
 */
export async function ready(redis: Redis, timeoutMs = 15_000): Promise<void> {
  if (redis.status !== 'ready') {
    let last: Error | undefined;
    const onError = (err: Error) => {
      last = err;
    };
    redis.on('error', onError);
    try {
      await new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => fail(last ?? new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
        redis.once('ready', () => {
          clearTimeout(timer);
          ok();
        });
      });
    } finally {
      redis.off('error', onError);
    }
  }
  if (isCluster(redis)) await Promise.all(mastersOf(redis).map((node) => node.ping()));
}
