import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ConnectionId, ProgramId, pageQuery } from '../../domain/fields.js';
import { ProgramSchema } from '../../domain/programs.js';
import type { ProgramService } from '../../services/resources/program-service.js';
import { sendAnswer, writeRequest } from '../request-context.js';
import { CopyProgramBody, ProgramList } from '../schemas/programs.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  idempotencyErrors,
  idempotentResponses,
  problem,
  upstreamErrors,
  withHeaders,
} from '../schemas/responses.js';

const notFound = { 404: problem('No such program (program_not_found) or connection (unknown_connection).') };
const unsupported = {
  422: problem('The provider has no such operation (unsupported_operation), or refused it (provider_rejected).'),
};
/** Programs: Highlight card templates, Coupontools loyalty cards, Leal cards. */
export async function programRoutes(app: FastifyInstance, opts: { programs: ProgramService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { programs } = opts;

  r.get(
    '/',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listPrograms',
        tags: ['programs'],
        summary: "A connection's programs (card templates), with what each supports",
        querystring: Type.Object({ connection: ConnectionId, ...pageQuery(50) }, { additionalProperties: false }),
        response: {
          200: { ...ProgramList, description: 'One page of programs.' },
          ...commonErrors,
          ...notFound,
          ...unsupported,
          ...upstreamErrors,
        },
      },
    },
    async (req) => programs.list(req.query),
  );

  r.get(
    '/:program_id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getProgram',
        tags: ['programs'],
        summary: 'A program, with its rewards',
        params: Type.Object({ program_id: ProgramId }),
        response: {
          200: { ...ProgramSchema, description: 'The program.' },
          ...commonErrors,
          ...notFound,
          ...unsupported,
          ...upstreamErrors,
        },
      },
    },
    async (req) => programs.get(req.params.program_id),
  );

  r.post(
    '/:program_id/copy',
    {
      config: { scope: 'admin', optionalBody: true },
      schema: {
        operationId: 'copyProgram',
        tags: ['programs'],
        summary: 'Copy a program (admin; Coupontools)',
        params: Type.Object({ program_id: { ...ProgramId, examples: ['ct:1001'] } }),
        headers: IdempotencyKeyHeader,
        body: CopyProgramBody,
        response: idempotentResponses({
          201: withHeaders(
            { ...ProgramSchema, description: 'The copy.' },
            { Location: { required: true, description: 'The copy: `/v1/programs/{program_id}`.' } },
          ),
          ...commonErrors,
          ...idempotencyErrors,
          ...notFound,
          ...upstreamErrors,
        }),
      },
    },
    async (req, reply) =>
      sendAnswer(
        reply,
        await programs.copy(req.params.program_id, req.body?.name, writeRequest(req)),
        (p) => `/v1/programs/${p.id}`,
      ),
  );
}
