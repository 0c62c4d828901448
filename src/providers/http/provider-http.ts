import { Pool, errors as undiciErrors } from 'undici';
import { type ErrorCode, ProviderError } from '../../domain/errors.js';
import { timeoutMsOf } from '../settings.js';
import type { RequestGate } from './request-gate.js';

/**
 * The HTTP client of one provider connection: one keep-alive undici pool, connect and request
 * timeouts, JSON in and out, the connection's rate-limit gate, and the hygiene every provider's
 * messages need before they reach an error (secrets scrubbed, control characters dropped, cut
 * short). Each adapter's client builds one with its provider's auth headers. Secrets live only in
 * `headers`, which are never logged and never put in an error message.
 *
 * Every request passes the connection's rate-limit gate (request-gate.ts): it acquires a slot
 * before it is sent and gives it back once its body is read or it failed.
 */

export interface ProviderHttpOptions {
  /** The connection's settings: its id (for messages), the API root and the request timeout. */
  connection: { id: string; baseUrl: string; timeoutMs?: number };
  /** The provider's name, for messages (e.g. "Highlight"). */
  provider: string;
  headers: Record<string, string>;
  /** Values that must never appear in a message (API keys, tokens): scrub() blanks them. */
  secrets: string[];
  /** The connection's rate-limit gate (the shared Redis limiter in a running gateway). */
  gate: RequestGate;
}

/** The client of a provider that authenticates with an API key and secret (`x-api-key`, `x-api-secret` headers). */
export function keyAndSecretHttp(
  connection: ProviderHttpOptions['connection'] & { apiKey: string; apiSecret: string },
  provider: string,
  gate: RequestGate,
): ProviderHttp {
  const { apiKey, apiSecret } = connection;
  return new ProviderHttp({
    connection,
    provider,
    headers: { 'x-api-key': apiKey, 'x-api-secret': apiSecret },
    secrets: [apiKey, apiSecret],
    gate,
  });
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body; undefined when empty; `invalidJson` is set when it could not be parsed. */
  body: unknown;
  invalidJson: boolean;
  text: string;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export class ProviderHttp {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly secrets: string[];
  /** The gate every request passes. */
  readonly gate: RequestGate;

  constructor(private readonly opts: ProviderHttpOptions) {
    this.gate = opts.gate;
    this.timeoutMs = timeoutMsOf(opts.connection);
    // Too short a "secret" would blank ordinary words out of messages.
    this.secrets = opts.secrets.filter((x) => x.length >= 4);
    const url = new URL(opts.connection.baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      // Enough sockets that a request which took its rate-limit slot never queues here: it counts from the
      // moment the slot was taken, so waiting for a socket would move its arrival past the limit's margin.
      connections: 256,
      connectTimeout: Math.min(this.timeoutMs, 5000),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 4000,
    });
  }

  /** "<Provider> (connection <id>) <METHOD> <path>": how every message names a call. */
  what(method: string, path: string): string {
    return `${this.opts.provider} (connection ${this.opts.connection.id}) ${method} ${path}`;
  }

  /**
   * A provider's message made fit for an error detail: the connection's secrets blanked (a
   * provider may echo request headers), control characters dropped, cut to `max` characters.
   */
  scrub(text: string, max = 300): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('[redacted]');
    out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
    return out.length > max ? `${out.slice(0, max)}…` : out;
  }

  /**
   * Sends one request. Throws ProviderError for network failures and timeouts only; statuses are the adapter's to map.
   */
  async request(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<HttpResult> {
    let fullPath = this.basePath + path;
    if (opts.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null) qs.append(k, String(v));
      const s = qs.toString();
      if (s) fullPath += `?${s}`;
    }
    const headers: Record<string, string> = { accept: 'application/json', ...this.opts.headers };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const write = method !== 'GET' && method !== 'HEAD';
    const what = this.what(method, path);
    await this.acquire(what);
    try {
      const res = await this.pool.request({
        method: method as 'GET',
        path: fullPath,
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.body.text();
      let body: unknown;
      let invalidJson = false;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          invalidJson = true;
        }
      }
      return { status: res.statusCode, headers: res.headers, body, invalidJson, text };
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string } };
      const code = e.code ?? e.cause?.code ?? '';
      if (CONNECT_FAILURES.has(code)) {
        throw new ProviderError('provider_unavailable', `${what}: could not connect to the provider.`, 'no', {
          retryAfter: '5',
        });
      }
      if (
        e.name === 'TimeoutError' ||
        e.name === 'AbortError' ||
        err instanceof undiciErrors.HeadersTimeoutError ||
        err instanceof undiciErrors.BodyTimeoutError
      ) {
        throw new ProviderError(
          'provider_timeout',
          `${what}: no answer within ${this.timeoutMs} ms.`,
          write ? 'unknown' : 'no',
        );
      }
      throw new ProviderError(
        'provider_unavailable',
        `${what}: the connection failed (${code || e.name}).`,
        write ? 'unknown' : 'no',
      );
    }
  }

  /** A slot at the gate. Whatever goes wrong here, nothing was sent: the error says applied 'no'. */
  private async acquire(what: string): Promise<void> {
    try {
      // A request waits at the gate at most its own timeout before it is refused (provider_rate_limited).
      return await this.gate.acquire(what, this.timeoutMs);
    } catch (err) {
      if (err instanceof ProviderError)
        throw err.applied === 'no' ? err : new ProviderError(err.code, err.message, 'no', err.extra);
      throw new ProviderError(
        'provider_unavailable',
        `${what}: the connection's rate-limit gate failed (${(err as Error).name}); nothing was sent.`,
        'no',
        { retryAfter: '1' },
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** Retry-After (seconds) of a response, as a header value for the gateway's own answer. */
export function retryAfterOf(res: HttpResult, fallbackSeconds = 1): string {
  const v = res.headers['retry-after'];
  const s = Array.isArray(v) ? v[0] : v;
  const n = s !== undefined ? Number(s) : NaN;
  if (Number.isFinite(n) && n >= 0) return String(Math.ceil(n));
  if (s !== undefined) {
    const at = Date.parse(s);
    if (Number.isFinite(at)) return String(Math.max(0, Math.ceil((at - Date.now()) / 1000)));
  }
  return String(fallbackSeconds);
}

/** What a 404 means for a call: which thing the provider does not have. */
export type NotFoundCode =
  | 'card_not_found'
  | 'customer_not_found'
  | 'program_not_found'
  | 'reward_not_found'
  | 'notification_not_found';

/**
 * The default mapping of an HTTP failure status to the gateway's codes; adapters refine it with
 * what their provider's body says (insufficient balance, duplicate...).
 */
export function mapStatus(
  res: HttpResult,
  what: string,
  notFound: NotFoundCode,
  message: string | null,
  write: boolean,
): ProviderError {
  const said = message ? `: ${message}` : '';
  if (res.status === 401 || res.status === 403) {
    return new ProviderError(
      'provider_auth_failed',
      `${what}: the provider refused the connection's credentials (HTTP ${res.status}).`,
      'no',
    );
  }
  if (res.status === 404) return new ProviderError(notFound, `${what}: not found at the provider${said}.`, 'no');
  if (res.status === 429) {
    return new ProviderError(
      'provider_rate_limited',
      `${what}: the provider's rate limit is reached; retry later.`,
      'no',
      { retryAfter: retryAfterOf(res) },
    );
  }
  if (res.status >= 500) {
    // A write may have been applied before the provider failed; a read cannot have applied anything.
    return new ProviderError(
      'provider_unavailable',
      `${what}: the provider failed (HTTP ${res.status}).`,
      write ? 'unknown' : 'no',
      { retryAfter: '5' },
    );
  }
  if (res.status === 409)
    return new ProviderError('duplicate_at_provider', `${what}: the provider reports a duplicate${said}.`, 'no');
  return new ProviderError('provider_rejected', `${what}: the provider refused it (HTTP ${res.status})${said}.`, 'no');
}

/** A 2xx body that is not what the provider documents. */
export function badResponse(what: string, why: string, write: boolean): ProviderError {
  return new ProviderError(
    'provider_bad_response',
    `${what}: the provider's answer could not be read (${why}).`,
    write ? 'unknown' : 'no',
  );
}

/** What `run` answers, or null when the provider says the thing is not there (`missing`): a read that finds nothing. */
export async function orNullIfMissing<T>(missing: ErrorCode, run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ProviderError && err.code === missing) return null;
    throw err;
  }
}
