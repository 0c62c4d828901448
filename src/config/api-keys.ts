import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './env.js';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiClient {
  /** A stable, non-secret id for the key: scopes idempotency keys and appears in logs. */
  id: string;
  scopes: ReadonlySet<Scope>;
}

/** Keys are looked up by their SHA-256, so the raw key is kept nowhere but in the config. */
export type ApiKeyTable = ReadonlyMap<string, ApiClient>;

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

const KEY_PATTERN = /^[A-Za-z0-9_.~-]{8,256}$/;

/**
 * Parses `<key>:<scope>+<scope>` entries, separated by commas or new lines
 * (`#` starts a comment in a keys file). `admin` implies `read` and `write`.
 */
export function parseApiKeys(text: string, source: 'API_KEYS' | 'API_KEYS_FILE'): ApiKeyTable {
  const table = new Map<string, ApiClient>();
  const entries = text
    .split(/[,\n]/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
  if (entries.length === 0) throw new ConfigError(`${source}: holds no key`);
  entries.forEach((entry, index) => {
    const colon = entry.lastIndexOf(':');
    const key = colon === -1 ? entry : entry.slice(0, colon);
    const scopeText = colon === -1 ? '' : entry.slice(colon + 1);
    // Never echo a key back: name the entry by its position.
    if (!KEY_PATTERN.test(key)) {
      throw new ConfigError(`${source}: entry ${index + 1}: key must be 8 to 256 characters of A-Z a-z 0-9 _ . ~ -`);
    }
    const scopes = scopeText.split('+').map((s) => s.trim());
    for (const s of scopes) {
      if (!(SCOPES as readonly string[]).includes(s)) {
        throw new ConfigError(
          `${source}: entry ${index + 1}: scope "${s}" is not one of ${SCOPES.join(', ')} (write entries as ` +
            `<key>:<scope>+<scope>)`,
        );
      }
    }
    const set = new Set(scopes as Scope[]);
    if (set.has('admin')) set.add('read').add('write');
    const digest = hashKey(key);
    if (table.has(digest)) throw new ConfigError(`${source}: entry ${index + 1}: the same key appears twice`);
    table.set(digest, { id: `key_${digest.slice(0, 12)}`, scopes: set });
  });
  return table;
}

export interface LoadedKeys {
  table: ApiKeyTable;
  /** Set only on the start that generated the key, so that it is printed once. */
  generated?: { key: string; file: string };
}

/** API_KEYS, else API_KEYS_FILE, else the admin key kept in the data folder (made on first start). */
export function loadApiKeys(opts: { apiKeys?: string; apiKeysFile?: string; dataDir: string }): LoadedKeys {
  if (opts.apiKeys !== undefined) return { table: parseApiKeys(opts.apiKeys, 'API_KEYS') };
  if (opts.apiKeysFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.apiKeysFile, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `API_KEYS_FILE: cannot read ${opts.apiKeysFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    return { table: parseApiKeys(text, 'API_KEYS_FILE') };
  }
  const file = join(opts.dataDir, 'admin-api-key');
  if (existsSync(file)) {
    return { table: parseApiKeys(`${readFileSync(file, 'utf8').trim()}:admin`, 'API_KEYS_FILE') };
  }
  const key = `lgw_${randomBytes(24)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, '')}`;
  mkdirSync(opts.dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { table: parseApiKeys(`${key}:admin`, 'API_KEYS'), generated: { key, file } };
}
