import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { strictAjv, fieldErrors } from '../../lib/schema-check.js';
import { parseIdempotencyKey } from '../../ledger/idempotency.js';
import type { CallContext, Outcome, PointsService, TransactionInput } from '../../transactions/points-service.js';
import { clientOf } from '../auth.js';
import { ApiError, toApiError, validationError } from '../errors.js';
import { CardId, commonErrors, idempotencyErrors, IdempotencyKeyHeader, problem, upstreamErrors } from '../schemas/common.js';
import {
  AdjustBody, AwardBody, BalanceSchema, BulkAdjust, BulkAward, BulkBody, BulkRedeem, BulkResponse, ExpireBody,
  HistoryQuery, HistorySchema, RedeemBody, TransactionSchema,
} from '../schemas/transactions.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

export function callContext(req: FastifyRequest): CallContext {
  return {
    clientId: clientOf(req).id,
    idempotencyKey: parseIdempotencyKey(req.headers['idempotency-key']),
    method: req.method,
    path: req.url.split('?')[0] ?? req.url,
    body: req.body,
  };
}

export function sendOutcome(reply: FastifyReply, outcome: Outcome) {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  reply.header('location', `/v1/transactions/${outcome.body.id}`);
  return reply.code(outcome.status).send(outcome.body);
}

const CardParams = Type.Object({ card_id: CardId });

const transactionResponses = {
  201: { ...TransactionSchema, description: 'The transaction, applied. A replay (same Idempotency-Key, or same reference_id) answers the same, with `Idempotent-Replayed: true`.' },
  ...commonErrors,
  ...idempotencyErrors,
  404: problem('No such card (card_not_found) or connection (unknown_connection).'),
  ...upstreamErrors,
};

export async function pointsRoutes(app: FastifyInstance, opts: { points: PointsService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { points } = opts;

  r.post('/award', {
    config: { scope: 'write' },
    schema: {
      operationId: 'awardPoints', tags: ['points'], summary: 'Award points to a card',
      description: 'Adds points, as one bucket with its own expiry (expires_at, or the connection\'s default policy).',
      headers: IdempotencyKeyHeader, body: AwardBody, response: transactionResponses,
    },
  }, async (req, reply) => sendOutcome(reply, await points.transact({ type: 'award', ...req.body }, callContext(req))));

  r.post('/redeem', {
    config: { scope: 'write' },
    schema: {
      operationId: 'redeemPoints', tags: ['points'], summary: 'Redeem points from a card',
      description: 'Takes points, earliest expiry first. More than available: 400 insufficient_points, and nothing is written.',
      headers: IdempotencyKeyHeader, body: RedeemBody, response: transactionResponses,
    },
  }, async (req, reply) => sendOutcome(reply, await points.transact({ type: 'redeem', ...req.body }, callContext(req))));

  r.post('/adjust', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'adjustPoints', tags: ['points'], summary: 'Correct a balance (admin)',
      description: 'A signed correction: positive adds a bucket, negative takes points earliest expiry first. Works on blocked cards.',
      headers: IdempotencyKeyHeader, body: AdjustBody, response: transactionResponses,
    },
  }, async (req, reply) => sendOutcome(reply, await points.transact({ type: 'adjust', ...req.body }, callContext(req))));

  r.post('/expire', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'expirePoints', tags: ['points'], summary: 'Expire points now (admin)',
      description: 'Writes an `expire` entry taking the unspent rest of the matching awards. Points also expire by themselves on the schedule (EXPIRY_SWEEP_INTERVAL_SECONDS) and before any read or write of the card.',
      headers: IdempotencyKeyHeader, body: ExpireBody, response: transactionResponses,
    },
  }, async (req, reply) => sendOutcome(reply, await points.transact({ type: 'expire', ...req.body }, callContext(req))));

  const itemValidators = { award: strictAjv().compile(BulkAward), redeem: strictAjv().compile(BulkRedeem), adjust: strictAjv().compile(BulkAdjust) };

  r.post('/bulk', {
    config: { scope: 'write' },
    schema: {
      operationId: 'bulkTransactions', tags: ['points'], summary: 'Apply up to 1,000 award, redeem and adjust items',
      description:
        'Each item is validated and applied on its own, in order: a bad item gets its own error and never sinks the others. With an Idempotency-Key, item i is idempotent under "<key>#i", so retrying a bulk request replays what was applied and applies the rest. Adjust items need the admin scope.',
      headers: IdempotencyKeyHeader, body: BulkBody,
      response: { 200: { ...BulkResponse, description: 'A result per item, in order.' }, ...commonErrors, 404: problem('Unused'), ...idempotencyErrors },
    },
  }, async (req, reply) => {
    const ctx = callContext(req);
    const client = clientOf(req);
    const items = req.body.transactions as unknown[];
    const results = [];
    let succeeded = 0;
    for (const [index, item] of items.entries()) {
      try {
        const type = (item as { type?: unknown } | null)?.type;
        const validate = typeof type === 'string' ? itemValidators[type as keyof typeof itemValidators] : undefined;
        if (!validate) {
          throw new ApiError('validation_failed', `Item ${index}: type must be one of award, redeem, adjust.`, {
            errors: [{ field: `/transactions/${index}/type`, message: 'must be one of: award, redeem, adjust' }],
          });
        }
        if (!validate(item)) throw validationError(fieldErrors(validate.errors, `/transactions/${index}`), 'body');
        if (type === 'adjust' && !client.scopes.has('admin')) throw new ApiError('forbidden', 'Adjust items need the "admin" scope.');
        const outcome = await points.transact(item as TransactionInput, { ...ctx, body: item, path: `${ctx.path}#item` }, `#${index}`);
        succeeded++;
        results.push({ index, status: outcome.status, replayed: outcome.replayed, transaction: outcome.body });
      } catch (err) {
        const e = toApiError(err as Error);
        if (e.status >= 500) req.log.error({ reqId: req.id, err, index }, 'bulk item failed');
        results.push({ index, status: e.status, replayed: false, error: { code: e.code, detail: e.message, ...(e.extra.errors ? { errors: e.extra.errors } : {}) } });
      }
    }
    return reply.code(200).send({ succeeded, failed: items.length - succeeded, results });
  });

  r.get('/balance/:card_id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getBalance', tags: ['points'], summary: 'A card\'s balance',
      params: CardParams,
      response: {
        200: { ...BalanceSchema, description: 'The balance, after expiring whatever was due.' }, ...commonErrors, ...upstreamErrors,
        404: problem('No such card (card_not_found) or connection (unknown_connection).'), 422: problem('The card has no balance to show (unsupported_operation).'),
      },
    },
  }, async (req) => {
    const { provider } = await points.requireOperation(req.params.card_id, 'balance');
    const balance = await provider.balance(req.params.card_id);
    if (!balance) throw new ApiError('card_not_found', `No card ${req.params.card_id}.`);
    return balance;
  });

  r.get('/history/:card_id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getHistory', tags: ['points'], summary: 'A card\'s transactions, newest first',
      description: 'Keyset pagination: pass `next_cursor` back as `cursor` with the same filters.',
      params: CardParams, querystring: HistoryQuery,
      response: {
        200: { ...HistorySchema, description: 'One page of entries.' }, ...commonErrors, ...upstreamErrors,
        404: problem('No such card (card_not_found) or connection (unknown_connection).'), 422: problem('The card has no history (unsupported_operation).'),
      },
    },
  }, async (req) => {
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
    if (!page) throw new ApiError('card_not_found', `No card ${card_id}.`);
    const data = page.entries ?? (await points.transactions(page.ids)).map((t) => ({ ...t, recorded_by: 'gateway' as const }));
    return { card_id, data, next_cursor: page.next ? encodeCursor(page.next, card_id, filters) : null };
  });
}
