import { statusOf } from '../problem.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { parseIdempotencyKey } from '../../idempotency/key.js';
import type { CallContext, Outcome, PointsService } from '../../services/points/points-service.js';
import { clientOf } from '../auth.js';
import { GatewayError } from '../../domain/errors.js';
import { toGatewayError } from '../problem.js';
import { checkBulkItem, type BulkJobs } from '../../services/bulk/bulk-jobs.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import { submitBulk } from './bulk.js';
import { BulkJobSchema } from '../schemas/points.js';
import {
  acceptedResponse,
  commonErrors,
  idempotencyErrors,
  IdempotencyKeyHeader,
  problem,
  TransactionHeaders,
  upstreamErrors,
} from '../schemas/responses.js';
import { CardId } from '../../domain/fields.js';
import {
  AdjustBody,
  AwardBody,
  BulkBody,
  BulkResponse,
  ExpireBody,
  HistoryQuery,
  HistorySchema,
  RedeemBody,
} from '../schemas/points.js';
import { BalanceSchema, TransactionSchema } from '../../domain/transactions.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

/** RFC 7240 Prefer: `respond-async`, and `wait=<seconds>`. Unknown preferences are ignored, as the RFC says. */
export function preferOf(header: string | string[] | undefined): { respondAsync: boolean; waitMs?: number } {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  let respondAsync = false;
  let waitMs: number | undefined;
  for (const part of text.split(/[,;]/)) {
    const [name, value] = part
      .trim()
      .toLowerCase()
      .split('=')
      .map((x) => x.trim().replace(/^"|"$/g, ''));
    if (name === 'respond-async') respondAsync = true;
    else if (name === 'wait' && value !== undefined && /^[0-9]{1,6}$/.test(value)) waitMs = Number(value) * 1000;
  }
  return { respondAsync, waitMs };
}

export function callContext(req: FastifyRequest): CallContext {
  return {
    clientId: clientOf(req).id,
    idempotencyKey: parseIdempotencyKey(req.headers['idempotency-key']),
    method: req.method,
    path: req.url.split('?')[0] ?? req.url,
    body: req.body,
    ...preferOf(req.headers.prefer),
  };
}

export function sendOutcome(reply: FastifyReply, outcome: Outcome) {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  reply.header('location', `/v1/transactions/${outcome.body.id}`);
  if (outcome.status === 202) {
    reply.header('retry-after', '1');
    if (outcome.asyncPreferred) reply.header('preference-applied', 'respond-async');
  }
  return reply.code(outcome.status).send(outcome.body);
}

const CardParams = Type.Object({ card_id: CardId });

const transactionResponses = {
  201: {
    ...TransactionSchema,
    description:
      'The transaction, applied. A replay (same Idempotency-Key, or same reference_id) answers the same, with `Idempotent-Replayed: true`.',
  },
  ...acceptedResponse(TransactionSchema),
  ...commonErrors,
  ...idempotencyErrors,
  404: problem('No such card (card_not_found) or connection (unknown_connection).'),
  ...upstreamErrors,
};

export async function pointsRoutes(
  app: FastifyInstance,
  opts: { points: PointsService; bulk: BulkJobs; ledger: TransactionStore },
) {
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
          'A signed correction: positive adds a bucket, negative takes points earliest expiry first. Works on blocked cards.',
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
          'Writes an `expire` entry taking the unspent rest of the matching awards. Points also expire by themselves on the schedule (EXPIRY_SWEEP_INTERVAL_SECONDS) and before any read or write of the card.',
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
          'Each item is validated and applied on its own, in order: a bad item gets its own error and never sinks the others. With an Idempotency-Key, item i is idempotent under "<key>#i", so retrying a bulk request replays what was applied and applies the rest. Adjust items need the admin scope.\n\n' +
          'When every item is on the built-in ledger, the answer is 200 with every result. When any item is on an external provider, the bulk runs as a job: 202 with the bulk (Location /v1/bulk/{id}); its items are queued behind reads and single writes, and GET /v1/bulk/{id} shows progress and each result.',
        headers: IdempotencyKeyHeader,
        body: BulkBody,
        response: {
          200: { ...BulkResponse, description: 'A result per item, in order (built-in ledger items only).' },
          202: { ...BulkJobSchema, description: 'The bulk job, accepted: poll its Location.' },
          ...commonErrors,
          404: problem('Unused'),
          ...idempotencyErrors,
        },
      },
    },
    async (req, reply) => {
      const ctx = callContext(req);
      const client = clientOf(req);
      const items = req.body.transactions as unknown[];
      if (items.some((item) => points.isExternalCard((item as { card_id?: unknown } | null)?.card_id))) {
        const view = await submitBulk(
          opts.ledger,
          bulk,
          req.body,
          {
            clientId: ctx.clientId,
            idempotencyKey: ctx.idempotencyKey,
            method: ctx.method,
            path: ctx.path,
            admin: client.scopes.has('admin'),
          },
          items,
        );
        reply.header('location', `/v1/bulk/${view.id}`).header('retry-after', '1');
        return reply.code(202).send(view);
      }
      const results = [];
      let succeeded = 0;
      for (const [index, item] of items.entries()) {
        try {
          const input = checkBulkItem(item, index, client.scopes.has('admin'));
          const outcome = await points.transact(input, { ...ctx, body: item, path: `${ctx.path}#item` }, `#${index}`);
          succeeded++;
          results.push({ index, status: outcome.status, replayed: outcome.replayed, transaction: outcome.body });
        } catch (err) {
          const e = toGatewayError(err as Error);
          if (statusOf(e.code) >= 500) req.log.error({ reqId: req.id, err, index }, 'bulk item failed');
          results.push({
            index,
            status: statusOf(e.code),
            replayed: false,
            error: { code: e.code, detail: e.message, ...(e.extra.errors ? { errors: e.extra.errors } : {}) },
          });
        }
      }
      return reply.code(200).send({ succeeded, failed: items.length - succeeded, results });
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
    async (req) => {
      const { provider } = await points.requireOperation(req.params.card_id, 'balance');
      const balance = await provider.balance(req.params.card_id);
      if (!balance) throw new GatewayError('card_not_found', `No card ${req.params.card_id}.`);
      return balance;
    },
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
      const { provider } = await points.requireOperation(card_id, 'history');
      const page = await provider.history(card_id, {
        type: filters.type,
        fromMs: q.from !== undefined ? Date.parse(q.from) : undefined,
        toMs: q.to !== undefined ? Date.parse(q.to) : undefined,
        referenceId: q.reference_id,
        staff: q.staff,
        limit: q.limit ?? 20,
        after,
      });
      if (!page) throw new GatewayError('card_not_found', `No card ${card_id}.`);
      const data =
        page.entries ?? (await points.transactions(page.ids)).map((t) => ({ ...t, recorded_by: 'gateway' as const }));
      return { card_id, data, next_cursor: page.next ? encodeCursor(page.next, card_id, filters) : null };
    },
  );
}
