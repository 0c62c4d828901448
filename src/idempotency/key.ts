import { GatewayError } from '../domain/errors.js';
import { sha256 } from '../lib/hash.js';
import type { KeySpace } from '../redis/keys.js';
import type { IdempotencyScope } from '../store/transaction-store.js';

/**
 * Reads an Idempotency-Key header (IETF draft-ietf-httpapi-idempotency-key-header). The draft
 * makes the value a structured-field string ("4f1c..."); most clients send it bare. Both name
 * the same key. Returns undefined when the header is absent.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header))
    throw new GatewayError('invalid_idempotency_key', 'Send one Idempotency-Key header, not several.');
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) {
    key = key.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }
  if (key.trim().length === 0)
    throw new GatewayError('invalid_idempotency_key', 'The Idempotency-Key header is empty.');
  if (key.length > 255)
    throw new GatewayError('invalid_idempotency_key', 'The Idempotency-Key is longer than 255 characters.');
  if (!/^[\x20-\x7e]+$/.test(key)) {
    throw new GatewayError('invalid_idempotency_key', 'The Idempotency-Key may hold only printable ASCII characters.');
  }
  return key;
}

/** JSON with object keys sorted, so that the same body always gives the same fingerprint. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** What makes two requests "the same request" for an Idempotency-Key: method, path and body. */
export function fingerprint(method: string, path: string, body: unknown): string {
  return sha256(`${method} ${path}\n${canonicalJson(body ?? null)}`);
}

/** Who asks, and with what: what an Idempotency-Key is judged on. */
export interface WriteRequest {
  /** The API key's client id: keys are per client. */
  clientId: string;
  idempotencyKey?: string;
  /** Method and path of the request, for the fingerprint. */
  method: string;
  path: string;
  /** The body as received, for the fingerprint. */
  body: unknown;
}

/**
 * The idempotency record a request's key names, and the request's fingerprint; undefined without
 * a key. `suffix` names one part of a request (a bulk's item i is "<key>#i").
 */
export function scopeOf(keys: KeySpace, req: WriteRequest, suffix = ''): IdempotencyScope | undefined {
  if (req.idempotencyKey === undefined) return undefined;
  return {
    key: keys.idempotency(req.clientId, sha256(req.idempotencyKey + suffix)),
    fingerprint: fingerprint(req.method, req.path, req.body),
  };
}
