import { GatewayError } from '../domain/errors.js';

// ioredis's messages when Redis cannot be reached: refused, closed, stalled past the command timeout, or
// retried past maxRetriesPerRequest (whose message reads "Reached the max retries per request limit").
const REDIS_DOWN =
  /Connection is closed|enableOfflineQueue|max retries per request|ECONNREFUSED|Stream isn't writeable|Command timed out/i;

// Redis answering but refusing for now: full under `noeviction` (OOM), loading its data after a restart, a
// replica after a failover (READONLY), a cluster without a master for the slot.
const REDIS_REFUSING =
  /\b(OOM command not allowed|LOADING Redis is loading|READONLY You can't write|CLUSTERDOWN|MASTERDOWN|TRYAGAIN)\b/;

/** service_unavailable when `err` says Redis could not be reached or refuses for now (its messages); else null. */
export function storeUnavailable(err: Error): GatewayError | null {
  if (err.name !== 'MaxRetriesPerRequestError' && !REDIS_DOWN.test(err.message) && !REDIS_REFUSING.test(err.message))
    return null;
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
