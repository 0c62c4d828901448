import Type, { type Static } from 'typebox';
import { providerSettings, Secret } from '../settings.js';

export const LoyaltyltSettingsSchema = Type.Object(
  {
    ...providerSettings,
    provider: Type.Literal('loyaltylt'),
    apiKey: Secret,
    apiSecret: Secret,
    locale: Type.Optional(
      Type.Union([Type.Literal('lt'), Type.Literal('en')], {
        description: "The locale path segment; it sets the language of the provider's messages. Default en.",
      }),
    ),
    shopId: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export type LoyaltyltSettings = Static<typeof LoyaltyltSettingsSchema>;
