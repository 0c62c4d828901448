import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { GatewayError } from '../../domain/errors.js';
import { Nullable } from '../../domain/fields.js';
import { TimelineSchema } from '../../domain/timeline.js';
import { TransactionSchema, TransactionStatusSchema } from '../../domain/transactions.js';
import type { PointsService } from '../../services/points/points-service.js';
import type { TransactionReview } from '../../services/points/transaction-review.js';
import type { TransactionTimeline } from '../../services/points/transaction-timeline.js';
import { clientOf } from '../auth.js';
import { callContext, preferOf, sendOutcome } from '../request-context.js';
import { ReverseBody } from '../schemas/points.js';
import {
  acceptedResponse,
  appliedResponse,
  commonErrors,
  idempotencyErrors,
  problem,
  TransactionHeaders,
  transactionErrors,
  upstreamErrors,
  withHeaders,
  withHeadersOn,
} from '../schemas/responses.js';

const TxnParams = Type.Object({
  id: Type.String({ maxLength: 64, description: 'Transaction id.', examples: ['txn_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
});
const TXN_ID = /^txn_[0-9A-Z]{26}$/;
const RETRIED_LOCATION = 'The transaction: `/v1/transactions/{id}`.';

const ListQuery = Type.Object(
  {
    status: { ...TransactionStatusSchema, examples: ['needs_review'] },
    connection: Type.Optional(Type.String({ maxLength: 64, description: "Only this connection's transactions." })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 64, description: 'next_cursor of the previous page.' })),
  },
  { additionalProperties: false },
);

const TransactionList = Type.Object(
  { data: Type.Array(TransactionSchema), next_cursor: Nullable(Type.String()) },
  { title: 'TransactionList', additionalProperties: false },
);

const AdminNote = Type.Optional(
  Type.String({ maxLength: 500, description: "Why: kept in the transaction's audit entry." }),
);
const RetryBody = Type.Object({ note: AdminNote }, { additionalProperties: false });
const ResolveBody = Type.Object(
  {
    outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')], {
      description:
        'What the admin found at the provider: succeeded (it was applied) or failed (it was not; its ' +
        'Idempotency-Key and reference_id are released).',
    }),
    note: AdminNote,
    provider_reference: Type.Optional(
      Type.String({ maxLength: 200, description: "The provider's id of the operation, if found." }),
    ),
    balance_after: Type.Optional(Type.Integer({ description: "The card's balance after it, if known." })),
  },
  { additionalProperties: false },
);

/** One transaction, its reversal; the review queue with an admin's retry and resolution. */
export async function transactionRoutes(
  app: FastifyInstance,
  opts: { points: PointsService; review: TransactionReview; timeline: TransactionTimeline },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { points, review, timeline } = opts;

  r.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'listTransactions',
        tags: ['transactions'],
        summary: 'Transactions at external providers in one status (admin)',
        description:
          'The review queue: `status=needs_review` lists what may or may not have been applied and waits for an ' +
          'admin to retry or resolve it; `failed`, `queued` and `processing` show the rest of the dispatch. ' +
          'Oldest first. Transactions on the built-in ledger are applied in the request and are not listed ' +
          "here (see a card's history).",
        querystring: ListQuery,
        response: { 200: { ...TransactionList, description: 'One page.' }, ...commonErrors },
      },
    },
    async (req) => {
      const q = req.query;
      if (q.cursor !== undefined && !TXN_ID.test(q.cursor)) {
        throw new GatewayError('invalid_cursor', 'cursor is not a next_cursor this endpoint gave.', {
          errors: [{ field: '/cursor', message: 'must be a next_cursor from a previous page' }],
        });
      }
      const page = await review.list({
        status: q.status,
        connection: q.connection,
        limit: q.limit ?? 50,
        after: q.cursor,
      });
      return { data: page.data, next_cursor: page.next };
    },
  );

  r.get(
    '/:id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getTransaction',
        tags: ['transactions'],
        summary: 'One transaction, with its status',
        description: 'Poll this after a 202: status goes queued → processing → succeeded | failed | needs_review.',
        params: TxnParams,
        response: {
          200: { ...TransactionSchema, description: 'The transaction as it stands now.' },
          ...commonErrors,
          404: problem('No such transaction (transaction_not_found).'),
        },
      },
    },
    async (req) => points.getTransaction(req.params.id),
  );

  r.get(
    '/:id/timeline',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getTransactionTimeline',
        tags: ['transactions'],
        summary: "A transaction's timeline: claim, attempts, provider answers, admin actions, events (admin)",
        description:
          'Oldest first. The steps of a transaction at an external provider are recorded as it moves (the last 50): ' +
          "each send, the provider's answer (its reference and the balance after, or the error), an admin's retry " +
          'or resolution. Events about it are found by reading the event log from its creation on (at most 2,000 ' +
          'events: `events_truncated` says when the scan stopped early), each with its webhook deliveries.',
        params: TxnParams,
        response: {
          200: { ...TimelineSchema, description: 'The transaction and its timeline.' },
          ...commonErrors,
          404: problem('No such transaction (transaction_not_found).'),
        },
      },
    },
    async (req) => timeline.of(req.params.id),
  );

  r.post(
    '/:id/reverse',
    {
      config: { scope: 'write', optionalBody: true },
      schema: {
        operationId: 'reverseTransaction',
        tags: ['transactions'],
        summary: 'Reverse a transaction (order cancelled or refunded)',
        description:
          "Writes a compensating adjustment (`reversal_of` names the original): an award's points are taken back " +
          "(from its own bucket first), a redeem's are given back with the expiry they had. Without `points`, " +
          'all that is left is reversed, once however often it is retried; a partial reversal is keyed by its ' +
          'reference_id or Idempotency-Key.',
        params: TxnParams,
        headers: TransactionHeaders,
        body: ReverseBody,
        response: {
          201: appliedResponse({ ...TransactionSchema, description: 'The reversal.' }),
          ...acceptedResponse(TransactionSchema),
          ...transactionErrors({
            ...commonErrors,
            ...idempotencyErrors,
            404: problem('No such transaction (transaction_not_found).'),
            409: problem(
              'Already fully reversed (already_reversed), or the same Idempotency-Key is running ' +
                '(idempotency_in_flight).',
            ),
            ...upstreamErrors,
          }),
        },
      },
    },
    async (req, reply) => sendOutcome(reply, await points.reverse(req.params.id, req.body ?? {}, callContext(req))),
  );

  r.post(
    '/:id/retry',
    {
      config: { scope: 'admin', optionalBody: true },
      schema: {
        operationId: 'retryTransaction',
        tags: ['transactions'],
        summary: 'Send a failed or needs_review transaction again (admin)',
        description:
          'Queues the same transaction (same id) again. For needs_review, only after checking at the provider that ' +
          'it was not applied: the gateway cannot tell, which is why it stopped. An audit entry records who ' +
          'retried it. Waits for the outcome like a write (Prefer: respond-async for 202 at once).',
        params: TxnParams,
        headers: TransactionHeaders,
        body: RetryBody,
        response: {
          200: withHeaders(
            {
              ...TransactionSchema,
              description: 'The transaction after this try (succeeded, failed or needs_review again).',
            },
            { Location: { required: true, description: RETRIED_LOCATION } },
          ),
          ...acceptedResponse(TransactionSchema),
          ...withHeadersOn(
            {
              ...commonErrors,
              404: problem('No such transaction (transaction_not_found).'),
              409: problem(
                'Not failed or needs_review, on the built-in ledger, or its reference_id was used since ' +
                  '(transaction_not_retryable).',
              ),
            },
            (status) => ![401, 413, 415, 429].includes(status),
            { Location: { description: RETRIED_LOCATION } },
          ),
        },
      },
    },
    async (req, reply) => {
      const prefer = preferOf(req.headers.prefer);
      const out = await review.retry(req.params.id, clientOf(req).id, req.body?.note ?? null, prefer);
      return sendOutcome(reply, { ...out, replayed: false, asyncPreferred: prefer.respondAsync }, 200);
    },
  );

  r.post(
    '/:id/resolve',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'resolveTransaction',
        tags: ['transactions'],
        summary: 'Settle a needs_review transaction by hand (admin)',
        description:
          'After checking at the provider: `succeeded` if it was applied, `failed` if not. An audit entry records ' +
          'who resolved it and why.',
        params: TxnParams,
        body: ResolveBody,
        response: {
          200: { ...TransactionSchema, description: 'The transaction, resolved.' },
          ...commonErrors,
          404: problem('No such transaction (transaction_not_found).'),
          409: problem('Not needs_review, or on the built-in ledger (transaction_not_retryable).'),
        },
      },
    },
    async (req) => review.resolve(req.params.id, clientOf(req).id, req.body),
  );
}
