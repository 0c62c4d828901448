import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ProviderError } from '../domain/errors.js';
import { sleep } from '../lib/time.js';
import type { Metrics } from '../metrics/metrics.js';
import { DEFAULT_RATE_MARGIN_MS, type RateLimitSetting, type RequestGate } from '../providers/http/request-gate.js';
import { defineScript, runScript } from '../redis/scripts.js';

/**
 * A connection's rate limit held in Redis, so that every gateway process sharing the Redis
 * shares it (the rule is in lua/acquire-slot-2.lua). BullMQ's own limiter is not used for this:
 * it counts fixed windows of job starts and lets up to twice the limit into one rolling second
 * (measured: 15 to 20 starts in a rolling second with max 10 per 1000 ms), and a job may make
 * more than one request.
 */
export class RedisRateLimiter implements RequestGate {
  constructor(
    private readonly redis: Redis,
    private readonly keys: { log: string; blocked: string },
    private readonly limit: RateLimitSetting,
    private readonly connection: string,
    private readonly metrics?: Metrics,
  ) {
    defineScript(redis, 'lgwAcquireSlot', import.meta.url, 'acquire-slot-2.lua', 2);
  }

  get windowMs(): number {
    return Math.round(this.limit.perSeconds * 1000);
  }

  private run(mode: 'take' | 'peek', id: string): Promise<number> {
    return runScript<number>(
      this.redis,
      'lgwAcquireSlot',
      [this.keys.log, this.keys.blocked],
      [this.limit.requests, this.windowMs, id, mode, this.limit.marginMs ?? DEFAULT_RATE_MARGIN_MS],
    );
  }

  /** 0 when a request could be sent now, else about how long until one can. */
  peek(): Promise<number> {
    return this.run('peek', '-');
  }

  async acquire(what: string, maxWaitMs = Infinity): Promise<void> {
    const id = randomBytes(8).toString('hex');
    const started = Date.now();
    let waited = false;
    const waitedFor = (outcome: 'sent' | 'refused') => {
      if (waited || outcome === 'refused')
        this.metrics?.gateWaitSeconds.observe({ connection: this.connection, outcome }, (Date.now() - started) / 1000);
    };
    for (;;) {
      const wait = await this.run('take', id);
      if (wait === 0) {
        waitedFor('sent');
        return;
      }
      if (Date.now() - started + wait > maxWaitMs) {
        waitedFor('refused');
        // Our own limit, not the provider's answer: `gate` tells the dispatcher not to hold the connection for it.
        throw new ProviderError(
          'provider_rate_limited',
          `${what}: connection ${this.connection} is at its rate limit (${this.limit.requests} per ` +
            `${this.limit.perSeconds} s); retry later.`,
          'no',
          {
            retryAfter: String(Math.max(1, Math.ceil(wait / 1000))),
            gate: true,
          },
        );
      }
      if (!waited) this.metrics?.gateWaits.inc({ connection: this.connection });
      waited = true;
      await sleep(wait);
    }
  }

  async block(untilMs: number): Promise<void> {
    const ms = Math.ceil(untilMs - Date.now());
    if (ms <= 0) return;
    // In Redis's clock, like the log; only ever extended: a shorter block must not end a longer one.
    await this.redis.eval(
      "local t = redis.call('TIME') local u = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + " +
        'tonumber(ARGV[1]) ' +
        "if u > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], u, 'PX', ARGV[1]) end " +
        'return 0',
      1,
      this.keys.blocked,
      String(ms),
    );
  }
}
