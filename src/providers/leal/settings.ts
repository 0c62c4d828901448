import Type, { type Static } from 'typebox';
import { providerSettings, Secret } from '../settings.js';

export const LealSettingsSchema = Type.Object(
  { ...providerSettings, provider: Type.Literal('leal'), token: Secret, accountId: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

export type LealSettings = Static<typeof LealSettingsSchema>;
