import type { Redis } from 'ioredis';
import { duplicateRedis } from '../redis/client.js';
import type { KeySpace } from '../redis/keys.js';

/**
 * "Job <id> is done", told to every gateway process: a worker publishes it on one Redis channel,
 * and a process waiting on the job (a request waiting for its transaction, a call waiting for its
 * answer) wakes at once instead of polling.
 */
export class DoneSignal {
  private subscriber: Redis | null = null;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {}

  /** Subscribes (every role: a worker's bulk jobs make calls and wait on them too). */
  async start(): Promise<void> {
    if (this.subscriber) return;
    // On a Cluster, a message published on any node reaches every node: one subscriber connection hears all.
    this.subscriber = duplicateRedis(this.redis, {
      protocol: 2,
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
      connectionName: 'loyalty-gateway-events',
      // It only listens, and resubscribes by itself after a reconnect.
      commandTimeout: undefined,
      enableOfflineQueue: true,
    });
    this.subscriber.on('message', (_channel: string, id: string) => this.wake(id));
    this.subscriber.on('error', () => undefined);
    await this.subscriber.subscribe(this.keys.dispatchDone);
  }

  /** Tells waiting processes that job `id` (a call, or a transaction) is done. */
  async announce(id: string): Promise<void> {
    await this.redis.publish(this.keys.dispatchDone, id);
  }

  /**
   * Waits until `check` returns a value: woken by the job's announcement, and checking every
   * half second anyway (an announcement can be missed while the subscriber reconnects).
   */
  async waitFor<T>(id: string, timeoutMs: number, check: () => Promise<T | null>): Promise<T | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let wake!: () => void;
      const woken = new Promise<void>((r) => {
        wake = r;
      });
      let set = this.waiters.get(id);
      if (!set) {
        set = new Set();
        this.waiters.set(id, set);
      }
      set.add(wake);
      try {
        const got = await check();
        if (got !== null) return got;
        const left = deadline - Date.now();
        if (left <= 0) return null;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          woken,
          new Promise<void>((r) => {
            timer = setTimeout(r, Math.min(500, left));
          }),
        ]);
        clearTimeout(timer);
      } finally {
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
      }
    }
  }

  private wake(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const w of set) w();
  }

  async close(): Promise<void> {
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
  }
}
