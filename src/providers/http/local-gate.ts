import { ProviderError } from '../../domain/errors.js';
import { sleep } from '../../lib/time.js';
import { DEFAULT_RATE_MARGIN_MS, type RateLimitSetting, type RequestGate } from './request-gate.js';

/**
 * A connection's rate limit kept in this process: the RequestGate ProviderHttp uses when it is
 * given no shared one (request-gate.ts has the rule, the same as the Redis limiter's): a request
 * counts from its sending for one window plus the margin. With `limit` null there is no limit,
 * only `block()`.
 */
export class LocalRequestGate implements RequestGate {
  /** When each counted request stops counting (sent + window + margin), in order. */
  private ends: number[] = [];
  private blockedUntil = 0;
  private readonly spanMs: number;

  constructor(private readonly limit: RateLimitSetting | null) {
    this.spanMs = limit
      ? Math.max(1, Math.round(limit.perSeconds * 1000)) + (limit.marginMs ?? DEFAULT_RATE_MARGIN_MS)
      : 0;
  }

  /** 0 when a request may be sent now; otherwise how long until one may. */
  private waitAt(now: number): number {
    if (this.blockedUntil > now) return this.blockedUntil - now;
    if (!this.limit) return 0;
    let drop = 0;
    while (drop < this.ends.length && this.ends[drop]! <= now) drop++;
    if (drop > 0) this.ends = this.ends.slice(drop);
    if (this.ends.length < this.limit.requests) return 0;
    // The slot frees when the (counted - requests + 1)th request stops counting.
    return Math.max(1, this.ends[this.ends.length - this.limit.requests]! - now);
  }

  async acquire(what: string, maxWaitMs = Infinity): Promise<void> {
    const started = Date.now();
    for (;;) {
      const now = Date.now();
      const wait = this.waitAt(now);
      if (wait === 0) {
        if (this.limit) this.ends.push(Math.max(now + this.spanMs, this.ends.at(-1) ?? 0));
        return;
      }
      if (now - started + wait > maxWaitMs) throw this.refusal(what, wait);
      await sleep(wait + 1);
    }
  }

  async block(untilMs: number): Promise<void> {
    // Only ever extended: a shorter block must not end a longer one.
    if (untilMs > this.blockedUntil) this.blockedUntil = untilMs;
  }

  /** Requests counted now (sent less than a window plus the margin ago), for tests and diagnostics. */
  held(now = Date.now()): number {
    return this.ends.filter((t) => t > now).length;
  }

  private refusal(what: string, waitMs: number): ProviderError {
    const why =
      this.blockedUntil > Date.now() || !this.limit
        ? "the provider's rate limit holds the connection back (Retry-After, or a spent RateLimit window)"
        : `the connection's rate limit (${this.limit.requests} per ${this.limit.perSeconds} s) is reached`;
    return new ProviderError('provider_rate_limited', `${what}: ${why}; retry later.`, 'no', {
      retryAfter: String(Math.max(1, Math.ceil(waitMs / 1000))),
    });
  }
}
