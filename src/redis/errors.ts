import { GatewayError } from '../domain/errors.js';

// ioredis's messages when Redis cannot be reached: refused, closed, stalled past the command timeout, or
// retried past maxRetriesPerRequest (whose message reads "Reached the max retries per request limit").
const REDIS_DOWN =
  /Connection is closed|enableOfflineQueue|max retries per request|ECONNREFUSED|Stream isn't writeable|Command timed out/i;

/** service_unavailable when `err` says Redis could not be reached (ioredis's messages); else null. */
export function storeUnavailable(err: Error): GatewayError | null {
  if (err.name !== 'MaxRetriesPerRequestError' && !REDIS_DOWN.test(err.message)) return null;
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
