import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import Type from 'typebox';
import type { ProviderRegistry } from '../../providers/registry.js';
import { ApiError, ERROR_CODES, sendProblem, type ErrorCode } from '../errors.js';
import { ConnectionList } from '../schemas/cards.js';
import { commonErrors, problem } from '../schemas/common.js';

const Health = Type.Object({ status: Type.String({ examples: ['ok'] }) }, { additionalProperties: false });

/** Health, readiness, connections and the problem-type descriptions. */
export async function systemRoutes(app: FastifyInstance, opts: { redis: Redis; providers: ProviderRegistry }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/healthz',
    {
      schema: {
        operationId: 'health',
        tags: ['system'],
        summary: 'The process is up',
        response: { 200: { ...Health, description: 'Up.' } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  r.get(
    '/readyz',
    {
      schema: {
        operationId: 'ready',
        tags: ['system'],
        summary: 'Redis answers: ready to serve',
        response: {
          200: { ...Health, description: 'Ready.' },
          503: problem('Redis does not answer (service_unavailable).'),
        },
      },
    },
    async (_req, reply) => {
      try {
        await Promise.race([
          opts.redis.ping(),
          new Promise((_, no) => setTimeout(() => no(new Error('timeout')), 1000)),
        ]);
        return { status: 'ready' };
      } catch {
        return sendProblem(reply, new ApiError('service_unavailable', 'Redis does not answer.'));
      }
    },
  );

  r.get(
    '/v1/connections',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listConnections',
        tags: ['connections'],
        summary: 'Configured provider connections and what each supports',
        description: 'Secrets (API keys, tokens) are never shown.',
        response: { 200: { ...ConnectionList, description: 'The connections.' }, ...commonErrors },
      },
    },
    async () => ({ data: opts.providers.describe() }),
  );

  r.get(
    '/problems/:code',
    {
      schema: {
        operationId: 'getProblemType',
        tags: ['system'],
        summary: 'What an error code means',
        params: Type.Object({ code: Type.String({ maxLength: 64 }) }),
        response: {
          200: {
            ...Type.Object({ code: Type.String(), status: Type.Integer(), title: Type.String() }),
            description: 'The problem type.',
          },
          404: problem('No such code (not_found).'),
        },
      },
    },
    async (req, reply) => {
      const entry = ERROR_CODES[req.params.code as ErrorCode];
      if (!Object.hasOwn(ERROR_CODES, req.params.code) || !entry) {
        return sendProblem(reply, new ApiError('not_found', `No error code ${req.params.code}.`));
      }
      return { code: req.params.code, status: entry.status, title: entry.title };
    },
  );
}
