import Type, { type Static } from 'typebox';
import { providerSettings, Secret } from '../settings.js';

const TemplateSchema = Type.Object(
  {
    mechanics: Type.Union([
      Type.Literal('stamps'),
      Type.Literal('visit'),
      Type.Literal('spend'),
      Type.Literal('points'),
    ]),
    limits: Type.Optional(Type.Boolean({ description: 'Membership with limits: visits can be subtracted.' })),
  },
  { additionalProperties: false },
);

export const HighlightSettingsSchema = Type.Object(
  {
    ...providerSettings,
    provider: Type.Literal('highlight'),
    apiKey: Secret,
    /** Per-template mechanics, which the API does not expose: template id → mechanics. */
    templates: Type.Optional(Type.Record(Type.String({ pattern: '^[0-9]+$' }), TemplateSchema)),
    /** How long a card's type is cached, in seconds. */
    cardTypeCacheSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
    // Two readings the documents leave open (docs/providers.md, "Readings to verify on a real account").
    cashbackPointsField: Type.Optional(
      Type.Union([Type.Literal('bonusBalance'), Type.Literal('balance')], {
        description:
          "The Card balance field that holds a cashback card's points (the other holds its cashback money). " +
          'Default bonusBalance.',
      }),
    ),
    transactionAmountCredit: Type.Optional(
      Type.Union([Type.Literal('amount'), Type.Literal('rate')], {
        description:
          "What add/subtract-transaction-amount move on a cashback card: the amount itself, or the amount times the template's " +
          'cashback rate (the change is then read from the card). Default amount.',
      }),
    ),
  },
  { additionalProperties: false },
);

export type HighlightSettings = Static<typeof HighlightSettingsSchema>;
