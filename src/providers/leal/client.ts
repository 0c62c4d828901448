import type { ErrorCode } from '../../domain/errors.js';
import { ProviderError } from '../../domain/errors.js';
import { badResponse, type HttpResult, ProviderHttp, type Query, retryAfterOf } from '../http/provider-http.js';
import type { RequestGate } from '../http/request-gate.js';
import type { LealSettings } from './settings.js';
import { readErrorMessage } from './wire.js';

/**
 * HTTP for one Leal connection: `Authorization: Bearer <token>`, every path under
 * `/accounts/{accountId}`, every request through the connection's rate-limit gate, the
 * RateLimit-* headers remembered from every answer (a spent window or a 429 blocks the gate, so
 * every process of the connection holds until it resets), and the mapping of Leal's failures
 * (`{error?, errors?}` bodies) to the gateway's codes.
 */

export type NotFoundCode = 'card_not_found' | 'customer_not_found' | 'program_not_found' | 'reward_not_found';

export interface CallOptions {
  query?: Query;
  body?: unknown;
  /**
   * What a 404 means here (Leal names what is missing in `error`; "Store/Account not found" is the connection's
   * accountId).
   */
  notFound: NotFoundCode;
  /** A 404 naming a reward is reward_not_found (redeem). */
  reward?: boolean;
  /** What "has already been taken" means here (customer create/update → customer_exists). */
  duplicate?: 'customer_exists' | 'duplicate_at_provider';
}

/** The last RateLimit-* headers Leal sent, for a queue that wants to slow down before a 429. */
export interface LealRateLimitState {
  limit: number | null;
  remaining: number | null;
  /** When the window resets (epoch ms), from RateLimit-Reset (delta seconds) or a 429's Retry-After. */
  resetAt: number | null;
  policy: string | null;
  /** Set after a 429: no request is sent before this time (epoch ms). */
  blockedUntil: number | null;
  observedAt: number | null;
}

const INSUFFICIENT = /not enough|insufficient|too few|enough stamps/i;
const INACTIVE = /inactive|not active|disabled|not available|unavailable|not redeemable/i;
const DUPLICATE = /already been taken|already taken|already exists|duplicate|is taken/i;
const STORE = /\b(store|account)\b/i;

const header = (res: HttpResult, name: string): string | null => {
  const v = res.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined ? null : s;
};
const intHeader = (res: HttpResult, name: string): number | null => {
  const s = header(res, name);
  const n = s === null ? NaN : Number(s);
  return Number.isFinite(n) && n >= 0 ? n : null;
};

export class LealClient {
  private readonly http: ProviderHttp;
  private readonly root: string;
  /** The connection's gate: Leal's RateLimit-* answers block it. */
  private readonly gate: RequestGate;
  private rl: LealRateLimitState = {
    limit: null,
    remaining: null,
    resetAt: null,
    policy: null,
    blockedUntil: null,
    observedAt: null,
  };

  constructor(
    private readonly conn: LealSettings,
    gate: RequestGate,
  ) {
    this.root = `/accounts/${conn.accountId}`;
    this.gate = gate;
    this.http = new ProviderHttp({
      connection: conn,
      provider: 'Leal',
      headers: { authorization: `Bearer ${conn.token}` },
      secrets: [conn.token],
      gate,
    });
  }

  what(method: string, path: string): string {
    return this.http.what(method, this.root + path);
  }

  rateLimitState(): LealRateLimitState {
    return { ...this.rl };
  }

  /**
   * Sends one request under /accounts/{accountId}; returns the 2xx body (parsed JSON), throws a mapped ProviderError
   * otherwise.
   */
  async call(method: 'GET' | 'POST' | 'PATCH', path: string, opts: CallOptions): Promise<unknown> {
    const write = method !== 'GET';
    const what = this.what(method, path);
    const res = await this.http.request(method, this.root + path, { query: opts.query, body: opts.body });
    await this.observe(res);
    if (res.status >= 200 && res.status < 300) {
      if (res.invalidJson) throw badResponse(what, 'the body is not JSON', write);
      return res.body;
    }
    throw this.refusal(res, what, write, opts);
  }

  private refusal(res: HttpResult, what: string, write: boolean, opts: CallOptions): ProviderError {
    const raw = res.invalidJson ? null : readErrorMessage(res.body);
    const message = raw === null ? null : this.http.scrub(raw);
    const said = message ? `: ${message}` : '';
    const text = message ?? '';
    const status = res.status;
    if (status === 401 || status === 403) {
      return new ProviderError(
        'provider_auth_failed',
        `${what}: Leal refused the connection's API token (HTTP ${status}).`,
        'no',
      );
    }
    if (status === 429) {
      return new ProviderError('provider_rate_limited', `${what}: Leal's rate limit is reached; retry later.`, 'no', {
        retryAfter: retryAfterOf(res),
      });
    }
    if (status >= 500) {
      return new ProviderError(
        'provider_unavailable',
        `${what}: Leal failed (HTTP ${status})${said}.`,
        write ? 'unknown' : 'no',
        { retryAfter: '5' },
      );
    }
    const fail = (code: ErrorCode, sentence: string): ProviderError =>
      new ProviderError(code, `${what}: ${sentence} (HTTP ${status})${said}.`, 'no');
    if (status === 404) {
      // The store itself is missing: the connection's accountId is wrong or not reachable with this token.
      if (STORE.test(text) && !/customer|reward|card/i.test(text)) {
        return fail(
          'provider_auth_failed',
          `Leal does not know store ${this.conn.accountId} (check the connection's accountId and token)`,
        );
      }
      if (opts.reward && /reward/i.test(text)) return fail('reward_not_found', 'the reward is not found at Leal');
      return fail(opts.notFound, 'not found at Leal');
    }
    if (status === 400 || status === 422) {
      if (INSUFFICIENT.test(text)) return fail('insufficient_points', 'the card does not hold enough stamps');
      if (opts.reward && INACTIVE.test(text)) return fail('reward_not_available', 'the reward cannot be redeemed now');
      if (DUPLICATE.test(text)) return fail(opts.duplicate ?? 'duplicate_at_provider', 'Leal reports a duplicate');
    }
    if (status === 409) return fail(opts.duplicate ?? 'duplicate_at_provider', 'Leal reports a duplicate');
    return fail('provider_rejected', 'Leal refused it');
  }

  /**
   * Records RateLimit-* (and a 429's Retry-After) from every answer, and blocks the connection's
   * gate when Leal says to hold: RateLimit-Remaining 0 until RateLimit-Reset (instead of sending a
   * request Leal would answer with 429), a 429 until its Retry-After. With a shared gate this holds
   * every process of the connection; a request that would wait longer than the timeout is refused
   * at the gate (provider_rate_limited, applied 'no', nothing sent).
   */
  private async observe(res: HttpResult): Promise<void> {
    const now = Date.now();
    const limit = intHeader(res, 'ratelimit-limit');
    const remaining = intHeader(res, 'ratelimit-remaining');
    const reset = intHeader(res, 'ratelimit-reset');
    const policy = header(res, 'ratelimit-policy');
    const seen = limit !== null || remaining !== null || reset !== null || policy !== null;
    if (seen) {
      // RateLimit-Reset is delta seconds (IETF draft); a value that looks like an epoch is taken as one.
      const resetAt = reset === null ? null : reset > 1e9 ? reset * 1000 : now + reset * 1000;
      this.rl = { ...this.rl, limit, remaining, resetAt, policy, observedAt: now };
    }
    let holdUntil: number | null = null;
    if (res.status === 429) {
      const until = now + Number(retryAfterOf(res)) * 1000;
      this.rl = {
        ...this.rl,
        remaining: 0,
        resetAt: Math.max(this.rl.resetAt ?? 0, until),
        blockedUntil: until,
        observedAt: now,
      };
      holdUntil = until;
    } else {
      if (res.status < 500) this.rl = { ...this.rl, blockedUntil: null };
      if (seen && remaining === 0 && this.rl.resetAt !== null && this.rl.resetAt > now) holdUntil = this.rl.resetAt;
    }
    // Best effort: a gate that cannot record the block (Redis away) leaves Leal's own 429 to say it.
    if (holdUntil !== null) await this.gate.block(holdUntil).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
