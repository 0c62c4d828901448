import Type, { type Static } from 'typebox';
import { providerSettings, Secret } from '../settings.js';

export const CoupontoolsSettingsSchema = Type.Object(
  { ...providerSettings, provider: Type.Literal('coupontools'), apiKey: Secret, apiSecret: Secret },
  { additionalProperties: false },
);

export type CoupontoolsSettings = Static<typeof CoupontoolsSettingsSchema>;
