import { ProviderError } from '../../domain/errors.js';
import { sleep } from '../../lib/time.js';
import type { RateLimitSetting, RequestGate } from './request-gate.js';

/**
 * A connection's rate limit kept in this process: the RequestGate ProviderHttp uses when it is
 * given no shared one (request-gate.ts has the rule, the same as the Redis limiter's).
 *
 * A request holds a slot from `acquire` until `window` ms after its release; while it is in
 * flight it counts as ending "now", so its slot is free at the earliest one window after the
 * moment it is released. With `limit` null there is no limit, only `block()`.
 */
export class LocalRequestGate implements RequestGate {
  /** Released requests, in release order: when each stops counting (release time + window). */
  private released: number[] = [];
  /** Requests acquired and not yet released. */
  private readonly inFlight = new Set<object>();
  private blockedUntil = 0;
  private readonly windowMs: number;

  constructor(
    private readonly limit: RateLimitSetting | null,
    /** How often a waiter looks again while the request in its way is still in flight (ms). */
    private readonly pollMs = 25,
  ) {
    this.windowMs = limit ? Math.max(1, Math.round(limit.perSeconds * 1000)) : 0;
  }

  /**
   * 0 when a request may be sent now; otherwise how long to wait before looking again, and
   * whether that is exact (a block, or a released request's end) or only the least it can be
   * (the request in the way is still in flight: its slot frees one window after its answer).
   */
  private waitAt(now: number): { ms: number; exact: boolean } {
    if (this.blockedUntil > now) return { ms: this.blockedUntil - now, exact: true };
    if (!this.limit) return { ms: 0, exact: true };
    let drop = 0;
    while (drop < this.released.length && this.released[drop]! <= now) drop++;
    if (drop > 0) this.released = this.released.slice(drop);
    const held = this.released.length + this.inFlight.size;
    if (held < this.limit.requests) return { ms: 0, exact: true };
    // The slot frees when the (held - requests + 1)th request to end has ended; released ones end
    // first (in release order), in-flight ones after them.
    const k = held - this.limit.requests;
    if (k < this.released.length) return { ms: Math.max(1, this.released[k]! - now), exact: true };
    return { ms: this.windowMs, exact: false };
  }

  async acquire(what: string, maxWaitMs = Infinity): Promise<() => void> {
    const started = Date.now();
    for (;;) {
      const now = Date.now();
      const wait = this.waitAt(now);
      if (wait.ms === 0) return this.take();
      if (now - started + wait.ms > maxWaitMs) throw this.refusal(what, wait.ms);
      // In flight: the wait is at least a window, but its answer could come any moment: look again soon.
      await sleep(wait.exact ? wait.ms + 1 : Math.min(wait.ms, this.pollMs));
    }
  }

  async block(untilMs: number): Promise<void> {
    // Only ever extended: a shorter block must not end a longer one.
    if (untilMs > this.blockedUntil) this.blockedUntil = untilMs;
  }

  /** Requests counted now (in flight, or released less than a window ago), for tests and diagnostics. */
  held(now = Date.now()): number {
    return this.released.filter((t) => t > now).length + this.inFlight.size;
  }

  private take(): () => void {
    const token = {};
    this.inFlight.add(token);
    return () => {
      if (!this.inFlight.delete(token)) return; // released already
      if (!this.limit) return;
      const end = Date.now() + this.windowMs;
      // Keep the order of ends (Date.now() may step back a little).
      let i = this.released.length;
      while (i > 0 && this.released[i - 1]! > end) i--;
      this.released.splice(i, 0, end);
    };
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
