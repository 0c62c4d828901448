import type { ProviderAdapter } from '../providers/adapter.js';
import type { Dispatcher, Lane } from './dispatcher.js';

/** The adapter methods that call the provider, and how each is queued. `move` is not here: transactions are jobs of their own. */
const QUEUED: Record<string, { lane: Lane; write: boolean }> = {
  cardCapabilities: { lane: 'read', write: false },
  balance: { lane: 'read', write: false },
  history: { lane: 'read', write: false },
  getCard: { lane: 'read', write: false },
  listCards: { lane: 'read', write: false },
  listCustomers: { lane: 'read', write: false },
  getCustomer: { lane: 'read', write: false },
  listPrograms: { lane: 'read', write: false },
  getProgram: { lane: 'read', write: false },
  rewards: { lane: 'read', write: false },
  listNotifications: { lane: 'read', write: false },
  getNotification: { lane: 'read', write: false },
  issueCard: { lane: 'write', write: true },
  deleteCard: { lane: 'write', write: true },
  voidCard: { lane: 'write', write: true },
  createCustomer: { lane: 'write', write: true },
  updateCustomer: { lane: 'write', write: true },
  deleteCustomer: { lane: 'write', write: true },
  copyProgram: { lane: 'write', write: true },
  notify: { lane: 'write', write: true },
  bulkCreateCustomers: { lane: 'bulk', write: true },
};

/** Methods a worker may run for a call job: the queued ones the adapter has. */
/** Methods that only describe the connection, answered in the API process without calling the provider. */
const LOCAL = new Set(['programCapabilities', 'reconcileFor', 'rateLimitState']);

export function isQueuedMethod(method: string): boolean {
  return Object.hasOwn(QUEUED, method);
}

/**
 * The adapter as the API side sees it: what only describes the connection (card types,
 * program capabilities, how it reconciles) is answered here; every method that calls the
 * provider becomes a job on the connection's queue, run by a worker with the real adapter.
 */
export function queuedAdapter(direct: ProviderAdapter, connectionId: string, dispatch: Dispatcher): ProviderAdapter {
  return new Proxy(direct, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      if (LOCAL.has(prop)) return (value as (...a: unknown[]) => unknown).bind(target);
      const how = QUEUED[prop];
      if (how) return (...args: unknown[]) => dispatch.call(connectionId, prop, args, how);
      // Nothing reaches a provider around the queue: move (and findApplied) belong to transaction
      // jobs (transaction-job.ts), close to the registry; a new provider call must be listed above.
      return () => Promise.reject(new Error(`${prop} is not a queued provider call (src/queue/queued-adapter.ts)`));
    },
  });
}
