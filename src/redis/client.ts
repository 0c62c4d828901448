import { Redis, type RedisOptions } from 'ioredis';

/**
 * The gateway's Redis connection for request handling (RESP3). Auto-pipelining batches the
 * commands of concurrent requests into one round trip. While it is not connected a command fails
 * at once (no offline queue: a queued command would run when Redis is back, after its request
 * was answered 503, and write what that request was told was not written); a command without an
 * answer after `commandTimeoutMs` (Redis stalled) fails too, so a request answers 503 instead of
 * hanging for as long as Redis is away. Wait for `ready()` before the first command.
 */
export function createRedis(
  url: string,
  opts: { commandTimeoutMs?: number; log?: OutageLog } & RedisOptions = {},
): Redis {
  const { commandTimeoutMs, log, ...extra } = opts;
  const redis = new Redis(url, {
    enableAutoPipelining: true,
    protocol: 3,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 2,
    connectionName: 'loyalty-gateway',
    lazyConnect: false,
    ...(commandTimeoutMs ? { commandTimeout: commandTimeoutMs } : {}),
    ...extra,
  });
  watchOutages(redis, log);
  return redis;
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
function watchOutages(redis: Redis, log: OutageLog | undefined): void {
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
  redis.on('ready', () => {
    ready = true;
    if (downSince === null) return;
    log?.warn({ outage_ms: Date.now() - downSince }, 'redis reachable again');
    downSince = null;
  });
}

/** Resolves once `redis` is connected (or was already); rejects after `timeoutMs` with the last error. */
export async function ready(redis: Redis, timeoutMs = 15_000): Promise<void> {
  if (redis.status === 'ready') return;
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
