import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { PageMeta } from '../../domain/customers.js';
import { ConnectionId, pageQuery } from '../../domain/fields.js';
import { NotificationSchema } from '../../domain/programs.js';
import type { ProgramService } from '../../services/resources/program-service.js';
import { sendAnswer, writeRequest } from '../request-context.js';
import { NotificationBody } from '../schemas/programs.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  idempotencyErrors,
  idempotentResponses,
  problem,
  upstreamErrors,
} from '../schemas/responses.js';

const NotificationList = Type.Object(
  { data: Type.Array(NotificationSchema), meta: PageMeta },
  { title: 'NotificationList', additionalProperties: false },
);

/** Push notifications: to some cards, a program, or every card of a connection. */
export async function notificationRoutes(app: FastifyInstance, opts: { programs: ProgramService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { programs } = opts;

  r.get(
    '/',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listNotifications',
        tags: ['notifications'],
        summary: 'Pushes sent on a connection (Highlight)',
        querystring: Type.Object({ connection: ConnectionId, ...pageQuery(20) }, { additionalProperties: false }),
        response: {
          200: { ...NotificationList, description: 'One page of pushes.' },
          ...commonErrors,
          404: problem('No such connection.'),
          422: problem('The provider cannot list pushes (unsupported_operation).'),
          ...upstreamErrors,
        },
      },
    },
    async (req) => programs.notifications(req.query),
  );

  r.get(
    '/:connection/:notification_id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getNotification',
        tags: ['notifications'],
        summary: 'One push (Highlight)',
        params: Type.Object({
          connection: ConnectionId,
          notification_id: Type.String({
            minLength: 1,
            maxLength: 64,
            // The sandbox's first push (POST /v1/notifications's example).
            examples: ['1'],
          }),
        }),
        response: {
          200: { ...NotificationSchema, description: 'The push.' },
          ...commonErrors,
          404: problem('No such push (notification_not_found) or connection.'),
          422: problem('The provider cannot show pushes (unsupported_operation).'),
          ...upstreamErrors,
        },
      },
    },
    async (req) => programs.notification(req.params.connection, req.params.notification_id),
  );

  r.post(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'sendNotification',
        tags: ['notifications'],
        summary: 'Send a push notification (admin)',
        description:
          'To card_ids, to every card of program_id, or (neither) to every card of the connection. Use an ' +
          'Idempotency-Key: a retried push is not sent twice.',
        headers: IdempotencyKeyHeader,
        body: NotificationBody,
        response: idempotentResponses({
          201: { ...NotificationSchema, description: 'The push, as the provider accepted it.' },
          ...commonErrors,
          ...idempotencyErrors,
          404: problem('No such connection, card or program.'),
          ...upstreamErrors,
        }),
      },
    },
    async (req, reply) => sendAnswer(reply, await programs.notify(req.body, writeRequest(req))),
  );
}
