import { Redis, type RedisOptions } from 'ioredis';

/**
 * The gateway's Redis connection for request handling (RESP3). Auto-pipelining batches the
 * commands of concurrent requests into one round trip. Commands issued while it reconnects wait
 * in ioredis's offline queue, each retried at most twice before it fails.
 */
export function createRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableAutoPipelining: true,
    protocol: 3,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 2,
    connectionName: 'loyalty-gateway',
    lazyConnect: false,
    ...extra,
  });
}
