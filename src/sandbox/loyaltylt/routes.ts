/** The Loyalty.lt Shop API routes: /{locale}/shop/transactions/* and /{locale}/shop/loyalty-cards/*. */
import type { Handler, SimRequest, SimResponse, Simulator } from '../harness.js';
import { LOCALES, type Locale, text } from './messages.js';
import { bodyOf, Checker, CODES, fail, invalid, ok, paginate, paging } from './respond.js';
import { type Card, type LoyaltyltState, SEED, type Txn } from './state.js';

type LocaleHandler = (locale: Locale, req: SimRequest, params: Record<string, string>) => SimResponse;

export function routeNotFound(locale: Locale): SimResponse {
  return fail(404, CODES.routeNotFound, locale, 'notFound');
}

/** Only /lt/... and /en/... exist; any other locale segment is an unknown route. */
function localized(fn: LocaleHandler): Handler {
  return (req, params) => {
    const l = params.locale ?? '';
    if (!LOCALES.includes(l)) return routeNotFound('en');
    return fn(l as Locale, req, params);
  };
}

const money = (cents: number | null) => (cents === null ? null : cents / 100);

export function cardJson(state: LoyaltyltState, c: Card): Record<string, unknown> {
  const u = state.users.get(c.user_id);
  return {
    id: c.id,
    card_id: c.id,
    card_number: c.card_number,
    qr_code: c.qr_code,
    partner_card_id: c.partner_card_id,
    user_id: c.user_id,
    status: c.status,
    is_active: c.status === 'active',
    points: c.points,
    total_points_earned: c.total_points_earned,
    total_points_redeemed: c.total_points_redeemed,
    user: u ? { id: u.id, name: u.name, email: u.email, phone: u.phone } : null,
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

function txnJson(state: LoyaltyltState, t: Txn): Record<string, unknown> {
  return {
    id: t.id,
    type: t.type,
    points: t.points,
    balance_after: t.balance_after,
    loyalty_card_id: t.loyalty_card_id,
    card_number: state.cards.get(t.loyalty_card_id)?.card_number ?? null,
    user_id: t.user_id,
    order_id: t.order_id,
    order_total: money(t.order_total_cents),
    currency: t.currency,
    points_discount_amount: money(t.points_discount_cents),
    description: t.description,
    shop_id: t.shop_id,
    cart_items: t.cart_items,
    meta_data: t.meta_data,
    created_at: t.created_at,
  };
}

type Found = { card: Card; res?: undefined } | { card?: undefined; res: SimResponse };

/** card_id, else card_number (or QR UUID), else user_id (the user's first active card, else first card). */
function cardFromQuery(state: LoyaltyltState, locale: Locale, q: URLSearchParams): Found {
  const c = new Checker(locale, Object.fromEntries(q));
  const cardId = c.int('card_id', { min: 1 });
  const cardNumber = c.str('card_number', { max: 255 });
  const userId = c.int('user_id', { min: 1 });
  if (!c.has('card_id') && !c.has('card_number') && !c.has('user_id'))
    c.add('card_number', 'required_without', { o: 'card_id / user_id' });
  if (c.failed) return { res: invalid(locale, c.errors) };
  let card: Card | undefined;
  if (cardId !== undefined) card = state.cards.get(cardId);
  else if (cardNumber !== undefined) card = state.cardByNumber(cardNumber);
  else if (userId !== undefined) {
    if (!state.users.has(userId)) return { res: fail(404, CODES.userNotFound, locale, 'userNotFound') };
    const cards = state.cardsOfUser(userId);
    card = cards.find((x) => x.status === 'active') ?? cards[0];
  }
  return card ? { card } : { res: fail(404, CODES.cardNotFound, locale, 'cardNotFound') };
}

function createTransaction(sim: Simulator, state: LoyaltyltState, locale: Locale, req: SimRequest): SimResponse {
  const input = bodyOf(req.body);
  const c = new Checker(locale, input);
  const userId = c.int('user_id', { min: 1 });
  const email = c.email('user_email');
  if (!c.has('user_id') && !c.has('user_email')) {
    c.add('user_id', 'required_without', { o: 'user_email' });
    c.add('user_email', 'required_without', { o: 'user_id' });
  }
  const orderId = c.str('order_id', { required: true, max: 255 });
  const orderTotal = c.num('order_total', { required: true, min: 0 });
  const points = c.int('points', { min: 0 });
  let currency = c.str('currency');
  if (currency !== undefined && !/^[A-Za-z]{3}$/.test(currency)) c.add('currency', 'currency');
  currency = (currency ?? 'EUR').toUpperCase();
  const description = c.str('description', { max: 255 });
  const shopId = c.int('shop_id', { min: 1 });
  c.int('partner_card_id', { min: 1 });
  const cardId = c.int('loyalty_card_id', { min: 1 });
  const redeemed = c.int('points_redeemed', { min: 0 }) ?? 0;
  const discount = c.num('points_discount_amount', { min: 0 });
  const cart = input.cart_items;
  if (cart !== undefined && cart !== null) {
    if (!Array.isArray(cart)) c.add('cart_items', 'array');
    else if (cart.length > 200) c.add('cart_items', 'max', { n: 200 });
    else
      cart.forEach((item, i) => {
        if (!item || typeof item !== 'object' || Array.isArray(item)) {
          c.add(`cart_items.${i}`, 'object');
          return;
        }
        const sub = new Checker(locale, item as Record<string, unknown>);
        sub.num('quantity', { min: 0 });
        sub.num('unit_price', { min: 0 });
        sub.num('total_price', { min: 0 });
        // The documented fields are scalars; anything else is refused rather than stored.
        for (const k of ['product_id', 'product_name', 'sku', 'category']) {
          const v = (item as Record<string, unknown>)[k];
          if (v !== undefined && v !== null && typeof v !== 'string' && typeof v !== 'number') sub.add(k, 'string');
          else if (typeof v === 'string' && v.length > 255) sub.add(k, 'max_string', { n: 255 });
        }
        for (const [k, msgs] of Object.entries(sub.errors))
          c.errors[`cart_items.${i}.${k}`] = msgs.map((m) => m.replace(k.replace(/_/g, ' '), `cart_items.${i}.${k}`));
      });
  }
  const meta = input.meta_data;
  if (meta !== undefined && meta !== null) {
    if (typeof meta !== 'object' || Array.isArray(meta)) c.add('meta_data', 'object');
    else if (tooBig(meta, 1024)) c.add('meta_data', 'max_kb', { n: 1 });
  }
  if (c.failed) return invalid(locale, c.errors);

  // order_id de-duplication comes before any other check: the first call already applied.
  if (state.orders.has(orderId!)) return fail(409, CODES.duplicateOrder, locale, 'duplicateOrder');

  // Resolve everything first, apply only when nothing can fail any more.
  let user = userId !== undefined ? state.users.get(userId) : state.userByEmail(email!);
  if (!user && userId !== undefined) return fail(404, CODES.userNotFound, locale, 'userNotFound');
  let card: Card | undefined;
  if (cardId !== undefined) {
    card = state.cards.get(cardId);
    if (!card) return fail(404, CODES.cardNotFound, locale, 'cardNotFound');
    if (!user || card.user_id !== user.id) {
      c.add('loyalty_card_id', 'card_owner');
      return invalid(locale, c.errors);
    }
  } else if (user) {
    const cards = state.cardsOfUser(user.id);
    card = cards.find((x) => x.status === 'active') ?? cards[0];
  }
  if (card && card.status !== 'active') return fail(403, CODES.cardInactive, locale, 'cardInactive');
  if (redeemed > (card?.points ?? 0)) return fail(400, CODES.insufficientPoints, locale, 'insufficientPoints');

  const totalCents = Math.round(orderTotal! * 100);
  const awarded = points ?? Math.floor(totalCents / 100) * SEED.pointsPerEuro;
  if (!user) {
    user = state.createUser(email!);
    sim.count('users.autoCreate');
  }
  if (!card) {
    card = state.createCard(user.id);
    sim.count('cards.autoCreate');
  }
  const common = { card, order_id: orderId!, shop_id: shopId ?? null, currency, order_total_cents: totalCents };
  // Redemption is checked against the balance before this order's award, and booked first.
  if (redeemed > 0) {
    state.record({
      ...common,
      type: 'spent',
      points: redeemed,
      points_discount_cents: discount === undefined ? null : Math.round(discount * 100),
      description: description ?? null,
    });
  }
  const earned = state.record({
    ...common,
    type: 'earned',
    points: awarded,
    description: description ?? text(locale, 'orderDescription', { order: orderId! }),
    cart_items: Array.isArray(cart) ? cart : null,
    meta_data: meta ?? null,
  });
  state.orders.set(orderId!, earned.id);
  sim.count('transactions.create');
  return ok(locale, 'transactionCreated', {
    transaction_id: earned.id,
    order_id: orderId,
    points_awarded: awarded,
    points_redeemed: redeemed,
    points_balance: card.points,
    loyalty_card_id: card.id,
    card_number: card.card_number,
    user_id: user.id,
    order_total: totalCents / 100,
    currency,
  });
}

function deductPoints(sim: Simulator, state: LoyaltyltState, locale: Locale, req: SimRequest): SimResponse {
  const c = new Checker(locale, bodyOf(req.body));
  const cardId = c.int('card_id', { min: 1 });
  const cardNumber = c.str('card_number', { max: 255 });
  if (!c.has('card_id') && !c.has('card_number')) {
    c.add('card_id', 'required_without', { o: 'card_number' });
    c.add('card_number', 'required_without', { o: 'card_id' });
  }
  const points = c.int('points', { required: true, min: 1 });
  const description = c.str('description', { max: 255 });
  const shopId = c.int('shop_id', { min: 1 });
  if (c.failed) return invalid(locale, c.errors);
  const card = cardId !== undefined ? state.cards.get(cardId) : state.cardByNumber(cardNumber!);
  if (!card) return fail(404, CODES.cardNotFound, locale, 'cardNotFound');
  if (card.status !== 'active') return fail(403, CODES.cardInactive, locale, 'cardInactive');
  if (points! > card.points) return fail(400, CODES.insufficientPoints, locale, 'insufficientPoints');
  // No de-duplication: every accepted call deducts again.
  const t = state.record({
    type: 'refund',
    points: points!,
    card,
    description: description ?? null,
    shop_id: shopId ?? null,
  });
  sim.count('transactions.deductPoints');
  return ok(locale, 'pointsDeducted', {
    transaction_id: t.id,
    points_deducted: t.points,
    points_balance: card.points,
    card_id: card.id,
    card_number: card.card_number,
    user_id: card.user_id,
  });
}

export function registerRoutes(sim: Simulator, state: LoyaltyltState): void {
  const create = localized((locale, req) => createTransaction(sim, state, locale, req));
  sim.route('POST', '/:locale/shop/transactions/create', create);
  sim.route('POST', '/:locale/shop/transactions/award-points', create);
  sim.route(
    'POST',
    '/:locale/shop/transactions/deduct-points',
    localized((locale, req) => deductPoints(sim, state, locale, req)),
  );

  sim.route(
    'GET',
    '/:locale/shop/transactions',
    localized((locale, req) => {
      const c = new Checker(locale, Object.fromEntries(req.query));
      const { page, perPage } = paging(c);
      const shopId = c.int('shop_id', { min: 1 });
      const cardId = c.int('card_id', { min: 1 });
      if (c.failed) return invalid(locale, c.errors);
      const rows = state.txns
        .filter(
          (t) =>
            (shopId === undefined || t.shop_id === shopId) && (cardId === undefined || t.loyalty_card_id === cardId),
        )
        .sort((a, b) => b.id - a.id);
      const p = paginate(rows, page, perPage);
      return ok(
        locale,
        'transactions',
        p.items.map((t) => txnJson(state, t)),
        p.meta,
      );
    }),
  );

  sim.route(
    'GET',
    '/:locale/shop/loyalty-cards/balance',
    localized((locale, req) => {
      const f = cardFromQuery(state, locale, req.query);
      if (f.res) return f.res;
      return ok(locale, 'balance', { card_id: f.card.id, card_number: f.card.card_number, points: f.card.points });
    }),
  );

  sim.route(
    'GET',
    '/:locale/shop/loyalty-cards/info',
    localized((locale, req) => {
      const f = cardFromQuery(state, locale, req.query);
      return f.res ?? ok(locale, 'cardInfo', cardJson(state, f.card));
    }),
  );

  sim.route(
    'GET',
    '/:locale/shop/loyalty-cards',
    localized((locale, req) => {
      const c = new Checker(locale, Object.fromEntries(req.query));
      const { page, perPage } = paging(c);
      const userId = c.int('user_id', { min: 1 });
      if (c.failed) return invalid(locale, c.errors);
      const rows = [...state.cards.values()]
        .filter((x) => userId === undefined || x.user_id === userId)
        .sort((a, b) => a.id - b.id);
      const p = paginate(rows, page, perPage);
      return ok(
        locale,
        'cards',
        p.items.map((x) => cardJson(state, x)),
        p.meta,
      );
    }),
  );

  sim.route(
    'GET',
    '/:locale/shop/loyalty-cards/:id',
    localized((locale, _req, params) => {
      const id = params.id ?? '';
      const card = /^\d+$/.test(id) ? state.cards.get(Number(id)) : undefined;
      return card ? ok(locale, 'card', cardJson(state, card)) : fail(404, CODES.cardNotFound, locale, 'cardNotFound');
    }),
  );
}

/** Larger than `bytes` as JSON (or too deep to write as JSON at all). */
function tooBig(v: unknown, bytes: number): boolean {
  try {
    return Buffer.byteLength(JSON.stringify(v)) > bytes;
  } catch {
    return true;
  }
}
