import type { ProviderAdapter } from '../providers/adapter.js';
import { type ProviderCalls, QUEUED_METHODS } from './provider-calls.js';

/**
 * The adapter as the API side sees it: every method that calls the provider becomes a job on the
 * connection's queue (provider-calls.ts), run by a worker with the real adapter. Nothing reaches
 * a provider around the queue: `move` and `findApplied` belong to transaction jobs, and any
 * method not listed in QUEUED_METHODS is refused (a new provider call must be listed there).
 */
export function queuedAdapter(direct: ProviderAdapter, connectionId: string, calls: ProviderCalls): ProviderAdapter {
  return new Proxy(direct, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      const how = QUEUED_METHODS[prop];
      if (how) return (...args: unknown[]) => calls.call(connectionId, prop, args, how);
      return () => Promise.reject(new Error(`${prop} is not a queued provider call (src/dispatch/provider-calls.ts)`));
    },
  });
}
