import type { Redis } from 'ioredis';
import { ulid } from '../lib/ids.js';
import { duplicateRedis } from '../redis/client.js';
import type { KeySpace } from '../redis/keys.js';

/**
 * This gateway process, as its claims name it: an instance id and a heartbeat key in Redis
 * (keys.instance(id)), set with a short TTL and refreshed while the process runs. A claim records
 * its owner; the claim scripts take over at once a claim whose owner's heartbeat has lapsed (the
 * process crashed or was killed), instead of waiting for the whole lease, which stays the upper
 * bound. The heartbeat runs on a connection of its own: commands queued behind a slow one on the
 * main connection do not make a live process look dead.
 */

export interface HeartbeatOptions {
  /** How often the heartbeat key is refreshed. */
  intervalMs: number;
  /** Its TTL: a process that has not refreshed it for this long counts as gone. Several intervals. */
  ttlMs: number;
}

export const HEARTBEAT: HeartbeatOptions = { intervalMs: 1_000, ttlMs: 4_000 };

export class Instance {
  readonly id = `inst_${ulid()}`;
  private timer: NodeJS.Timeout | null = null;
  private conn: Redis | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    readonly options: HeartbeatOptions = HEARTBEAT,
  ) {}

  /** The heartbeat key of this process. */
  get key(): string {
    return this.keys.instance(this.id);
  }

  /** Sets the heartbeat (before any claim names this instance), then keeps it fresh. */
  async start(): Promise<void> {
    if (this.timer) return;
    this.conn = duplicateRedis(this.redis);
    // Its failures show as missed beats (and the main connection logs the outage): no raw ioredis error lines.
    this.conn.on('error', () => undefined);
    await this.beat();
    this.timer = setInterval(() => {
      // A missed beat is not fatal: the TTL spans several intervals.
      this.beat().catch(() => {});
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** On its own connection once that is ready (the first beat, at start, goes on the main one). */
  private async beat(): Promise<void> {
    const conn = this.conn?.status === 'ready' ? this.conn : this.redis;
    await conn.set(this.key, '1', 'PX', this.options.ttlMs);
  }

  /**
   * Stops the heartbeat. The key is left to lapse, not deleted: a request still finishing during
   * shutdown keeps its claim for those few seconds.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const conn = this.conn;
    this.conn = null;
    if (conn) await conn.quit().catch(() => conn.disconnect());
  }
}
