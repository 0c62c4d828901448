import Type, { type Static } from 'typebox';
import { CardId, ConnectionId, Metadata, Nullable, Points, Reason, ReferenceId, Staff } from './common.js';
import { CustomerId, PageMeta, pageQuery } from './customers.js';
import { CapabilitiesSchema, MoneySchema, ProgramId } from './programs.js';

export { CapabilitiesSchema };

export const CustomerSchema = Type.Object(
  {
    first_name: Type.Optional(Type.String({ maxLength: 100 })),
    last_name: Type.Optional(Type.String({ maxLength: 100 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{4,32}$' })),
    birthday: Type.Optional(Type.String({ format: 'date' })),
  },
  {
    title: 'Customer',
    additionalProperties: false,
    examples: [{ first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' }],
  },
);

export const CardSchema = Type.Object(
  {
    id: CardId,
    connection: ConnectionId,
    reference: Type.String({ description: "The provider's own card reference (the part after `<connection>:`)." }),
    status: Type.Union(
      [
        Type.Literal('active'),
        Type.Literal('blocked'),
        Type.Literal('inactive'),
        Type.Literal('expired'),
        Type.Literal('voided'),
      ],
      {
        description:
          'active: usable. blocked: blocked through the gateway. inactive: not usable at the provider (not installed, deactivated). expired, voided: ended at the provider.',
      },
    ),
    status_reason: Nullable(Type.String()),
    card_type: Type.String({
      description:
        "The provider's card type: points (the built-in ledger), stamp, cashback, multipass, coupon, discount, gift, membership, reward.",
      examples: ['points'],
    }),
    program_id: Nullable(Type.String({ description: 'The program (template, loyalty card) the card belongs to.' })),
    customer_id: Nullable(
      Type.String({ description: 'The provider customer holding the card, as a gateway customer id.' }),
    ),
    provider_status: Nullable(Type.String({ description: 'The status exactly as the provider gave it.' })),
    links: Nullable(
      Type.Record(Type.String(), Type.String(), {
        description: 'Wallet and install links the provider gives (apple, google, install...).',
      }),
    ),
    customer: Nullable(CustomerSchema),
    external_reference: Nullable(
      Type.String({ description: 'Your id for this card or customer; unique per connection.' }),
    ),
    metadata: Nullable(Metadata),
    capabilities: CapabilitiesSchema,
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Card', additionalProperties: false },
);
export type Card = Static<typeof CardSchema>;

export const CreateCardBody = Type.Object(
  {
    connection: Type.Optional({
      ...ConnectionId,
      description: 'Where to issue the card. Default: the first ledger connection.',
    }),
    customer_id: Type.Optional({
      ...CustomerId,
      description: 'An existing provider customer (`<connection>:<id>`) to issue the card to (external providers).',
    }),
    program_id: Type.Optional({
      ...ProgramId,
      description: 'The program (template, loyalty card) to issue (external providers).',
    }),
    customer: Type.Optional(CustomerSchema),
    external_reference: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[^\\u0000-\\u001f\\u007f]+$',
        description:
          "Your id for this card or customer. Built-in ledger: issuing again with the same one returns the existing card. Leal: the customer's external reference (a customer that has it is reused). Highlight: the new customer's externalUserId. Refused where the provider cannot keep it.",
      }),
    ),
    metadata: Type.Optional(Metadata),
  },
  {
    title: 'CreateCardRequest',
    additionalProperties: false,
    examples: [{ customer: { first_name: 'Ada', email: 'ada@example.com' }, external_reference: 'customer-42' }],
  },
);
export type CreateCardBody = Static<typeof CreateCardBody>;

export const UpdateCardBody = Type.Object(
  {
    status: Type.Union([Type.Literal('active'), Type.Literal('blocked'), Type.Literal('voided')], {
      description:
        "Built-in ledger: blocked refuses award and redeem (403 card_blocked); adjust and expire still work. Coupontools: voided voids the user's card at the provider (it cannot be undone).",
    }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  {
    title: 'UpdateCardRequest',
    additionalProperties: false,
    examples: [{ status: 'blocked', reason: 'Reported lost' }],
  },
);
export type UpdateCardBody = Static<typeof UpdateCardBody>;

export const ConnectionSchema = Type.Object(
  {
    id: ConnectionId,
    provider: Type.String({ examples: ['ledger'] }),
    capabilities: CapabilitiesSchema,
    settings: Type.Record(Type.String(), Type.Unknown(), {
      description: "The connection's settings, without secrets.",
    }),
  },
  { title: 'Connection', additionalProperties: false },
);

export const ConnectionList = Type.Object(
  { data: Type.Array(ConnectionSchema) },
  { title: 'ConnectionList', additionalProperties: false },
);

const opFields = {
  reason: Type.Optional(Reason),
  reference_id: Type.Optional(ReferenceId),
  staff: Type.Optional(Staff),
  metadata: Type.Optional(Metadata),
};

export const VisitBody = Type.Object(
  { visits: Type.Optional({ ...Points, description: 'How many visits (default 1).' }), ...opFields },
  {
    title: 'VisitRequest',
    additionalProperties: false,
    examples: [{ visits: 1, reason: 'Visit at the Soho shop', reference_id: 'visit-2026-11-22-17' }],
  },
);

export const PurchaseBody = Type.Object(
  { amount: MoneySchema, ...opFields },
  {
    title: 'PurchaseRequest',
    additionalProperties: false,
    examples: [{ amount: { amount: '24.90', currency: 'EUR' }, reason: 'Order #1001', reference_id: 'order-1001' }],
  },
);

export const RedeemRewardBody = Type.Object(
  {
    reward_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[A-Za-z0-9_.:-]+$',
        description:
          'The reward to redeem (from GET /v1/cards/{card_id}/rewards). Highlight stamp cards redeem one earned reward without it.',
      }),
    ),
    value: Type.Optional({
      ...MoneySchema,
      description: "What the reward is worth: Highlight adds it to the customer's lifetime value (purchaseSum).",
    }),
    ...opFields,
  },
  {
    title: 'RedeemRewardRequest',
    additionalProperties: false,
    examples: [{ reward_id: '71', value: { amount: '3.50', currency: 'EUR' }, reason: 'Free coffee' }],
  },
);

export const CouponRedeemBody = Type.Object(
  {
    value: Type.Optional({ ...MoneySchema, description: 'What the coupon was worth (Highlight purchaseSum).' }),
    ...opFields,
  },
  {
    title: 'CouponRedeemRequest',
    additionalProperties: false,
    examples: [{ value: { amount: '5.00', currency: 'EUR' }, reason: 'Coupon used at till 3' }],
  },
);

export const CardListQuery = Type.Object(
  {
    connection: ConnectionId,
    customer_id: Type.Optional(CustomerId),
    program_id: Type.Optional(ProgramId),
    ...pageQuery(20),
  },
  { additionalProperties: false },
);

export const CardList = Type.Object(
  { data: Type.Array(CardSchema), meta: PageMeta },
  { title: 'CardList', additionalProperties: false },
);
