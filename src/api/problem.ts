import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode, GatewayError } from '../domain/errors.js';
import { type FieldError, fieldErrors } from '../lib/schema-check.js';
import { asGatewayError } from '../redis/errors.js';

/**
 * The HTTP face of the gateway's errors: the status of every error code (this table is the one
 * place that decides it), and the RFC 9457 problem+json body every refusal is answered with.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  invalid_json: 400,
  invalid_encoding: 400,
  malformed_request: 400,
  invalid_points_amount: 400,
  invalid_idempotency_key: 400,
  invalid_cursor: 400,
  insufficient_points: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  card_blocked: 403,
  card_not_found: 404,
  customer_not_found: 404,
  program_not_found: 404,
  reward_not_found: 404,
  notification_not_found: 404,
  transaction_not_found: 404,
  bulk_not_found: 404,
  audit_not_found: 404,
  shop_not_found: 404,
  order_not_found: 404,
  link_not_found: 404,
  hold_not_found: 404,
  webhook_not_found: 404,
  event_not_found: 404,
  finding_not_found: 404,
  unknown_connection: 404,
  not_found: 404,
  idempotency_in_flight: 409,
  already_reversed: 409,
  transaction_not_retryable: 409,
  finding_not_confirmable: 409,
  link_exists: 409,
  hold_not_active: 409,
  customer_exists: 409,
  coupon_already_redeemed: 409,
  duplicate_at_provider: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  unsupported_operation: 422,
  nothing_to_expire: 422,
  reversal_exceeds_original: 422,
  transaction_not_reversible: 422,
  balance_limit_exceeded: 422,
  reward_not_available: 422,
  provider_rejected: 422,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  provider_bad_response: 502,
  provider_auth_failed: 502,
  provider_rate_limited: 503,
  service_unavailable: 503,
  provider_unavailable: 503,
  provider_timeout: 504,
};

export const statusOf = (code: ErrorCode): number => HTTP_STATUS[code];

/** Where problem types are documented: GET /problems/<code> answers with the code's description. */
const problemType = (code: ErrorCode): string => `/problems/${code}`;

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

/** The problem+json body of an error; without a request (a raw socket's answer), no instance or request id. */
export function problemOf(err: GatewayError, req?: FastifyRequest): Problem {
  const { retryAfter: _retryAfter, ...extra } = err.extra;
  // The details come first: none of them may replace a member RFC 9457 or the gateway defines.
  return {
    ...extra,
    type: problemType(err.code),
    title: ERROR_CODES[err.code],
    status: statusOf(err.code),
    detail: err.message,
    code: err.code,
    ...(req ? { instance: req.url.split('?')[0], request_id: req.id } : {}),
  };
}

/**
 * Sends an error as problem+json, with Retry-After when it says when to try again, the Location of
 * its transaction, and Idempotent-Replayed when it is an earlier request's answer given again.
 */
export function sendProblem(reply: FastifyReply, err: GatewayError): FastifyReply {
  if (err.replayed) reply.header('idempotent-replayed', 'true');
  if (err.extra.retryAfter !== undefined) reply.header('retry-after', err.extra.retryAfter);
  if (typeof err.extra.transaction_id === 'string') {
    reply.header('location', `/v1/transactions/${err.extra.transaction_id}`);
  }
  return reply.code(statusOf(err.code)).type('application/problem+json').send(problemOf(err, reply.request));
}

const POINTS_FIELD = /^\/(?:transactions\/\d+\/)?points$/;

/** Turns schema validation errors into validation_failed (or invalid_points_amount when only `points` is wrong). */
export function validationError(errors: FieldError[], context: string): GatewayError {
  if (errors.length > 0 && errors.every((e) => POINTS_FIELD.test(e.field)) && context === 'body') {
    return new GatewayError(
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
  return new GatewayError('validation_failed', `Invalid ${where}${errors.length > 1 ? 's' : ''}: ${list}`, {
    errors,
  });
}

/** Maps anything thrown in a request to a GatewayError. Never leaks internals of a 5xx. */
export function toGatewayError(error: FastifyError | Error): GatewayError {
  if (error instanceof GatewayError) return error;
  const fe = error as FastifyError & { validationContext?: string };
  if (Array.isArray(fe.validation)) {
    // fieldErrors names the field at fault for `required` and `additionalProperties` too (their instancePath is the
    // parent).
    return validationError(fieldErrors(fe.validation as unknown as ErrorObject[]), fe.validationContext ?? 'body');
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(
        'payload_too_large',
        'The request body is larger than this gateway accepts (BODY_LIMIT_BYTES).',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('unsupported_media_type', 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_json', 'The body is empty; a JSON object is expected.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('invalid_json', 'The body is not valid JSON.');
  }
  if (error instanceof SyntaxError || fe.statusCode === 400) {
    return new GatewayError('invalid_json', 'The body is not valid JSON.');
  }
  if (fe.statusCode === 413) return new GatewayError('payload_too_large', 'The request body is too large.');
  if (fe.statusCode === 415) return new GatewayError('unsupported_media_type', 'Send the body as application/json.');
  return asGatewayError(error);
}
