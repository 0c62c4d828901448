import { Redis, type RedisOptions } from 'ioredis';

/**
 * The gateway's Redis connection for request handling. Auto-pipelining batches the commands of
 * concurrent requests into one round trip; the offline queue is off so that requests fail fast
 * (503) instead of piling up while Redis is away.
 */
export function createRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableAutoPipelining: true,
    protocol: process.env.LGW_PROTO === '2' ? 2 : 3,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 2,
    connectionName: 'loyalty-gateway',
    lazyConnect: false,
    ...extra,
  });
}
