import Type, { type Static } from 'typebox';
import { OneOf } from './fields.js';

export const UNITS = ['points', 'stamps', 'visits', 'scores', 'amount', 'rewards'] as const;

export type Unit = (typeof UNITS)[number];

export const UnitSchema = OneOf(UNITS, {
  description: "What a quantity counts. `amount` is money, in minor units (cents) of the connection's currency.",
});

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
