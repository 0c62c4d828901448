import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import { strictAjv, fieldErrors } from '../lib/schema-check.js';
import { ConfigError } from './env.js';

/**
 * The connections file: which providers the gateway talks to. Each entry is
 * `{ "id": "...", "provider": "<kind>", ...settings }`. A provider kind brings its own
 * settings schema (below): ledger, highlight, coupontools, leal and loyaltylt.
 */

export const ConnectionIdSchema = Type.String({
  pattern: '^[a-z][a-z0-9_-]{0,31}$',
  description: 'Lower-case letters, digits, "_" and "-", starting with a letter; at most 32 characters.',
});

const TierSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    minPoints: Type.Integer({ minimum: 0, maximum: 1e12 }),
  },
  { additionalProperties: false },
);

export const LedgerConnectionSchema = Type.Object(
  {
    id: ConnectionIdSchema,
    provider: Type.Literal('ledger'),
    /** Expiry of awarded points that carry no expires_at of their own. */
    pointsExpiry: Type.Optional(
      Type.Union([
        Type.Literal('never'),
        Type.Object({ days: Type.Integer({ minimum: 1, maximum: 36500 }) }, { additionalProperties: false }),
      ]),
    ),
    /** Tiers by lifetime points earned, lowest first. */
    tiers: Type.Optional(Type.Array(TierSchema, { minItems: 1, maxItems: 20 })),
  },
  { additionalProperties: false },
);

export type LedgerConnection = Static<typeof LedgerConnectionSchema>;

/** Settings every external provider connection has. */
const external = {
  id: ConnectionIdSchema,
  baseUrl: Type.String({
    pattern: '^https?://[^\\s]+$',
    description: 'The provider API root, e.g. https://api.highlightcards.co.uk/api/v2',
  }),
  // Per request; a request holds its rate-limit slot at most this long (src/queue/rate-limiter.ts).
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
  /** How long a balance read may be served from the cache; every write the gateway makes to the card ends it. 0: never cached. */
  balanceCacheMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 300_000, default: 2000 })),
};
const Secret = Type.String({ minLength: 1, maxLength: 4096 });

const HighlightTemplateSchema = Type.Object(
  {
    mechanics: Type.Union([
      Type.Literal('stamps'),
      Type.Literal('visit'),
      Type.Literal('spend'),
      Type.Literal('points'),
    ]),
    limits: Type.Optional(Type.Boolean({ description: 'Membership with limits: visits can be subtracted.' })),
  },
  { additionalProperties: false },
);

export const HighlightConnectionSchema = Type.Object(
  {
    ...external,
    provider: Type.Literal('highlight'),
    apiKey: Secret,
    /** Per-template mechanics, which the API does not expose: template id → mechanics. */
    templates: Type.Optional(Type.Record(Type.String({ pattern: '^[0-9]+$' }), HighlightTemplateSchema)),
    /** How long a card's type is cached, in seconds. */
    cardTypeCacheSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
  },
  { additionalProperties: false },
);

export const CoupontoolsConnectionSchema = Type.Object(
  { ...external, provider: Type.Literal('coupontools'), apiKey: Secret, apiSecret: Secret },
  { additionalProperties: false },
);

export const LealConnectionSchema = Type.Object(
  { ...external, provider: Type.Literal('leal'), token: Secret, accountId: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

export const LoyaltyltConnectionSchema = Type.Object(
  {
    ...external,
    provider: Type.Literal('loyaltylt'),
    apiKey: Secret,
    apiSecret: Secret,
    locale: Type.Optional(
      Type.Union([Type.Literal('lt'), Type.Literal('en')], {
        description: "The locale path segment; it sets the language of the provider's messages. Default en.",
      }),
    ),
    shopId: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export type HighlightConnection = Static<typeof HighlightConnectionSchema>;
export type CoupontoolsConnection = Static<typeof CoupontoolsConnectionSchema>;
export type LealConnection = Static<typeof LealConnectionSchema>;
export type LoyaltyltConnection = Static<typeof LoyaltyltConnectionSchema>;
export type ExternalConnection = HighlightConnection | CoupontoolsConnection | LealConnection | LoyaltyltConnection;
export type ConnectionConfig = LedgerConnection | ExternalConnection;

/** Provider kinds this build knows, each with its settings schema and its secret settings. */
export const PROVIDER_KINDS = {
  ledger: { schema: LedgerConnectionSchema, secrets: [] as string[] },
  highlight: { schema: HighlightConnectionSchema, secrets: ['apiKey'] },
  coupontools: { schema: CoupontoolsConnectionSchema, secrets: ['apiKey', 'apiSecret'] },
  leal: { schema: LealConnectionSchema, secrets: ['token'] },
  loyaltylt: { schema: LoyaltyltConnectionSchema, secrets: ['apiKey', 'apiSecret'] },
} as const;

export type ProviderKind = keyof typeof PROVIDER_KINDS;

export const DEFAULT_CONNECTIONS: ConnectionConfig[] = [{ id: 'ledger', provider: 'ledger' }];

/** ISO 4217 currencies whose minor unit is not 1/100. */
const NOT_TWO_DECIMALS = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'PYG',
  'RWF',
  'UGX',
  'UYI',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
  'BHD',
  'IQD',
  'JOD',
  'KWD',
  'LYD',
  'OMR',
  'TND',
  'CLF',
  'UYW',
]);

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Fills `${VAR}` placeholders in every string of the parsed file. */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, where: string): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw new ConfigError(`CONNECTIONS_FILE: ${where}: environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, where ? `${where}.${k}` : k)]),
    );
  }
  return value;
}

const validators = Object.fromEntries(
  Object.entries(PROVIDER_KINDS).map(([kind, { schema }]) => [kind, strictAjv().compile(schema)]),
);

/** Validates a parsed connections document (an array, or `{ "connections": [...] }`). */
export function parseConnections(doc: unknown, env: NodeJS.ProcessEnv = process.env): ConnectionConfig[] {
  const list = Array.isArray(doc) ? doc : (doc as { connections?: unknown } | null)?.connections;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError('CONNECTIONS_FILE: must hold a non-empty array of connections, or {"connections": [...]}');
  }
  const seen = new Set<string>();
  return list.map((entry, index) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new ConfigError(`CONNECTIONS_FILE: connection #${index}: must be an object`);
    }
    const { id, provider } = entry as { id?: unknown; provider?: unknown };
    const name = typeof id === 'string' ? `connection "${id}"` : `connection #${index}`;
    if (typeof provider !== 'string' || !(provider in PROVIDER_KINDS)) {
      throw new ConfigError(
        `CONNECTIONS_FILE: ${name}: provider ${JSON.stringify(provider)} is not supported by this build (known: ${Object.keys(PROVIDER_KINDS).join(', ')})`,
      );
    }
    const filled = interpolate(entry, env, `${name}`);
    const validate = validators[provider]!;
    if (!validate(filled)) {
      const [first] = fieldErrors(validate.errors);
      const setting = first?.field.replace(/^\//, '').replace(/\//g, '.') ?? '';
      throw new ConfigError(`CONNECTIONS_FILE: ${name}: setting "${setting}" ${first?.message ?? 'is invalid'}`);
    }
    const conn = filled as ConnectionConfig;
    const currency = (conn as { currency?: string }).currency;
    if (currency !== undefined && NOT_TWO_DECIMALS.has(currency)) {
      // Money is handled with 2 decimals; a currency with other minor units is refused rather than mis-scaled.
      throw new ConfigError(
        `CONNECTIONS_FILE: ${name}: setting "currency" ${currency} does not have 2 decimal places, which is all this build handles`,
      );
    }
    if (seen.has(conn.id)) throw new ConfigError(`CONNECTIONS_FILE: ${name}: id is used by an earlier connection`);
    seen.add(conn.id);
    return conn;
  });
}

export function loadConnections(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ConnectionConfig[] {
  if (file === undefined) return DEFAULT_CONNECTIONS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `CONNECTIONS_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // Only the position: the parser's message quotes the text around the error, which may be a secret.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new ConfigError(
      `CONNECTIONS_FILE: ${file} is not valid JSON${at !== undefined ? ` (at character ${at})` : ''}`,
    );
  }
  return parseConnections(doc, env);
}

/** A connection's settings without its secrets, for GET /v1/connections. */
export function publicSettings(conn: ConnectionConfig): Record<string, unknown> {
  const secrets = new Set<string>(PROVIDER_KINDS[conn.provider].secrets);
  const { id: _id, provider: _provider, ...settings } = conn;
  return Object.fromEntries(Object.entries(settings).filter(([k]) => !secrets.has(k)));
}

/**
 * The rate limit a connection's requests are held to: its `rateLimit` setting, else the
 * provider's documented limit (Highlight 10 requests per second, Loyalty.lt 300 per minute per
 * API key); null when the provider documents none (Coupontools; Leal, which says how much is left
 * in its RateLimit-* headers).
 */
export function rateLimitOf(conn: ExternalConnection): { requests: number; perSeconds: number } | null {
  if (conn.rateLimit) return conn.rateLimit;
  switch (conn.provider) {
    case 'highlight':
      return { requests: 10, perSeconds: 1 };
    case 'loyaltylt':
      return { requests: 300, perSeconds: 60 };
    case 'coupontools':
    case 'leal':
      return null;
  }
}
