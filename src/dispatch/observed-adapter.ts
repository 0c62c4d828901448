import { ProviderError } from '../domain/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ProviderAdapter } from '../providers/adapter.js';

/** Adapter members that do not call the provider. */
const NOT_CALLS = new Set(['close', 'constructor']);

/**
 * The adapter a worker calls, with each provider call counted and timed (lgw_provider_calls_total,
 * lgw_provider_call_duration_seconds: operation = the adapter method, outcome = ok or the error code)
 * and each 429 received counted (lgw_provider_rate_limited_total; a refusal of our own rate gate is not one).
 */
export function observedAdapter(adapter: ProviderAdapter, connection: string, metrics: Metrics): ProviderAdapter {
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof value !== 'function' || NOT_CALLS.has(prop)) return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        let outcome = 'ok';
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          outcome = err instanceof ProviderError ? err.code : 'error';
          if (err instanceof ProviderError && err.code === 'provider_rate_limited' && err.extra.gate !== true) {
            metrics.providerRateLimited.inc({ connection });
          }
          throw err;
        } finally {
          const labels = { connection, operation: prop, outcome };
          metrics.providerCalls.inc(labels);
          metrics.providerDuration.observe(labels, (performance.now() - started) / 1000);
        }
      };
    },
  });
}
