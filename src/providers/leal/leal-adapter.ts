import type { CardTypeCapabilities } from '../../domain/capabilities.js';
import { GatewayError, ProviderError } from '../../domain/errors.js';
import type { EarnedReward } from '../../domain/programs.js';
import { readAll } from '../../lib/lists.js';
import type {
  IssueCardInput,
  ListCardsInput,
  Movement,
  MoveResult,
  Page,
  ProviderAdapter,
  ProviderBalance,
  ProviderCard,
  ProviderProgram,
} from '../adapter.js';
import { badResponse, orNullIfMissing } from '../http/provider-http.js';
import type { RequestGate } from '../http/request-gate.js';
import { LealClient, type LealRateLimitState } from './client.js';
import { LealCustomers, requireNewCustomerFields } from './customers.js';
import { cardOf, earnedRewardsOf, parseCardRef, parseId, programOf, STAMP_CARD } from './mapping.js';
import { DEFAULT_REWARD_COST_FIELD, type LealSettings, type RewardCostField } from './settings.js';
import {
  listOf,
  readCardTemplate,
  readCustomerCard,
  readRedemption,
  readReward,
  type WireCustomer,
  type WireCustomerCard,
  type WireReward,
} from './wire.js';

/**
 * The Leal (getleal.com) API v1 adapter: stamp cards only. A card is a customer card, addressed
 * as `<customer_id>.<customer_card_id>`; a program is a card template (`card_id`); customers
 * are Leal customers. See README.md beside this file for every choice made where Leal's
 * documents are silent.
 */

const KNOWN_CARDS_MAX = 10_000;

const unsupported = (detail: string): ProviderError =>
  new ProviderError(
    'unsupported_operation',
    `${detail} Leal stamp cards support: ${STAMP_CARD.operations.join(', ')} (units: ${STAMP_CARD.units.join(', ')}).`,
    'no',
    {
      supported: STAMP_CARD.operations,
      units: STAMP_CARD.units,
    },
  );

export class LealAdapter implements ProviderAdapter {
  private readonly client: LealClient;
  private readonly customers: LealCustomers;
  /** Card references seen to exist: cardCapabilities answers these without a request. */
  private readonly known = new Set<string>();
  /** Where a reward's stamp cost is read (a setting: the documents leave it open). */
  private readonly costField: RewardCostField;

  constructor(conn: LealSettings, gate: RequestGate) {
    this.client = new LealClient(conn, gate);
    this.customers = new LealCustomers(this.client, conn.notifyCustomers);
    this.costField = conn.rewardCostField ?? DEFAULT_REWARD_COST_FIELD;
  }

  /**
   * The last RateLimit-* headers this adapter saw (and a running 429 Retry-After). Diagnostics of
   * this one adapter object: the hold itself is in the connection's gate, shared by every process.
   */
  rateLimitState(): LealRateLimitState {
    return this.client.rateLimitState();
  }

  private cardPath(reference: string): string {
    const p = parseCardRef(reference);
    if (!p)
      throw new ProviderError(
        'card_not_found',
        `"${reference}" is not a Leal card reference (<customer_id>.<customer_card_id>).`,
        'no',
      );
    return `/customers/${p.customerId}/customer_cards/${p.cardId}`;
  }

  private remember(reference: string): void {
    if (this.known.size >= KNOWN_CARDS_MAX) this.known.delete(this.known.values().next().value!);
    this.known.add(reference);
  }

  /** GET .../customer_cards/{id}. */
  private async fetchCard(reference: string): Promise<WireCustomerCard> {
    const path = this.cardPath(reference);
    const card = readCustomerCard(await this.client.call('GET', path, { notFound: 'card_not_found' }));
    if (!card) throw badResponse(this.client.what('GET', path), 'not a customer card', false);
    this.remember(reference);
    return card;
  }

  async cardCapabilities(reference: string): Promise<CardTypeCapabilities> {
    if (!this.known.has(reference)) await this.fetchCard(reference);
    return STAMP_CARD;
  }

  async move(reference: string, m: Movement): Promise<MoveResult> {
    const path = this.cardPath(reference);
    switch (m.operation) {
      case 'award':
        if (m.unit !== 'stamps')
          throw unsupported(
            `award in ${m.unit} is not possible on a Leal card, which counts stamps only (nothing is converted).`,
          );
        return this.stamp(reference, path, m);
      case 'redeem_reward':
        if (!STAMP_CARD.units.includes(m.unit))
          throw unsupported(`redeem_reward in ${m.unit} is not possible on a Leal card.`);
        return this.redeemReward(reference, path, m);
      case 'redeem':
        throw unsupported(
          'Leal has no endpoint that removes stamps: a plain redeem of stamps is not possible. Redeem a reward ' +
            'instead (redeem_reward: POST /v1/cards/{card_id}/rewards/redeem with reward_id), which spends its ' +
            'stamp cost.',
        );
      case 'adjust':
      case 'expire':
        throw unsupported(
          `${m.operation} is not possible: Leal documents no way to remove or set stamps (no negative stamps).`,
        );
      default:
        throw unsupported(`${m.operation} is not a Leal operation.`);
    }
  }

  /** POST .../stamp {stamps, skip_notifications}. Leal's stamp has no free-text field: the txn id cannot travel. */
  private async stamp(reference: string, path: string, m: Movement): Promise<MoveResult> {
    if (!Number.isSafeInteger(m.quantity) || m.quantity < 1) {
      throw new GatewayError(
        'invalid_points_amount',
        `Leal adds whole stamps: ${m.quantity} is not a positive whole number.`,
      );
    }
    const body = { stamps: m.quantity, skip_notifications: !m.notify };
    const card = readCustomerCard(
      await this.client.call('POST', `${path}/stamp`, { body, notFound: 'card_not_found' }),
    );
    if (!card) throw badResponse(this.client.what('POST', `${path}/stamp`), 'not a customer card', true);
    this.remember(reference);
    return { balanceAfter: card.stamps_count, providerReference: null };
  }

  /**
   * POST .../redeem {reward_id}: Leal deducts the reward's stamp cost. Recorded in the card's unit, stamps: what the
   * reward cost and what is left, read back from Leal when the answer lacks them.
   */
  private async redeemReward(reference: string, path: string, m: Movement): Promise<MoveResult> {
    const rewardId = m.rewardId === null ? null : parseId(m.rewardId);
    if (m.money !== null) {
      throw new GatewayError(
        'validation_failed',
        'Leal keeps no value for a redeemed reward: send the redemption without value.',
        { errors: [{ field: '/value', message: 'is not supported by Leal' }] },
      );
    }
    if (rewardId === null) {
      throw m.rewardId === null
        ? new GatewayError(
            'validation_failed',
            'A Leal reward redemption needs reward_id (see GET /v1/cards/{card_id}/rewards).',
          )
        : new ProviderError('reward_not_found', `"${m.rewardId}" is not a Leal reward id.`, 'no');
    }
    const what = this.client.what('POST', `${path}/redeem`);
    let res: unknown;
    try {
      res = await this.client.call('POST', `${path}/redeem`, {
        body: { reward_id: Number(rewardId) },
        notFound: 'card_not_found',
        reward: true,
      });
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'insufficient_points')
        throw await this.withHolding(reference, err);
      throw err;
    }
    const r = readRedemption(res);
    if (!r) throw badResponse(what, 'not a redemption', true);
    // success: false beside a redemption record: whether the stamps were taken is not clear.
    if (r.success === false)
      throw new ProviderError(
        'provider_rejected',
        `${what}: Leal answered success: false with redemption ${String(r.id)}.`,
        'unknown',
      );
    this.remember(reference);
    const [spent, after] = await Promise.all([
      r.stamps_spent ?? this.rewardCost(rewardId),
      r.stamps_remaining ?? this.stampsNow(reference),
    ]);
    const providerReference = String(r.id);
    // Cost unknown: the movement stays one reward, with the stamp balance only if stamps were asked for.
    if (spent === null) return { balanceAfter: m.unit === 'stamps' ? after : null, providerReference };
    return { balanceAfter: after, providerReference, effect: { unit: 'stamps', delta: -spent } };
  }

  // Read-backs after a redemption that was applied: a failed read leaves the number unknown, never fails the write.

  /** The card's stamps now. */
  private async stampsNow(reference: string): Promise<number | null> {
    return this.fetchCard(reference).then(
      (c) => c.stamps_count,
      () => null,
    );
  }

  /** A reward's stamp cost, from the store's rewards. */
  private async rewardCost(rewardId: string): Promise<number | null> {
    return this.programRewards().then(
      (list) => list.find((x) => String(x.id) === rewardId)?.stamps_required ?? null,
      () => null,
    );
  }

  /** Adds what the card holds to an insufficient_points refusal (best effort: one more read). */
  private async withHolding(reference: string, err: ProviderError): Promise<ProviderError> {
    try {
      const card = await this.fetchCard(reference);
      return new ProviderError(
        err.code,
        `${err.message} The card holds ${card.stamps_count} stamp${card.stamps_count === 1 ? '' : 's'}.`,
        'no',
      );
    } catch {
      return err;
    }
  }

  async balance(reference: string): Promise<ProviderBalance> {
    const card = await this.fetchCard(reference);
    return {
      nativeUnit: 'stamps',
      units: { stamps: card.stamps_count, rewards: card.available_rewards.length },
      totalEarned: null,
      totalRedeemed: null,
    };
  }

  async getCard(reference: string): Promise<ProviderCard | null> {
    if (!parseCardRef(reference)) return null;
    return orNullIfMissing('card_not_found', async () => cardOf(await this.fetchCard(reference)));
  }

  /** GET /customers/{id}/customer_cards. */
  private async customerCards(customerId: string): Promise<WireCustomerCard[]> {
    const path = `/customers/${customerId}/customer_cards`;
    const cards = readAll(
      listOf(await this.client.call('GET', path, { notFound: 'customer_not_found' }), 'customer_cards'),
      readCustomerCard,
    );
    if (!cards) throw badResponse(this.client.what('GET', path), 'not a list of customer cards', false);
    return cards;
  }

  /** A customer's cards only: Leal lists cards per customer, never per template. */
  async listCards(q: ListCardsInput): Promise<Page<ProviderCard>> {
    if (q.customerReference === undefined) {
      throw unsupported('Leal lists cards per customer only (GET /customers/{id}/customer_cards): give customer_id.');
    }
    const customerId = parseId(q.customerReference);
    if (customerId === null)
      throw new ProviderError('customer_not_found', `"${q.customerReference}" is not a Leal customer id.`, 'no');
    const all = (await this.customerCards(customerId)).filter(
      (c) => q.programReference === undefined || String(c.card_id) === q.programReference,
    );
    for (const c of all) this.remember(cardOf(c).reference);
    const start = (q.page - 1) * q.perPage;
    return {
      data: all.slice(start, start + q.perPage).map((c) => cardOf(c)),
      meta: { page: q.page, per_page: q.perPage, total: all.length, has_more: start + q.perPage < all.length },
    };
  }

  /**
   * Leal enrols a customer in a card template only when creating the customer (POST /customers
   * {card_id}). So: a new customer (customer fields, optional external reference) is created and
   * enrolled; an existing customer (customerReference, or our external reference already at
   * Leal) gets back the card it already holds in that template; anything else is refused.
   */
  async issueCard(input: IssueCardInput): Promise<ProviderCard> {
    const what = 'Leal issue card';
    if (input.programReference === null)
      throw new GatewayError('validation_failed', `${what}: program_id (the Leal card template) is required.`);
    const program = parseId(input.programReference);
    if (program === null)
      throw new ProviderError('program_not_found', `"${input.programReference}" is not a Leal card id.`, 'no');

    let existing: WireCustomer | null = null;
    if (input.customerReference !== null) existing = await this.customers.fetch(input.customerReference);
    else if (input.externalReference) existing = await this.customers.byExternalReference(input.externalReference);

    if (existing) {
      const held = (await this.customerCards(String(existing.id))).find((c) => String(c.card_id) === program);
      if (held) return this.found(held, existing);
      await this.requireProgram(program);
      throw unsupported(
        `Leal customer ${existing.id} holds no card of template ${program}, and Leal's API has no way to enrol an ` +
          `existing customer: issue Leal cards together with a new customer (POST /v1/cards with customer and ` +
          `program_id, or POST /v1/customers with program_id), or enrol the customer in the Leal dashboard.`,
      );
    }
    requireNewCustomerFields(input.customer, what);
    const created = await this.customers.create(input.customer ?? {}, input.externalReference, program);
    const inline = created.customer_cards
      .map(readCustomerCard)
      .find((c) => c !== null && String(c.card_id) === program);
    const card =
      inline ??
      (await this.customerCards(String(created.id)).catch(() => [])).find((c) => String(c.card_id) === program);
    if (!card)
      throw badResponse(
        this.client.what('POST', '/customers'),
        `customer ${created.id} was created but holds no card of template ${program}`,
        true,
      );
    return this.found(card, created);
  }

  private found(card: WireCustomerCard, customer: WireCustomer): ProviderCard {
    const c = cardOf(card, customer);
    this.remember(c.reference);
    return c;
  }

  listCustomers = (q: Parameters<LealCustomers['list']>[0]) => this.customers.list(q);
  getCustomer = (reference: string) => this.customers.get(reference);
  createCustomer = (body: Parameters<LealCustomers['createCustomer']>[0]) => this.customers.createCustomer(body);
  updateCustomer = (reference: string, body: Parameters<LealCustomers['update']>[1]) =>
    this.customers.update(reference, body);

  /** GET /cards: the store's (unarchived) card templates, as one unpaginated list. */
  private async templates() {
    const list = readAll(
      listOf(await this.client.call('GET', '/cards', { notFound: 'program_not_found' }), 'cards'),
      readCardTemplate,
    );
    if (!list) throw badResponse(this.client.what('GET', '/cards'), 'not a list of cards', false);
    return list;
  }

  /** GET /rewards[?card_id][&active=true]. */
  private async programRewards(cardId?: string, activeOnly = false): Promise<WireReward[]> {
    const query = { card_id: cardId, active: activeOnly ? 'true' : undefined };
    const list = readAll(
      listOf(await this.client.call('GET', '/rewards', { query, notFound: 'program_not_found' }), 'rewards'),
      (v) => readReward(v, this.costField),
    );
    if (!list) throw badResponse(this.client.what('GET', '/rewards'), 'not a list of rewards', false);
    return list;
  }

  private async requireProgram(program: string): Promise<void> {
    if (!(await this.templates()).some((t) => String(t.id) === program)) {
      throw new ProviderError('program_not_found', `Leal has no card template ${program}.`, 'no');
    }
  }

  async listPrograms(q: { page: number; perPage: number }): Promise<Page<ProviderProgram>> {
    const [templates, rewards] = await Promise.all([this.templates(), this.programRewards()]);
    const start = (q.page - 1) * q.perPage;
    return {
      data: templates.slice(start, start + q.perPage).map((t) =>
        programOf(
          t,
          rewards.filter((r) => r.card_id === t.id),
        ),
      ),
      meta: {
        page: q.page,
        per_page: q.perPage,
        total: templates.length,
        has_more: start + q.perPage < templates.length,
      },
    };
  }

  /** Found in GET /cards (the simplest documented read; archived templates are not listed). */
  async getProgram(reference: string): Promise<ProviderProgram | null> {
    const id = parseId(reference);
    if (id === null) return null;
    const t = (await this.templates()).find((x) => String(x.id) === id);
    return t ? programOf(t, await this.programRewards(id)) : null;
  }

  /** The template's active rewards with their stamp costs, counted against the card's `available_rewards`. */
  async rewards(reference: string): Promise<EarnedReward[]> {
    const card = await this.fetchCard(reference);
    return earnedRewardsOf(card, await this.programRewards(String(card.card_id), true), this.costField);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
