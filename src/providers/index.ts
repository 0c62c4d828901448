import { coupontools } from './coupontools/index.js';
import { rateLimitOf as limitOf, type ProviderDescriptor } from './descriptor.js';
import { highlight } from './highlight/index.js';
import type { RateLimitSetting } from './http/request-gate.js';
import { leal } from './leal/index.js';
import { loyaltylt } from './loyaltylt/index.js';

/**
 * Every provider this build can connect to: one descriptor each (src/providers/<kind>/index.ts).
 * Adding a provider is its folder and one line here; nothing else names provider kinds.
 */
export const PROVIDERS = [highlight, coupontools, leal, loyaltylt] as const;

/** The settings of a provider connection, whichever provider it is. */
export type ProviderConnectionSettings = Parameters<(typeof PROVIDERS)[number]['create']>[0];

/** The descriptor of a provider kind, or undefined when this build has none. */
export function descriptorOf(kind: string): ProviderDescriptor | undefined {
  return (PROVIDERS as readonly ProviderDescriptor[]).find((d) => d.kind === kind);
}

/**
 * The rate limit a connection's requests are held to: its `rateLimit` setting, else its provider's
 * documented limit (Highlight 10 per second, Loyalty.lt 300 per minute per API key); null when the
 * provider documents none (Coupontools; Leal, which says how much is left in its RateLimit-* headers).
 */
export function rateLimitOf(settings: ProviderConnectionSettings): RateLimitSetting | null {
  const d = descriptorOf(settings.provider);
  return d ? limitOf(d, settings) : (settings.rateLimit ?? null);
}
