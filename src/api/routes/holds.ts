import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { GatewayError } from '../../domain/errors.js';
import { CaptureHoldBody, CreateHoldBody, HoldSchema } from '../../domain/holds.js';
import type { HoldService } from '../../services/holds/hold-service.js';
import { writeRequest } from '../request-context.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  idempotencyErrors,
  idempotentResponses,
  problem,
  upstreamErrors,
  withHeaders,
} from '../schemas/responses.js';

const HoldParams = Type.Object({ id: Type.String({ maxLength: 64, examples: ['hld_01JD3X7B2C4D6E8F0G2H4J6K8M'] }) });
const HOLD_LOCATION = { required: true, description: 'The hold: `/v1/points/holds/{id}`.' };
const notActive = problem('The hold was captured, released or expired already (hold_not_active).');

/** Holds at checkout: reserve points while the customer pays, then capture or release them. */
export async function holdRoutes(app: FastifyInstance, opts: { holds: HoldService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { holds } = opts;

  r.post(
    '/',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'createHold',
        tags: ['points'],
        summary: 'Hold points at checkout',
        description:
          'Reserves points while the customer pays: they are redeemed at once (on every connection: at a provider ' +
          'that is the only way to be sure they are there), so they are out of `available` and shown as `held`, ' +
          'and no one else can spend them. Capture keeps them (in part: the rest is given back); release, or ' +
          'the hold running past `ttl_seconds` (default 900, at most 7 days), gives them all back by a reversal. ' +
          'One hold per card and `reference_id`: asking again answers it (200).',
        headers: IdempotencyKeyHeader,
        body: CreateHoldBody,
        response: idempotentResponses({
          201: withHeaders({ ...HoldSchema, description: 'The hold.' }, { Location: HOLD_LOCATION }),
          200: withHeaders(
            { ...HoldSchema, description: 'The hold of this reference, made before.' },
            { Location: HOLD_LOCATION },
          ),
          ...commonErrors,
          ...idempotencyErrors,
          404: problem('No such card (card_not_found) or connection (unknown_connection).'),
          ...upstreamErrors,
        }),
      },
    },
    async (req, reply) => {
      const { hold, replayed, created } = await holds.create(req.body, writeRequest(req));
      if (replayed || !created) reply.header('idempotent-replayed', 'true');
      reply.header('location', `/v1/points/holds/${hold.id}`);
      return reply.code(created ? 201 : 200).send(hold);
    },
  );

  r.get(
    '/:id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getHold',
        tags: ['points'],
        summary: 'A hold, as it stands now',
        params: HoldParams,
        response: {
          200: { ...HoldSchema, description: 'The hold.' },
          ...commonErrors,
          404: problem('No such hold (hold_not_found).'),
        },
      },
    },
    async (req) =>
      (await holds.get(req.params.id)) ??
      Promise.reject(new GatewayError('hold_not_found', `No hold ${req.params.id}.`)),
  );

  for (const action of ['capture', 'release'] as const) {
    r.post(
      `/:id/${action}`,
      {
        config: { scope: 'write', optionalBody: true },
        schema: {
          operationId: action === 'capture' ? 'captureHold' : 'releaseHold',
          tags: ['points'],
          summary:
            action === 'capture' ? 'Capture a hold: the redemption stands' : 'Release a hold: the points go back',
          description:
            action === 'capture'
              ? '`points` captures part of it and gives the rest back. Once: capturing a released, expired or ' +
                'captured hold is 409 hold_not_active (a retry with the same Idempotency-Key answers the first capture).'
              : 'Gives every held point back (a reversal of the redemption). Once: 409 hold_not_active when it is ' +
                'no longer active.',
          headers: IdempotencyKeyHeader,
          params: HoldParams,
          body: action === 'capture' ? CaptureHoldBody : Type.Object({}, { additionalProperties: false }),
          response: idempotentResponses({
            200: { ...HoldSchema, description: 'The hold after it.' },
            ...commonErrors,
            ...idempotencyErrors,
            404: problem('No such hold (hold_not_found).'),
            409: notActive,
            ...upstreamErrors,
          }),
        },
      },
      async (req, reply) => {
        const body = (req.body ?? {}) as { points?: number };
        const out =
          action === 'capture'
            ? await holds.capture(req.params.id, body.points, writeRequest(req))
            : await holds.release(req.params.id, writeRequest(req));
        if (out.replayed) reply.header('idempotent-replayed', 'true');
        return out.hold;
      },
    );
  }
}
