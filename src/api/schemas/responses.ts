import Type from 'typebox';
import { ERROR_CODES } from '../../domain/errors.js';
import { TransactionSchema } from '../../domain/transactions.js';

export const FieldErrorSchema = Type.Object(
  {
    field: Type.String({ description: 'JSON pointer of the field at fault.', examples: ['/points'] }),
    message: Type.String({ examples: ['must be >= 1'] }),
  },
  { title: 'FieldError' },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String({
      description: 'URI reference of the problem type; GET it for a description.',
      examples: ['/problems/insufficient_points'],
    }),
    title: Type.String({ examples: ['Insufficient points'] }),
    status: Type.Integer({ examples: [400] }),
    detail: Type.String({
      examples: ['Card ledger:c_01JD3X5Q8T2M4N6P8R0S2T4V6W has 80 points available; 120 were asked for.'],
    }),
    code: Type.Union(
      Object.keys(ERROR_CODES).map((c) => Type.Literal(c)),
      { description: 'Stable machine-readable code.' },
    ),
    instance: Type.Optional(Type.String({ description: 'The path of the request.' })),
    request_id: Type.Optional(
      Type.String({ description: "Quote it when asking about a request: it is in the gateway's logs." }),
    ),
    errors: Type.Optional(Type.Array(FieldErrorSchema, { description: 'The fields at fault (validation errors).' })),
    available: Type.Optional(Type.Integer({ description: 'Points available (insufficient_points).' })),
    supported: Type.Optional(
      Type.Array(Type.String(), { description: 'What the card supports (unsupported_operation).' }),
    ),
    units: Type.Optional(
      Type.Array(Type.String(), { description: 'The units the card counts in (unsupported_operation for a unit).' }),
    ),
    transaction_id: Type.Optional(
      Type.String({
        description:
          'The transaction kept as needs_review (provider_timeout, provider_unavailable, provider_bad_response): ' +
          'GET /v1/transactions/{id}.',
      }),
    ),
  },
  { title: 'Problem', description: 'An RFC 9457 problem detail.', additionalProperties: true },
);

/** A problem response, as a route's response entry. */
export const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error responses every authenticated route can give. */
export const commonErrors = {
  400: problem('The request is not valid (validation_failed, invalid_json, invalid_points_amount, ...).'),
  401: problem('Missing or unknown API key (unauthorized).'),
  403: problem('The key lacks the needed scope (forbidden), or the card is blocked (card_blocked).'),
  413: problem('The body is too large (payload_too_large).'),
  415: problem('The body is not JSON (unsupported_media_type).'),
  429: problem('Too many requests from this API key (rate_limited).'),
  500: problem('Unexpected error (internal_error).'),
  503: problem('The ledger store is unreachable (service_unavailable).'),
};

/** What a call that reaches a provider can also answer. */
export const upstreamErrors = {
  502: problem(
    "The provider refused the connection's credentials or answered unreadably (provider_auth_failed, " +
      'provider_bad_response).',
  ),
  503: problem(
    'The provider is unavailable (provider_unavailable, with Retry-After), or Redis is down (service_unavailable). ' +
      "A provider's 429 is waited out in the connection's queue, never passed on.",
  ),
  504: problem(
    'The provider did not answer in time (provider_timeout): a read that got no answer within DISPATCH_WAIT_MS, or ' +
      'a write whose outcome is unknown and kept as needs_review (see transaction_id).',
  ),
};

export const IdempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        'Makes the request safe to retry: the same key with the same body replays the first response (with ' +
        '`Idempotent-Replayed: true`); with another body it is refused (422 idempotency_key_reused); while the ' +
        'first is running, 409 idempotency_in_flight. Bare (`4f1c...`) or quoted (`"4f1c..."`), 1 to 255 ' +
        'characters; kept IDEMPOTENCY_TTL_HOURS per API key.',
      examples: ['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
    }),
  ),
});

/** Headers of a transaction request: Idempotency-Key, and Prefer for asynchronous answers. */
export const TransactionHeaders = Type.Object({
  ...IdempotencyKeyHeader.properties,
  prefer: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'RFC 7240. `respond-async`: answer 202 as soon as the transaction is queued. `wait=N`: wait at most N ' +
        'seconds for the provider (never longer than DISPATCH_WAIT_MS). Only transactions at external ' +
        'providers are queued; the built-in ledger always answers at once.',
      examples: ['respond-async'],
    }),
  ),
});

/** 202 of a transaction request at an external provider. */
export const acceptedResponse = (schema: object) => ({
  202: {
    ...schema,
    description:
      'Accepted: the transaction is queued or still running at the provider (status queued or processing). Poll ' +
      'the Location (GET /v1/transactions/{id}) until it is succeeded, failed or needs_review. ' +
      '`Preference-Applied: respond-async` when asked for.',
  },
});

export const idempotencyErrors = {
  409: problem('A request with this Idempotency-Key is still running (idempotency_in_flight).'),
  422: problem(
    'The Idempotency-Key was used with a different request (idempotency_key_reused), or the operation cannot apply ' +
      '(unsupported_operation, nothing_to_expire, ...).',
  ),
};

/**
 * The responses of a transaction request: 201 applied (a replay answers the same), 202 accepted,
 * and what it can be refused with; `notFound` says what a 404 names.
 */
export const transactionResponses = (notFound: string) => ({
  201: {
    ...TransactionSchema,
    description:
      'The transaction, applied. A replay (same Idempotency-Key, or same reference_id) answers the same, with ' +
      '`Idempotent-Replayed: true`.',
  },
  ...acceptedResponse(TransactionSchema),
  ...commonErrors,
  ...idempotencyErrors,
  404: problem(notFound),
  ...upstreamErrors,
});
