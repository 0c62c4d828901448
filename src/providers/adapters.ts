import type { ExternalConnection } from '../config/connections.js';
import type { ProviderAdapter } from './adapter.js';
import type { RequestGate } from './http/request-gate.js';
import { createCoupontoolsAdapter } from './coupontools/coupontools-adapter.js';
import { createHighlightAdapter } from './highlight/highlight-adapter.js';
import { createLealAdapter } from './leal/leal-adapter.js';
import { createLoyaltyltAdapter } from './loyaltylt/loyaltylt-adapter.js';

/**
 * The adapter of each external provider kind. Adding a provider: a folder, a settings schema in
 * config/connections.ts, a line here. `gate` is the connection's rate-limit gate (the shared Redis
 * limiter in a running gateway): every request the adapter makes passes it. Without one, each
 * client keeps a local gate at rateLimitOf(conn).
 */
export function createAdapter(conn: ExternalConnection, gate?: RequestGate): ProviderAdapter {
  switch (conn.provider) {
    case 'highlight':
      return createHighlightAdapter(conn, gate);
    case 'coupontools':
      return createCoupontoolsAdapter(conn, gate);
    case 'leal':
      return createLealAdapter(conn, gate);
    case 'loyaltylt':
      return createLoyaltyltAdapter(conn, gate);
  }
}
