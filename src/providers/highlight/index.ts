import { defaultGate, type ProviderDescriptor } from '../descriptor.js';
import { HighlightAdapter } from './highlight-adapter.js';
import { CARD_TYPES, programCapabilities, typeCapabilities } from './mapping.js';
import { type HighlightSettings, HighlightSettingsSchema } from './settings.js';

/** Highlight Cards API v2 (README.md beside this file has the operation table and every choice made). */
export const highlight: ProviderDescriptor<HighlightSettings> = {
  kind: 'highlight',
  name: 'Highlight',
  settings: HighlightSettingsSchema,
  secrets: ['apiKey'],
  // Highlight's documented limit; it answers 429 beyond.
  defaultRateLimit: { requests: 10, perSeconds: 1 },
  cardTypes: CARD_TYPES.map(typeCapabilities),
  // Every balance call carries `[lgw:<txnId>]` in its comment: an unknown outcome is found in GET /operations.
  reconcile: () => 'lookup',
  programCapabilities,
  // A new customer's externalUserId; an existing customer's is not changed by issuing a card.
  keepsExternalReference: ({ newCustomer, existingCustomer }) => newCustomer && !existingCustomer,
  create: (settings, gate) => new HighlightAdapter(settings, gate ?? defaultGate(highlight, settings)),
};
