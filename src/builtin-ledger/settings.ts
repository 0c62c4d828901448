import Type, { type Static } from 'typebox';
import { ConnectionIdSetting } from '../domain/fields.js';

const TierSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    minPoints: Type.Integer({ minimum: 0, maximum: 1e12 }),
  },
  { additionalProperties: false },
);

/** A connection of `provider: "ledger"`: the gateway keeps the points itself. */
export const BuiltinLedgerSettingsSchema = Type.Object(
  {
    id: ConnectionIdSetting,
    provider: Type.Literal('ledger'),
    /** Expiry of awarded points that carry no expires_at of their own. */
    pointsExpiry: Type.Optional(
      Type.Union([
        Type.Literal('never'),
        Type.Object({ days: Type.Integer({ minimum: 1, maximum: 36500 }) }, { additionalProperties: false }),
      ]),
    ),
    /** Tiers by lifetime points earned, lowest first. */
    tiers: Type.Optional(Type.Array(TierSchema, { minItems: 1, maxItems: 20 })),
  },
  { additionalProperties: false },
);

export type BuiltinLedgerSettings = Static<typeof BuiltinLedgerSettingsSchema>;
