import Type, { type Static } from 'typebox';
import { ConnectionId, CustomerId, GATEWAY_ID_PATTERN, Metadata, Nullable, pageQuery } from './fields.js';

/** A customer's personal data, as the gateway normalizes it across providers. */
const NAME = '^[^\\u0000-\\u001f\\u007f]+$';

export const CustomerFields = {
  first_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: NAME })),
  last_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: NAME })),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{4,32}$', maxLength: 32 })),
  birthday: Type.Optional(Type.String({ format: 'date' })),
};

export const CustomerResourceSchema = Type.Object(
  {
    id: CustomerId,
    connection: ConnectionId,
    reference: Type.String({ description: "The provider's own customer id." }),
    first_name: Nullable(Type.String()),
    last_name: Nullable(Type.String()),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    birthday: Nullable(Type.String({ description: 'YYYY-MM-DD.' })),
    external_reference: Nullable(
      Type.String({ description: 'Your id for this customer, where the provider keeps one.' }),
    ),
    metadata: Nullable(Metadata),
    card_ids: Type.Array(Type.String(), {
      description: "The customer's cards on this connection, where the provider lists them with the customer.",
    }),
    created_at: Nullable(Type.String({ format: 'date-time' })),
    updated_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { title: 'CustomerRecord', additionalProperties: false },
);

export type CustomerResource = Static<typeof CustomerResourceSchema>;

export const CreateCustomerBody = Type.Object(
  {
    connection: { ...ConnectionId, description: 'The connection (provider account) to create the customer on.' },
    ...CustomerFields,
    external_reference: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[^\\u0000-\\u001f\\u007f]+$',
        description: 'Your id for the customer (Highlight externalUserId, Leal external reference).',
      }),
    ),
    metadata: Type.Optional(Metadata),
    program_id: Type.Optional(
      Type.String({
        pattern: GATEWAY_ID_PATTERN,
        maxLength: 233,
        description:
          'Also enrol the customer in this program (Leal card_id; Coupontools loyalty card, where a customer is a ' +
          'card user).',
      }),
    ),
  },
  {
    title: 'CreateCustomerRequest',
    additionalProperties: false,
    examples: [{ connection: 'hl', first_name: 'Grace', last_name: 'Hopper', email: 'grace@example.com' }],
  },
);
export type CreateCustomerBody = Static<typeof CreateCustomerBody>;

export const UpdateCustomerBody = Type.Object(
  { ...CustomerFields, metadata: Type.Optional(Metadata) },
  {
    title: 'UpdateCustomerRequest',
    additionalProperties: false,
    minProperties: 1,
    examples: [{ phone: '+44 20 7946 0000' }],
  },
);
export type UpdateCustomerBody = Static<typeof UpdateCustomerBody>;

export const CustomerListQuery = Type.Object(
  {
    connection: ConnectionId,
    search: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Name, email, phone or card, as far as the provider can search.',
      }),
    ),
    email: Type.Optional(Type.String({ maxLength: 254 })),
    phone: Type.Optional(Type.String({ maxLength: 32 })),
    external_reference: Type.Optional(Type.String({ maxLength: 128 })),
    ...pageQuery(20),
  },
  { additionalProperties: false },
);
export type CustomerListQuery = Static<typeof CustomerListQuery>;

/** Page-number pagination, as every provider pages that way. */
export const PageMeta = Type.Object(
  {
    page: Type.Integer({ minimum: 1 }),
    per_page: Type.Integer({ minimum: 1 }),
    total: Nullable(Type.Integer({ minimum: 0, description: 'Null when the provider does not say.' })),
    has_more: Type.Boolean(),
  },
  { title: 'PageMeta', additionalProperties: false },
);
export type PageMeta = Static<typeof PageMeta>;
