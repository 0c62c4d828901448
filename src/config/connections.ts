import { readFileSync } from 'node:fs';
import type { TObject } from 'typebox';
import { type BuiltinLedgerSettings, BuiltinLedgerSettingsSchema } from '../builtin-ledger/settings.js';
import { type ShopSettings, ShopSettingsSchema } from '../domain/shops.js';
import { fieldErrors, strictAjv } from '../lib/schema-check.js';
import { PROVIDERS, type ProviderConnectionSettings } from '../providers/index.js';
import { ConfigError } from './env.js';

/**
 * The connections file: which providers the gateway talks to. Each entry is
 * `{ "id": "...", "provider": "<kind>", ...settings }`: `ledger` (the built-in points ledger,
 * src/builtin-ledger/settings.ts) or one of the providers this build has (src/providers/index.ts),
 * each with its own settings schema.
 */

export type ConnectionConfig = BuiltinLedgerSettings | ProviderConnectionSettings;

/** Every connection kind this build knows: its settings schema and the settings that are secrets. */
const KINDS: Record<string, { schema: TObject; secrets: readonly string[] }> = {
  ledger: { schema: BuiltinLedgerSettingsSchema, secrets: [] },
  ...Object.fromEntries(PROVIDERS.map((d) => [d.kind, { schema: d.settings, secrets: d.secrets }])),
};

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
  Object.entries(KINDS).map(([kind, { schema }]) => [kind, strictAjv().compile(schema)]),
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
    if (typeof provider !== 'string' || !Object.hasOwn(KINDS, provider)) {
      throw new ConfigError(
        `CONNECTIONS_FILE: ${name}: provider ${JSON.stringify(provider)} is not supported by this build (known: ` +
          `${Object.keys(KINDS).join(', ')})`,
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
        `CONNECTIONS_FILE: ${name}: setting "currency" ${currency} does not have 2 decimal places, which is all ` +
          `this build handles`,
      );
    }
    if (seen.has(conn.id)) throw new ConfigError(`CONNECTIONS_FILE: ${name}: id is used by an earlier connection`);
    seen.add(conn.id);
    return conn;
  });
}

export function loadConnections(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ConnectionConfig[] {
  if (file === undefined) return DEFAULT_CONNECTIONS;
  return parseConnections(readConfigFile(file), env);
}

const validateShop = strictAjv().compile(ShopSettingsSchema);

/**
 * The shops of a connections document (`{"connections": [...], "shops": [...]}`; none when it has
 * none): each on a configured connection, ids unique, `${VAR}` filled (the secret).
 */
export function parseShops(
  doc: unknown,
  connections: ConnectionConfig[],
  env: NodeJS.ProcessEnv = process.env,
): ShopSettings[] {
  const list = Array.isArray(doc) ? undefined : (doc as { shops?: unknown } | null)?.shops;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new ConfigError('CONNECTIONS_FILE: "shops" must be an array');
  const seen = new Set<string>();
  return list.map((entry, index) => {
    const id = (entry as { id?: unknown } | null)?.id;
    const name = typeof id === 'string' ? `shop "${id}"` : `shop #${index}`;
    const filled = interpolate(entry, env, name);
    if (!validateShop(filled)) {
      const [first] = fieldErrors(validateShop.errors);
      const setting = first?.field.replace(/^\//, '').replace(/\//g, '.') ?? '';
      throw new ConfigError(`CONNECTIONS_FILE: ${name}: setting "${setting}" ${first?.message ?? 'is invalid'}`);
    }
    const shop = filled as ShopSettings;
    if (!connections.some((c) => c.id === shop.connection)) {
      throw new ConfigError(
        `CONNECTIONS_FILE: ${name}: setting "connection" names no configured connection (${shop.connection})`,
      );
    }
    if (seen.has(shop.id)) throw new ConfigError(`CONNECTIONS_FILE: ${name}: id is used by an earlier shop`);
    seen.add(shop.id);
    return shop;
  });
}

export function loadShops(
  file: string | undefined,
  connections: ConnectionConfig[],
  env: NodeJS.ProcessEnv = process.env,
): ShopSettings[] {
  return file === undefined ? [] : parseShops(readConfigFile(file), connections, env);
}

/** The connections file, parsed. */
function readConfigFile(file: string): unknown {
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
  return doc;
}

/** A connection's settings without its secrets, for GET /v1/connections. */
export function publicSettings(conn: ConnectionConfig): Record<string, unknown> {
  const secrets = new Set<string>(KINDS[conn.provider]?.secrets ?? []);
  const { id: _id, provider: _provider, ...settings } = conn;
  return Object.fromEntries(Object.entries(settings).filter(([k]) => !secrets.has(k)));
}
