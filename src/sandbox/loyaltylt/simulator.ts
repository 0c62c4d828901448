import { randomUUID } from 'node:crypto';
import type { SimRequest } from '../harness.js';
/**
 * Loyalty.lt Shop API sandbox: the current `/{locale}/shop/...` contract (locale `lt` | `en`), authenticated with
 * `X-API-Key` + `X-API-Secret`, answering in the `{success, code, message, data, request_id}` envelope. The
 * legacy `/api/points/*` paths of the seed page are deliberately not simulated.
 *
 * Endpoints: POST /{locale}/shop/transactions/create (alias /transactions/award-points),
 * POST /{locale}/shop/transactions/deduct-points, GET /{locale}/shop/transactions,
 * GET /{locale}/shop/loyalty-cards/balance, GET /{locale}/shop/loyalty-cards/info,
 * GET /{locale}/shop/loyalty-cards, GET /{locale}/shop/loyalty-cards/{id}.
 *
 * Choices where the documents are silent:
 * - Success envelopes carry `code: 200`. App codes besides the documented 1004 (401), 1100 (422) and 1200 (404
 *   card not found): 1000 unknown route or locale (404), 1005 rate limited (429), 1201 card inactive/blocked
 *   (403), insufficient points: 400 with the documented string code VALIDATION_ERROR, 1203 user not found (404, unknown
 *   `user_id`), a repeated order_id: 409 "Transaction already processed for this order" with the documented string code
 *   RESOURCE_ALREADY_EXISTS (transactions/create page).
 * - Auth is checked before anything else (also before the locale/route check), so bad credentials on any path → 401.
 *   Messages are Lithuanian under /lt/ and English otherwise (also for the 429 and unknown locales).
 * - Rate limit 300 requests / 60 s (one key, so per key = global). Only authenticated requests count. 429 body:
 *   the error envelope plus `retry_after` (seconds); headers `Retry-After`, `X-RateLimit-Reset` (seconds) and on every
 *   answer `X-RateLimit-Limit` / `X-RateLimit-Remaining` (Laravel throttle style). Every answer with a body
 *   echoes its `request_id` in `X-Request-Id`.
 * - Validation is Laravel-like: all field errors at once under `errors{field: [msgs]}`; integer and number
 *   fields also accept numeric strings; `order_id` must be a JSON string; a missing/non-JSON body is `{}`.
 * - transactions/create: `user_id` wins over `user_email`; an unknown `user_id` → 404 1203; an unknown
 *   `user_email` creates the user (and its card). Without `loyalty_card_id` the user's first active card is used;
 *   if the user has cards but none active → 403; if none → a new active card (id 104, 105, … number
 *   "100-000-104"). A `loyalty_card_id` of another user → 422 errors.loyalty_card_id. Points without `points`:
 *   1 per whole unit of `order_total` (currency ignored; `points_discount_amount` not subtracted).
 *   `points_redeemed` is checked against the balance *before* this order's award (more → 400 VALIDATION_ERROR,
 *   nothing applied) and booked as a `spent` row before the `earned` row (which may be 0 points);
 *   `transaction_id` is the `earned` row. `order_id` de-duplicates (checked right after validation, before card
 *   checks) → 409 RESOURCE_ALREADY_EXISTS,
 *   only for orders that were applied; the seed order "SEED-ORDER-1001" is already processed.
 * - deduct-points has NO de-duplication (each call deducts again); `card_id` wins over `card_number`; it
 *   answers `data{transaction_id, points_deducted, points_balance, card_id, card_number, user_id}` and books a
 *   `refund` row. More than the balance → 400 VALIDATION_ERROR; inactive card → 403 1201.
 * - Ledger rows (`GET /transactions`, newest first) have type earned | spent | refund | expired, `points` always
 *   positive, plus `balance_after`. Filters: `shop_id`, and `card_id` (our choice). Lists: `per_page` 1..50
 *   (default 15; more → 422), `page` ≥ 1; `GET /loyalty-cards` also filters by `user_id`.
 * - balance/info: one of `card_id` > `card_number` (or QR UUID) > `user_id` (the user's first active card, else
 *   first card); inactive cards are still readable. `total_points_redeemed` counts spent + refund rows.
 *   Points never expire over time in the sandbox (the balance is all non-expired points).
 * - `meta_data` must be an object ≤ 1 KB of JSON (the legacy page's metadata limit).
 */
import { Simulator } from '../harness.js';
import type { Locale } from './messages.js';
import { CODES, fail } from './respond.js';
import { registerRoutes, routeNotFound } from './routes.js';
import { LoyaltyltState, SEED } from './state.js';

export interface LoyaltyltSandbox {
  sim: Simulator;
  /** The credentials the simulator accepts, under the gateway's connection setting names. */
  credentials: Record<string, string>;
  /** Extra connection settings the gateway needs besides baseUrl and credentials. */
  settings: Record<string, unknown>;
  /** Ids of seeded objects (see SEED in state.ts). */
  seed: Record<string, unknown>;
}

export const LOYALTYLT_API_KEY = 'sandbox-loyaltylt-key';
export const LOYALTYLT_API_SECRET = 'sandbox-loyaltylt-secret';

const localeOf = (req: SimRequest): Locale => (req.path.split('/')[1] === 'lt' ? 'lt' : 'en');

const header = (req: SimRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export function createLoyaltyltSandbox(
  options: { rateLimit?: { requests: number; perSeconds: number } } = {},
): LoyaltyltSandbox {
  const state = new LoyaltyltState();
  // The harness calls authenticate, then (synchronously) the rate limiter: remember the request's language.
  let lastLocale: Locale = 'en';

  const sim = new Simulator({
    name: 'loyaltylt',
    basePath: '',
    rateLimit: options.rateLimit ?? { requests: 300, perSeconds: 60 },
    authenticate: (req) => {
      lastLocale = localeOf(req);
      if (header(req, 'x-api-key') === LOYALTYLT_API_KEY && header(req, 'x-api-secret') === LOYALTYLT_API_SECRET)
        return null;
      return fail(401, CODES.unauthorized, lastLocale, 'unauthorized');
    },
    rateLimited: (retryAfter) => {
      const res = fail(429, CODES.rateLimited, lastLocale, 'rateLimited', { retry_after: retryAfter });
      res.headers = { 'Retry-After': String(retryAfter), 'X-RateLimit-Reset': String(retryAfter) };
      return res;
    },
    errorBody: (status, message) => ({ success: false, code: status * 10, message, request_id: randomUUID() }),
    notFound: (req) => routeNotFound(localeOf(req)),
    decorate: (res, w) => {
      res.headers = {
        ...res.headers,
        'X-RateLimit-Limit': String(w.limit),
        'X-RateLimit-Remaining': String(w.remaining),
      };
      const id = (res.body as { request_id?: unknown } | undefined)?.request_id;
      if (typeof id === 'string') res.headers['X-Request-Id'] = id;
    },
    state: () => state.snapshot(),
    appliedByTxn: () => state.appliedByTxn(),
    onReset: () => state.seed(),
  });
  registerRoutes(sim, state);

  return {
    sim,
    credentials: { apiKey: LOYALTYLT_API_KEY, apiSecret: LOYALTYLT_API_SECRET },
    settings: { locale: 'en' },
    seed: {
      ...SEED,
      /** Convenience aliases for the README's curl examples. */
      userId: SEED.users.alice.id,
      userEmail: SEED.users.alice.email,
      cardId: SEED.cards.active.card_id,
      cardNumber: SEED.cards.active.card_number,
      emptyCardId: SEED.cards.empty.card_id,
      inactiveCardId: SEED.cards.inactive.card_id,
      locales: ['lt', 'en'],
    },
  };
}
