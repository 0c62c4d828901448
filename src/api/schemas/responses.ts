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

/**
 * Every response header the gateway sends, defined once: what the responses declare (withHeaders), and
 * #/components/headers of the OpenAPI document. The code that sends them: src/api/request-context.ts (writes),
 * problem.ts (errors), hooks.ts (X-Request-Id), rate-limit.ts (RateLimit-*), routes/points.ts (bulk),
 * routes/audits.ts, routes/webhooks.ts.
 */
export const RESPONSE_HEADERS = {
  'X-Request-Id': {
    description:
      "The request's id (the client's own `X-Request-Id` when it sent one, else `req_<ULID>`): quote it when " +
      "asking about a request, it is in the gateway's logs. On every response.",
    schema: { type: 'string', examples: ['req_01JD3X7B2C4D6E8F0G2H4J6K8M'] },
  },
  'RateLimit-Limit': {
    description: 'Requests this API key may make per window (CLIENT_RATE_LIMIT); only when a limit is set.',
    schema: { type: 'integer', minimum: 0, examples: [100] },
  },
  'RateLimit-Remaining': {
    description: 'Requests left to this API key in the current window; only when CLIENT_RATE_LIMIT is set.',
    schema: { type: 'integer', minimum: 0, examples: [99] },
  },
  Location: {
    description: 'Where what the request made (or the transaction it concerns) can be read, a path under /v1.',
    schema: { type: 'string', examples: ['/v1/transactions/txn_01JD3X7B2C4D6E8F0G2H4J6K8M'] },
  },
  'Retry-After': {
    description: 'Seconds to wait before polling, or before trying again.',
    schema: { type: 'string', pattern: '^[0-9]+$', examples: ['1'] },
  },
  'Idempotent-Replayed': {
    description: "`true` when this is an earlier request's answer given again (same Idempotency-Key or reference).",
    schema: { type: 'string', enum: ['true'] },
  },
  'Preference-Applied': {
    description: 'RFC 7240: `respond-async` when the request asked for it and was answered at once with 202.',
    schema: { type: 'string', enum: ['respond-async'] },
  },
} as const;

export type ResponseHeaderName = keyof typeof RESPONSE_HEADERS;

/** Marks a declared header as sent on every such response (document.ts turns it into the header's `required`). */
export const HEADER_REQUIRED = 'x-header-required';

/** A header of a response: optional (sent sometimes), required (always), or with its own description. */
type HeaderUse = 'optional' | 'required' | { required?: boolean; description: string };

/**
 * A response entry with the headers it can carry, from RESPONSE_HEADERS. @fastify/swagger turns the route
 * schema's `response.<status>.headers` (name → schema, its description beside) into the response's `headers`;
 * Fastify's serializers ignore the key.
 */
export function withHeaders<T extends object>(
  response: T,
  headers: Partial<Record<ResponseHeaderName, HeaderUse>>,
): T & { headers: Record<string, object> } {
  const own = (response as { headers?: Record<string, object> }).headers ?? {};
  const declared: Record<string, object> = { ...own };
  for (const [name, use] of Object.entries(headers) as [ResponseHeaderName, HeaderUse][]) {
    const def = RESPONSE_HEADERS[name];
    const description = typeof use === 'object' ? use.description : def.description;
    const required = use === 'required' || (typeof use === 'object' && use.required === true);
    declared[name] = { ...def.schema, description, ...(required ? { [HEADER_REQUIRED]: true } : {}) };
  }
  return { ...response, headers: declared };
}

/** Adds headers to every entry of a response map whose status passes `which`. */
export function withHeadersOn<T extends Record<string | number, object>>(
  responses: T,
  which: (status: number) => boolean,
  headers: Partial<Record<ResponseHeaderName, HeaderUse>>,
): T {
  return Object.fromEntries(
    Object.entries(responses).map(([status, r]) => [status, which(Number(status)) ? withHeaders(r, headers) : r]),
  ) as T;
}

/** Statuses a replayed (idempotent) answer can have: all but what is refused before the handler runs. */
const REPLAYABLE = (status: number) => ![401, 413, 415, 429].includes(status);

/**
 * The responses of an idempotent write (Idempotency-Key): any of them, success or error, can be an earlier
 * request's answer replayed (`Idempotent-Replayed: true`).
 */
export const idempotentResponses = <T extends Record<string | number, object>>(responses: T): T =>
  withHeadersOn(withHeadersOn(responses, REPLAYABLE, { 'Idempotent-Replayed': 'optional' }), IN_FLIGHT, RETRY_SOON);

/** A 409 idempotency_in_flight says when to try again. */
const IN_FLIGHT = (status: number) => status === 409;
const RETRY_SOON = {
  'Retry-After': {
    description: 'Seconds to wait before trying again: the first request is still running (idempotency_in_flight).',
  },
} as const;

const TRANSACTION_LOCATION = {
  description: 'The transaction: GET it for its status now (`/v1/transactions/{id}`).',
};

/** The error responses every authenticated route can give. */
export const commonErrors = {
  400: problem('The request is not valid (validation_failed, invalid_json, invalid_points_amount, ...).'),
  401: problem('Missing or unknown API key (unauthorized).'),
  403: problem('The key lacks the needed scope (forbidden), or the card is blocked (card_blocked).'),
  413: problem('The body is too large (payload_too_large).'),
  415: problem('The body is not JSON (unsupported_media_type).'),
  429: withHeaders(problem('Too many requests from this API key (rate_limited).'), { 'Retry-After': 'required' }),
  500: problem('Unexpected error (internal_error).'),
  503: withHeaders(problem('The ledger store is unreachable (service_unavailable).'), { 'Retry-After': 'optional' }),
};

/** What a call that reaches a provider can also answer. */
export const upstreamErrors = {
  502: problem(
    "The provider refused the connection's credentials or answered unreadably (provider_auth_failed, " +
      'provider_bad_response).',
  ),
  503: withHeaders(
    problem(
      'The provider is unavailable (provider_unavailable, with Retry-After), or Redis is down (service_unavailable). ' +
        "A provider's 429 is waited out in the connection's queue, never passed on.",
    ),
    { 'Retry-After': 'optional' },
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
      // No example: a tool that sent one example key with every request would have all but the first refused.
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
export const acceptedResponse = <T extends object>(schema: T) => ({
  202: withHeaders(
    {
      ...schema,
      description:
        'Accepted: the transaction is queued or still running at the provider (status queued or processing). Poll ' +
        'the Location (GET /v1/transactions/{id}) until it is succeeded, failed or needs_review. ' +
        '`Preference-Applied: respond-async` when asked for.',
    },
    {
      Location: { required: true, ...TRANSACTION_LOCATION },
      'Retry-After': { required: true, description: 'Seconds to wait before polling the Location.' },
      'Preference-Applied': 'optional',
      'Idempotent-Replayed': 'optional',
    },
  ),
});

/** A transaction's answer when it is done (201, or 200 for an admin's retry): its Location, maybe a replay. */
export const appliedResponse = <T extends object>(response: T) =>
  withHeaders(response, {
    Location: { required: true, ...TRANSACTION_LOCATION },
    'Idempotent-Replayed': 'optional',
  });

/**
 * The errors of a transaction request: a transaction kept failed or needs_review is named by `transaction_id` and
 * the Location header, and a retry replays the same error (Idempotent-Replayed).
 */
export const transactionErrors = <T extends Record<string | number, object>>(responses: T): T =>
  withHeadersOn(withHeadersOn(responses, IN_FLIGHT, RETRY_SOON), REPLAYABLE, {
    Location: {
      description:
        'The transaction kept failed or needs_review (the `transaction_id` of the body): `/v1/transactions/{id}`.',
    },
    'Idempotent-Replayed': 'optional',
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
  201: appliedResponse({
    ...TransactionSchema,
    description:
      'The transaction, applied. A replay (same Idempotency-Key, or same reference_id) answers the same, with ' +
      '`Idempotent-Replayed: true`.',
  }),
  ...acceptedResponse(TransactionSchema),
  ...transactionErrors({
    ...commonErrors,
    ...idempotencyErrors,
    404: problem(notFound),
    ...upstreamErrors,
  }),
});
