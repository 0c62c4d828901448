import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { fieldErrors, type FieldError } from '../lib/schema-check.js';

/**
 * The closed list of error codes the gateway answers with, each with its HTTP status and title.
 * Codes are part of the API: clients switch on them, so they never change meaning.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The body is not valid JSON' },
  invalid_points_amount: { status: 400, title: 'Invalid points amount' },
  invalid_idempotency_key: { status: 400, title: 'Invalid Idempotency-Key header' },
  invalid_cursor: { status: 400, title: 'Invalid pagination cursor' },
  insufficient_points: { status: 400, title: 'Insufficient points' },
  unauthorized: { status: 401, title: 'Missing or unknown API key' },
  forbidden: { status: 403, title: 'The API key lacks the scope this operation needs' },
  card_blocked: { status: 403, title: 'The card is blocked' },
  card_not_found: { status: 404, title: 'Card not found' },
  customer_not_found: { status: 404, title: 'Customer not found' },
  program_not_found: { status: 404, title: 'Program not found' },
  reward_not_found: { status: 404, title: 'Reward not found' },
  notification_not_found: { status: 404, title: 'Notification not found' },
  transaction_not_found: { status: 404, title: 'Transaction not found' },
  bulk_not_found: { status: 404, title: 'Bulk job not found' },
  unknown_connection: { status: 404, title: 'Unknown connection' },
  not_found: { status: 404, title: 'No such route' },
  idempotency_in_flight: { status: 409, title: 'A request with this Idempotency-Key is still running' },
  already_reversed: { status: 409, title: 'The transaction is already fully reversed' },
  transaction_not_retryable: { status: 409, title: 'The transaction cannot be retried or resolved in its status' },
  customer_exists: { status: 409, title: 'The provider already has this customer' },
  coupon_already_redeemed: { status: 409, title: 'The coupon was already redeemed' },
  duplicate_at_provider: { status: 409, title: 'The provider already processed this operation' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used with a different request' },
  unsupported_operation: { status: 422, title: 'The card does not support this operation' },
  nothing_to_expire: { status: 422, title: 'No points to expire' },
  reversal_exceeds_original: { status: 422, title: 'The reversal is larger than what is left of the original' },
  transaction_not_reversible: { status: 422, title: 'The transaction cannot be reversed' },
  balance_limit_exceeded: { status: 422, title: 'The card would hold more points than allowed' },
  reward_not_available: { status: 422, title: 'The reward cannot be redeemed' },
  provider_rejected: { status: 422, title: 'The provider refused the request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal error' },
  provider_bad_response: { status: 502, title: 'The provider answered with something the gateway cannot read' },
  provider_auth_failed: { status: 502, title: "The provider refused the connection's credentials" },
  provider_rate_limited: { status: 503, title: "The provider's rate limit is reached" },
  service_unavailable: { status: 503, title: 'The gateway cannot reach its store' },
  provider_unavailable: { status: 503, title: 'The provider is unavailable' },
  provider_timeout: { status: 504, title: 'The provider did not answer in time' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where problem types are documented: GET /problems/<code> answers with the code's description. */
export const problemType = (code: ErrorCode): string => `/problems/${code}`;

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail);
    this.status = ERROR_CODES[code].status;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
  [k: string]: unknown;
}

export function problemOf(err: ApiError, req?: FastifyRequest): Problem {
  const { headers: _h, ...extra } = err.extra;
  return {
    type: problemType(err.code),
    title: ERROR_CODES[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(req ? { instance: req.url.split('?')[0], request_id: req.id } : {}),
    ...extra,
  };
}

export function sendProblem(reply: FastifyReply, err: ApiError): FastifyReply {
  for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
  return reply.code(err.status).type('application/problem+json').send(problemOf(err, reply.request));
}

const POINTS_FIELD = /^\/(?:transactions\/\d+\/)?points$/;

/** Turns schema validation errors into validation_failed (or invalid_points_amount when only `points` is wrong). */
export function validationError(errors: FieldError[], context: string): ApiError {
  if (errors.length > 0 && errors.every((e) => POINTS_FIELD.test(e.field)) && context === 'body') {
    return new ApiError(
      'invalid_points_amount',
      `points ${errors[0]?.message ?? 'is invalid'}: a whole number from 1 to 1000000000 is expected`,
      { errors },
    );
  }
  const where =
    context === 'querystring'
      ? 'query parameter'
      : context === 'params'
        ? 'path parameter'
        : context === 'headers'
          ? 'header'
          : 'field';
  const list = errors.map((e) => `${e.field === '/' ? 'the body' : e.field.slice(1)} ${e.message}`).join('; ');
  return new ApiError('validation_failed', `Invalid ${where}${errors.length > 1 ? 's' : ''}: ${list}`, { errors });
}

const REDIS_DOWN = /Connection is closed|enableOfflineQueue|MaxRetriesPerRequest|ECONNREFUSED|Stream isn't writeable/;

/** Maps anything thrown in a request to an ApiError. Never leaks internals of a 5xx. */
export function toApiError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  const fe = error as FastifyError & { validationContext?: string };
  if (Array.isArray(fe.validation)) {
    // fieldErrors names the field at fault for `required` and `additionalProperties` too (their instancePath is the parent).
    return validationError(fieldErrors(fe.validation as unknown as ErrorObject[]), fe.validationContext ?? 'body');
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        'payload_too_large',
        'The request body is larger than this gateway accepts (BODY_LIMIT_BYTES).',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type', 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('invalid_json', 'The body is empty; a JSON object is expected.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('invalid_json', 'The body is not valid JSON.');
  }
  if (error instanceof SyntaxError || fe.statusCode === 400)
    return new ApiError('invalid_json', 'The body is not valid JSON.');
  if (fe.statusCode === 413) return new ApiError('payload_too_large', 'The request body is too large.');
  if (fe.statusCode === 415) return new ApiError('unsupported_media_type', 'Send the body as application/json.');
  if (REDIS_DOWN.test(error.message))
    return new ApiError('service_unavailable', 'The ledger store is not reachable; retry shortly.', {
      headers: { 'retry-after': '1' },
    });
  return new ApiError('internal_error', 'An unexpected error occurred; it has been logged with this request id.');
}
