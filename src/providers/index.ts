import { coupontools } from './coupontools/index.js';
import type { ProviderDescriptor } from './descriptor.js';
import { highlight } from './highlight/index.js';
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
