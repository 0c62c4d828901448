import Type from 'typebox';
import { CardId, ConnectionId, Nullable, OneOf, Points, ReferenceId } from './fields.js';
import { UnitSchema } from './units.js';

/** Holds at checkout: points reserved while a customer pays (src/services/holds/). */

export const HOLD_STATUSES = ['active', 'captured', 'released', 'expired'] as const;

export const HoldSchema = Type.Object(
  {
    id: Type.String({ examples: ['hld_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
    card_id: CardId,
    connection: ConnectionId,
    points: Type.Integer({ description: 'Held, in `unit`.' }),
    unit: UnitSchema,
    reference_id: ReferenceId,
    status: OneOf(HOLD_STATUSES, {
      description:
        'active: the points are held (out of `available`, shown as `held`); captured: redeemed (`captured_points`, ' +
        'the rest given back); released or expired: all given back.',
    }),
    expires_at: Type.String({ format: 'date-time', description: 'An active hold past this releases itself.' }),
    captured_points: Nullable(Type.Integer()),
    redemption_id: Type.String({ description: 'The redemption that holds the points (a transaction).' }),
    release_id: Nullable(Type.String({ description: 'The reversal that gave points back, when any were.' })),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Hold', additionalProperties: false },
);
export type Hold = Type.Static<typeof HoldSchema>;

export const CreateHoldBody = Type.Object(
  {
    card_id: CardId,
    points: Points,
    unit: Type.Optional(UnitSchema),
    reference_id: {
      ...ReferenceId,
      description: 'The checkout (cart, payment intent): one hold per card and reference.',
    },
    ttl_seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 604_800, default: 900, description: 'How long it holds (at most 7 days).' }),
    ),
  },
  { additionalProperties: false, examples: [{ card_id: 'lt:100-000-101', points: 50, reference_id: 'cart-1001' }] },
);

export const CaptureHoldBody = Type.Object(
  { points: Type.Optional({ ...Points, description: 'Capture part of it (the rest is given back); default all.' }) },
  { additionalProperties: false },
);
