import Type, { type Static } from 'typebox';
import { CapabilitiesSchema } from './capabilities.js';
import { ConnectionId, Nullable, ProgramId } from './fields.js';
import { UnitSchema } from './units.js';

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
