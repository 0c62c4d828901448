import { defaultGate, type ProviderDescriptor } from '../descriptor.js';
import { CoupontoolsAdapter } from './coupontools-adapter.js';
import { CARD_TYPES } from './mapping.js';
import { type CoupontoolsSettings, CoupontoolsSettingsSchema } from './settings.js';

/** Coupontools API v4 (README.md beside this file has the operation table and every choice made). */
export const coupontools: ProviderDescriptor<CoupontoolsSettings> = {
  kind: 'coupontools',
  name: 'Coupontools',
  settings: CoupontoolsSettingsSchema,
  secrets: ['apiKey', 'apiSecret'],
  // None documented.
  defaultRateLimit: null,
  cardTypes: CARD_TYPES,
  // Its writes carry no gateway id and are not de-duplicated: an unknown outcome cannot be checked (needs_review).
  reconcile: () => 'none',
  create: (settings, gate) => new CoupontoolsAdapter(settings, gate ?? defaultGate(coupontools, settings)),
};
