import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { GatewayError } from '../../domain/errors.js';
import { CardId, Points, ReferenceId } from '../../domain/fields.js';
import { HoldSchema } from '../../domain/holds.js';
import { BalanceSchema, HistoryEntrySchema } from '../../domain/transactions.js';
import type { OrderService } from '../../services/orders/order-service.js';
import type { CustomerTokens } from '../../services/storefront/customer-tokens.js';
import type { MeService } from '../../services/storefront/me-service.js';
import { customerOf } from '../auth.js';
import { commonErrors, problem } from '../schemas/responses.js';

const CustomerHeaders = Type.Object({
  'x-publishable-key': Type.String({
    description: "The shop's publishable key (pk_...).",
    examples: ['pk_demo_storefront'],
  }),
});
const customerErrors = {
  401: problem('No or a wrong publishable key, or a customer token that is missing, forged, expired (unauthorized).'),
  404: problem('The customer has no card linked yet (card_not_found).'),
};
const MeSchema = Type.Object(
  { shop_id: Type.String(), card_id: CardId, balance: BalanceSchema },
  { title: 'Me', additionalProperties: false },
);

/**
 * A customer's own routes, for a storefront page: `Authorization: Bearer <customer token>` and the
 * shop's `x-publishable-key`, no API key. They reach the token's card and nothing else.
 */
export async function meRoutes(app: FastifyInstance, opts: { me: MeService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { me } = opts;

  r.get(
    '/',
    {
      config: { customer: true },
      schema: {
        operationId: 'getMe',
        tags: ['storefront'],
        summary: "The customer's card and balance (available, pending, held, next expiry, tier)",
        headers: CustomerHeaders,
        response: { 200: { ...MeSchema, description: 'The card.' }, ...customerErrors },
      },
    },
    async (req) => me.me(customerOf(req)),
  );

  r.get(
    '/history',
    {
      config: { customer: true },
      schema: {
        operationId: 'getMyHistory',
        tags: ['storefront'],
        summary: "The customer's latest movements, newest first",
        headers: CustomerHeaders,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 5 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { card_id: CardId, data: Type.Array(HistoryEntrySchema) },
            { additionalProperties: false, description: 'The movements.' },
          ),
          ...customerErrors,
        },
      },
    },
    async (req) => me.history(customerOf(req), req.query.limit ?? 5),
  );

  r.post(
    '/holds',
    {
      config: { customer: true },
      schema: {
        operationId: 'holdMyPoints',
        tags: ['storefront'],
        summary: 'Use points on the cart: hold them (the checkout captures the hold with its server key)',
        description:
          "At most the token's `max_hold_points`. One hold per reference (the cart): asking again answers it.",
        headers: CustomerHeaders,
        body: Type.Object(
          {
            points: Points,
            reference_id: { ...ReferenceId, description: 'The cart.' },
            ttl_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 3600, default: 900 })),
          },
          { additionalProperties: false, examples: [{ points: 50, reference_id: 'cart-1001' }] },
        ),
        response: {
          201: { ...HoldSchema, description: 'The hold.' },
          200: { ...HoldSchema, description: 'The hold of this cart, made before.' },
          400: problem('Too many points for the card or the token (insufficient_points, validation_failed).'),
          ...customerErrors,
        },
      },
    },
    async (req, reply) => {
      const { hold, created } = await me.hold(customerOf(req), req.body);
      return reply.code(created ? 201 : 200).send(hold);
    },
  );

  r.post(
    '/holds/:id/release',
    {
      config: { customer: true, optionalBody: true },
      schema: {
        operationId: 'releaseMyHold',
        tags: ['storefront'],
        summary: "Give back the points of one of the customer's holds (the cart was abandoned)",
        headers: CustomerHeaders,
        params: Type.Object({ id: Type.String({ maxLength: 64, examples: ['hld_01JD3X7B2C4D6E8F0G2H4J6K8M'] }) }),
        response: {
          200: { ...HoldSchema, description: 'The hold, released.' },
          ...customerErrors,
          404: problem("No such hold on the customer's card (hold_not_found), or no card (card_not_found)."),
          409: problem('The hold was captured, released or expired already (hold_not_active).'),
        },
      },
    },
    async (req) => me.release(customerOf(req), req.params.id),
  );
}

/** POST /v1/customer-tokens: a token minted by the gateway, for shop backends that prefer a call to signing one. */
export async function customerTokenRoutes(
  app: FastifyInstance,
  opts: { tokens: CustomerTokens; orders: OrderService },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'mintCustomerToken',
        tags: ['storefront'],
        summary: 'A customer token for a storefront page (or sign one yourself: HS256, kid, sub, exp within an hour)',
        body: Type.Object(
          {
            shop_id: Type.String({ maxLength: 64, examples: ['demo'] }),
            customer: Type.String({
              minLength: 1,
              maxLength: 233,
              description: "The shop's customer id (linked to a card), or a gateway card id.",
              examples: ['7001'],
            }),
            ttl_seconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 3600, default: 900 })),
            max_hold_points: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object(
            { token: Type.String(), expires_at: Type.String({ format: 'date-time' }) },
            { additionalProperties: false, description: "The token: give it to the customer's page." },
          ),
          ...commonErrors,
          404: problem('No such shop (shop_not_found).'),
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const shop = opts.orders.shop(b.shop_id);
      if (!shop) throw new GatewayError('shop_not_found', `No shop ${b.shop_id}.`);
      return reply.code(201).send(await opts.tokens.mint(shop, b.customer, b.ttl_seconds ?? 900, b.max_hold_points));
    },
  );
}
