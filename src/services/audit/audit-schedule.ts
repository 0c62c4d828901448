import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { KeySpace } from '../../redis/keys.js';
import type { AuditService } from './audit-service.js';

export interface AuditSchedule {
  /** Audits every provider connection once, over the window that ends `lagMs` ago. */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Every `intervalMs`, one gateway process (a Redis lock per interval decides which) audits each
 * provider connection over the last interval, ending `lagMs` ago so that what was in flight has
 * settled. The windows follow each other, so each transaction is judged by one scheduled audit.
 */
export function startAuditSchedule(opts: {
  redis: Redis;
  keys: KeySpace;
  audits: AuditService;
  connections: () => string[];
  intervalMs: number;
  lagMs: number;
  log: FastifyBaseLogger;
}): AuditSchedule {
  const { redis, keys, audits, log, intervalMs, lagMs } = opts;
  let running: Promise<void> | null = null;

  async function auditAll(): Promise<void> {
    // The window of this tick, aligned to the interval: every process computes the same one, and
    // the lock (named by it) lets one of them run it.
    const to = Math.floor((Date.now() - lagMs) / intervalMs) * intervalMs;
    const got = await redis.set(keys.lock(`audit-schedule:${to}`), randomUUID(), 'PX', intervalMs * 2, 'NX');
    if (got !== 'OK') return;
    for (const connection of opts.connections()) {
      try {
        const { done } = await audits.start({
          connection,
          fromMs: to - intervalMs,
          toMs: to,
          trigger: 'schedule',
          by: null,
        });
        await done;
      } catch (err) {
        log.error({ err, connection }, 'scheduled provider audit could not start');
      }
    }
  }

  const tick = () => {
    if (running) return;
    running = auditAll()
      .catch((err: Error) => log.warn({ err: err.message }, 'audit schedule: skipped a round'))
      .finally(() => {
        running = null;
      });
  };
  const timer = intervalMs > 0 ? setInterval(tick, Math.min(intervalMs, 60_000)) : null;
  timer?.unref();

  return {
    async runOnce() {
      await auditAll();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
