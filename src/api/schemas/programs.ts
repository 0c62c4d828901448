import Type, { type Static } from 'typebox';
import { CardId, ConnectionId, GATEWAY_ID_PATTERN, Nullable } from './common.js';
import { PageMeta } from './customers.js';

export const UNITS = ['points', 'stamps', 'visits', 'scores', 'amount', 'rewards'] as const;
export type Unit = (typeof UNITS)[number];
export const UnitSchema = Type.Union(
  [
    Type.Literal('points'),
    Type.Literal('stamps'),
    Type.Literal('visits'),
    Type.Literal('scores'),
    Type.Literal('amount'),
    Type.Literal('rewards'),
  ],
  {
    description: "What a quantity counts. `amount` is money, in minor units (cents) of the connection's currency.",
  },
);

export const CapabilitiesSchema = Type.Object(
  {
    operations: Type.Array(Type.String(), {
      description: 'Normalized operations the card or connection supports.',
      examples: [['award', 'redeem', 'adjust', 'expire', 'reverse', 'balance', 'history']],
    }),
    units: Type.Array(Type.String(), { description: 'Units it counts in.', examples: [['points']] }),
    native_unit: Type.Optional(
      Type.String({ description: 'The unit of award and redeem when the request names none.', examples: ['points'] }),
    ),
    card_types: Type.Optional(
      Type.Array(
        Type.Object(
          {
            card_type: Type.String(),
            operations: Type.Array(Type.String()),
            units: Type.Array(Type.String()),
            native_unit: Type.String(),
          },
          { additionalProperties: false },
        ),
        { description: "For a connection: what each of the provider's card types supports." },
      ),
    ),
  },
  { title: 'Capabilities', additionalProperties: false },
);

export const ProgramId = Type.String({
  pattern: GATEWAY_ID_PATTERN,
  maxLength: 233,
  description: 'A program (Highlight template, Coupontools loyalty card, Leal card): `<connection id>:<provider id>`.',
  examples: ['hl:1'],
});

export const ProgramRewardSchema = Type.Object(
  {
    id: Type.String({ description: "The provider's reward (tier) id." }),
    name: Nullable(Type.String()),
    cost: Nullable(Type.Number({ description: 'What it costs, in `unit`.' })),
    unit: Nullable(UnitSchema),
    active: Nullable(Type.Boolean()),
  },
  { title: 'ProgramReward', additionalProperties: false },
);

export const ProgramSchema = Type.Object(
  {
    id: ProgramId,
    connection: ConnectionId,
    reference: Type.String(),
    name: Nullable(Type.String()),
    card_type: Type.String({
      description:
        "The provider's card type (stamp, cashback, multipass, coupon, discount, gift, membership, reward, points).",
      examples: ['stamp'],
    }),
    capabilities: CapabilitiesSchema,
    rewards: Type.Array(ProgramRewardSchema),
  },
  { title: 'Program', additionalProperties: false },
);
export type Program = Static<typeof ProgramSchema>;

export const ProgramList = Type.Object(
  { data: Type.Array(ProgramSchema), meta: PageMeta },
  { title: 'ProgramList', additionalProperties: false },
);

export const CopyProgramBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })) },
  { title: 'CopyProgramRequest', additionalProperties: false, examples: [{ name: 'Summer stamp card' }] },
);

/** A reward a card has earned (or used). */
export const EarnedRewardSchema = Type.Object(
  {
    id: Type.String({ description: 'What to pass as reward_id to redeem it.' }),
    name: Nullable(Type.String()),
    status: Type.Union([Type.Literal('available'), Type.Literal('used')]),
    cost: Nullable(Type.Number({ description: 'What redeeming it takes, in `unit` (Leal: stamps).' })),
    unit: Nullable(UnitSchema),
    count: Type.Integer({
      minimum: 0,
      description: 'How many of this reward are available (Highlight stamp cards count unused rewards).',
    }),
  },
  { title: 'EarnedReward', additionalProperties: false },
);
export type EarnedReward = Static<typeof EarnedRewardSchema>;

export const RewardList = Type.Object(
  { card_id: Type.String(), data: Type.Array(EarnedRewardSchema) },
  { title: 'RewardList', additionalProperties: false },
);

/** Money as a decimal string with its currency: never a float. */
export const MoneySchema = Type.Object(
  {
    amount: Type.String({
      pattern: '^(0|[1-9][0-9]{0,11})(\\.[0-9]{1,2})?$',
      description: 'Decimal string, at most 2 decimals, e.g. "10.50".',
      examples: ['10.50'],
    }),
    currency: Type.String({
      pattern: '^[A-Z]{3}$',
      description: "ISO 4217 code; must be the connection's currency.",
      examples: ['EUR'],
    }),
  },
  { title: 'Money', additionalProperties: false },
);
export type Money = Static<typeof MoneySchema>;

export const NotificationBody = Type.Object(
  {
    connection: ConnectionId,
    message: Type.String({
      minLength: 1,
      maxLength: 1000,
      pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]+$',
    }),
    card_ids: Type.Optional(
      Type.Array(CardId, {
        minItems: 1,
        maxItems: 1000,
        description: 'Only these cards; without it and without program_id, every card of the connection.',
      }),
    ),
    program_id: Type.Optional({ ...ProgramId, description: 'Every card of this program.' }),
    scheduled_at: Type.Optional(
      Type.String({ format: 'date-time', description: 'Send later, where the provider supports it (Highlight).' }),
    ),
  },
  {
    title: 'NotificationRequest',
    additionalProperties: false,
    examples: [{ connection: 'hl', program_id: 'hl:1', message: 'Double stamps this weekend!' }],
  },
);
export type NotificationBody = Static<typeof NotificationBody>;

export const NotificationSchema = Type.Object(
  {
    id: Nullable(Type.String({ description: "The provider's push id, where it gives one." })),
    connection: ConnectionId,
    message: Type.String(),
    recipients: Nullable(
      Type.Integer({ minimum: 0, description: 'How many cards it went to, where the provider says.' }),
    ),
    status: Type.String({ examples: ['sent', 'scheduled'] }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Notification', additionalProperties: false },
);
export type Notification = Static<typeof NotificationSchema>;
