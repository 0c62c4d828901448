import Type from 'typebox';
import type { Unit } from './units.js';

/** What a card that holds points takes: the points transactions, their reversal, and reads of both. */
export const POINTS_OPERATIONS = ['award', 'redeem', 'adjust', 'expire', 'reverse', 'balance', 'history'] as const;

/** Normalized operations a connection (and a card on it) can support. */
export const OPERATIONS = [
  ...POINTS_OPERATIONS,
  'issue_card',
  'get_card',
  'list_cards',
  'delete_card',
  'block_card',
  'void_card',
  'visit',
  'purchase',
  'refund_purchase',
  'rewards',
  'redeem_reward',
  'redeem_coupon',
  'notify',
  'customers',
  'delete_customer',
  'programs',
  'copy_program',
] as const;
export type Operation = (typeof OPERATIONS)[number];

/** What a card, a card type or a whole connection supports, as the API shows it. */
export interface Capabilities {
  operations: Operation[];
  units: Unit[];
  native_unit?: Unit;
  /** Absent: an adjust goes either way in every unit; else the units it can add to and take from. */
  adjust?: AdjustDirections;
  card_types?: { card_type: string; operations: Operation[]; units: Unit[]; native_unit: Unit }[];
}

/** The units an adjustment can add to and take from (a card type may move some units one way only). */
export interface AdjustDirections {
  add: Unit[];
  subtract: Unit[];
}

/** What one of a provider's card types supports: a row of its capability table. */
export interface CardTypeCapabilities {
  /** The provider's card type name, lower case (stamp, cashback, ...; `points` when there is one kind). */
  cardType: string;
  operations: Operation[];
  units: Unit[];
  /** The unit of award/redeem when the request names none. */
  nativeUnit: Unit;
  /** Absent: adjust goes both ways in every unit it supports. */
  adjust?: AdjustDirections;
}

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
    adjust: Type.Optional(
      Type.Object(
        {
          add: Type.Array(Type.String(), { description: 'Units a positive adjustment can add to.' }),
          subtract: Type.Array(Type.String(), { description: 'Units a negative adjustment can take from.' }),
        },
        {
          additionalProperties: false,
          description:
            'Where a card moves some units one way only (a membership card with limits only takes visits away): ' +
            'the directions an adjustment can take. Absent: both ways in every unit.',
        },
      ),
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
