import Type, { type Static } from 'typebox';
import { CardId, ConnectionId, Metadata, Nullable } from './common.js';

export const CapabilitiesSchema = Type.Object(
  {
    operations: Type.Array(Type.String(), { description: 'Normalized operations the card or connection supports.', examples: [['award', 'redeem', 'adjust', 'expire', 'reverse', 'balance', 'history']] }),
    units: Type.Array(Type.String(), { description: 'Units it counts in.', examples: [['points']] }),
  },
  { title: 'Capabilities', additionalProperties: false },
);

export const CustomerSchema = Type.Object(
  {
    first_name: Type.Optional(Type.String({ maxLength: 100 })),
    last_name: Type.Optional(Type.String({ maxLength: 100 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{4,32}$' })),
    birthday: Type.Optional(Type.String({ format: 'date' })),
  },
  { title: 'Customer', additionalProperties: false, examples: [{ first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' }] },
);

export const CardSchema = Type.Object(
  {
    id: CardId,
    connection: ConnectionId,
    reference: Type.String({ description: 'The provider\'s own card reference (the part after `<connection>:`).' }),
    status: Type.Union([Type.Literal('active'), Type.Literal('blocked')]),
    status_reason: Nullable(Type.String()),
    customer: Nullable(CustomerSchema),
    external_reference: Nullable(Type.String({ description: 'Your id for this card or customer; unique per connection.' })),
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
    connection: Type.Optional({ ...ConnectionId, description: 'Where to issue the card: a `ledger` connection. Default: the first ledger connection.' }),
    customer: Type.Optional(CustomerSchema),
    external_reference: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'Your id for this card (e.g. your customer id). Issuing again with the same one returns the existing card.' }),
    ),
    metadata: Type.Optional(Metadata),
  },
  { title: 'CreateCardRequest', additionalProperties: false, examples: [{ customer: { first_name: 'Ada', email: 'ada@example.com' }, external_reference: 'customer-42' }] },
);
export type CreateCardBody = Static<typeof CreateCardBody>;

export const UpdateCardBody = Type.Object(
  {
    status: Type.Union([Type.Literal('active'), Type.Literal('blocked')], { description: 'blocked: award and redeem are refused (403 card_blocked); adjust and expire still work.' }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { title: 'UpdateCardRequest', additionalProperties: false, examples: [{ status: 'blocked', reason: 'Reported lost' }] },
);
export type UpdateCardBody = Static<typeof UpdateCardBody>;

export const ConnectionSchema = Type.Object(
  {
    id: ConnectionId,
    provider: Type.String({ examples: ['ledger'] }),
    capabilities: CapabilitiesSchema,
    settings: Type.Record(Type.String(), Type.Unknown(), { description: 'The connection\'s settings, without secrets.' }),
  },
  { title: 'Connection', additionalProperties: false },
);

export const ConnectionList = Type.Object({ data: Type.Array(ConnectionSchema) }, { title: 'ConnectionList', additionalProperties: false });
