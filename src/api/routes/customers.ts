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
import { CardSchema } from '../../domain/cards.js';
import { Nullable } from '../../domain/fields.js';
import { BulkCreateCustomersBody, CustomerList } from '../schemas/customers.js';
import {
  CreateCustomerBody,
  CustomerListQuery,
  CustomerResourceSchema,
  UpdateCustomerBody,
} from '../../domain/customers.js';
import { CustomerId } from '../../domain/fields.js';

const Params = Type.Object({ customer_id: CustomerId });
const notFound = { 404: problem('No such customer (customer_not_found) or connection (unknown_connection).') };
const unsupported = {
  422: problem(
    "The connection's provider has no such operation (unsupported_operation), or refused it (provider_rejected).",
  ),
};

const BulkCreateCustomersResponse = Type.Object(
  {
    created: Nullable(Type.Integer({ minimum: 0, description: 'How many the provider created, when it says.' })),
    cards: Type.Array(CardSchema, { description: 'The new cards (users), when the provider lists them.' }),
  },
  { title: 'BulkCreateCustomersResponse', additionalProperties: false },
);

/** Customers live at the provider: these routes translate to its customer (or card-user) API. */
export async function customerRoutes(
  app: FastifyInstance,
  opts: { providers: ConnectionRegistry; ledger: TransactionStore; inFlightWaitMs: number },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { providers, ledger } = opts;

  r.post(
    '/',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'createCustomer',
        tags: ['customers'],
        summary: 'Create a customer at a provider',
        description:
          'Highlight: POST /customers. Leal: POST /customers (with program_id: enrolled in that card). Coupontools: a customer is a user of one loyalty card, so program_id is required and the customer id is also the card id.',
        headers: IdempotencyKeyHeader,
        body: CreateCustomerBody,
        response: {
          201: { ...CustomerResourceSchema, description: 'The customer.' },
          ...commonErrors,
          ...idempotencyErrors,
          ...notFound,
          ...upstreamErrors,
          409: problem(
            'The provider already has this customer (customer_exists), or a request with this Idempotency-Key is still running (idempotency_in_flight).',
          ),
        },
      },
    },
    async (req, reply) => {
      const provider = providers.external(req.body.connection, 'customers of its own at a provider');
      const a = provider.adapter;
      if (!a.createCustomer)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${provider.connection.id}) cannot create customers.`,
          { supported: provider.capabilities.operations },
        );
      const { program_id, ...body } = req.body;
      requireOnConnection(provider.connection.id, '/program_id', program_id);
      return idempotentRequest(
        req,
        reply,
        ledger,
        { inFlightWaitMs: opts.inFlightWaitMs, path: '/v1/customers' },
        async () => {
          const c = provider.customerOf(
            await a.createCustomer!({
              ...body,
              ...(program_id !== undefined ? { programReference: referenceOf(program_id) } : {}),
            }),
          );
          return { status: 201, body: c, location: `/v1/customers/${c.id}` };
        },
      );
    },
  );

  r.post(
    '/bulk',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'bulkCreateCustomers',
        tags: ['customers'],
        summary: 'Create up to 100 customers in one provider call (Coupontools)',
        description:
          'Coupontools POST /loyalty-cards/{id}/stats/bulk: each customer becomes a user of the program, that is a card. One invalid customer refuses the whole batch at the provider.',
        headers: IdempotencyKeyHeader,
        body: BulkCreateCustomersBody,
        response: {
          201: { ...BulkCreateCustomersResponse, description: 'What the provider created.' },
          ...commonErrors,
          ...idempotencyErrors,
          ...notFound,
          ...upstreamErrors,
        },
      },
    },
    async (req, reply) => {
      const { connection, program_id, customers } = req.body;
      const provider = providers.external(connection, 'customers of its own at a provider');
      const a = provider.adapter;
      if (!a.bulkCreateCustomers)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${connection}) has no bulk customer creation; create them one by one with POST /v1/customers.`,
          { supported: provider.capabilities.operations },
        );
      requireOnConnection(connection, '/program_id', program_id);
      return idempotentRequest(
        req,
        reply,
        ledger,
        { inFlightWaitMs: opts.inFlightWaitMs, path: '/v1/customers/bulk' },
        async () => {
          const res = await a.bulkCreateCustomers!(referenceOf(program_id), customers);
          return { status: 201, body: { created: res.created, cards: res.cards.map((c) => provider.cardOf(c)) } };
        },
      );
    },
  );

  r.get(
    '/',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listCustomers',
        tags: ['customers'],
        summary: "List or search a provider's customers",
        querystring: CustomerListQuery,
        response: {
          200: { ...CustomerList, description: 'One page of customers.' },
          ...commonErrors,
          ...notFound,
          ...unsupported,
          ...upstreamErrors,
        },
      },
    },
    async (req) => {
      const provider = providers.external(req.query.connection, 'customer list');
      if (!provider.adapter.listCustomers)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${provider.connection.id}) cannot list customers.`,
          { supported: provider.capabilities.operations },
        );
      const page = await provider.adapter.listCustomers({
        ...req.query,
        page: req.query.page ?? 1,
        per_page: req.query.per_page ?? 20,
      });
      return { data: page.data.map((c) => provider.customerOf(c)), meta: page.meta };
    },
  );

  r.get(
    '/:customer_id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getCustomer',
        tags: ['customers'],
        summary: 'A customer',
        params: Params,
        response: {
          200: { ...CustomerResourceSchema, description: 'The customer.' },
          ...commonErrors,
          ...notFound,
          ...unsupported,
          ...upstreamErrors,
        },
      },
    },
    async (req) => {
      const provider = providers.external(connectionOf(req.params.customer_id), 'customers');
      if (!provider.adapter.getCustomer)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${provider.connection.id}) has no customers.`,
          { supported: provider.capabilities.operations },
        );
      const c = await provider.adapter.getCustomer(referenceOf(req.params.customer_id));
      if (!c) throw new GatewayError('customer_not_found', `No customer ${req.params.customer_id}.`);
      return provider.customerOf(c);
    },
  );

  r.patch(
    '/:customer_id',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'updateCustomer',
        tags: ['customers'],
        summary: "Change a customer's data",
        description: 'Only the fields sent change. Safe to retry: the same update twice leaves the same data.',
        params: Params,
        body: UpdateCustomerBody,
        response: {
          200: { ...CustomerResourceSchema, description: 'The customer after the change.' },
          ...commonErrors,
          ...notFound,
          ...unsupported,
          ...upstreamErrors,
          409: problem('Another customer has this email or phone at the provider (customer_exists).'),
        },
      },
    },
    async (req) => {
      const provider = providers.external(connectionOf(req.params.customer_id), 'customers');
      if (!provider.adapter.updateCustomer)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${provider.connection.id}) cannot update customers.`,
          { supported: provider.capabilities.operations },
        );
      return provider.customerOf(await provider.adapter.updateCustomer(referenceOf(req.params.customer_id), req.body));
    },
  );

  r.delete(
    '/:customer_id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'deleteCustomer',
        tags: ['customers'],
        summary: 'Delete a customer (admin)',
        params: Params,
        response: {
          204: { description: 'Deleted.', type: 'null' },
          ...commonErrors,
          ...notFound,
          ...unsupported,
          ...upstreamErrors,
        },
      },
    },
    async (req, reply) => {
      const provider = providers.external(connectionOf(req.params.customer_id), 'customers');
      if (!provider.adapter.deleteCustomer)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${provider.connection.id}) cannot delete customers.`,
          { supported: provider.capabilities.operations },
        );
      await provider.adapter.deleteCustomer(referenceOf(req.params.customer_id));
      return reply.code(204).send(null);
    },
  );
}
