/**
 * What stands between an adapter and its provider: the connection's rate limit. Every HTTP
 * request of a connection first acquires a slot, and gives it back when its answer (or its
 * failure) is in. In a running gateway the gate is the connection's Redis limiter
 * (src/dispatch/rate-limiter.ts), shared by every process; an adapter made without one (tests,
 * tools) gets an in-process gate with the same rule (local-gate.ts; the descriptor's defaultGate).
 *
 * The rule: a request counts against the limit from the moment it is sent until one full window
 * after its answer arrived. The provider received it somewhere in between, so however the
 * network or the event loop delays a request, no sliding window at the provider can hold more
 * than `requests` of ours.
 */
export interface RequestGate {
  /**
   * Waits until the limit allows one more request, and returns the function to call when its
   * answer is in. Refuses (ProviderError provider_rate_limited, applied 'no', with retry-after)
   * when the wait would be longer than `maxWaitMs`.
   */
  acquire(what: string, maxWaitMs?: number): Promise<() => void>;
  /**
   * Holds every request of the connection until `untilMs` (epoch ms): a 429's Retry-After, a spent RateLimit window.
   */
  block(untilMs: number): Promise<void>;
}

export interface RateLimitSetting {
  requests: number;
  perSeconds: number;
}
