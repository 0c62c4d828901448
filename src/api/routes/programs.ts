import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { TransactionStore } from '../../store/transaction-store.js';
import { connectionOf, referenceOf } from '../../domain/ids.js';
import type { ConnectionRegistry } from '../../services/connections/registry.js';
import { GatewayError } from '../../domain/errors.js';
import { idempotentRequest } from '../idempotent-request.js';
import { requireOnConnection } from '../../domain/ids.js';
import {
  commonErrors,
  idempotencyErrors,
  IdempotencyKeyHeader,
  problem,
  upstreamErrors,
} from '../schemas/responses.js';
import { ConnectionId } from '../../domain/fields.js';
import { PageMeta } from '../../domain/customers.js';
import { pageQuery } from '../../domain/fields.js';
import { CopyProgramBody, NotificationBody, ProgramList } from '../schemas/programs.js';
import { NotificationSchema, ProgramSchema } from '../../domain/programs.js';
import { ProgramId } from '../../domain/fields.js';

const notFound = { 404: problem('No such program (program_not_found) or connection (unknown_connection).') };
const unsupported = {
  422: problem('The provider has no such operation (unsupported_operation), or refused it (provider_rejected).'),
};
const NotificationList = Type.Object(
  { data: Type.Array(NotificationSchema), meta: PageMeta },
  { title: 'NotificationList', additionalProperties: false },
);

/** Programs: Highlight card templates, Coupontools loyalty cards, Leal cards. */
export async function programRoutes(
  app: FastifyInstance,
  opts: { providers: ConnectionRegistry; ledger: TransactionStore; inFlightWaitMs: number },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { providers, ledger } = opts;

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
    async (req) => {
      const provider = providers.external(req.query.connection, 'programs');
      if (!provider.adapter.listPrograms)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${provider.connection.id}) has no programs to list.`,
          { supported: provider.capabilities.operations },
        );
      const page = await provider.adapter.listPrograms({
        page: req.query.page ?? 1,
        perPage: req.query.per_page ?? 50,
      });
      return { data: page.data.map((p) => provider.programOf(p)), meta: page.meta };
    },
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
    async (req) => {
      const provider = providers.external(connectionOf(req.params.program_id), 'programs');
      if (!provider.adapter.getProgram)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${provider.connection.id}) has no programs.`,
          { supported: provider.capabilities.operations },
        );
      const p = await provider.adapter.getProgram(referenceOf(req.params.program_id));
      if (!p) throw new GatewayError('program_not_found', `No program ${req.params.program_id}.`);
      return provider.programOf(p);
    },
  );

  r.post(
    '/:program_id/copy',
    {
      config: { scope: 'admin', optionalBody: true },
      schema: {
        operationId: 'copyProgram',
        tags: ['programs'],
        summary: 'Copy a program (admin; Coupontools)',
        params: Type.Object({ program_id: ProgramId }),
        headers: IdempotencyKeyHeader,
        body: CopyProgramBody,
        response: {
          201: { ...ProgramSchema, description: 'The copy.' },
          ...commonErrors,
          ...idempotencyErrors,
          ...notFound,
          ...upstreamErrors,
        },
      },
    },
    async (req, reply) => {
      const provider = providers.external(connectionOf(req.params.program_id), 'programs');
      const a = provider.adapter;
      if (!a.copyProgram)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${provider.connection.id}) cannot copy programs.`,
          { supported: provider.capabilities.operations },
        );
      return idempotentRequest(
        req,
        reply,
        ledger,
        { inFlightWaitMs: opts.inFlightWaitMs, path: `/v1/programs/${req.params.program_id}/copy` },
        async () => {
          const p = provider.programOf(await a.copyProgram!(referenceOf(req.params.program_id), req.body?.name));
          return { status: 201, body: p, location: `/v1/programs/${p.id}` };
        },
      );
    },
  );
}

/** Push notifications: to some cards, a program, or every card of a connection. */
export async function notificationRoutes(
  app: FastifyInstance,
  opts: { providers: ConnectionRegistry; ledger: TransactionStore; inFlightWaitMs: number },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

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
    async (req) => {
      const provider = opts.providers.external(req.query.connection, 'push notifications');
      if (!provider.adapter.listNotifications)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${req.query.connection}) cannot list pushes.`,
          { supported: provider.capabilities.operations },
        );
      const page = await provider.adapter.listNotifications({
        page: req.query.page ?? 1,
        perPage: req.query.per_page ?? 20,
      });
      return { data: page.data.map((n) => ({ ...n, connection: provider.connection.id })), meta: page.meta };
    },
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
          notification_id: Type.String({ minLength: 1, maxLength: 64 }),
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
    async (req) => {
      const provider = opts.providers.external(req.params.connection, 'push notifications');
      if (!provider.adapter.getNotification)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${req.params.connection}) cannot show pushes.`,
          { supported: provider.capabilities.operations },
        );
      const n = await provider.adapter.getNotification(req.params.notification_id);
      if (!n)
        throw new GatewayError(
          'notification_not_found',
          `No push ${req.params.notification_id} on ${req.params.connection}.`,
        );
      return { ...n, connection: provider.connection.id };
    },
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
          'To card_ids, to every card of program_id, or (neither) to every card of the connection. Use an Idempotency-Key: a retried push is not sent twice.',
        headers: IdempotencyKeyHeader,
        body: NotificationBody,
        response: {
          201: { ...NotificationSchema, description: 'The push, as the provider accepted it.' },
          ...commonErrors,
          ...idempotencyErrors,
          404: problem('No such connection, card or program.'),
          ...upstreamErrors,
        },
      },
    },
    async (req, reply) => {
      const { connection, message, card_ids, program_id, scheduled_at } = req.body;
      const provider = opts.providers.external(connection, 'push notifications');
      const a = provider.adapter;
      if (!a.notify)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${connection}) has no push notifications in its API.`,
          { supported: provider.capabilities.operations },
        );
      for (const [i, id] of (card_ids ?? []).entries()) requireOnConnection(connection, `/card_ids/${i}`, id);
      requireOnConnection(connection, '/program_id', program_id);
      if (program_id !== undefined && card_ids !== undefined) {
        throw new GatewayError(
          'validation_failed',
          'Send card_ids or program_id, not both: a push goes to some cards, or to a whole program.',
          { errors: [{ field: '/program_id', message: 'must not be sent with card_ids' }] },
        );
      }
      if (scheduled_at !== undefined && Date.parse(scheduled_at) <= Date.now()) {
        throw new GatewayError('validation_failed', 'scheduled_at must be in the future (leave it out to send now).', {
          errors: [{ field: '/scheduled_at', message: 'must be in the future' }],
        });
      }
      return idempotentRequest(
        req,
        reply,
        opts.ledger,
        { inFlightWaitMs: opts.inFlightWaitMs, path: '/v1/notifications' },
        async () => {
          const n = await a.notify!({
            message,
            ...(card_ids ? { cardReferences: card_ids.map(referenceOf) } : {}),
            ...(program_id !== undefined ? { programReference: referenceOf(program_id) } : {}),
            ...(scheduled_at !== undefined ? { scheduledAt: scheduled_at } : {}),
          });
          return { status: 201, body: { ...n, connection } };
        },
      );
    },
  );
}
