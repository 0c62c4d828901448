import type { FieldError } from '../lib/schema-check.js';

/**
 * The closed list of error codes, each with its title. Codes are part of the API: clients switch
 * on them, so they never change meaning. What HTTP status each one is answered with is decided at
 * the edge (src/api/problem.ts), never here.
 */
export const ERROR_CODES = {
  validation_failed: 'The request is not valid',
  invalid_json: 'The body is not valid JSON',
  invalid_encoding: 'The body is not valid UTF-8',
  malformed_request: 'The request is not valid HTTP',
  invalid_points_amount: 'Invalid points amount',
  invalid_idempotency_key: 'Invalid Idempotency-Key header',
  invalid_cursor: 'Invalid pagination cursor',
  insufficient_points: 'Insufficient points',
  unauthorized: 'Missing or unknown API key',
  invalid_signature: "The webhook's signature is missing or wrong",
  forbidden: 'The API key lacks the scope this operation needs',
  card_blocked: 'The card is blocked',
  card_not_found: 'Card not found',
  customer_not_found: 'Customer not found',
  program_not_found: 'Program not found',
  reward_not_found: 'Reward not found',
  notification_not_found: 'Notification not found',
  transaction_not_found: 'Transaction not found',
  bulk_not_found: 'Bulk job not found',
  audit_not_found: 'Audit not found',
  shop_not_found: 'Shop not found',
  order_not_found: 'Order not found',
  link_not_found: 'Link not found',
  hold_not_found: 'Hold not found',
  webhook_not_found: 'Webhook subscription not found',
  event_not_found: 'Event not found',
  finding_not_found: 'Audit finding not found',
  unknown_connection: 'Unknown connection',
  not_found: 'No such route',
  idempotency_in_flight: 'A request with this Idempotency-Key is still running',
  already_reversed: 'The transaction is already fully reversed',
  transaction_not_retryable: 'The transaction cannot be retried or resolved in its status',
  finding_not_confirmable: 'The audit finding cannot be confirmed',
  link_exists: 'The shop customer is linked to another card',
  hold_not_active: 'The hold was captured, released or expired already',
  customer_exists: 'The provider already has this customer',
  coupon_already_redeemed: 'The coupon was already redeemed',
  duplicate_at_provider: 'The provider already processed this operation',
  request_timeout: 'The request was not received in time',
  payload_too_large: 'The body is too large',
  unsupported_media_type: 'Unsupported content type',
  idempotency_key_reused: 'The Idempotency-Key was used with a different request',
  unsupported_operation: 'The card does not support this operation',
  nothing_to_expire: 'No points to expire',
  reversal_exceeds_original: 'The reversal is larger than what is left of the original',
  transaction_not_reversible: 'The transaction cannot be reversed',
  balance_limit_exceeded: 'The card would hold more points than allowed',
  reward_not_available: 'The reward cannot be redeemed',
  provider_rejected: 'The provider refused the request',
  rate_limited: 'Too many requests',
  headers_too_large: 'The request headers are too large',
  internal_error: 'Internal error',
  provider_bad_response: 'The provider answered with something the gateway cannot read',
  provider_auth_failed: "The provider refused the connection's credentials",
  provider_rate_limited: "The provider's rate limit is reached",
  service_unavailable: 'The gateway cannot reach its store',
  provider_unavailable: 'The provider is unavailable',
  provider_timeout: 'The provider did not answer in time',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/** What an error carries besides its code and sentence. Everything but `retryAfter` is shown to the client. */
export interface ErrorExtra {
  /** The fields at fault, as JSON pointers. */
  errors?: FieldError[];
  /** When to try again: seconds, or an HTTP date (the edge sends it as Retry-After). */
  retryAfter?: string;
  /** The transaction an answer is about (the edge adds its Location). */
  transaction_id?: string;
  [k: string]: unknown;
}

/**
 * A refusal or failure the gateway answers with: a stable code, a sentence a person can act on,
 * and the details (`extra`). Thrown anywhere below the HTTP layer, which alone turns it into a
 * status and a problem+json body.
 */
export class GatewayError extends Error {
  override name = 'GatewayError';
  /** The stored answer of an earlier request with the same Idempotency-Key, given again. */
  replayed = false;
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly extra: ErrorExtra = {},
  ) {
    super(detail);
  }
}

/**
 * A provider call that failed. `applied` says whether the provider may have applied it:
 *  - 'no': it certainly did not (a 4xx refusal, a 429, a connection that was never made), so the
 *    gateway releases the transaction's claim and a retry is safe;
 *  - 'unknown': it may have (a timeout after the request was sent, a dropped connection, a 5xx, a
 *    2xx body the gateway cannot read), so the transaction is kept as `needs_review` and never
 *    re-sent automatically: only a reconciliation against the provider's records may settle it.
 */
export class ProviderError extends GatewayError {
  override name = 'ProviderError';
  constructor(
    code: ErrorCode,
    detail: string,
    readonly applied: 'no' | 'unknown',
    extra: ErrorExtra = {},
  ) {
    super(code, detail, extra);
  }
}

/**
 * A code stored with a transaction or a job, back as an ErrorCode (older or unknown codes read as
 * provider_unavailable).
 */
export function storedErrorCode(code: string | null): ErrorCode {
  return code !== null && isErrorCode(code) ? code : 'provider_unavailable';
}

/** A refusal of one field of a request: validation_failed naming it. */
export function fieldError(field: string, message: string): GatewayError {
  return new GatewayError('validation_failed', `${field} ${message}.`, { errors: [{ field: `/${field}`, message }] });
}
