import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { GatewayError } from '../../domain/errors.js';
import type { BulkService } from '../../services/bulk/bulk-service.js';
import { clientOf } from '../auth.js';
import { bulkJobView } from '../bulk-items.js';
import { BulkJobSchema } from '../schemas/points.js';
import { commonErrors, problem } from '../schemas/responses.js';

/** A bulk job's progress (POST /v1/points/bulk starts one). */
export async function bulkRoutes(app: FastifyInstance, opts: { bulk: BulkService }) {
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
      const progress = await opts.bulk.progress(req.params.id, client.scopes.has('admin') ? null : client.id);
      if (!progress) throw new GatewayError('bulk_not_found', `No bulk ${req.params.id}.`);
      return bulkJobView(progress);
    },
  );
}
