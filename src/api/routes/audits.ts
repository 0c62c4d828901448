import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { AuditSchema } from '../../domain/audits.js';
import { GatewayError } from '../../domain/errors.js';
import { ConnectionId, DateTime, Nullable } from '../../domain/fields.js';
import { TransactionSchema } from '../../domain/transactions.js';
import type { AuditService } from '../../services/audit/audit-service.js';
import { clientOf } from '../auth.js';
import { commonErrors, problem, withHeaders } from '../schemas/responses.js';

const AUDIT_ID = /^aud_[0-9A-Z]{26}$/;
const AuditParams = Type.Object({
  id: Type.String({ maxLength: 64, examples: ['aud_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
});

const StartBody = Type.Object(
  {
    connection: { ...ConnectionId, examples: ['hl'] },
    from: Type.Optional({
      ...DateTime,
      description: 'Transactions created at or after this time (default: `to` - 24 h).',
    }),
    to: Type.Optional({ ...DateTime, description: 'Transactions created at or before this time (default: now).' }),
  },
  { additionalProperties: false, examples: [{ connection: 'hl' }] },
);

const ListQuery = Type.Object(
  {
    connection: Type.Optional(ConnectionId),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 64, description: 'next_cursor of the previous page.' })),
  },
  { additionalProperties: false },
);

const AuditList = Type.Object(
  { data: Type.Array(AuditSchema), next_cursor: Nullable(Type.String()) },
  { title: 'AuditList', additionalProperties: false },
);

const ConfirmBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 500, description: "Kept in the transaction's audit entry." })) },
  { additionalProperties: false },
);

/** Provider audits (admin): start one, read it, list them, confirm a finding. */
export async function auditRoutes(app: FastifyInstance, opts: { audits: AuditService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { audits } = opts;
  const notFound = (id: string) => new GatewayError('audit_not_found', `No audit ${id}.`);

  r.post(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'startAudit',
        tags: ['audits'],
        summary: "Audit a provider connection: the gateway's transactions against the provider's record (admin)",
        description:
          "Checks the connection's transactions created between `from` and `to` (at most 31 days) against the " +
          "provider, both ways. Highlight and Loyalty.lt: the provider's operations carry the transaction id " +
          '(`[lgw:txn_...]` comments, order ids): succeeded here but missing there, applied there but ' +
          '`needs_review` or `failed` here, applied twice, unknown to the gateway. Coupontools and Leal keep no ' +
          "such record: each card's balance is compared with what the gateway's last write left. Runs in the " +
          'background: 202 with the audit (status `running`); poll its Location. It reads the provider through ' +
          "the connection's rate limit (one read per card touched, at most 500 cards) and never corrects anything: " +
          'findings are reported (metric `lgw_audit_findings_total`, event `audit.drift_found`).',
        body: StartBody,
        response: {
          202: withHeaders(
            { ...AuditSchema, description: 'The audit, started: poll its Location.' },
            {
              Location: { required: true, description: 'The audit: `/v1/audits/{id}`.' },
              'Retry-After': { required: true, description: 'Seconds to wait before polling the Location.' },
            },
          ),
          ...commonErrors,
          404: problem('No such connection (unknown_connection).'),
        },
      },
    },
    async (req, reply) => {
      const { connection, from, to } = req.body;
      const { audit } = await audits.start({
        connection,
        fromMs: from !== undefined ? Date.parse(from) : undefined,
        toMs: to !== undefined ? Date.parse(to) : undefined,
        trigger: 'api',
        by: clientOf(req).id,
      });
      reply.header('location', `/v1/audits/${audit.id}`).header('retry-after', '1');
      return reply.code(202).send(audit);
    },
  );

  r.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'listAudits',
        tags: ['audits'],
        summary: 'Audits, newest first (admin)',
        description: 'Scheduled ones (AUDIT_INTERVAL_SECONDS) and those asked for; kept 90 days.',
        querystring: ListQuery,
        response: { 200: { ...AuditList, description: 'One page.' }, ...commonErrors },
      },
    },
    async (req) => {
      const q = req.query;
      if (q.cursor !== undefined && !AUDIT_ID.test(q.cursor)) {
        throw new GatewayError('invalid_cursor', 'cursor is not a next_cursor this endpoint gave.', {
          errors: [{ field: '/cursor', message: 'must be a next_cursor from a previous page' }],
        });
      }
      const page = await audits.list({ connection: q.connection, limit: q.limit ?? 20, before: q.cursor });
      return { data: page.data, next_cursor: page.next };
    },
  );

  r.get(
    '/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getAudit',
        tags: ['audits'],
        summary: 'One audit: its status and findings (admin)',
        params: AuditParams,
        response: {
          200: { ...AuditSchema, description: 'The audit as it stands now.' },
          ...commonErrors,
          404: problem('No such audit (audit_not_found).'),
        },
      },
    },
    async (req) => (await audits.get(req.params.id)) ?? Promise.reject(notFound(req.params.id)),
  );

  r.post(
    '/:id/findings/:finding_id/confirm',
    {
      config: { scope: 'admin', optionalBody: true },
      schema: {
        operationId: 'confirmAuditFinding',
        tags: ['audits'],
        summary: 'Confirm a finding: settle the needs_review transaction the provider applied (admin)',
        description:
          'For an `applied_not_succeeded` finding on a `needs_review` transaction (`confirmable: true`): the ' +
          "transaction becomes `succeeded` with the provider's operation as its reference; its audit entry names the " +
          'audit, the finding and who confirmed it. Once per finding.',
        params: Type.Object({
          id: AuditParams.properties.id,
          finding_id: Type.String({ maxLength: 16, examples: ['f1'] }),
        }),
        body: ConfirmBody,
        response: {
          200: { ...TransactionSchema, description: 'The transaction, settled.' },
          ...commonErrors,
          404: problem('No such audit (audit_not_found) or finding (finding_not_found).'),
          409: problem(
            'The finding settles nothing, was confirmed already, or its transaction was settled since (finding_not_confirmable).',
          ),
        },
      },
    },
    async (req) => audits.confirm(req.params.id, req.params.finding_id, clientOf(req).id, req.body?.note ?? null),
  );
}
