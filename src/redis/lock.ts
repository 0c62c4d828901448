import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Short-lived locks (keys.lock(name)): one process at a time does a round of a schedule, or works on
 * one order. Taken with SET NX PX and a random token; released only by the token's owner, so a lock
 * that lapsed and was taken by another process is never released by the first.
 */

/** The token when the lock was taken, null when another process holds it. */
export async function tryLock(redis: Redis, key: string, ttlMs: number): Promise<string | null> {
  const token = randomUUID();
  return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : null;
}

/** Releases the lock if `token` still holds it. */
export async function unlock(redis: Redis, key: string, token: string): Promise<void> {
  await redis.eval(
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    1,
    key,
    token,
  );
}
