import { ProviderError } from '../../domain/errors.js';
import {
  badResponse,
  type HttpResult,
  mapStatus,
  type NotFoundCode,
  ProviderHttp,
  type Query,
} from '../http/provider-http.js';
import type { RequestGate } from '../http/request-gate.js';
import type { HighlightSettings } from './settings.js';
import { errorMessageOf } from './wire.js';

/**
 * The HTTP client of one Highlight connection: `x-api-key` auth, every request through the
 * connection's rate-limit gate (Highlight allows 10 requests/second and answers 429 beyond), and
 * the mapping of error answers to gateway codes. The error body is undocumented: its `message` (or
 * error/detail/errors) is quoted, cut short and scrubbed of the key.
 */

export interface CallOptions {
  query?: Query;
  body?: unknown;
  /** What a 404 means for this call. */
  notFound: NotFoundCode;
  /** What a 409 means for this call (default duplicate_at_provider). */
  conflict?: 'customer_exists' | 'coupon_already_redeemed';
}

const INSUFFICIENT = /insufficient|not enough|exceeds?|greater than|more than|below zero|negative|too (few|low)/i;
const ALREADY_REDEEMED = /already\s+(been\s+)?(redeemed|used)/i;

export class HighlightClient {
  private readonly http: ProviderHttp;
  /** The connection id, for messages. */
  readonly connection: string;

  constructor(conn: HighlightSettings, gate: RequestGate) {
    this.connection = conn.id;
    this.http = new ProviderHttp({
      connection: conn,
      provider: 'Highlight',
      headers: { 'x-api-key': conn.apiKey },
      secrets: [conn.apiKey],
      gate,
    });
  }

  what(method: string, path: string): string {
    return this.http.what(method, path);
  }

  /** Sends one request; returns a 2xx answer or throws the mapped ProviderError. */
  async call(method: string, path: string, opts: CallOptions): Promise<HttpResult> {
    const what = this.what(method, path);
    const write = method !== 'GET';
    const res = await this.http.request(method, path, { query: opts.query, body: opts.body });
    if (res.status >= 200 && res.status < 300) {
      if (res.invalidJson) throw badResponse(what, 'not JSON', write);
      return res;
    }
    throw this.errorOf(res, what, write, opts);
  }

  /** The provider's message, short and without the key. */
  private messageOf(res: HttpResult): string | null {
    const raw = errorMessageOf(res.body);
    return raw ? this.http.scrub(raw, 200) : null;
  }

  private errorOf(res: HttpResult, what: string, write: boolean, opts: CallOptions): ProviderError {
    const message = this.messageOf(res);
    const said = message ? `: ${message}` : '';
    if (res.status === 409) {
      if (opts.conflict === 'customer_exists')
        return new ProviderError(
          'customer_exists',
          `${what}: Highlight already has this customer (same email or phone)${said}.`,
          'no',
        );
      if (opts.conflict === 'coupon_already_redeemed')
        return new ProviderError('coupon_already_redeemed', `${what}: the coupon was already redeemed${said}.`, 'no');
    }
    if (res.status === 400 || res.status === 409 || res.status === 422) {
      if (opts.conflict === 'coupon_already_redeemed' && message && ALREADY_REDEEMED.test(message)) {
        return new ProviderError('coupon_already_redeemed', `${what}: the coupon was already redeemed${said}.`, 'no');
      }
      if (res.status !== 409 && message && INSUFFICIENT.test(message)) {
        return new ProviderError('insufficient_points', `${what}: the card does not hold enough${said}.`, 'no');
      }
    }
    return mapStatus(res, what, opts.notFound, message, write);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
