import type { ErrorCode } from '../../domain/errors.js';
import { ProviderError } from '../../domain/errors.js';
import {
  badResponse,
  type HttpResult,
  keyAndSecretHttp,
  type ProviderHttp,
  type Query,
  retryAfterOf,
} from '../http/provider-http.js';
import type { RequestGate } from '../http/request-gate.js';
import type { CoupontoolsSettings } from './settings.js';
import { readError, type WireError } from './wire.js';

/**
 * HTTP for one Coupontools connection: `x-api-key` / `x-api-secret` headers (v4; v3's
 * X-Client-Id / X-Client-Secret are not sent), every request through the connection's rate-limit
 * gate, and the mapping
 * of failures. Coupontools v3 may answer a failure with HTTP 200 and
 * `{"status": {"status": "failed", ...}}`; v4's format is unknown, so any 2xx whose body says it
 * failed is treated as that failure.
 */

export type NotFoundCode = 'card_not_found' | 'customer_not_found' | 'program_not_found' | 'reward_not_found';

export interface CallOptions {
  query?: Query;
  body?: unknown;
  notFound: NotFoundCode;
  /** What a duplicate means here (create user → customer_exists). */
  duplicate?: 'customer_exists' | 'duplicate_at_provider';
  /** The call uses a reward: "already used / not available" → reward_not_available. */
  reward?: boolean;
}

const INSUFFICIENT = /insufficient|not enough|too few|balance too low|exceeds? (the )?(balance|available)/i;
const DUPLICATE = /already exists?|duplicate|already registered|already in use|is taken/i;
const NOT_FOUND = /not found|does not exist|doesn't exist|unknown (user|stat|loyalty|card|reward)|no such/i;
const REWARD_GONE =
  /already (been )?(used|redeemed|claimed)|not available|unavailable|not redeemable|not yet (earned|unlocked)/i;
/** v3 error codes: 1000 bad credentials, 101 expired account; 500–599 "<object> not found". */
const AUTH_CODES = new Set(['1000', '101']);

export class CoupontoolsClient {
  private readonly http: ProviderHttp;

  constructor(conn: CoupontoolsSettings, gate: RequestGate) {
    this.http = keyAndSecretHttp(conn, 'Coupontools', gate);
  }

  what(method: string, path: string): string {
    return this.http.what(method, path);
  }

  /** Sends one request and returns its parsed body; throws a mapped ProviderError on any failure. */
  async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: CallOptions): Promise<unknown> {
    return (await this.send(method, path, opts)).body;
  }

  /** Like call, with the response headers (pagination headers of user lists). */
  async send(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    opts: CallOptions,
  ): Promise<{ body: unknown; headers: HttpResult['headers'] }> {
    const write = method !== 'GET';
    const what = this.what(method, path);
    const res = await this.http.request(method, path, { query: opts.query, body: opts.body });
    if (res.status >= 200 && res.status < 300) {
      if (res.invalidJson) throw badResponse(what, 'the body is not JSON', write);
      const err = readError(res.body);
      if (err.failed) throw this.refusal(res, err, what, write, opts);
      return { body: res.body, headers: res.headers };
    }
    throw this.refusal(
      res,
      res.invalidJson ? { code: null, message: null, failed: true } : readError(res.body),
      what,
      write,
      opts,
    );
  }

  /** Maps a failure (an error status, or a 2xx whose body says failed) to the gateway's codes. */
  private refusal(res: HttpResult, err: WireError, what: string, write: boolean, opts: CallOptions): ProviderError {
    const message = err.message === null ? null : this.http.scrub(err.message);
    const said = message ? `: ${message}` : '';
    const text = `${err.code ?? ''} ${message ?? ''}`;
    const status = res.status;
    const ok = status >= 200 && status < 300;
    const httpNote = ok
      ? ` (HTTP ${status} with a failed status${err.code ? `, code ${err.code}` : ''})`
      : ` (HTTP ${status}${err.code ? `, code ${err.code}` : ''})`;
    const codeNum = err.code !== null && /^\d+$/.test(err.code) ? Number(err.code) : null;

    if (status === 401 || status === 403 || (err.code !== null && AUTH_CODES.has(err.code))) {
      return new ProviderError(
        'provider_auth_failed',
        `${what}: the provider refused the connection's credentials${httpNote}.`,
        'no',
      );
    }
    if (status === 429) {
      return new ProviderError(
        'provider_rate_limited',
        `${what}: the provider's rate limit is reached; retry later.`,
        'no',
        { retryAfter: retryAfterOf(res) },
      );
    }
    if (status >= 500) {
      return new ProviderError(
        'provider_unavailable',
        `${what}: the provider failed (HTTP ${status})${said}.`,
        write ? 'unknown' : 'no',
        { retryAfter: '5' },
      );
    }
    const fail = (code: ErrorCode, sentence: string): ProviderError =>
      new ProviderError(code, `${what}: ${sentence}${httpNote}${said}.`, 'no');
    if (
      opts.reward &&
      /reward/i.test(text) &&
      (NOT_FOUND.test(text) || /does not belong|not (owned|earned)/i.test(text))
    ) {
      return fail('reward_not_found', 'the card has no such reward');
    }
    if (status === 404 || (codeNum !== null && codeNum >= 500 && codeNum < 600) || NOT_FOUND.test(text)) {
      return fail(opts.notFound, 'not found at the provider');
    }
    if (INSUFFICIENT.test(text)) return fail('insufficient_points', 'the card does not hold enough');
    if (opts.reward && REWARD_GONE.test(text)) return fail('reward_not_available', 'the reward cannot be used');
    if (status === 409 || DUPLICATE.test(text))
      return fail(opts.duplicate ?? 'duplicate_at_provider', 'the provider reports a duplicate');
    return fail('provider_rejected', 'the provider refused it');
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
