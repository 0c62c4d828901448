import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { GatewayError } from '../../domain/errors.js';
import { CardId, Nullable, OneOf } from '../../domain/fields.js';
import { LinkSchema, ORDER_STATUSES, OrderSchema } from '../../domain/shops.js';
import type { OrderService } from '../../services/orders/order-service.js';
import { commonErrors, problem } from '../schemas/responses.js';

const LinkBody = Type.Object(
  {
    shop_id: Type.String({ maxLength: 64, examples: ['demo'] }),
    shop_customer_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: "The platform's customer id.", examples: ['7001'] }),
    ),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] })),
    card_id: CardId,
  },
  { additionalProperties: false },
);
const LinkList = Type.Object({ data: Type.Array(LinkSchema) }, { title: 'LinkList', additionalProperties: false });
const OrderList = Type.Object(
  { data: Type.Array(OrderSchema), next_cursor: Nullable(Type.String()) },
  { title: 'OrderList', additionalProperties: false },
);
const OrderParams = Type.Object({
  id: Type.String({ maxLength: 200, description: '`<shop id>:<order id>`.', examples: ['demo:5001'] }),
});

/** Links of shop customers to cards, and the orders the gateway processed (GET, replay). */
export async function linkRoutes(app: FastifyInstance, opts: { orders: OrderService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { orders } = opts;

  r.post(
    '/',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'createLink',
        tags: ['shops'],
        summary: "Link a shop's customer (by customer id or email) to a card",
        description:
          'Orders of the customer earn on the card. The same link again answers it (200); a customer linked to ' +
          'another card is refused (409 link_exists): delete that link first. Then replay the unmatched orders.',
        body: LinkBody,
        response: {
          201: { ...LinkSchema, description: 'The link.' },
          200: { ...LinkSchema, description: 'The same link, made before.' },
          ...commonErrors,
          404: problem('No such shop (shop_not_found) or connection (unknown_connection).'),
          409: problem('The customer is linked to another card (link_exists).'),
        },
      },
    },
    async (req, reply) => {
      const { link, created } = await orders.link(req.body);
      return reply.code(created ? 201 : 200).send(link);
    },
  );

  r.get(
    '/',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listLinks',
        tags: ['shops'],
        summary: "A card's links to shop customers",
        querystring: Type.Object({ card_id: CardId }, { additionalProperties: false }),
        response: { 200: { ...LinkList, description: 'The links.' }, ...commonErrors },
      },
    },
    async (req) => ({ data: await orders.linksOfCard(req.query.card_id) }),
  );

  r.delete(
    '/:id',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'deleteLink',
        tags: ['shops'],
        summary: 'Delete a link',
        params: Type.Object({ id: Type.String({ maxLength: 64, examples: ['lnk_01JD3X7B2C4D6E8F0G2H4J6K8M'] }) }),
        response: {
          204: { type: 'null', description: 'Deleted.' },
          ...commonErrors,
          404: problem('No such link (link_not_found).'),
        },
      },
    },
    async (req, reply) => {
      if (!(await orders.unlink(req.params.id))) throw new GatewayError('link_not_found', `No link ${req.params.id}.`);
      return reply.code(204).send(null);
    },
  );
}

export async function orderRoutes(app: FastifyInstance, opts: { orders: OrderService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { orders } = opts;

  r.get(
    '/',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listOrders',
        tags: ['shops'],
        summary: "A shop's orders, newest first: what the gateway did with each",
        querystring: Type.Object(
          {
            shop_id: Type.String({ maxLength: 64, examples: ['demo'] }),
            status: Type.Optional(OneOf(ORDER_STATUSES)),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
            cursor: Type.Optional(
              Type.String({ pattern: '^[0-9]{1,16}$', description: 'next_cursor of the previous page.' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: { ...OrderList, description: 'One page.' },
          ...commonErrors,
          404: problem('No such shop (shop_not_found).'),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await orders.list({ shopId: q.shop_id, status: q.status, limit: q.limit ?? 50, before: q.cursor });
      return { data: page.data, next_cursor: page.next };
    },
  );

  r.get(
    '/:id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getOrder',
        tags: ['shops'],
        summary: 'One order: its status, its reason, its transactions',
        params: OrderParams,
        response: {
          200: { ...OrderSchema, description: 'The order.' },
          ...commonErrors,
          404: problem('No such order (order_not_found) or shop (shop_not_found).'),
        },
      },
    },
    async (req) => {
      const o = await orders.get(req.params.id);
      if (!o) throw new GatewayError('order_not_found', `No order ${req.params.id}.`);
      return o;
    },
  );

  r.post(
    '/:id/replay',
    {
      config: { scope: 'write', optionalBody: true },
      schema: {
        operationId: 'replayOrder',
        tags: ['shops'],
        summary: 'Process an order again (an unmatched one, once its customer is linked)',
        description: 'Awards and reversals are keyed by the order and its refunds: a replay never applies one twice.',
        params: OrderParams,
        response: {
          200: { ...OrderSchema, description: 'The order after it.' },
          ...commonErrors,
          404: problem('No such order (order_not_found) or shop (shop_not_found).'),
        },
      },
    },
    async (req) => orders.replay(req.params.id),
  );
}
