/**
 * Sandbox simulator of the Highlight Cards API v2 (white label of the Boomerangme API v2),
 * base path /api/v2, auth header `x-api-key`. Built from seeds 001 and providers.md §1 only.
 *
 * Choices where the documents are silent:
 * - Envelope: every JSON answer carries `code` (= HTTP status), `createdAt` (ISO 8601) and
 *   `responseId` (UUID); success adds `data`, lists add `meta{currentPage, itemsPerPage, totalItems}`.
 *   Errors add `message` (and, for 422, `errors: {field: [messages]}`), no `data`.
 * - Statuses: 401 missing/wrong key ("API key is missing" / "Invalid API key"); 404 unknown card,
 *   customer, template, push, or path ("Card not found", "Route not found"); 400 body not a JSON
 *   object, and business refusals: operation not available for the card type/mechanics, insufficient
 *   balance ("Insufficient balance: ..."), coupon already redeemed, card expired; 422 field validation;
 *   409 duplicate customer email/phone (on POST and PATCH) and a second card of the same template for
 *   one customer; 405 wrong method on a known path. Deletes answer 204 with no body.
 * - Rate limit: 10 requests per 1 s sliding window, counted per simulator (i.e. per API key; requests
 *   refused for auth don't count). Over it: 429 `{code: 429, message: "Too Many Requests", ...}` with
 *   `Retry-After: <seconds>`. Every answer carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`.
 * - Quantities (stamps, rewards, visits, receive-reward `id`) must be positive integers; points,
 *   scores and amount positive numbers with at most 2 decimals; purchaseSum >= 0 with at most 2
 *   decimals; all must be JSON numbers (no strings), at most 10,000,000. comment: string <= 255 chars.
 *   Nulls for comment/purchaseSum count as absent.
 * - Balance field meaning per card type (fields not listed are null):
 *   stamp: currentNumberOfUses = stamps on the card, numberStampsTotal = stamps per reward (template),
 *     stampsBeforeReward = total - current, numberRewardsUnused = earned rewards not yet redeemed.
 *     When stamps reach the total they roll over into rewards (3 + 6 of 8 -> 1 stamp, +1 reward).
 *     Visit mechanics: add-visit = one stamp per visit. Spend mechanics: add-purchase gives one stamp
 *     per 10.00 spent, the remainder carried (subtract-purchase takes it back, never the rewards).
 *   cashback: balance = cashback money (add/subtract-transaction-amount credits `amount` directly, it
 *     is not a purchase to compute a % of), bonusBalance = points (add/subtract-point). Both are readings the
 *     documents leave open, switched by the option `readings` or PUT /_sandbox/readings (kept across resets):
 *     `cashbackPointsField: "balance"` swaps the two fields; `transactionAmountCredit: "rate"` moves the cashback
 *     by the template's `cashbackPercent` of the amount (103: 5%, rounded half up to the cent), and the
 *     operation's `amount` is what moved.
 *   multipass: balance = scores, currentNumberOfUses = visits (subtract-visit takes visits off).
 *   coupon: discountPercentage = the template's discount; `couponRedeemed` true after redeem-coupon.
 *   discount: balance = points, discountPercentage by points level (0 -> 5%, 100 -> 10%, 500 -> 15%).
 *   gift: balance = points (certificate value).
 *   membership: currentNumberOfUses = visits used in the current period; with limits, balance = visits
 *     left (tier limit - used) and subtract-visit *uses* visits (refused past the limit); without
 *     limits balance is null and add-visit records visits. set-membership-tier {period, tierId}
 *     switches tier (ids in template `membershipTiers`) and starts a new period (used = 0).
 *   reward: progress towards rewards, in what the mechanics earn: scores (points mechanics) or money spent
 *     (spend mechanics) in balance; visits (visit mechanics) in currentNumberOfUses, balance staying at the
 *     card's scores (0 unless set). receive-reward {id} takes a tier id from the template's `rewardTiers`; it
 *     costs the tier's `threshold` off that progress (its operation's balance is that progress after).
 *     card.availableRewardTiers = the tiers the progress currently affords (empty on other types).
 * - Nothing goes below zero: subtracting more than the card holds -> 400 "Insufficient balance".
 * - Which op applies to which card is the seed's list; `subtract-purchase` (SDK only) mirrors
 *   add-purchase. Other cards -> 400 'Operation "x" is not available for this card (...)'.
 * - set-expiration-date {expiresAt?}: any card; a date-only value means the end of that day UTC;
 *   absent/null clears it. An expired card shows status "expired" and refuses every other operation.
 * - Every applied card operation (all 18) records an Operation: signed `amount` (negative for
 *   subtract-*, minus the tier threshold for receive-reward, null for redeem-coupon/set-*), `balance`
 *   = the relevant balance figure after it, `purchaseSum`, `comment`, `source: "api"`. eventId: add-
 *   stamp 1, subtract-stamp 2, add-reward 3, subtract-reward 42, add-point 5, subtract-point 8,
 *   add-transaction-amount 6, subtract-transaction-amount 9, add-scores 10, subtract-scores 11,
 *   add-visit 7, subtract-visit 12, add-purchase 13, subtract-purchase 14, receive-reward 44,
 *   redeem-coupon 43, set-expiration-date 20, set-membership-tier 21.
 * - GET /operations lists newest first; startDate/endDate are inclusive UTC days. Other lists are in
 *   creation order (pushes newest first). page defaults to 1, itemsPerPage to 20, capped at 100.
 * - Customers: only firstName is required; email/phone duplicates compare case-insensitively / on
 *   digits. Customer ids look like "cus_<26 hex>". Deleting a customer deletes their cards.
 * - POST /cards: unknown customer or template -> 404; new cards start "not_installed", empty balance.
 * - Templates do not expose mechanics or limits (the gateway gets them from `settings.templates`).
 * - Seeded cards have no operations in the ledger; their balances are set directly.
 */
import { type SimRequest, type SimResponse, Simulator, tallyTxnIds, txnIdInText } from '../harness.js';
import { registerRoutes, routeNotFound } from './routes.js';
import {
  createStore,
  DEFAULT_READINGS,
  type Readings,
  SEED_CARDS,
  SEED_CUSTOMERS,
  type Store,
  seedStore,
  templateSettings,
} from './state.js';
import { fail } from './wire.js';

export interface HighlightSandbox {
  sim: Simulator;
  /** The credentials the simulator accepts, under the gateway's connection setting names. */
  credentials: Record<string, string>;
  /** `templates`: template id -> { mechanics, limits? } for every seeded template. */
  settings: Record<string, unknown>;
  /** Ids of seeded objects. */
  seed: Record<string, unknown>;
}

export const HIGHLIGHT_SANDBOX_API_KEY = 'hl_sandbox_5f1c2e7a9b3d4f60';

/**
 * POST /_sandbox/forget {"txn_id": "txn_..."}: the provider loses the card operations carrying
 * that gateway transaction id (as a restore from an older backup would): they leave the operation
 * log; the card balances stay as they are. What a provider audit calls missing_at_provider.
 */
function forget(store: Store, method: string, body: unknown): SimResponse {
  if (method !== 'POST') return { status: 405, body: { message: 'Method not allowed' } };
  const txnId = (body as { txn_id?: unknown } | null)?.txn_id;
  if (typeof txnId !== 'string' || txnId === '') return { status: 400, body: { message: 'txn_id: a gateway txn id' } };
  const before = store.operations.length;
  store.operations = store.operations.filter((o) => txnIdInText(o.comment) !== txnId);
  return { status: 200, body: { removed: before - store.operations.length } };
}

/** A body of PUT /_sandbox/readings: the readings it names, each one of its two values; null when it is not. */
function readingsOf(body: unknown): Partial<Readings> | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const out: Partial<Readings> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'cashbackPointsField' && (v === 'bonusBalance' || v === 'balance')) out.cashbackPointsField = v;
    else if (k === 'transactionAmountCredit' && (v === 'amount' || v === 'rate')) out.transactionAmountCredit = v;
    else return null;
  }
  return out;
}

export function createHighlightSandbox(options?: {
  rateLimit?: { requests: number; perSeconds: number };
  /** How to answer where the documents leave two readings open (default: the first of each; see Readings). */
  readings?: Partial<Readings>;
}): HighlightSandbox {
  const store = createStore(options?.readings);
  const sim = new Simulator({
    name: 'highlight',
    basePath: '/api/v2',
    rateLimit: options?.rateLimit ?? { requests: 10, perSeconds: 1 },
    rateLimited: (retryAfter) => ({
      ...fail(429, 'Too Many Requests'),
      headers: { 'Retry-After': String(retryAfter) },
    }),
    authenticate: (req: SimRequest) => {
      const key = req.headers['x-api-key'];
      if (key === undefined || key === '') return fail(401, 'API key is missing');
      return key === HIGHLIGHT_SANDBOX_API_KEY ? null : fail(401, 'Invalid API key');
    },
    errorBody: (status, message) => fail(status, message).body,
    notFound: routeNotFound,
    decorate: (res, w) => {
      res.headers = {
        ...res.headers,
        'X-RateLimit-Limit': String(w.limit),
        'X-RateLimit-Remaining': String(w.remaining),
      };
    },
    state: () => ({
      readings: store.readings,
      templates: [...store.templates.values()],
      customers: [...store.customers.values()],
      cards: [...store.cards.values()],
      operations: store.operations,
      pushes: store.pushes,
    }),
    // The gateway's adapter writes "[lgw:<txnId>]" into every card operation's `comment`; each
    // applied card operation is one entry of the operation log.
    appliedByTxn: () => tallyTxnIds(store.operations.map((o) => txnIdInText(o.comment))),
    onReset: () => seedStore(store),
    control: (method, path, body) => {
      if (path === '/_sandbox/forget') return forget(store, method, body);
      if (path !== '/_sandbox/readings') return null;
      if (method === 'GET') return { status: 200, body: store.readings };
      if (method !== 'PUT') return { status: 405, body: { message: 'Method not allowed' } };
      const r = readingsOf(body);
      if (!r)
        return {
          status: 400,
          body: {
            message:
              'readings: cashbackPointsField ("bonusBalance" | "balance"), transactionAmountCredit ("amount" | "rate")',
          },
        };
      Object.assign(store.readings, r);
      return { status: 200, body: store.readings };
    },
  });
  registerRoutes(sim, store);

  const cards = Object.fromEntries(Object.entries(SEED_CARDS).map(([k, [serial]]) => [k, serial]));
  const templates = Object.fromEntries(Object.entries(SEED_CARDS).map(([k, [, id]]) => [k, id]));
  return {
    sim,
    credentials: { apiKey: HIGHLIGHT_SANDBOX_API_KEY },
    settings: { templates: templateSettings() },
    seed: {
      companyId: 4242,
      /**
       * first: Ada Lovelace (ada@example.com, +447700900001) holds every seeded card; second: Alan Turing, no cards.
       */
      customers: { ...SEED_CUSTOMERS },
      /** Card serial per template key. */
      cards,
      /** Template id per key (same keys as cards). */
      templates,
      /** receive-reward ids: rewardSpend 1101 (25.00) / 1102 (100.00); rewardPoints 1111 (50) / 1112 (200); rewardVisit 1131 (5 visits). */
      rewardTiers: { rewardSpend: [1101, 1102], rewardPoints: [1111, 1112], rewardVisit: [1131] },
      /** set-membership-tier ids: membership 801 (10 visits) / 802 (20 visits); membershipUnlimited 901. */
      membershipTiers: { membership: [801, 802], membershipUnlimited: [901] },
      /** Starting balances of the seeded cards. */
      balances: {
        stamp: '3 stamps of 8, 1 reward',
        stampVisit: '2 stamps of 10',
        cashback: '12.50 cashback, 40 points',
        multipass: '100 scores, 2 visits',
        coupon: 'not redeemed',
        discount: '150 points (10%)',
        gift: '50 points',
        membership: '3 of 10 visits used',
        membershipUnlimited: '4 visits',
        rewardSpend: '35.00 spent',
        rewardPoints: '120 scores',
        stampSpend: '1 stamp of 6',
        rewardVisit: '7 visits (tier 1131 costs 5), 0 scores',
      },
      /** The readings the simulator starts with (PUT /_sandbox/readings changes them). */
      readings: { ...DEFAULT_READINGS, ...options?.readings },
    },
  };
}
