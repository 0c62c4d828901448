import type { Movement } from '../adapter.js';
import { defaultGate, type ProviderDescriptor } from '../descriptor.js';
import { LoyaltyltAdapter } from './loyaltylt-adapter.js';
import { POINTS_CARD } from './mapping.js';
import { type LoyaltyltSettings, LoyaltyltSettingsSchema } from './settings.js';

/** deduct-points (adjust −N, expire) has no order_id to de-duplicate on. */
const isDeduction = (m: Movement): boolean => m.operation === 'expire' || (m.operation === 'adjust' && m.quantity < 0);

/** Loyalty.lt Shop API, the `/{locale}/shop/...` generation (README.md beside this file has every choice made). */
export const loyaltylt: ProviderDescriptor<LoyaltyltSettings> = {
  kind: 'loyaltylt',
  name: 'Loyalty.lt',
  settings: LoyaltyltSettingsSchema,
  secrets: ['apiKey', 'apiSecret'],
  // The documented limit, per API key.
  defaultRateLimit: { requests: 300, perSeconds: 60 },
  cardTypes: [POINTS_CARD],
  // transactions/create de-duplicates on order_id (= Movement.dedupKey): sending it again applies it once, or
  // answers 409, which the adapter turns into success when the order is found on the card. A deduction's
  // description carries [lgw:<txn id>] instead, so it is looked up.
  reconcile: (m) => (isDeduction(m) ? 'lookup' : 'resend'),
  create: (settings, gate) => new LoyaltyltAdapter(settings, gate ?? defaultGate(loyaltylt, settings)),
};
