import Type from 'typebox';
import { ConnectionIdSetting } from '../domain/fields.js';

/**
 * The settings every provider connection has; each provider's settings schema
 * (src/providers/<kind>/settings.ts) spreads these and adds its own credentials.
 */
export const providerSettings = {
  id: ConnectionIdSetting,
  baseUrl: Type.String({
    pattern: '^https?://[^\\s]+$',
    description: 'The provider API root, e.g. https://api.highlightcards.co.uk/api/v2',
  }),
  // Per request; a request holds its rate-limit slot at most this long (src/dispatch/rate-limiter.ts).
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 25_000, default: 10_000 })),
  rateLimit: Type.Optional(
    Type.Object(
      {
        requests: Type.Integer({ minimum: 1, maximum: 100_000 }),
        perSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }),
      },
      { additionalProperties: false },
    ),
  ),
  currency: Type.Optional(
    Type.String({
      pattern: '^[A-Z]{3}$',
      description: 'The currency of money amounts on this connection (ISO 4217, one with 2 decimals). Default EUR.',
    }),
  ),
  /** Whether card operations notify the customer (push, wallet update) where the provider lets the caller choose. */
  notifyCustomers: Type.Optional(Type.Boolean()),
  /**
   * How long a balance read may be served from the cache; every write the gateway makes to the card ends it. 0: never
   * cached.
   */
  balanceCacheMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 300_000, default: 2000 })),
};

/** A credential: kept out of logs, messages and GET /v1/connections (the descriptor names which settings are). */
export const Secret = Type.String({ minLength: 1, maxLength: 4096 });

/** What every provider connection's settings hold, whatever its kind. */
export interface ProviderSettings {
  id: string;
  provider: string;
  baseUrl: string;
  timeoutMs?: number;
  rateLimit?: { requests: number; perSeconds: number };
  currency?: string;
  notifyCustomers?: boolean;
  balanceCacheMs?: number;
}
