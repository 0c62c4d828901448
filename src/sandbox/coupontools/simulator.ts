/**
 * Sandbox simulator of the Coupontools API v4, loyalty part (docs.coupontools.com/api/v4/loyalty).
 * Base URL: http://127.0.0.1:<port>/v4; endpoints under /loyalty/loyalty-cards. Auth headers
 * `x-api-key` + `x-api-secret` (v3's X-Client-Id/X-Client-Secret are NOT accepted).
 *
 * Choices where the documents are silent:
 * - Success answers are bare JSON, no envelope (like the documented program list):
 *   program {id, code, name, domain, type}; user ("stat") {id, loyalty_card_id, first_name, last_name,
 *   address, zip, city, phone, email, custom_1..custom_8 (string|null), stamps (on the counter, 0..
 *   stamps_required-1), stamps_total (lifetime), stamps_required, rewards: [{id, name, status:
 *   'available'|'used', earned_at, used_at}], voided, voided_at, created_at, updated_at}.
 *   On a membership program stamps, stamps_total and stamps_required are null and rewards is [].
 *   Ids (programs, users, rewards) are integers; path ids must be digit strings, JSON ids may be
 *   numbers or digit strings.
 * - Status codes: 200; 201 for copy, create user and bulk create (answers: the program, the user, an
 *   array of users); DELETE answers 200 {id, deleted: true}.
 * - Errors use v3's body {"status": {"status": "failed", "errors": {"error_code", "error_message"}}}
 *   with real HTTP statuses: 400 (100 invalid JSON, 200 missing parameter / empty body), 401 (1000
 *   bad or missing credentials), 404 (520 loyalty card, 521 user, 599 unknown endpoint), 422 (300
 *   invalid value, 301 unknown parameter — unknown fields and query keys are refused, 302 amount
 *   mixed with user data, 340 not a stamp card, 341 user voided, 342 reward already used, 343
 *   reward not this user's, 344 bad push recipient), 429 (1050). A user of another program is 404.
 *   The harness itself answers 405 {message} for a known path with another method.
 * - GET .../stats takes query parameters: filter[email|phone|first_name|last_name|city|zip|
 *   custom_1..8]=<exact value> (email case-insensitive), pagination[page] (default 1),
 *   pagination[per_page] (default 25, max 100), include_voided=true|false|1|0 (default false).
 *   A GET body is ignored. Answer: bare array ordered by id; headers x-pagination-page,
 *   x-pagination-per-page, x-pagination-total, x-pagination-total-pages.
 * - POST .../stats/bulk accepts a bare array or {users: [...]}; 1..100 users; all-or-nothing
 *   (one invalid item refuses the batch, message names users[i]).
 * - POST .../stats/{userId}: a body with `amount` adds stamps (whole number 1..1000); otherwise it
 *   updates user data (null clears a field; empty body → 400). amount plus user fields → 422/302.
 *   Each time the counter reaches stamps_required a reward is earned and the counter rolls over.
 *   Voided users and membership programs refuse stamps. Voided users may still be updated.
 * - PUT .../rewards {reward_ids}: all-or-nothing; every id must be an 'available' reward of that
 *   user; duplicates refused; voided user refused.
 * - PUT .../void on an already voided user answers 200 and changes nothing.
 * - Users have no uniqueness constraint (same email twice creates two users; no idempotency).
 * - Push notifications: message 1..255 characters; without recipient_stat_ids it goes to every
 *   non-voided user; listed ids must be non-voided users of that program. Answer 200
 *   {id, loyalty_card_id, message, recipient_stat_ids, recipients, created_at}.
 * - Rate limit: 10 requests per 1 second (sliding window) by default; over → 429 with Retry-After
 *   (seconds) and the error body (code 1050). No X-RateLimit-* headers. Field lengths: names/city
 *   100, address/email/custom 255, zip 20, phone 30; copy name 1..50 (default "Copy of <name>").
 *
 * Seed (restored on POST /_sandbox/reset): see SEED in state.ts and `seed` below.
 */
import { Simulator } from '../harness.js';
import { registerRoutes } from './routes.js';
import { CoupontoolsState, SEED } from './state.js';
import { ERR, failed } from './wire.js';

export interface CoupontoolsSandbox {
  sim: Simulator;
  /** The credentials the simulator accepts, under the gateway's connection setting names. */
  credentials: Record<string, string>;
  /** Extra connection settings the gateway needs, besides baseUrl and credentials (none). */
  settings: Record<string, unknown>;
  /** Ids of seeded objects, documented, for tests and for the README's curl examples. */
  seed: Record<string, unknown>;
}

const API_KEY = 'ct_sandbox_key';
const API_SECRET = 'ct_sandbox_secret';

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export function createCoupontoolsSandbox(options?: {
  rateLimit?: { requests: number; perSeconds: number };
}): CoupontoolsSandbox {
  const state = new CoupontoolsState();
  const sim = new Simulator({
    name: 'coupontools',
    basePath: '/v4',
    rateLimit: options?.rateLimit ?? { requests: 10, perSeconds: 1 },
    rateLimited: (retryAfter) =>
      failed(429, ERR.rateLimited, 'Too many requests, slow down', { 'retry-after': String(retryAfter) }),
    authenticate: (req) => {
      if (header(req.headers['x-api-key']) === API_KEY && header(req.headers['x-api-secret']) === API_SECRET)
        return null;
      return failed(401, ERR.invalidCredentials, 'Invalid or missing API credentials (x-api-key, x-api-secret)');
    },
    errorBody: (status, message) => failed(status, status * 10, message).body,
    notFound: (req) => failed(404, ERR.endpointNotFound, `Endpoint not found: ${req.method} ${req.path}`),
    state: () => state.snapshot(),
    // Coupontools v4's add-stamps takes only {amount} and use-rewards only {reward_ids}: no field
    // can carry the gateway's txn id (the adapter sends none), so nothing can be attributed.
    appliedByTxn: () => ({}),
    onReset: () => state.seed(),
  });
  registerRoutes(sim, state);
  return {
    sim,
    credentials: { apiKey: API_KEY, apiSecret: API_SECRET },
    settings: {},
    seed: {
      stampCardId: SEED.stampCardId,
      stampCardCode: SEED.stampCardCode,
      stampsRequired: SEED.stampsRequired,
      membershipCardId: SEED.membershipCardId,
      membershipCardCode: SEED.membershipCardCode,
      userWithRewardId: SEED.userWithRewardId,
      userWithRewardStamps: 2,
      availableRewardId: SEED.availableRewardId,
      freshUserId: SEED.freshUserId,
      voidedUserId: SEED.voidedUserId,
    },
  };
}
