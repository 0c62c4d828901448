import Type, { type Static } from 'typebox';
import { CapabilitiesSchema } from './capabilities.js';
import { CardId, ConnectionId, CustomerId, Metadata, Nullable, ProgramId } from './fields.js';

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
          'active: usable. blocked: blocked through the gateway. inactive: not usable at the provider (not ' +
          'installed, deactivated). expired, voided: ended at the provider.',
      },
    ),
    status_reason: Nullable(Type.String()),
    card_type: Type.String({
      description:
        "The provider's card type: points (the built-in ledger), stamp, cashback, multipass, coupon, discount, " +
        'gift, membership, reward.',
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
          'Your id for this card or customer. Built-in ledger: issuing again with the same one returns the ' +
          "existing card. Leal: the customer's external reference (a customer that has it is reused). " +
          "Highlight: the new customer's externalUserId. Refused where the provider cannot keep it.",
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
