import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { CardSchema } from '../../domain/cards.js';
import {
  CreateCustomerBody,
  CustomerListQuery,
  CustomerResourceSchema,
  UpdateCustomerBody,
} from '../../domain/customers.js';
import { CustomerId, Nullable } from '../../domain/fields.js';
import type { CustomerService } from '../../services/resources/customer-service.js';
import { sendAnswer, writeRequest } from '../request-context.js';
import { BulkCreateCustomersBody, CustomerList } from '../schemas/customers.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  idempotencyErrors,
  idempotentResponses,
  problem,
  upstreamErrors,
  withHeaders,
} from '../schemas/responses.js';

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
export async function customerRoutes(app: FastifyInstance, opts: { customers: CustomerService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { customers } = opts;

  r.post(
    '/',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'createCustomer',
        tags: ['customers'],
        summary: 'Create a customer at a provider',
        description:
          'Highlight: POST /customers. Leal: POST /customers (with program_id: enrolled in that card). ' +
          'Coupontools: a customer is a user of one loyalty card, so program_id is required and the customer ' +
          'id is also the card id.',
        headers: IdempotencyKeyHeader,
        body: CreateCustomerBody,
        response: idempotentResponses({
          201: withHeaders(
            { ...CustomerResourceSchema, description: 'The customer.' },
            { Location: { required: true, description: 'The customer: `/v1/customers/{customer_id}`.' } },
          ),
          ...commonErrors,
          ...idempotencyErrors,
          ...notFound,
          ...upstreamErrors,
          409: problem(
            'The provider already has this customer (customer_exists), or a request with this Idempotency-Key is ' +
              'still running (idempotency_in_flight).',
          ),
        }),
      },
    },
    async (req, reply) =>
      sendAnswer(reply, await customers.create(req.body, writeRequest(req)), (c) => `/v1/customers/${c.id}`),
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
          'Coupontools POST /loyalty-cards/{id}/stats/bulk: each customer becomes a user of the program, that is a ' +
          'card. One invalid customer refuses the whole batch at the provider.',
        headers: IdempotencyKeyHeader,
        body: BulkCreateCustomersBody,
        response: idempotentResponses({
          201: { ...BulkCreateCustomersResponse, description: 'What the provider created.' },
          ...commonErrors,
          ...idempotencyErrors,
          ...notFound,
          ...upstreamErrors,
        }),
      },
    },
    async (req, reply) => sendAnswer(reply, await customers.bulkCreate(req.body, writeRequest(req))),
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
    async (req) => customers.list(req.query),
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
    async (req) => customers.get(req.params.customer_id),
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
    async (req) => customers.update(req.params.customer_id, req.body),
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
      await customers.delete(req.params.customer_id);
      return reply.code(204).send(null);
    },
  );
}
