/**
 * Leal (getleal.com) customer-cards API v1 sandbox: a real HTTP server speaking Leal's wire format
 * (bare JSON, `Authorization: Bearer <token>`, paths under /api/v1, `{error, errors}` bodies,
 * RateLimit-* headers on every answer) with in-memory state restored from the seed on reset.
 * Written from seed 004 and providers.md §4 only.
 *
 * Seed (see `seed` below): account 4242; card template 7 "Coffee card" (10 stamps); rewards 71
 * "Free coffee" (10, active) and 72 "Free cake" (15, inactive) on card 7; customer 301 (Ana Silva,
 * customer card 501 with 12 stamps, pass installed) and customer 302 (Ben Okafor, customer card 502,
 * 0 stamps). New ids: customers from 303, customer cards from 503, redemptions from 9001.
 *
 * Choices where the documents are silent:
 * - Rate limit: 20 requests per 1 s by default (numbers UNKNOWN), one sliding window for the whole
 *   server (the only accepted token, so "per token" = global; GET /status reports scope "token").
 *   RateLimit-Limit / -Remaining / -Reset (seconds until the oldest request leaves the window) /
 *   -Policy (`<limit>;w=<seconds>`) on every answer, including 401/404/429; 429 adds Retry-After
 *   (seconds) and `{error}`. Auth is checked before the limit (the harness' order), so refused
 *   requests do not use up the window; GET /status counts against it.
 * - Errors: `{error: "<message>"}`; validation adds `errors: {field: [messages]}` with error
 *   "Validation failed". 401 `{error: "Unauthorized – invalid or missing API token"}`. Unknown
 *   account/customer/customer card/card template/reward, or a non-numeric id → 404. A body that is
 *   not JSON → 400 `{error}` (Rails' parse error). An unknown path → 404 `{error: "Not found"}`.
 * - List wrappers: `{customers: [...], pagination: {count, items, page, pages}}`,
 *   `{customer_cards: [...]}`, `{cards: [...]}`, `{rewards: [...]}`, ordered by id.
 * - Customer list: `items` defaults to 20, capped at 100; page/items not a positive integer → 422;
 *   a page past the end → empty list (pages ≥ 1). `search` (case-insensitive) matches a substring of
 *   the full name or email, ≥ 3 digits of the phone (phone-like queries only), or exactly an
 *   external_id or a customer card uuid.
 *   `source`/`external_id` filter exactly (either alone also filters).
 * - Customer create: `first_name` required, plus email or phone (422 otherwise; the error for both
 *   missing is under `errors.base`). Email (case-insensitive) and phone (digits only) unique per
 *   store → 422 "has already been taken". If any given (source, external_id) already belongs to a
 *   customer of the store, that customer is returned unchanged with 200 (new customers: 201); a
 *   `card_id` then enrols them only if not yet enrolled in that card. Unknown `card_id` → 404
 *   "Card not found" and nothing is created. `send_card_links` true|false|1|0 only counts a
 *   card-link message in state (notifications.card_links_sent).
 * - Customer update (PATCH, also PUT): only the given attributes change; `metadata` is replaced,
 *   `external_references` are added (never removed); clearing both email and phone → 422.
 * - One customer card per (customer, card template). Customer card `status` is always "active".
 *   `stamps_count` = stamps on the card now (spendable); `stamps_remaining` = stamps still needed to
 *   reach the template's `stamps_required` (0 once reached); `progress_percentage` = floor of
 *   count/required × 100, capped at 100; `available_rewards` = active rewards of the card template with
 *   stamps_required ≤ stamps_count, as `{id, name, description, stamps_required}`. Wallet URLs use the
 *   reserved host wallet.leal-sandbox.invalid.
 * - Stamp: `stamps` integer ≥ 1 (JSON number or numeric string); missing, fractional, zero or
 *   negative → 422 (there is no remove-stamps endpoint). `skip_notifications` true|false|1|0 (also as
 *   strings), otherwise 422. Answer 200 with the customer card. Each stamp call adds a ledger entry and
 *   counts one notification sent or skipped (GET /_sandbox/state → notifications).
 * - Redeem: `reward_id` missing/not a number → 422 `errors.reward_id`; reward not in the store → 404
 *   "Reward not found"; reward of another card template, inactive reward, or too few stamps → 422
 *   `{error}` (checked in that order). Deducts the reward's cost; the redemption's `stamps_spent` is
 *   that cost and `stamps_remaining` the card's stamps left after the deduction. Redemptions always
 *   notify.
 * - Card templates carry `{id, account_id, name, description, stamps_required, rewards_count,
 *   created_at, updated_at}`; rewards `{id, account_id, card_id, name, description, stamps_required,
 *   active, created_at, updated_at}`; `GET /rewards?card_id=&active=` filter (active true|false|1|0).
 * - Readings the documents leave open, chosen by options when the simulator is made (kept across
 *   reset): `rewardCostField`, the field of a reward (in `/rewards` and `available_rewards`) that
 *   holds its stamp cost, `stamps_required` (default, the SDK's name) or `stamps_cost`; the handle's
 *   `settings` then carry the same `rewardCostField` for the gateway's connection.
 *   `redemptionStamps: false`: the redeem answer omits `stamps_spent` and `stamps_remaining` (seed
 *   004 shows no answer body; the SDK types have both).
 * - GET /api/v1/status (no auth): `{status: "ok", rate_limit: {limit, scope: "token", window_seconds}}`.
 * - NOT IN LEAL'S DOCUMENTS (simulator extension, answers carry `X-Sandbox-Extension: not-in-leal-docs`):
 *   POST /accounts/:account_id/customers/:customer_id/customer_cards `{card_id}` enrols an existing
 *   customer: 201 with the new customer card, 200 with the existing one if already enrolled.
 *
 * Counters: customers.create, customers.update, customer_cards.create, customer_cards.stamp,
 * customer_cards.redeem (one per applied change; a create with card_id counts a customer and a card).
 */
import { type SimRequest, Simulator } from '../harness.js';
import { fail } from './http.js';
import { registerCardRoutes } from './routes-cards.js';
import { registerCustomerRoutes } from './routes-customers.js';
import { DEFAULT_READINGS, LealStore, type Readings, SEED } from './state.js';

export interface LealSandbox {
  sim: Simulator;
  /** The credentials the simulator accepts, under the gateway's connection setting names. */
  credentials: Record<string, string>;
  /** Extra connection settings the gateway needs besides baseUrl and credentials. */
  settings: Record<string, unknown>;
  /** Ids of seeded objects, documented, for tests and for the README's curl examples. */
  seed: Record<string, unknown>;
}

export const LEAL_SANDBOX_TOKEN = 'leal_sandbox_token_4242';

export function createLealSandbox(
  options?: { rateLimit?: { requests: number; perSeconds: number } } & Partial<Readings>,
): LealSandbox {
  const readings: Readings = {
    rewardCostField: options?.rewardCostField ?? DEFAULT_READINGS.rewardCostField,
    redemptionStamps: options?.redemptionStamps ?? DEFAULT_READINGS.redemptionStamps,
  };
  const store = new LealStore(readings);
  const sim: Simulator = new Simulator({
    name: 'leal',
    basePath: '/api/v1',
    rateLimit: options?.rateLimit ?? { requests: 20, perSeconds: 1 },
    rateLimited: (retryAfter) => ({
      status: 429,
      headers: { 'Retry-After': String(retryAfter) },
      body: { error: `Rate limit exceeded. Retry in ${retryAfter} seconds.` },
    }),
    authenticate: (req: SimRequest) => {
      if (req.method === 'GET' && req.path === '/status') return null;
      const header = req.headers.authorization;
      const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      return m?.[1] === LEAL_SANDBOX_TOKEN ? null : fail(401, 'Unauthorized – invalid or missing API token');
    },
    errorBody: (status, message) => fail(status, message).body,
    notFound: () => fail(404, 'Not found'),
    decorate: (res, w) => {
      res.headers = {
        ...(res.headers ?? {}),
        'RateLimit-Limit': String(w.limit),
        'RateLimit-Remaining': String(w.remaining),
        'RateLimit-Reset': String(w.resetSeconds),
        'RateLimit-Policy': `${w.limit};w=${sim.options.rateLimit.perSeconds}`,
      };
    },
    state: () => store.snapshot(),
    // Leal's stamp ({stamps, skip_notifications}) and redeem ({reward_id}) take no free text: the
    // adapter sends no gateway txn id, so nothing can be attributed.
    appliedByTxn: () => ({}),
    onReset: () => store.load(),
  });

  sim.route('GET', '/status', () => ({
    status: 200,
    body: {
      status: 'ok',
      rate_limit: {
        limit: sim.options.rateLimit.requests,
        scope: 'token',
        window_seconds: sim.options.rateLimit.perSeconds,
      },
    },
  }));
  registerCustomerRoutes(sim, store);
  registerCardRoutes(sim, store);

  return {
    sim,
    credentials: { token: LEAL_SANDBOX_TOKEN },
    // A cost field other than the default needs the connection to read it there.
    settings: {
      accountId: SEED.accountId,
      ...(readings.rewardCostField !== DEFAULT_READINGS.rewardCostField
        ? { rewardCostField: readings.rewardCostField }
        : {}),
    },
    seed: {
      accountId: SEED.accountId,
      cardId: SEED.cardId,
      rewards: { freeCoffee: SEED.rewardActiveId, freeCakeInactive: SEED.rewardInactiveId },
      customers: {
        withStamps: {
          id: SEED.customerWithStampsId,
          customerCardId: SEED.customerCardWithStampsId,
          stamps: 12,
          ...SEED.customerWithStamps,
        },
        fresh: { id: SEED.customerFreshId, customerCardId: SEED.customerCardFreshId, stamps: 0, ...SEED.customerFresh },
      },
      customerCardUuids: { ...SEED.customerCardUuids },
    },
  };
}
