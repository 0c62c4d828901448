import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import Type from 'typebox';
import { ERROR_CODES, GatewayError, isErrorCode } from '../../domain/errors.js';
import type { ConnectionRegistry } from '../../services/connections/registry.js';
import { sendProblem, statusOf } from '../problem.js';
import { ConnectionList } from '../schemas/cards.js';
import { commonErrors, problem } from '../schemas/responses.js';

/** How long /readyz waits for Redis's PONG. */
const READY_TIMEOUT_MS = 1000;

const Health = Type.Object({ status: Type.String({ examples: ['ok'] }) }, { additionalProperties: false });

/** Health, readiness, connections and the problem-type descriptions. */
export async function systemRoutes(app: FastifyInstance, opts: { redis: Redis; connections: ConnectionRegistry }) {
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
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((_, no) => {
        timer = setTimeout(() => no(new Error('timeout')), READY_TIMEOUT_MS);
      });
      try {
        await Promise.race([opts.redis.ping(), timeout]);
        return { status: 'ready' };
      } catch {
        return sendProblem(
          reply,
          new GatewayError('service_unavailable', 'Redis (the ledger store) does not answer.', { retryAfter: '1' }),
        );
      } finally {
        // A ready answer must not leave a timer behind: one per probe would pile up under load.
        clearTimeout(timer);
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
    async () => ({ data: opts.connections.describe() }),
  );

  r.get(
    '/problems/:code',
    {
      schema: {
        operationId: 'getProblemType',
        tags: ['system'],
        summary: 'What an error code means',
        params: Type.Object({ code: Type.String({ maxLength: 64, examples: ['insufficient_points'] }) }),
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
      const code = req.params.code;
      if (!isErrorCode(code)) return sendProblem(reply, new GatewayError('not_found', `No error code ${code}.`));
      return { code, status: statusOf(code), title: ERROR_CODES[code] };
    },
  );
}
