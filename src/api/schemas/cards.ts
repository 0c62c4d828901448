import Type, { type Static } from 'typebox';
import { CapabilitiesSchema } from '../../domain/capabilities.js';
import { CardSchema } from '../../domain/cards.js';
import { PageMeta } from '../../domain/customers.js';
import {
  ConnectionId,
  CustomerId,
  Metadata,
  Points,
  ProgramId,
  pageQuery,
  Reason,
  ReferenceId,
  Staff,
} from '../../domain/fields.js';
import { EarnedRewardSchema } from '../../domain/programs.js';
import { MoneySchema } from '../../domain/units.js';

export const UpdateCardBody = Type.Object(
  {
    status: Type.Union([Type.Literal('active'), Type.Literal('blocked'), Type.Literal('voided')], {
      description:
        'Built-in ledger: blocked refuses award and redeem (403 card_blocked); adjust and expire still work. ' +
        "Coupontools: voided voids the user's card at the provider (it cannot be undone).",
    }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  {
    title: 'UpdateCardRequest',
    additionalProperties: false,
    examples: [{ status: 'voided', reason: 'Reported lost' }],
  },
);
export type UpdateCardBody = Static<typeof UpdateCardBody>;

export const ConnectionSchema = Type.Object(
  {
    id: ConnectionId,
    provider: Type.String({ examples: ['highlight'] }),
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
          'The reward to redeem (from GET /v1/cards/{card_id}/rewards). Highlight stamp cards redeem one earned ' +
          'reward without it.',
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
    examples: [{ reward_id: '71', reason: 'Free coffee' }],
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

export const RewardList = Type.Object(
  { card_id: Type.String(), data: Type.Array(EarnedRewardSchema) },
  { title: 'RewardList', additionalProperties: false },
);
