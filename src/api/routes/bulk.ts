import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { fingerprint } from '../../idempotency/key.js';
import { ulid } from '../../lib/ids.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { BulkJobData, BulkJobs } from '../../services/bulk/bulk-jobs.js';
import { clientOf } from '../auth.js';
import { GatewayError } from '../../domain/errors.js';
import { commonErrors, problem } from '../schemas/responses.js';
import { BulkJobSchema, type BulkView } from '../schemas/points.js';

/**
 * Starts a bulk job; with an Idempotency-Key, the same key (and body) names the same bulk: a
 * retry answers its progress instead of starting another.
 */
export async function submitBulk(
  ledger: TransactionStore,
  bulk: BulkJobs,
  body: unknown,
  ctx: BulkJobData['ctx'],
  items: unknown[],
): Promise<BulkView> {
  if (ctx.idempotencyKey === undefined) return bulk.submit(items, ctx);
  const idem = {
    key: ledger.idempotencyKey(ctx.clientId, ctx.idempotencyKey),
    fingerprint: fingerprint(ctx.method, ctx.path, body),
  };
  const claim = await ledger.claimRequest(idem, `blk_${ulid()}`);
  if (claim.kind === 'mismatch') {
    throw new GatewayError(
      'idempotency_key_reused',
      'This Idempotency-Key was already used with a different request; use a new key for a new request.',
    );
  }
  if (claim.kind === 'claimed' || claim.kind === 'takeover') {
    // A takeover re-submits under the same id: the job id is the bulk id, so it is not queued twice.
    const view = await bulk.submit(items, ctx, claim.resource);
    await ledger.complete(idem.key, claim.resource, 202, { id: claim.resource });
    return view;
  }
  if (claim.kind !== 'replay') {
    throw new GatewayError(
      'idempotency_in_flight',
      'A bulk request with this Idempotency-Key is still being accepted; retry in a moment to get it.',
      { retryAfter: '1' },
    );
  }
  const id = (JSON.parse(claim.body) as { id: string }).id;
  const view = await bulk.view(id, ctx.clientId);
  if (!view) throw new GatewayError('bulk_not_found', `Bulk ${id} is no longer kept.`);
  return view;
}

export async function bulkRoutes(app: FastifyInstance, opts: { bulk: BulkJobs }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/:id',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'getBulk',
        tags: ['points'],
        summary: "A bulk job: progress and each item's result",
        description: 'For the client that started it (an admin key sees every bulk). Kept 7 days.',
        params: Type.Object({ id: Type.String({ maxLength: 64, examples: ['blk_01JD3X7B2C4D6E8F0G2H4J6K8M'] }) }),
        response: {
          200: { ...BulkJobSchema, description: 'The bulk as it stands now.' },
          ...commonErrors,
          404: problem('No such bulk (bulk_not_found).'),
        },
      },
    },
    async (req) => {
      const client = clientOf(req);
      const view = await opts.bulk.view(req.params.id, client.scopes.has('admin') ? null : client.id);
      if (!view) throw new GatewayError('bulk_not_found', `No bulk ${req.params.id}.`);
      return view;
    },
  );
}
