import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { CardId } from '../../domain/fields.js';
import { BalanceSchema } from '../../domain/transactions.js';
import type { BulkService } from '../../services/bulk/bulk-service.js';
import type { PointsService } from '../../services/points/points-service.js';
import { clientOf } from '../auth.js';
import { bulkJobView, bulkResultView, checkBulkItems } from '../bulk-items.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { callContext, sendOutcome, writeRequest } from '../request-context.js';
import {
  AdjustBody,
  AwardBody,
  BulkBody,
  BulkJobSchema,
  BulkResponse,
  ExpireBody,
  HistoryQuery,
  HistorySchema,
  RedeemBody,
} from '../schemas/points.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  idempotencyErrors,
  idempotentResponses,
  problem,
  TransactionHeaders,
  transactionResponses as transactionResponsesOf,
  upstreamErrors,
  withHeaders,
} from '../schemas/responses.js';

const CardParams = Type.Object({ card_id: CardId });

const transactionResponses = transactionResponsesOf(
  'No such card (card_not_found) or connection (unknown_connection).',
);

/** Award, redeem, adjust, expire and bulk; balance and history. */
export async function pointsRoutes(app: FastifyInstance, opts: { points: PointsService; bulk: BulkService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { points, bulk } = opts;

  r.post(
    '/award',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'awardPoints',
        tags: ['points'],
        summary: 'Award points to a card',
        description: "Adds points, as one bucket with its own expiry (expires_at, or the connection's default policy).",
        headers: TransactionHeaders,
        body: AwardBody,
        response: transactionResponses,
      },
    },
    async (req, reply) => sendOutcome(reply, await points.transact({ type: 'award', ...req.body }, callContext(req))),
  );

  r.post(
    '/redeem',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'redeemPoints',
        tags: ['points'],
        summary: 'Redeem points from a card',
        description:
          'Takes points, earliest expiry first. More than available: 400 insufficient_points, and nothing is written.',
        headers: TransactionHeaders,
        body: RedeemBody,
        response: transactionResponses,
      },
    },
    async (req, reply) => sendOutcome(reply, await points.transact({ type: 'redeem', ...req.body }, callContext(req))),
  );

  r.post(
    '/adjust',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'adjustPoints',
        tags: ['points'],
        summary: 'Correct a balance (admin)',
        description:
          'A signed correction: positive adds a bucket, negative takes points earliest expiry first. Works on ' +
          'blocked cards.',
        headers: TransactionHeaders,
        body: AdjustBody,
        response: transactionResponses,
      },
    },
    async (req, reply) => sendOutcome(reply, await points.transact({ type: 'adjust', ...req.body }, callContext(req))),
  );

  r.post(
    '/expire',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'expirePoints',
        tags: ['points'],
        summary: 'Expire points now (admin)',
        description:
          'Writes an `expire` entry taking the unspent rest of the matching awards. Points also expire by ' +
          'themselves on the schedule (EXPIRY_SWEEP_INTERVAL_SECONDS) and before any read or write of the card.',
        headers: TransactionHeaders,
        body: ExpireBody,
        response: transactionResponses,
      },
    },
    async (req, reply) => sendOutcome(reply, await points.transact({ type: 'expire', ...req.body }, callContext(req))),
  );

  r.post(
    '/bulk',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'bulkTransactions',
        tags: ['points'],
        summary: 'Apply up to 1,000 award, redeem and adjust items',
        description:
          'Each item is validated and applied on its own, in order: a bad item gets its own error and never sinks ' +
          'the others. With an Idempotency-Key, item i is idempotent under "<key>#i", so retrying a bulk ' +
          'request replays what was applied and applies the rest. Adjust items need the admin scope.\n\n' +
          'When every item is on the built-in ledger, the answer is 200 with every result. When any item is on an ' +
          'external provider, the bulk runs as a job: 202 with the bulk (Location /v1/bulk/{id}); its items ' +
          'are queued behind reads and single writes, and GET /v1/bulk/{id} shows progress and each result.',
        headers: IdempotencyKeyHeader,
        body: BulkBody,
        response: idempotentResponses({
          200: { ...BulkResponse, description: 'A result per item, in order (built-in ledger items only).' },
          202: withHeaders(
            { ...BulkJobSchema, description: 'The bulk job, accepted: poll its Location.' },
            {
              Location: { required: true, description: 'The bulk job: `/v1/bulk/{id}`.' },
              'Retry-After': { required: true, description: 'Seconds to wait before polling the Location.' },
            },
          ),
          ...commonErrors,
          404: problem('Unused'),
          ...idempotencyErrors,
        }),
      },
    },
    async (req, reply) => {
      const raw = req.body.transactions as unknown[];
      const items = checkBulkItems(raw, clientOf(req).scopes.has('admin'));
      const request = writeRequest(req);
      if (raw.some((item) => points.isDispatched((item as { card_id?: unknown } | null)?.card_id))) {
        const { progress, replayed } = await bulk.submit(items, request);
        const view = bulkJobView(progress);
        reply.header('location', `/v1/bulk/${view.id}`).header('retry-after', '1');
        if (replayed) reply.header('idempotent-replayed', 'true');
        return reply.code(202).send(view);
      }
      const { succeeded, failed, results } = await bulk.runNow(items, request);
      return reply.code(200).send({ succeeded, failed, results: results.map(bulkResultView) });
    },
  );

  r.get(
    '/balance/:card_id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getBalance',
        tags: ['points'],
        summary: "A card's balance",
        params: CardParams,
        response: {
          200: { ...BalanceSchema, description: 'The balance, after expiring whatever was due.' },
          ...commonErrors,
          ...upstreamErrors,
          404: problem('No such card (card_not_found) or connection (unknown_connection).'),
          422: problem('The card has no balance to show (unsupported_operation).'),
        },
      },
    },
    async (req) => points.balance(req.params.card_id),
  );

  r.get(
    '/history/:card_id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getHistory',
        tags: ['points'],
        summary: "A card's transactions, newest first",
        description: 'Keyset pagination: pass `next_cursor` back as `cursor` with the same filters.',
        params: CardParams,
        querystring: HistoryQuery,
        response: {
          200: { ...HistorySchema, description: 'One page of entries.' },
          ...commonErrors,
          ...upstreamErrors,
          404: problem('No such card (card_not_found) or connection (unknown_connection).'),
          422: problem('The card has no history (unsupported_operation).'),
        },
      },
    },
    async (req) => {
      const { card_id } = req.params;
      const q = req.query;
      const filters = { type: q.type ?? 'all', from: q.from, to: q.to, reference_id: q.reference_id, staff: q.staff };
      const after = q.cursor !== undefined ? decodeCursor(q.cursor, card_id, filters) : undefined;
      const page = await points.history(card_id, {
        type: filters.type,
        fromMs: q.from !== undefined ? Date.parse(q.from) : undefined,
        toMs: q.to !== undefined ? Date.parse(q.to) : undefined,
        referenceId: q.reference_id,
        staff: q.staff,
        limit: q.limit ?? 20,
        after,
      });
      return { card_id, data: page.data, next_cursor: page.next ? encodeCursor(page.next, card_id, filters) : null };
    },
  );
}
