import Type, { type Static } from 'typebox';
import { providerSettings, Secret } from '../settings.js';

/** The field of a Leal reward that holds its stamp cost: the documents leave it open (see README.md). */
export const REWARD_COST_FIELDS = ['stamps_required', 'stamps_cost'] as const;
export type RewardCostField = (typeof REWARD_COST_FIELDS)[number];
export const DEFAULT_REWARD_COST_FIELD: RewardCostField = 'stamps_required';

export const LealSettingsSchema = Type.Object(
  {
    ...providerSettings,
    provider: Type.Literal('leal'),
    token: Secret,
    accountId: Type.Integer({ minimum: 1 }),
    rewardCostField: Type.Optional(
      Type.Enum([...REWARD_COST_FIELDS], {
        default: DEFAULT_REWARD_COST_FIELD,
        description:
          "The reward field that holds a reward's stamp cost. Default stamps_required (Leal's SDK types); " +
          'stamps_cost for an account that answers so.',
      }),
    ),
  },
  { additionalProperties: false },
);

export type LealSettings = Static<typeof LealSettingsSchema>;
