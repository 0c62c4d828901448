import Type from 'typebox';
import { ConnectionIdSetting } from '../domain/fields.js';

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_BALANCE_CACHE_MS = 2000;
const DEFAULT_CURRENCY = 'EUR';

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
  // Per request.
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 25_000, default: DEFAULT_TIMEOUT_MS })),
  rateLimit: Type.Optional(
    Type.Object(
      {
        requests: Type.Integer({ minimum: 1, maximum: 100_000 }),
        perSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }),
        marginMs: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 10_000,
            default: 50,
            description:
              'How much the delay from sending to arrival may vary: a request counts for one window plus this.',
          }),
        ),
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
  balanceCacheMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 300_000, default: DEFAULT_BALANCE_CACHE_MS })),
};

/** A credential: kept out of logs, messages and GET /v1/connections (the descriptor names which settings are). */
export const Secret = Type.String({ minLength: 1, maxLength: 4096 });

/** What every provider connection's settings hold, whatever its kind. */
export interface ProviderSettings {
  id: string;
  provider: string;
  baseUrl: string;
  timeoutMs?: number;
  rateLimit?: { requests: number; perSeconds: number; marginMs?: number };
  currency?: string;
  notifyCustomers?: boolean;
  balanceCacheMs?: number;
}

// The defaults, read in one place: settings that did not pass the start-up validation (an adapter made by a test
// or a tool) have not had the schema's defaults filled in.

/** How long one request to the provider may take. */
export const timeoutMsOf = (s: Pick<ProviderSettings, 'timeoutMs'>): number => s.timeoutMs ?? DEFAULT_TIMEOUT_MS;

/** The currency of the connection's money amounts. */
export const currencyOf = (s: Pick<ProviderSettings, 'currency'>): string => s.currency ?? DEFAULT_CURRENCY;

/** How long a balance read may be served from the cache (0: never). */
export const balanceCacheMsOf = (s: Pick<ProviderSettings, 'balanceCacheMs'>): number =>
  s.balanceCacheMs ?? DEFAULT_BALANCE_CACHE_MS;
