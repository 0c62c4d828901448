import Type, { type Static } from 'typebox';
import { fieldErrors, strictAjv } from '../lib/schema-check.js';

/**
 * Every environment variable the gateway reads. `.env.example` explains each one;
 * keep the two in step.
 */
export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  // One URL; or, with REDIS_CLUSTER, seed nodes of a Redis Cluster, comma-separated (`redis://h1:7000,redis://h2:7001`).
  REDIS_URL: Type.Optional(Type.String({ pattern: String.raw`^rediss?://[^,\s]+(\s*,\s*rediss?://[^,\s]+)*$` })),
  REDIS_CLUSTER: Type.Boolean({ default: false }),
  REDIS_SERVER_BIN: Type.String({ minLength: 1, default: 'redis-server' }),
  REDIS_APPENDFSYNC: Type.Union([Type.Literal('always'), Type.Literal('everysec')], { default: 'everysec' }),
  REDIS_KEY_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', default: 'lgw' }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 60000, default: 1000 }),
  DATA_DIR: Type.String({ minLength: 1, default: '.data' }),
  CONNECTIONS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  API_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  API_KEYS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  IDEMPOTENCY_TTL_HOURS: Type.Number({ exclusiveMinimum: 0, maximum: 8760, default: 24 }),
  IDEMPOTENCY_WAIT_MS: Type.Integer({ minimum: 0, maximum: 60000, default: 2000 }),
  EXPIRY_SWEEP_INTERVAL_SECONDS: Type.Integer({ minimum: 0, maximum: 86400, default: 60 }),
  CLIENT_RATE_LIMIT: Type.String({ pattern: '^[0-9]{1,9}/[1-9][0-9]{0,4}$', default: '0/1' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 104857600, default: 2097152 }),
  // Receiving a whole request (headers and body) may take this long; then 408 and the connection is closed.
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600000, default: 30000 }),
  // Dispatch to providers (src/dispatch/): see .env.example.
  ROLE: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')], { default: 'all' }),
  DISPATCH_WAIT_MS: Type.Integer({ minimum: 0, maximum: 120000, default: 10000 }),
  DISPATCH_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
  DISPATCH_BACKOFF_MS: Type.Integer({ minimum: 1, maximum: 600000, default: 500 }),
  DISPATCH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 16 }),
  RECONCILE_DEADLINE_HOURS: Type.Number({ minimum: 0, maximum: 720, default: 24 }),
  DISPATCH_LOCK_MS: Type.Integer({ minimum: 1000, maximum: 600000, default: 30000 }),
  DISPATCH_STALLED_INTERVAL_MS: Type.Integer({ minimum: 500, maximum: 600000, default: 15000 }),
  DISPATCH_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 0, maximum: 3600000, default: 30000 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, maximum: 600000, default: 10000 }),
  // GET /metrics also answers `Authorization: Bearer <METRICS_TOKEN>` (besides an admin key).
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
  // Provider audits on a schedule (src/services/audit/): every interval, the last interval, ending AUDIT_LAG ago.
  AUDIT_INTERVAL_SECONDS: Type.Integer({ minimum: 0, maximum: 31 * 86400, default: 3600 }),
  AUDIT_LAG_SECONDS: Type.Integer({ minimum: 0, maximum: 86400, default: 300 }),
  EVENTS_TTL_DAYS: Type.Number({ exclusiveMinimum: 0, maximum: 365, default: 30 }),
  // Webhooks out (src/webhooks/): see .env.example.
  WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60000, default: 15000 }),
  WEBHOOK_RETRY_SCHEDULE_SECONDS: Type.String({
    pattern: '^[0-9]{1,6}(,[0-9]{1,6}){0,19}$',
    default: '5,300,1800,7200,18000,36000,36000',
  }),
  WEBHOOK_DISABLE_AFTER_HOURS: Type.Number({ exclusiveMinimum: 0, maximum: 8760, default: 120 }),
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 200, default: 8 }),
});

export type Env = Static<typeof EnvSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The variables read as numbers, from the schema itself (its `type`), so a new one cannot be missed here. */
const typeOf = (name: string): unknown => (EnvSchema.properties as Record<string, { type?: unknown }>)[name]?.type;
const INTEGER_VARS = new Set(Object.keys(EnvSchema.properties).filter((n) => typeOf(n) === 'integer'));
const NUMBER_VARS = new Set(Object.keys(EnvSchema.properties).filter((n) => typeOf(n) === 'number'));
const BOOLEAN_VARS = new Set(Object.keys(EnvSchema.properties).filter((n) => typeOf(n) === 'boolean'));
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Reads and validates the environment. Empty strings count as unset. A wrong value
 * throws a ConfigError whose message names the variable.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = source[name];
    if (value === undefined || value.trim() === '') continue;
    if (INTEGER_VARS.has(name) || NUMBER_VARS.has(name)) {
      const n = Number(value.trim());
      if (!Number.isFinite(n) || (INTEGER_VARS.has(name) && !Number.isInteger(n))) {
        throw new ConfigError(`${name}: must be ${INTEGER_VARS.has(name) ? 'an integer' : 'a number'}, got "${value}"`);
      }
      raw[name] = n;
    } else if (BOOLEAN_VARS.has(name)) {
      const v = value.trim().toLowerCase();
      if (!TRUE.has(v) && !FALSE.has(v)) throw new ConfigError(`${name}: must be true or false, got "${value}"`);
      raw[name] = TRUE.has(v);
    } else {
      raw[name] = value.trim();
    }
  }
  const validate = strictAjv().compile(EnvSchema);
  if (!validate(raw)) {
    const [first] = fieldErrors(validate.errors);
    const name = first?.field.replace(/^\//, '') ?? 'environment';
    // REDIS_URL may hold a password: never echo it back.
    const shown = name === 'REDIS_URL' || name === 'METRICS_TOKEN' ? '' : ` (got "${String(raw[name])}")`;
    throw new ConfigError(`${name}: ${first?.message ?? 'is invalid'}${shown}`);
  }
  if (raw.API_KEYS !== undefined && raw.API_KEYS_FILE !== undefined) {
    throw new ConfigError('API_KEYS_FILE: set either API_KEYS or API_KEYS_FILE, not both');
  }
  const redisUrl = raw.REDIS_URL as string | undefined;
  if (raw.REDIS_CLUSTER === true && redisUrl === undefined) {
    throw new ConfigError(
      'REDIS_CLUSTER: needs REDIS_URL, the seed nodes of the cluster (the embedded Redis is a single server)',
    );
  }
  if (raw.REDIS_CLUSTER !== true && redisUrl?.includes(',')) {
    // Not echoed: it may hold a password.
    throw new ConfigError(
      'REDIS_URL: lists several servers; set REDIS_CLUSTER=true for a Redis Cluster (a single server takes one URL)',
    );
  }
  return raw as Env;
}
