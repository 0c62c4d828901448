import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import { strictAjv, fieldErrors } from '../lib/schema-check.js';
import { ConfigError } from './env.js';

/**
 * The connections file: which providers the gateway talks to. Each entry is
 * `{ "id": "...", "provider": "<kind>", ...settings }`. A provider kind brings its own
 * settings schema (below); the Providers issue adds highlight, coupontools, leal and loyaltylt.
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
export type ConnectionConfig = LedgerConnection;

/** Provider kinds this build knows, each with its settings schema and its secret settings. */
export const PROVIDER_KINDS = {
  ledger: { schema: LedgerConnectionSchema, secrets: [] as string[] },
} as const;

export type ProviderKind = keyof typeof PROVIDER_KINDS;

export const DEFAULT_CONNECTIONS: ConnectionConfig[] = [{ id: 'ledger', provider: 'ledger' }];

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
    throw new ConfigError(`CONNECTIONS_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`CONNECTIONS_FILE: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConnections(doc, env);
}

/** A connection's settings without its secrets, for GET /v1/connections. */
export function publicSettings(conn: ConnectionConfig): Record<string, unknown> {
  const secrets = new Set<string>(PROVIDER_KINDS[conn.provider].secrets);
  const { id: _id, provider: _provider, ...settings } = conn;
  return Object.fromEntries(Object.entries(settings).filter(([k]) => !secrets.has(k)));
}
