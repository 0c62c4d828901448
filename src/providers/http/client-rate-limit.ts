import { ProviderError } from '../provider-error.js';

/**
 * A connection's `rateLimit` setting, kept on the client side: a sliding window of send times.
 * `take` waits for a free slot, or refuses (provider_rate_limited, applied 'no') when the wait
 * would pass the connection's timeout. One per connection; the Dispatch issue's queue will hold
 * the limit across processes.
 */
export class ClientRateLimit {
  private sent: number[] = [];

  constructor(
    private readonly limit: { requests: number; perSeconds: number } | undefined,
    private readonly maxWaitMs: number,
  ) {}

  async take(what: string): Promise<void> {
    const limit = this.limit;
    if (!limit) return;
    const windowMs = limit.perSeconds * 1000;
    for (;;) {
      const now = Date.now();
      while (this.sent.length > 0 && this.sent[0]! <= now - windowMs) this.sent.shift();
      if (this.sent.length < limit.requests) {
        this.sent.push(now);
        return;
      }
      const wait = this.sent[0]! + windowMs - now;
      if (wait > this.maxWaitMs) {
        throw new ProviderError('provider_rate_limited', `${what}: the connection's rate limit (${limit.requests} per ${limit.perSeconds} s) is reached; retry later.`, 'no', {
          headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
        });
      }
      await new Promise((r) => setTimeout(r, wait + 1));
    }
  }
}
