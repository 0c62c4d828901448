import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { KeySpace } from '../redis/keys.js';
import { tryLock, unlock } from '../redis/lock.js';
import type { BuiltinLedger } from './builtin-ledger.js';

export interface ExpirySchedule {
  /** Expires what is due on every card; returns the points expired. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Points expire by themselves: every interval, one gateway process (a Redis lock decides which)
 * writes `expire` entries for the cards whose earliest expiry has passed. Cards are found through
 * the due-for-expiry index the ledger scripts keep, so a sweep costs nothing when nothing is due.
 * Reads and writes of a card expire its due points too, so the interval only bounds how stale an
 * untouched card's totals may be.
 */
export function startExpirySchedule(opts: {
  redis: Redis;
  keys: KeySpace;
  /** The built-in ledger holding a card; undefined when its connection is gone, null when it is a provider's. */
  ledgerFor: (cardId: string) => BuiltinLedger | null | undefined;
  intervalMs: number;
  log: FastifyBaseLogger;
  /** Told of each card whose points the schedule expired (its event). */
  onExpired?: (cardId: string, points: number) => Promise<void>;
}): ExpirySchedule {
  const { redis, keys, ledgerFor, log } = opts;
  const lockKey = keys.lock('expiry-sweep');
  let running: Promise<number> | null = null;

  async function sweepAll(): Promise<number> {
    const token = await tryLock(redis, lockKey, Math.max(opts.intervalMs, 30_000));
    if (token === null) return 0;
    let total = 0;
    try {
      for (let round = 0; round < 100; round++) {
        const due = await redis.zrangebyscore(keys.expiryDue, '-inf', Date.now(), 'LIMIT', 0, 200);
        if (due.length === 0) break;
        for (const cardId of due) {
          const ledger = ledgerFor(cardId);
          // Its connection was removed from the config.
          if (ledger === undefined) await redis.zrem(keys.expiryDue, cardId);
          else if (ledger !== null) {
            const points = await ledger.sweep(cardId);
            total += points;
            if (points > 0) await opts.onExpired?.(cardId, points).catch(() => undefined);
          }
        }
        if (due.length < 200) break;
      }
    } finally {
      await unlock(redis, lockKey, token);
    }
    if (total > 0) log.info({ points: total }, 'expired points on schedule');
    return total;
  }

  const runOnce = () => {
    running ??= sweepAll().finally(() => (running = null));
    return running;
  };

  const timer =
    opts.intervalMs > 0
      ? setInterval(() => {
          runOnce().catch((err: unknown) => log.warn({ err }, 'expiry sweep failed; will retry'));
        }, opts.intervalMs)
      : null;
  timer?.unref();

  return {
    runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => 0);
    },
  };
}
