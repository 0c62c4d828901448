import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { PointsService } from '../../transactions/points-service.js';
import { upstreamErrors, commonErrors, idempotencyErrors, IdempotencyKeyHeader, problem } from '../schemas/common.js';
import { ReverseBody, TransactionSchema } from '../schemas/transactions.js';
import { callContext, sendOutcome } from './points.js';

const TxnParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'Transaction id.', examples: ['txn_01JD3X7B2C4D6E8F0G2H4J6K8M'] }) });

export async function transactionRoutes(app: FastifyInstance, opts: { points: PointsService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { points } = opts;

  r.get('/:id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getTransaction', tags: ['transactions'], summary: 'One transaction, with its status',
      params: TxnParams,
      response: { 200: { ...TransactionSchema, description: 'The transaction as it stands now.' }, ...commonErrors, 404: problem('No such transaction (transaction_not_found).') },
    },
  }, async (req) => points.getTransaction(req.params.id));

  r.post('/:id/reverse', {
    config: { scope: 'write', optionalBody: true },
    schema: {
      operationId: 'reverseTransaction', tags: ['transactions'], summary: 'Reverse a transaction (order cancelled or refunded)',
      description:
        'Writes a compensating adjustment (`reversal_of` names the original): an award\'s points are taken back (from its own bucket first), a redeem\'s are given back with the expiry they had. Without `points`, all that is left is reversed, once however often it is retried; a partial reversal is keyed by its reference_id or Idempotency-Key.',
      params: TxnParams, headers: IdempotencyKeyHeader, body: ReverseBody,
      response: {
        201: { ...TransactionSchema, description: 'The reversal.' },
        ...commonErrors,
        ...idempotencyErrors,
        404: problem('No such transaction (transaction_not_found).'),
        409: problem('Already fully reversed (already_reversed), or the same Idempotency-Key is running (idempotency_in_flight).'),
        ...upstreamErrors,
      },
    },
  }, async (req, reply) => sendOutcome(reply, await points.reverse(req.params.id, req.body ?? {}, callContext(req))));
}
