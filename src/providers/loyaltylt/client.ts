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
import type { LoyaltyltSettings } from './settings.js';
import { check, Envelope } from './wire.js';

/**
 * The HTTP client of one Loyalty.lt connection: `X-API-Key` / `X-API-Secret` auth, the
 * `/{locale}/shop` prefix, every request through the connection's rate-limit gate, and the parsing of the three
 * error-body
 * generations the documents show into the gateway's error codes.
 */

export type NotFoundKind = 'card_not_found' | 'customer_not_found';

export interface CallOptions {
  query?: Query;
  body?: unknown;
  /** What a 404 means on this call. */
  notFound?: NotFoundKind;
}

/** What an error body says, whichever of the documented forms it takes. */
export interface ErrorBody {
  /** Numeric app code (1004, 1100, 1200, 1322), string code (VALIDATION_ERROR...) or nested legacy code. */
  appCode: number | string | null;
  message: string | null;
  /** `errors{field: [msgs]}` flattened to "field: msg". */
  fields: string[];
  /** Legacy `retry_after` (seconds) in the body. */
  retryAfter: number | null;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function parseErrorBody(body: unknown): ErrorBody {
  const o = isObj(body) ? body : {};
  const nested = isObj(o.error) ? o.error : null;
  const rawCode = nested?.code ?? o.code;
  const appCode = typeof rawCode === 'number' || typeof rawCode === 'string' ? rawCode : null;
  const message = str(nested?.message) ?? str(o.message) ?? str(o.error);
  const fields: string[] = [];
  if (isObj(o.errors)) {
    for (const [k, v] of Object.entries(o.errors)) {
      const msgs = Array.isArray(v)
        ? v.filter((m): m is string => typeof m === 'string')
        : typeof v === 'string'
          ? [v]
          : [];
      if (msgs.length > 0) fields.push(`${k}: ${msgs.join(' ')}`);
    }
  }
  const ra = nested?.retry_after ?? o.retry_after ?? (isObj(o.data) ? o.data.retry_after : undefined);
  const retryAfter =
    typeof ra === 'number' && Number.isFinite(ra) && ra >= 0
      ? ra
      : typeof ra === 'string' && /^\d+$/.test(ra)
        ? Number(ra)
        : null;
  return { appCode, message, fields, retryAfter };
}

/** Messages that say the balance is too low (English, and the Lithuanian "Nepakanka taškų"). */
export const INSUFFICIENT_RE = /insufficient|not enough|nepakanka|exceeds? (?:the )?(?:available )?balance/i;
const BLOCKED_RE = /blocked|inactive|deactivated|suspended|užblokuot|neaktyv/i;
/** A refusal of any status that names the card as blocked or inactive. */
const CARD_BLOCKED_RE = /card (?:is |has been )?(?:blocked|inactive|deactivated|suspended)/i;
/** "Turimi: 300 taškų", "available: 300", "has 300 points". */
const HOLDS_RE = /(?:turimi|turite|available|has|holds|balance)\D{0,20}(\d+)/i;

/** What the card holds, when the provider's insufficient-points message says. */
export function holdsOf(message: string): number | null {
  const m = HOLDS_RE.exec(message);
  return m ? Number(m[1]) : null;
}

/**
 * A numeric app code → the HTTP status it comes with (for `success:false` bodies on a 2xx).
 * Only the documented codes (1004, 1100, 1200, 1322) are read; any other failure is judged by its
 * HTTP status and message, never by codes a simulator happens to use.
 */
function statusOfCode(code: number | string | null, fallback: number): number {
  if (code === 1004) return 401;
  if (code === 1100) return 422;
  if (code === 1200) return 404;
  if (code === 1322) return 402;
  if (typeof code === 'number' && code >= 400 && code < 600) return code;
  return fallback;
}

export class LoyaltyltClient {
  private readonly http: ProviderHttp;
  private readonly prefix: string;

  constructor(conn: LoyaltyltSettings, gate: RequestGate) {
    this.http = keyAndSecretHttp(conn, 'Loyalty.lt', gate);
    this.prefix = `/${conn.locale ?? 'en'}/shop`;
  }

  what(method: string, path: string): string {
    return this.http.what(method, this.prefix + path);
  }

  /** Sends one call; answers the envelope of a 2xx `success: true`, throws ProviderError otherwise. */
  async call(method: 'GET' | 'POST', path: string, opts: CallOptions = {}): Promise<Envelope> {
    const write = method !== 'GET';
    const what = this.what(method, path);
    const res = await this.http.request(method, this.prefix + path, { query: opts.query, body: opts.body });
    if (res.status >= 200 && res.status < 300) {
      if (res.invalidJson || !check(Envelope, res.body))
        throw badResponse(what, res.invalidJson ? 'not JSON' : 'no {success, data} envelope', write);
      if (res.body.success) return res.body;
      const b = parseErrorBody(res.body);
      throw this.errorFor(res, statusOfCode(b.appCode, 422), what, write, opts.notFound ?? 'card_not_found');
    }
    throw this.errorFor(res, res.status, what, write, opts.notFound ?? 'card_not_found');
  }

  /** Maps a refusal to the gateway's codes. `status` is the HTTP status, or the one an app code implies. */
  errorFor(res: HttpResult, status: number, what: string, write: boolean, notFound: NotFoundKind): ProviderError {
    const b = parseErrorBody(res.body);
    const code = typeof b.appCode === 'string' ? b.appCode.toUpperCase() : b.appCode;
    const text = this.http.scrub([b.message, ...b.fields].filter((s): s is string => s !== null).join('; '), 400);
    const said = text ? `: ${text}` : '';
    if (
      status === 429 ||
      code === 'TRANSACTION_LIMIT_EXCEEDED' ||
      code === 'RATE_LIMIT_EXCEEDED' ||
      code === 'TOO_MANY_REQUESTS'
    ) {
      const header = res.headers['retry-after'] !== undefined;
      const retryAfter = header ? retryAfterOf(res) : String(Math.ceil(b.retryAfter ?? 1));
      return new ProviderError(
        'provider_rate_limited',
        `${what}: the provider's rate limit is reached; retry later${said}.`,
        'no',
        { retryAfter: retryAfter },
      );
    }
    if (status >= 500) {
      return new ProviderError(
        'provider_unavailable',
        `${what}: the provider failed (HTTP ${status}).`,
        write ? 'unknown' : 'no',
        { retryAfter: '5' },
      );
    }
    if (
      code === 'CARD_BLOCKED' ||
      code === 'CARD_INACTIVE' ||
      (status === 403 && BLOCKED_RE.test(text)) ||
      CARD_BLOCKED_RE.test(text)
    ) {
      return new ProviderError(
        'card_blocked',
        `${what}: the card is blocked or inactive at the provider${said}.`,
        'no',
      );
    }
    if (status === 401 || status === 403 || code === 1004) {
      return new ProviderError(
        'provider_auth_failed',
        `${what}: the provider refused the connection's credentials (HTTP ${status})${said}.`,
        'no',
      );
    }
    if (status === 402 || code === 1322) {
      return new ProviderError(
        'provider_rejected',
        `${what}: the provider's plan limit stops this call (HTTP ${status})${said}.`,
        'no',
      );
    }
    if (code === 'INSUFFICIENT_POINTS' || INSUFFICIENT_RE.test(text)) {
      const holds = holdsOf(text);
      const sentence = holds !== null ? ` The card holds ${holds} points.` : '';
      return new ProviderError(
        'insufficient_points',
        `${what}: the card does not hold enough points${said}.${sentence}`,
        'no',
        holds !== null ? { available: holds } : {},
      );
    }
    if (
      status === 404 ||
      code === 1200 ||
      code === 'CARD_NOT_FOUND' ||
      code === 'USER_NOT_FOUND' ||
      code === 'NOT_FOUND'
    ) {
      return new ProviderError(notFound, `${what}: not found at the provider${said}.`, 'no');
    }
    if (status === 409 || code === 'RESOURCE_ALREADY_EXISTS') {
      return new ProviderError('duplicate_at_provider', `${what}: the provider reports a duplicate${said}.`, 'no');
    }
    return new ProviderError(
      'provider_rejected',
      `${what}: the provider refused it (HTTP ${status}${code !== null ? `, code ${code}` : ''})${said}.`,
      'no',
    );
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
