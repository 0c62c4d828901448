import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { GatewayError } from '../../domain/errors.js';
import { EventSchema, EventTypeSchema } from '../../domain/events.js';
import { Nullable } from '../../domain/fields.js';
import type { EventLog } from '../../events/event-log.js';
import type { WebhookDeliveries } from '../../webhooks/deliveries.js';
import { commonErrors, problem } from '../schemas/responses.js';

const EVENT_ID = /^evt_[0-9A-Z]{26}$/;

const ListQuery = Type.Object(
  {
    type: Type.Optional(EventTypeSchema),
    after: Type.Optional(
      Type.String({ maxLength: 64, description: 'An event id: only events after it (the next_cursor of a page).' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);

const EventList = Type.Object(
  { data: Type.Array(EventSchema), next_cursor: Nullable(Type.String()) },
  { title: 'EventList', additionalProperties: false },
);

/** The events, oldest first, for consumers that pull. */
export async function eventRoutes(app: FastifyInstance, opts: { events: EventLog; deliveries: WebhookDeliveries }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'listEvents',
        tags: ['events'],
        summary: 'Events, oldest first (admin)',
        description:
          'Every event the gateway reported in the last EVENTS_TTL_DAYS (default 30), oldest first. Pull new ones ' +
          'by passing the last id seen as `after`; `next_cursor` is null when the page is not full.',
        querystring: ListQuery,
        response: { 200: { ...EventList, description: 'One page.' }, ...commonErrors },
      },
    },
    async (req) => {
      const q = req.query;
      if (q.after !== undefined && !EVENT_ID.test(q.after)) {
        throw new GatewayError('invalid_cursor', 'after is not an event id.', {
          errors: [{ field: '/after', message: 'must be an event id' }],
        });
      }
      const page = await opts.events.list({ type: q.type, after: q.after, limit: q.limit ?? 50 });
      return { data: page.data, next_cursor: page.next };
    },
  );

  r.post(
    '/:id/redeliver',
    {
      config: { scope: 'admin', optionalBody: true },
      schema: {
        operationId: 'redeliverEvent',
        tags: ['events'],
        summary: 'Send an event again to its subscriptions, or to one (admin)',
        description:
          'Queues a new series of delivery attempts (same `webhook-id`: receivers de-duplicate on it) to every ' +
          'enabled subscription that wants the event, or to `webhook_id` alone.',
        params: Type.Object({ id: Type.String({ maxLength: 64, examples: ['evt_01JD3X7B2C4D6E8F0G2H4J6K8M'] }) }),
        body: Type.Object(
          { webhook_id: Type.Optional(Type.String({ maxLength: 64, description: 'Only this subscription.' })) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object(
            { event_id: Type.String(), webhook_ids: Type.Array(Type.String()) },
            { additionalProperties: false, description: 'The subscriptions it was queued for.' },
          ),
          ...commonErrors,
          404: problem('No such event (event_not_found), or no such subscription (webhook_not_found).'),
        },
      },
    },
    async (req, reply) => {
      const event = EVENT_ID.test(req.params.id) ? await opts.events.get(req.params.id) : null;
      if (!event)
        throw new GatewayError('event_not_found', `No event ${req.params.id} (events are kept EVENTS_TTL_DAYS).`);
      const only = req.body?.webhook_id;
      const ids = await opts.deliveries.redeliver(event, only);
      if (only !== undefined && ids.length === 0) {
        throw new GatewayError('webhook_not_found', `No enabled webhook subscription ${only}.`);
      }
      return reply.code(202).send({ event_id: event.id, webhook_ids: ids });
    },
  );
}
