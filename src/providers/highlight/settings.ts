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
  },
  { additionalProperties: false },
);

export type HighlightSettings = Static<typeof HighlightSettingsSchema>;
