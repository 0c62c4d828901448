import { GatewayError } from '../domain/errors.js';

const REDIS_DOWN = /Connection is closed|enableOfflineQueue|MaxRetriesPerRequest|ECONNREFUSED|Stream isn't writeable/;

/** service_unavailable when `err` says Redis could not be reached (ioredis's messages); else null. */
export function storeUnavailable(err: Error): GatewayError | null {
  if (!REDIS_DOWN.test(err.message)) return null;
  return new GatewayError('service_unavailable', 'The ledger store is not reachable; retry shortly.', {
    retryAfter: '1',
  });
}
