import type { CardTemplate, Customer, CustomerCard, LealStore, Reward } from './state.js';

/** Wire shapes (bare JSON, snake_case) of the Leal objects. */

// A reserved (.invalid) host, so nobody mistakes a sandbox pass URL for a real one.
const WALLET_HOST = 'https://wallet.leal-sandbox.invalid';

export function customerCardView(store: LealStore, cc: CustomerCard): Record<string, unknown> {
  const card = store.cards.get(cc.card_id);
  const required = card?.stamps_required ?? 0;
  const available = [...store.rewards.values()]
    .filter((r) => r.card_id === cc.card_id && r.active && r.stamps_required <= cc.stamps_count)
    .sort((a, b) => a.stamps_required - b.stamps_required || a.id - b.id)
    .map((r) => ({ id: r.id, name: r.name, description: r.description, ...costOf(store, r) }));
  return {
    id: cc.id,
    account_id: cc.account_id,
    customer_id: cc.customer_id,
    card_id: cc.card_id,
    card_name: card?.name ?? null,
    uuid: cc.uuid,
    stamps_count: cc.stamps_count,
    // Stamps still needed to reach the card's reward threshold (0 once it is reached).
    stamps_remaining: Math.max(0, required - cc.stamps_count),
    progress_percentage: required > 0 ? Math.min(100, Math.floor((cc.stamps_count * 100) / required)) : 0,
    available_rewards: available,
    status: cc.status,
    pass_installed: cc.pass_installed,
    apple_wallet_url: `${WALLET_HOST}/apple/${cc.uuid}.pkpass`,
    google_wallet_url: `${WALLET_HOST}/google/${cc.uuid}`,
    issued_at: cc.issued_at,
    created_at: cc.created_at,
    updated_at: cc.updated_at,
  };
}

export function customerView(store: LealStore, c: Customer): Record<string, unknown> {
  const cards = store.cardsOfCustomer(c.id);
  return {
    id: c.id,
    account_id: c.account_id,
    first_name: c.first_name,
    last_name: c.last_name,
    email: c.email,
    phone: c.phone,
    birthday: c.birthday,
    stamp_count: cards.reduce((n, cc) => n + cc.stamps_count, 0),
    customer_cards: cards.map((cc) => customerCardView(store, cc)),
    metadata: c.metadata,
    external_references: c.external_references.map((r) => ({ ...r })),
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

export function cardView(store: LealStore, t: CardTemplate): Record<string, unknown> {
  const rewards = [...store.rewards.values()].filter((r) => r.card_id === t.id);
  return {
    id: t.id,
    account_id: t.account_id,
    name: t.name,
    description: t.description,
    stamps_required: t.stamps_required,
    rewards_count: rewards.length,
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

/** A reward's stamp cost under the field the simulator is set to serve. */
const costOf = (store: LealStore, r: Reward): Record<string, number> => ({
  [store.readings.rewardCostField]: r.stamps_required,
});

export function rewardView(store: LealStore, r: Reward): Record<string, unknown> {
  const { stamps_required: _cost, ...rest } = r;
  return { ...rest, ...costOf(store, r) };
}
