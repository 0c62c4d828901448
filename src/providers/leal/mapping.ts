import type { CardTypeCapabilities } from '../../domain/capabilities.js';
import type { EarnedReward } from '../../domain/programs.js';
import type { ProviderCard, ProviderCustomer, ProviderProgram } from '../adapter.js';
import { DEFAULT_REWARD_COST_FIELD, type RewardCostField } from './settings.js';
import {
  readAvailableReward,
  readCustomerCard,
  type WireCardTemplate,
  type WireCustomer,
  type WireCustomerCard,
  type WireReward,
} from './wire.js';

/**
 * Leal has one kind of card: a stamp card (a customer's instance of a card template). Stamps are
 * only ever added (`stamp`) or spent by redeeming a reward (`redeem` {reward_id}); there is no
 * endpoint that removes stamps, sets them, or lists a card's operations.
 */
export const STAMP_CARD: CardTypeCapabilities = {
  cardType: 'stamp',
  operations: [
    'award',
    'balance',
    'get_card',
    'list_cards',
    'issue_card',
    'rewards',
    'redeem_reward',
    'customers',
    'programs',
  ],
  units: ['stamps', 'rewards'],
  nativeUnit: 'stamps',
};

/** The `source` of the external reference the gateway writes on Leal customers (its `external_reference`). */
export const EXTERNAL_SOURCE = 'loyalty-gateway';

const ID = /^[1-9][0-9]{0,14}$/;

/** A card reference `<customer_id>.<customer_card_id>`; null when malformed. */
export function parseCardRef(ref: string): { customerId: string; cardId: string } | null {
  const m = /^([1-9][0-9]{0,14})\.([1-9][0-9]{0,14})$/.exec(ref);
  return m ? { customerId: m[1]!, cardId: m[2]! } : null;
}

export const cardRefOf = (customerId: number, customerCardId: number): string => `${customerId}.${customerCardId}`;

/** A customer, program (card template) or reward reference: Leal's numeric id. */
export const parseId = (ref: string): string | null => (ID.test(ref) ? ref : null);

const iso = (s: string | null): string | null => {
  if (s === null) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
};
const ms = (s: string | null): number | null => {
  if (s === null) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
};

/**
 * Leal's customer-card status values are undocumented: only the obvious ones are mapped; anything else reads as
 * inactive.
 */
export function cardStatusOf(status: string | null): ProviderCard['status'] {
  const s = (status ?? 'active').toLowerCase();
  if (s === 'active' || s === 'completed' || s === 'complete' || s === 'full') return 'active';
  if (s === 'expired') return 'expired';
  if (['voided', 'void', 'cancelled', 'canceled', 'deleted', 'archived', 'revoked'].includes(s)) return 'voided';
  return 'inactive';
}

export function customerFieldsOf(c: WireCustomer): ProviderCard['customer'] {
  const out: NonNullable<ProviderCard['customer']> = {};
  if (c.first_name !== null) out.first_name = c.first_name;
  if (c.last_name !== null) out.last_name = c.last_name;
  if (c.email !== null) out.email = c.email;
  if (c.phone !== null) out.phone = c.phone;
  if (c.birthday !== null) out.birthday = c.birthday;
  return out;
}

export function cardOf(c: WireCustomerCard, customer: WireCustomer | null = null): ProviderCard {
  const links: Record<string, string> = {};
  if (c.apple_wallet_url !== null) links.apple = c.apple_wallet_url;
  if (c.google_wallet_url !== null) links.google = c.google_wallet_url;
  return {
    reference: cardRefOf(c.customer_id, c.id),
    cardType: STAMP_CARD.cardType,
    status: cardStatusOf(c.status),
    providerStatus: c.status,
    programReference: String(c.card_id),
    customerReference: String(c.customer_id),
    customer: customer ? customerFieldsOf(customer) : null,
    links: Object.keys(links).length > 0 ? links : null,
    createdAt: ms(c.issued_at) ?? ms(c.created_at),
    updatedAt: ms(c.updated_at),
  };
}

/** The customer's cards as listed with the customer: card objects, or bare customer-card ids. */
export function cardReferencesOf(c: WireCustomer): string[] {
  return c.customer_cards.flatMap((v) => {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return [cardRefOf(c.id, v)];
    const card = readCustomerCard(v);
    if (card) return [cardRefOf(c.id, card.id)];
    if (typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'number')
      return [cardRefOf(c.id, (v as { id: number }).id)];
    return [];
  });
}

export function customerOf(c: WireCustomer): ProviderCustomer {
  return {
    reference: String(c.id),
    first_name: c.first_name,
    last_name: c.last_name,
    email: c.email,
    phone: c.phone,
    birthday: c.birthday,
    external_reference: c.external_references.find((r) => r.source === EXTERNAL_SOURCE)?.external_id ?? null,
    metadata: c.metadata,
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
    cardReferences: cardReferencesOf(c),
  };
}

export function programOf(t: WireCardTemplate, rewards: WireReward[]): ProviderProgram {
  return {
    reference: String(t.id),
    name: t.name,
    card_type: STAMP_CARD.cardType,
    rewards: rewards
      .filter((r) => r.card_id === null || r.card_id === t.id)
      .map((r) => ({
        id: String(r.id),
        name: r.name,
        cost: r.stamps_required,
        unit: 'stamps' as const,
        active: r.active,
      })),
  };
}

/**
 * A card's rewards: every active reward of its template with its stamp cost, `count` = how many
 * times the card can redeem it now (0 when not yet earned). A reward listed in the card's
 * `available_rewards` counts at least once; with a known cost, as many times as the stamps pay for.
 * Available rewards the template list does not hold (or an unreadable list) are kept from the card alone.
 */
export function earnedRewardsOf(
  card: WireCustomerCard,
  programRewards: WireReward[],
  costField: RewardCostField = DEFAULT_REWARD_COST_FIELD,
): EarnedReward[] {
  const available = card.available_rewards.map((v) => readAvailableReward(v, costField)).filter((r) => r !== null);
  const out: EarnedReward[] = [];
  const matched = new Set<number>();
  for (const r of programRewards) {
    if (r.active === false) continue;
    const hits = available.filter((a, i) => {
      const hit = a.id !== null ? a.id === String(r.id) : a.name !== null && a.name === r.name;
      if (hit) matched.add(i);
      return hit;
    }).length;
    const cost = r.stamps_required;
    const byStamps = cost !== null && cost > 0 ? Math.floor(card.stamps_count / cost) : 0;
    const count = hits > 0 ? Math.max(hits, byStamps) : 0;
    out.push({ id: String(r.id), name: r.name, status: 'available', cost, unit: 'stamps', count });
  }
  available.forEach((a, i) => {
    if (matched.has(i) || a.id === null) return;
    const prior = out.find((o) => o.id === a.id);
    if (prior) prior.count += 1;
    else
      out.push({
        id: a.id,
        name: a.name,
        status: 'available',
        cost: a.cost,
        unit: a.cost !== null ? 'stamps' : null,
        count: 1,
      });
  });
  return out;
}
