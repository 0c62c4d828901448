import { defaultGate, type ProviderDescriptor } from '../descriptor.js';
import { LealAdapter } from './leal-adapter.js';
import { STAMP_CARD } from './mapping.js';
import { type LealSettings, LealSettingsSchema } from './settings.js';

/** Leal (getleal.com) API v1: stamp cards (README.md beside this file has every choice made). */
export const leal: ProviderDescriptor<LealSettings> = {
  kind: 'leal',
  name: 'Leal',
  settings: LealSettingsSchema,
  secrets: ['token'],
  // None documented: Leal says how much is left in its RateLimit-* headers, which block the gate.
  defaultRateLimit: null,
  cardTypes: [STAMP_CARD],
  // Its stamp and redeem calls take no free text and are not de-duplicated: an unknown outcome cannot be checked.
  reconcile: () => 'none',
  // The customer's external reference.
  keepsExternalReference: () => true,
  create: (settings, gate) => new LealAdapter(settings, gate ?? defaultGate(leal, settings)),
};
