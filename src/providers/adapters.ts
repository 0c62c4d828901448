import type { ExternalConnection } from '../config/connections.js';
import type { ProviderAdapter } from './adapter.js';
import { createCoupontoolsAdapter } from './coupontools/coupontools-adapter.js';
import { createHighlightAdapter } from './highlight/highlight-adapter.js';
import { createLealAdapter } from './leal/leal-adapter.js';
import { createLoyaltyltAdapter } from './loyaltylt/loyaltylt-adapter.js';

/** The adapter of each external provider kind. Adding a provider: a folder, a settings schema in config/connections.ts, a line here. */
export function createAdapter(conn: ExternalConnection): ProviderAdapter {
  switch (conn.provider) {
    case 'highlight':
      return createHighlightAdapter(conn);
    case 'coupontools':
      return createCoupontoolsAdapter(conn);
    case 'leal':
      return createLealAdapter(conn);
    case 'loyaltylt':
      return createLoyaltyltAdapter(conn);
  }
}
