/**
 * What stands between an adapter and its provider: the connection's rate limit. Every HTTP
 * request of a connection first takes a slot. In a running gateway the gate is the connection's
 * Redis limiter (src/dispatch/rate-limiter.ts), shared by every process; an adapter made without
 * one (tests, tools) gets an in-process gate with the same rule (local-gate.ts; the descriptor's
 * defaultGate).
 *
 * The rule: a request counts against the limit from the moment it is sent for one window plus
 * `marginMs`. A provider counts a request when it arrives, somewhere between its sending and
 * sending + the network's delay; as long as that delay varies by less than the margin, no sliding
 * window at the provider holds more than `requests` of ours, however long the answers take (a slow
 * or timed-out answer costs no quota).
 */
export interface RequestGate {
  /**
   * Waits until the limit allows one more request and counts it as sent. Refuses
   * (ProviderError provider_rate_limited, applied 'no', with retry-after) when the wait would be
   * longer than `maxWaitMs`.
   */
  acquire(what: string, maxWaitMs?: number): Promise<void>;
  /**
   * Holds every request of the connection until `untilMs` (epoch ms): a 429's Retry-After, a spent RateLimit window.
   */
  block(untilMs: number): Promise<void>;
}

/** The default of `rateLimit.marginMs`: the spread of arrival delays a connection allows for. */
export const DEFAULT_RATE_MARGIN_MS = 50;

export interface RateLimitSetting {
  requests: number;
  perSeconds: number;
  /** Added to the window a request counts for: the arrival jitter allowed (default DEFAULT_RATE_MARGIN_MS). */
  marginMs?: number;
}
