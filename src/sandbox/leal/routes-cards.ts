import type { Simulator } from '../harness.js';
import { badJson, fail, findAccount, invalid, resolve } from './http.js';
import type { LealStore, Redemption } from './state.js';
import { isObject, parseFlag, parseInteger } from './validate.js';
import { cardView, customerCardView, rewardView } from './views.js';

/** Customer cards (list, show, stamp, redeem, enrol), card templates and rewards. */

export function registerCardRoutes(sim: Simulator, store: LealStore): void {
  const base = '/accounts/:account_id/customers/:customer_id/customer_cards';

  sim.route('GET', base, (_req, params) => {
    const r = resolve(store, params, false);
    if (!r.ok) return r.res;
    return {
      status: 200,
      body: { customer_cards: store.cardsOfCustomer(r.value.customer.id).map((cc) => customerCardView(store, cc)) },
    };
  });

  // NOT in Leal's documents: enrolment of an existing customer (the docs only enrol via POST /customers with card_id).
  sim.route('POST', base, (req, params) => {
    const r = resolve(store, params, false);
    if (!r.ok) return r.res;
    const bad = badJson(req);
    if (bad) return bad;
    const headers = { 'X-Sandbox-Extension': 'not-in-leal-docs' };
    const body = isObject(req.body) ? req.body : {};
    const cardId = parseInteger(body.card_id);
    if (cardId === null) return { ...invalid({ card_id: ['must be a number'] }), headers };
    const template = store.cards.get(cardId);
    if (!template || template.account_id !== r.value.account.id) return { ...fail(404, 'Card not found'), headers };
    const existing = store.cardsOfCustomer(r.value.customer.id).find((cc) => cc.card_id === cardId);
    if (existing) return { status: 200, body: customerCardView(store, existing), headers };
    const cc = store.enrol(r.value.customer, template);
    sim.count('customer_cards.create');
    return { status: 201, body: customerCardView(store, cc), headers };
  });

  sim.route('GET', `${base}/:id`, (_req, params) => {
    const r = resolve(store, params, true);
    return r.ok ? { status: 200, body: customerCardView(store, r.value.card) } : r.res;
  });

  sim.route('POST', `${base}/:id/stamp`, (req, params) => {
    const r = resolve(store, params, true);
    if (!r.ok) return r.res;
    const bad = badJson(req);
    if (bad) return bad;
    const body = isObject(req.body) ? req.body : {};
    const errors: Record<string, string[]> = {};
    const stamps = parseInteger(body.stamps);
    if (body.stamps === undefined || body.stamps === null || body.stamps === '') errors.stamps = ["can't be blank"];
    else if (stamps === null) errors.stamps = ['must be a number'];
    else if (stamps < 1) errors.stamps = ['must be greater than 0'];
    else if (stamps > 10_000) errors.stamps = ['must be less than or equal to 10000'];
    const skip = parseFlag(body.skip_notifications);
    if (skip === null) errors.skip_notifications = ['must be one of: true, false, 1, 0'];
    if (Object.keys(errors).length > 0 || stamps === null) return invalid(errors);

    const { account, customer, card } = r.value;
    const now = new Date().toISOString();
    card.stamps_count += stamps;
    card.updated_at = now;
    if (skip) store.notifications.skipped += 1;
    else store.notifications.sent += 1;
    store.ledger.push({
      id: store.nextId('ledger'),
      account_id: account.id,
      customer_id: customer.id,
      customer_card_id: card.id,
      event: 'stamp.earned',
      stamps,
      balance_after: card.stamps_count,
      reward_id: null,
      notification: skip ? 'skipped' : 'sent',
      created_at: now,
    });
    sim.count('customer_cards.stamp');
    return { status: 200, body: customerCardView(store, card) };
  });

  sim.route('POST', `${base}/:id/redeem`, (req, params) => {
    const r = resolve(store, params, true);
    if (!r.ok) return r.res;
    const bad = badJson(req);
    if (bad) return bad;
    const body = isObject(req.body) ? req.body : {};
    const rewardId = parseInteger(body.reward_id);
    if (body.reward_id === undefined || body.reward_id === null || body.reward_id === '')
      return invalid({ reward_id: ["can't be blank"] });
    if (rewardId === null) return invalid({ reward_id: ['must be a number'] });

    const { account, customer, card } = r.value;
    const reward = store.rewards.get(rewardId);
    if (!reward || reward.account_id !== account.id) return fail(404, 'Reward not found');
    if (reward.card_id !== card.card_id) return fail(422, 'Reward does not belong to this card');
    if (!reward.active) return fail(422, 'Reward is not active');
    if (card.stamps_count < reward.stamps_required) {
      return fail(
        422,
        `Not enough stamps: ${reward.name} needs ${reward.stamps_required}, card has ${card.stamps_count}`,
      );
    }

    const now = new Date().toISOString();
    card.stamps_count -= reward.stamps_required;
    card.updated_at = now;
    store.notifications.sent += 1;
    const redemption: Redemption = {
      id: store.nextId('redemption'),
      account_id: account.id,
      customer_id: customer.id,
      customer_card_id: card.id,
      reward_id: reward.id,
      reward_name: reward.name,
      stamps_spent: reward.stamps_required,
      stamps_remaining: card.stamps_count,
      redeemed_at: now,
    };
    store.redemptions.push(redemption);
    store.ledger.push({
      id: store.nextId('ledger'),
      account_id: account.id,
      customer_id: customer.id,
      customer_card_id: card.id,
      event: 'reward.redeemed',
      stamps: -reward.stamps_required,
      balance_after: card.stamps_count,
      reward_id: reward.id,
      notification: 'sent',
      created_at: now,
    });
    sim.count('customer_cards.redeem');
    const { id, reward_id, reward_name, stamps_spent, stamps_remaining, redeemed_at } = redemption;
    const counts = store.readings.redemptionStamps ? { stamps_spent, stamps_remaining } : {};
    return {
      status: 200,
      body: { success: true, redemption: { id, reward_id, reward_name, ...counts, redeemed_at } },
    };
  });

  sim.route('GET', '/accounts/:account_id/cards', (_req, params) => {
    const a = findAccount(store, params);
    if (!a.ok) return a.res;
    const cards = [...store.cards.values()].filter((c) => c.account_id === a.value.id).sort((x, y) => x.id - y.id);
    return { status: 200, body: { cards: cards.map((c) => cardView(store, c)) } };
  });

  sim.route('GET', '/accounts/:account_id/rewards', (req, params) => {
    const a = findAccount(store, params);
    if (!a.ok) return a.res;
    const errors: Record<string, string[]> = {};
    const rawCard = req.query.get('card_id');
    const cardId = rawCard === null || rawCard === '' ? null : parseInteger(rawCard);
    if (rawCard !== null && rawCard !== '' && cardId === null) errors.card_id = ['must be a number'];
    const rawActive = req.query.get('active');
    const active = rawActive === null || rawActive === '' ? undefined : parseFlag(rawActive);
    if (active === null) errors.active = ['must be one of: true, false, 1, 0'];
    if (Object.keys(errors).length > 0) return invalid(errors);
    const rewards = [...store.rewards.values()]
      .filter(
        (r) =>
          r.account_id === a.value.id &&
          (cardId === null || r.card_id === cardId) &&
          (active === undefined || r.active === active),
      )
      .sort((x, y) => x.id - y.id);
    return { status: 200, body: { rewards: rewards.map((x) => rewardView(store, x)) } };
  });
}
