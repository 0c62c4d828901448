import { GatewayError, ProviderError, storedErrorCode } from '../domain/errors.js';

/** An error as it travels from a worker back to the API process waiting on the call. */
export interface SerializedError {
  code: string;
  detail: string;
  applied?: 'no' | 'unknown';
  extra: Record<string, unknown>;
}

export function serializeError(err: unknown, fallback: string): SerializedError {
  if (err instanceof ProviderError)
    return { code: err.code, detail: err.message, applied: err.applied, extra: err.extra };
  if (err instanceof GatewayError) return { code: err.code, detail: err.message, extra: err.extra };
  // Not ours to show: the detail of an unexpected failure stays in the worker's log.
  return { code: 'provider_bad_response', detail: fallback, applied: 'unknown', extra: {} };
}

export function deserializeError(e: SerializedError): GatewayError {
  const code = storedErrorCode(e.code);
  return e.applied ? new ProviderError(code, e.detail, e.applied, e.extra) : new GatewayError(code, e.detail, e.extra);
}

/**
 * A failure worth another try: the provider was unreachable, timed out or failed (a read), or certainly did not get it
 * (a write).
 */
export function isTransient(err: unknown, write: boolean): boolean {
  if (!(err instanceof ProviderError)) return false;
  if (err.code !== 'provider_unavailable' && err.code !== 'provider_timeout') return false;
  return !write || err.applied === 'no';
}

/** A wait at the gateway's own limiter that would have been too long (nothing was sent; the provider said nothing). */
export function isOwnLimit(err: unknown): boolean {
  return err instanceof ProviderError && err.code === 'provider_rate_limited' && err.extra.gate === true;
}

/** The provider's 429 (or a spent RateLimit window): how long it asked to wait, in ms; null for any other error. */
export function rateLimitWaitMs(err: unknown): number | null {
  if (!(err instanceof ProviderError) || err.code !== 'provider_rate_limited') return null;
  const v = err.extra.retryAfter;
  const n = v !== undefined ? Number(v) : NaN;
  if (Number.isFinite(n) && n >= 0) return n * 1000;
  const at = v !== undefined ? Date.parse(v) : NaN;
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 1000;
}
