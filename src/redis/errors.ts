import { GatewayError } from '../domain/errors.js';

const REDIS_DOWN = /Connection is closed|enableOfflineQueue|MaxRetriesPerRequest|ECONNREFUSED|Stream isn't writeable/;

/** service_unavailable when `err` says Redis could not be reached (ioredis's messages); else null. */
export function storeUnavailable(err: Error): GatewayError | null {
  if (!REDIS_DOWN.test(err.message)) return null;
  return new GatewayError('service_unavailable', 'The ledger store is not reachable; retry shortly.', {
    retryAfter: '1',
  });
}

/**
 * Anything thrown, as a GatewayError: Redis away is service_unavailable; anything else unexpected is an
 * internal error, its details left to the log.
 */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const down = err instanceof Error ? storeUnavailable(err) : null;
  return (
    down ?? new GatewayError('internal_error', 'An unexpected error occurred; it has been logged with this request id.')
  );
}
