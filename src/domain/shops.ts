import Type from 'typebox';
import { CardId, ConnectionIdSetting, Nullable, OneOf } from './fields.js';
import { TransactionStatusSchema } from './transactions.js';

/**
 * Shops: e-commerce stores whose order webhooks the gateway turns into awards and reversals
 * (POST /v1/hooks/<platform>/<shop id>), configured in the connections file beside the connections.
 */

export const PLATFORMS = ['shopify', 'woocommerce'] as const;
export type Platform = (typeof PLATFORMS)[number];

const Decimal = Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' });

export const ShopSettingsSchema = Type.Object(
  {
    id: { ...ConnectionIdSetting, description: 'The shop id, in the hook URL: /v1/hooks/<platform>/<id>.' },
    platform: OneOf(PLATFORMS),
    secret: Type.String({
      minLength: 8,
      maxLength: 512,
      description:
        "The platform's webhook signing secret (Shopify app secret, WooCommerce webhook secret), best as a placeholder filled from the environment.",
    }),
    connection: { ...ConnectionIdSetting, description: 'The connection whose cards earn the points.' },
    program_id: Type.Optional(
      Type.String({ maxLength: 200, description: 'For enroll on a provider connection: the program to issue on.' }),
    ),
    currency: Type.Optional(
      Type.String({
        pattern: '^[A-Z]{3}$',
        description: "The shop's currency; default the connection's `currency`. Orders in another are ignored.",
      }),
    ),
    earn: Type.Object(
      {
        pointsPerUnit: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1_000_000,
          description: 'Points per 1 of the currency (1.00 EUR).',
        }),
        basis: OneOf(['subtotal', 'total'] as const, {
          description: 'subtotal: after discounts, before shipping and taxes; total: what the customer paid.',
        }),
        rounding: OneOf(['floor', 'round'] as const),
        minOrder: Type.Optional({ ...Decimal, description: 'No points below this amount (the basis).' }),
      },
      { additionalProperties: false },
    ),
    pendingDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 365,
        description:
          "The return window: an order's points are pending this many days (a refund or cancellation inside it " +
          'takes them off before the customer could spend them), then awarded by themselves.',
      }),
    ),
    publishableKey: Type.Optional(
      Type.String({
        pattern: '^pk_[A-Za-z0-9_]{8,100}$',
        description: 'For customer tokens: the key a storefront page sends (safe to publish), naming the shop.',
      }),
    ),
    allowedOrigins: Type.Optional(
      Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$' }), {
        maxItems: 50,
        description: 'Origins (scheme://host[:port]) whose pages may call /v1/me (CORS).',
      }),
    ),
    tokenSecrets: Type.Optional(
      Type.Array(
        Type.Object(
          { kid: Type.String({ minLength: 1, maxLength: 64 }), secret: Type.String({ minLength: 32, maxLength: 512 }) },
          { additionalProperties: false },
        ),
        {
          minItems: 1,
          maxItems: 4,
          description: 'HS256 secrets customer tokens are signed with, by kid (two at once while rotating).',
        },
      ),
    ),
    enroll: Type.Optional(
      Type.Boolean({
        description: "A customer without a link gets a card on the shop's connection, linked, at their first order.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ShopSettings = Type.Static<typeof ShopSettingsSchema>;

export const LinkSchema = Type.Object(
  {
    id: Type.String({ examples: ['lnk_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
    shop_id: Type.String(),
    shop_customer_id: Nullable(Type.String()),
    email: Nullable(Type.String()),
    card_id: CardId,
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Link', additionalProperties: false },
);
export type Link = Type.Static<typeof LinkSchema>;

export const ORDER_STATUSES = [
  'received',
  'pending',
  'awarded',
  'reversed',
  'partially_reversed',
  'unmatched',
  'ignored',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const OrderSchema = Type.Object(
  {
    id: Type.String({ description: '`<shop id>:<order id>`.', examples: ['demo:5001'] }),
    shop_id: Type.String(),
    order_id: Type.String(),
    name: Nullable(Type.String({ description: "The platform's order name or number." })),
    status: OneOf(ORDER_STATUSES, {
      description:
        'received: recorded, not yet processed; pending: its points wait for the end of the return window ' +
        '(`activates_at`); awarded; partially_reversed (refunds); reversed (refunded in full, ' +
        'or cancelled); unmatched (no card for its customer: link one, then replay); ignored (`reason` says why).',
    }),
    reason: Nullable(Type.String({ description: 'Why it is unmatched or ignored.' })),
    customer: Type.Object(
      { shop_customer_id: Nullable(Type.String()), email: Nullable(Type.String()) },
      { additionalProperties: false },
    ),
    card_id: Nullable(CardId),
    currency: Nullable(Type.String()),
    basis_amount: Nullable({ ...Decimal, description: 'The amount points are earned on (subtotal or total).' }),
    refunded_amount: { ...Decimal, description: 'Refunds so far, in the basis.' },
    points: Type.Integer({ description: 'Points earned by the order (0 when none).' }),
    points_reversed: Type.Integer({
      description: 'Taken back by refunds and cancellation (off the pending points, or reversed).',
    }),
    activates_at: Nullable(
      Type.String({ format: 'date-time', description: 'With a return window: when the pending points are awarded.' }),
    ),
    paid: Type.Boolean(),
    cancelled: Type.Boolean(),
    transactions: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          kind: OneOf(['award', 'refund', 'cancel'] as const),
          points: Type.Integer(),
          status: TransactionStatusSchema,
          refund_id: Nullable(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Order', additionalProperties: false },
);
export type Order = Type.Static<typeof OrderSchema>;
