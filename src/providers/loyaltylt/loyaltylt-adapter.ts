import { randomUUID } from 'node:crypto';
import type { CardTypeCapabilities } from '../../domain/capabilities.js';
import { ProviderError } from '../../domain/errors.js';
import type {
  IssueCardInput,
  ListCardsInput,
  Movement,
  MoveResult,
  Page,
  ProviderAdapter,
  ProviderBalance,
  ProviderCard,
  ProviderHistoryEntry,
} from '../adapter.js';
import { badResponse, orNullIfMissing } from '../http/provider-http.js';
import type { RequestGate } from '../http/request-gate.js';
import { currencyOf } from '../settings.js';
import { LoyaltyltClient } from './client.js';
import {
  cardKeyOf,
  cardOf,
  dayOf,
  descriptionOf,
  entryCardId,
  historyEntryOf,
  historyOf,
  type Plan,
  POINTS_CARD,
  planOf,
  referenceOf,
} from './mapping.js';
import type { LoyaltyltSettings } from './settings.js';
import { BalanceData, CardData, CreateData, check, DeductData, idText, listOf, TransactionData } from './wire.js';

/**
 * Loyalty.lt Shop API adapter (current `/{locale}/shop/...` generation, X-API-Key + X-API-Secret).
 * See README.md beside this file for the operation table and the choices made where the
 * documents are silent.
 */

/** What transactions/create needs of a card: it is user-based. A card's user never changes, so this is cached. */
interface CardIds {
  cardId: number;
  userId: number | null;
}

const CACHE_MAX = 10_000;
const HISTORY_PER_PAGE = 50;
const HISTORY_MAX_PAGES = 20;
const LOOKUP_MAX_PAGES = 4;

export class LoyaltyltAdapter implements ProviderAdapter {
  async findApplied(reference: string, m: Movement, sinceMs: number): Promise<MoveResult | null> {
    const entries = await this.history(reference, { limit: 200, fromMs: sinceMs - 5 * 60_000 });
    const found = entries.find((e) => e.txnId === m.txnId);
    return found ? { balanceAfter: found.balanceAfter, providerReference: found.providerReference } : null;
  }
  private readonly client: LoyaltyltClient;
  private readonly ids = new Map<string, CardIds>();

  constructor(
    private readonly conn: LoyaltyltSettings,
    gate: RequestGate,
  ) {
    this.client = new LoyaltyltClient(conn, gate);
  }

  async cardCapabilities(reference: string): Promise<CardTypeCapabilities> {
    await this.cardIds(reference);
    return POINTS_CARD;
  }

  async move(reference: string, m: Movement): Promise<MoveResult> {
    const plan = planOf(m);
    const card = await this.cardIds(reference);
    return plan.call === 'create' ? this.create(card, m, plan) : this.deduct(card, m, plan);
  }

  async balance(reference: string): Promise<ProviderBalance> {
    const path = '/loyalty-cards/balance';
    const [env, info] = await Promise.all([
      this.client.call('GET', path, { query: cardKeyOf(reference) }),
      this.info(reference),
    ]);
    if (!check(BalanceData, env.data)) throw badResponse(this.client.what('GET', path), 'data.points missing', false);
    const totals = totalsOf(info);
    return {
      nativeUnit: 'points',
      units: { points: env.data.points },
      totalEarned: totals.earned,
      totalRedeemed: totals.redeemed,
    };
  }

  async history(
    reference: string,
    opts: { limit: number; fromMs?: number; toMs?: number },
  ): Promise<ProviderHistoryEntry[]> {
    const card = await this.cardIds(reference);
    const query = {
      loyalty_card_id: card.cardId,
      per_page: HISTORY_PER_PAGE,
      date_from: opts.fromMs !== undefined ? dayOf(opts.fromMs, -1) : undefined,
      date_to: opts.toMs !== undefined ? dayOf(opts.toMs, 1) : undefined,
    };
    const inWindow = (e: ProviderHistoryEntry): boolean =>
      (opts.fromMs === undefined || e.createdAt >= opts.fromMs) &&
      (opts.toMs === undefined || e.createdAt <= opts.toMs);
    // Entries of one order are merged (historyOf); read one group past the limit so the last is whole.
    const raws: TransactionData[] = [];
    const orders = new Set<string>();
    for await (const t of this.transactions(card, query, HISTORY_MAX_PAGES)) {
      if (!inWindow(historyEntryOf(t))) continue;
      raws.push(t);
      orders.add(t.order_id ?? t.reference_number ?? `#${String(t.id)}`);
      if (orders.size > opts.limit) break;
    }
    return historyOf(raws)
      .filter(inWindow)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, opts.limit);
  }

  async getCard(reference: string): Promise<ProviderCard | null> {
    return orNullIfMissing('card_not_found', async () => cardOf(await this.info(reference)));
  }

  async listCards(q: ListCardsInput): Promise<Page<ProviderCard>> {
    const path = '/loyalty-cards';
    const userId = q.customerReference && /^\d+$/.test(q.customerReference) ? q.customerReference : undefined;
    const programId = q.programReference && /^\d+$/.test(q.programReference) ? q.programReference : undefined;
    const env = await this.client.call('GET', path, {
      query: { page: q.page, per_page: Math.min(q.perPage, 50), user_id: userId, partner_card_id: programId },
    });
    const list = listOf(env);
    if (!list?.items.every((c) => check(CardData, c)))
      throw badResponse(this.client.what('GET', path), 'not a list of cards', false);
    // The filters are not documented for this list: apply them here too where the items carry the fields.
    const cards = (list.items as CardData[])
      .filter(
        (c) =>
          q.customerReference === undefined ||
          (idText(c.user?.id ?? c.user_id) ?? q.customerReference) === q.customerReference,
      )
      .filter(
        (c) =>
          q.programReference === undefined || (idText(c.partner_card_id) ?? q.programReference) === q.programReference,
      );
    for (const c of cards) this.remember(c);
    const page = list.page.current_page ?? q.page;
    const last = list.page.last_page ?? null;
    return {
      data: cards.map(cardOf),
      meta: {
        page,
        per_page: list.page.per_page ?? q.perPage,
        total: list.page.total ?? null,
        has_more: last !== null ? page < last : list.items.length >= q.perPage,
      },
    };
  }

  /**
   * Issues a card the way the API does: transactions/create for a user (user_id from customer_id,
   * or customer.email) with order_total 0 and points 0 auto-creates the partner's card, or answers
   * the user's existing one.
   */
  async issueCard(input: IssueCardInput): Promise<ProviderCard> {
    const path = '/transactions/create';
    const user =
      input.customerReference && /^\d+$/.test(input.customerReference)
        ? { user_id: Number(input.customerReference) }
        : input.customer?.email
          ? { user_email: input.customer.email }
          : null;
    if (!user)
      throw new ProviderError(
        'validation_failed',
        'Loyalty.lt issues a card to a user: give customer_id (the Loyalty.lt user id) or customer.email.',
        'no',
      );
    // transactions/create takes only the user's email: other customer data would be lost, so it is refused.
    const extra = Object.keys(input.customer ?? {}).filter((k) => k !== 'email');
    if (extra.length > 0 || input.externalReference !== null) {
      const field = extra.length > 0 ? `/customer/${extra[0]}` : '/external_reference';
      throw new ProviderError(
        'validation_failed',
        `Loyalty.lt keeps only the customer's email when it issues a card; ${field.slice(1)} cannot be stored.`,
        'no',
        { errors: [{ field, message: 'is not supported by Loyalty.lt' }] },
      );
    }
    const partnerCard =
      input.programReference && /^\d+$/.test(input.programReference)
        ? { partner_card_id: Number(input.programReference) }
        : {};
    const env = await this.client.call('POST', path, {
      notFound: 'customer_not_found',
      body: {
        ...user,
        ...partnerCard,
        order_id: `issue-${randomUUID()}`,
        order_total: 0,
        points: 0,
        currency: currencyOf(this.conn),
        description: 'Card issued through the loyalty gateway',
        ...(this.conn.shopId !== undefined ? { shop_id: this.conn.shopId } : {}),
        ...(input.externalReference ? { meta_data: { external_reference: input.externalReference } } : {}),
      },
    });
    if (!check(CreateData, env.data) || env.data.loyalty_card_id == null)
      throw badResponse(this.client.what('POST', path), 'data.loyalty_card_id missing', true);
    const made = env.data;
    const reference = referenceOf({ id: made.loyalty_card_id!, card_number: made.card_number });
    const card = await this.getCard(reference).catch(() => null);
    if (card) return card;
    return {
      reference,
      cardType: POINTS_CARD.cardType,
      status: 'active',
      providerStatus: null,
      programReference: null,
      customerReference: idText(made.user_id),
      customer: null,
      links: null,
      createdAt: null,
      updatedAt: null,
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  // ---- internals ----

  private async info(reference: string): Promise<CardData> {
    const path = '/loyalty-cards/info';
    const env = await this.client.call('GET', path, { query: cardKeyOf(reference) });
    if (!check(CardData, env.data))
      throw badResponse(this.client.what('GET', path), 'data is not a loyalty card', false);
    this.remember(env.data, reference);
    return env.data;
  }

  private remember(card: CardData, reference?: string): void {
    const id = Number(card.id);
    if (!Number.isSafeInteger(id)) return;
    const user = card.user?.id ?? card.user_id;
    const ids: CardIds = {
      cardId: id,
      userId: user != null && Number.isSafeInteger(Number(user)) ? Number(user) : null,
    };
    while (this.ids.size >= CACHE_MAX) this.ids.delete(this.ids.keys().next().value!);
    for (const key of [reference, String(id), card.card_number ?? undefined]) if (key) this.ids.set(key, ids);
  }

  private async cardIds(reference: string): Promise<CardIds> {
    const hit = this.ids.get(reference);
    if (hit) return hit;
    await this.info(reference);
    const ids = this.ids.get(reference);
    if (!ids) throw badResponse(this.client.what('GET', '/loyalty-cards/info'), 'the card has no integer id', false);
    return ids;
  }

  private async create(card: CardIds, m: Movement, plan: Extract<Plan, { call: 'create' }>): Promise<MoveResult> {
    const path = '/transactions/create';
    if (card.userId === null)
      throw new ProviderError(
        'provider_rejected',
        `${this.client.what('POST', path)}: the card has no user, and transactions are user-based.`,
        'no',
      );
    const currency = m.money?.currency ?? currencyOf(this.conn);
    const body: Record<string, unknown> = {
      user_id: card.userId,
      loyalty_card_id: card.cardId,
      order_id: m.dedupKey,
      order_total: plan.orderTotal !== null ? Number(plan.orderTotal) : 0,
      currency,
      description: descriptionOf(m),
      meta_data: { gateway_txn_id: m.txnId, operation: m.operation, reference_id: m.referenceId, staff: m.staff },
    };
    if (plan.points !== null) body.points = plan.points;
    if (plan.pointsRedeemed !== null) body.points_redeemed = plan.pointsRedeemed;
    if (plan.discount !== null) body.points_discount_amount = Number(plan.discount);
    if (this.conn.shopId !== undefined) body.shop_id = this.conn.shopId;
    try {
      const env = await this.client.call('POST', path, { body });
      if (!check(CreateData, env.data))
        throw badResponse(this.client.what('POST', path), 'data.transaction_id missing', true);
      const result: MoveResult = {
        balanceAfter: env.data.points_balance ?? null,
        providerReference: String(env.data.transaction_id),
      };
      // A purchase earns what the card's rules give: the provider says how many.
      if (m.operation === 'purchase' && typeof env.data.points_awarded === 'number')
        result.effect = { unit: 'points', delta: env.data.points_awarded };
      return result;
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'duplicate_at_provider')
        return this.alreadyApplied(card, m, err);
      throw await this.withHolding(err, card);
    }
  }

  /**
   * A 409 on order_id: this transaction's dedupKey was already processed, so the movement is
   * applied (a retry after a lost answer). Its id is looked up in the card's history; the balance
   * is read now (it includes anything applied since). An order_id found on an entry carrying
   * another gateway transaction id is a real conflict and stays duplicate_at_provider.
   */
  private async alreadyApplied(card: CardIds, m: Movement, dup: ProviderError): Promise<MoveResult> {
    const group: TransactionData[] = [];
    try {
      for await (const t of this.transactions(
        card,
        { loyalty_card_id: card.cardId, per_page: HISTORY_PER_PAGE },
        LOOKUP_MAX_PAGES,
      )) {
        const e = historyEntryOf(t);
        if ((t.order_id ?? t.reference_number) === m.dedupKey || e.txnId === m.txnId) group.push(t);
        else if (group.length > 0) break;
      }
    } catch {
      // The lookup is a courtesy: the movement is applied whatever it says.
    }
    const [found] = historyOf(group);
    if (found && found.txnId !== null && found.txnId !== m.txnId) throw dup;
    // Only an order found on this card proves this transaction was applied; otherwise the 409 is
    // not understood, and the transaction is left for review rather than called a success.
    if (!found)
      throw new ProviderError(
        'duplicate_at_provider',
        `${dup.message} The order was not found in the card's history, so whether this transaction was applied is ` +
          `unknown.`,
        'unknown',
      );
    const balanceAfter = await this.balance(String(card.cardId)).then(
      (b) => b.units.points ?? null,
      () => null,
    );
    return { balanceAfter, providerReference: found?.providerReference ?? null };
  }

  private async deduct(card: CardIds, m: Movement, plan: Extract<Plan, { call: 'deduct' }>): Promise<MoveResult> {
    const path = '/transactions/deduct-points';
    const body: Record<string, unknown> = { card_id: card.cardId, points: plan.points, description: descriptionOf(m) };
    if (this.conn.shopId !== undefined) body.shop_id = this.conn.shopId;
    try {
      const env = await this.client.call('POST', path, { body });
      const data = env.data ?? null;
      if (!check(DeductData, data)) throw badResponse(this.client.what('POST', path), 'data is not an object', true);
      const ref = data ? idText(data.transaction_id ?? data.id) : null;
      const after = data
        ? (data.points_balance ??
          data.new_balance ??
          (typeof data.balance === 'number' && Number.isInteger(data.balance) ? data.balance : null))
        : null;
      return { balanceAfter: after, providerReference: ref };
    } catch (err) {
      throw await this.withHolding(err, card);
    }
  }

  /** An insufficient_points refusal that does not say what the card holds gets a balance read to say it. */
  private async withHolding(err: unknown, card: CardIds): Promise<unknown> {
    if (!(err instanceof ProviderError) || err.code !== 'insufficient_points' || err.extra.available !== undefined)
      return err;
    const held = await this.balance(String(card.cardId)).then(
      (b) => b.units.points ?? null,
      () => null,
    );
    if (held === null) return err;
    return new ProviderError('insufficient_points', `${err.message} The card holds ${held} points.`, 'no', {
      available: held,
    });
  }

  /**
   * The card's entries of GET /transactions, page by page; entries of other cards are skipped (the filter is the SDK's,
   * not documented for key auth).
   */
  private async *transactions(
    card: CardIds,
    query: Record<string, string | number | undefined>,
    maxPages: number,
  ): AsyncGenerator<TransactionData> {
    const path = '/transactions';
    for (let page = 1; page <= maxPages; page++) {
      const env = await this.client.call('GET', path, { query: { ...query, page } });
      const list = listOf(env);
      if (!list) throw badResponse(this.client.what('GET', path), 'not a list of transactions', false);
      for (const t of list.items) {
        if (!check(TransactionData, t))
          throw badResponse(this.client.what('GET', path), 'a transaction without an id', false);
        const owner = entryCardId(t);
        if (owner === null || owner === String(card.cardId)) yield t;
      }
      const last = list.page.last_page ?? null;
      if (list.items.length === 0 || (last !== null ? page >= last : list.items.length < HISTORY_PER_PAGE)) return;
    }
  }
}

/**
 * Lifetime totals, where the card info carries them (not in the documented info; the older balance page had
 * lifetime_earned / lifetime_redeemed).
 */
function totalsOf(info: CardData): { earned: number | null; redeemed: number | null } {
  const pick = (o: unknown, keys: string[]): number | null => {
    if (!o || typeof o !== 'object') return null;
    for (const k of keys) {
      const v = (o as Record<string, unknown>)[k];
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    }
    return null;
  };
  const earnedKeys = ['total_earned', 'lifetime_earned', 'total_points_earned', 'points_earned'];
  const redeemedKeys = ['total_redeemed', 'lifetime_redeemed', 'total_points_redeemed', 'points_redeemed'];
  return {
    earned: pick(info, earnedKeys) ?? pick(info.balance, earnedKeys) ?? pick(info.statistics, earnedKeys),
    redeemed: pick(info, redeemedKeys) ?? pick(info.balance, redeemedKeys) ?? pick(info.statistics, redeemedKeys),
  };
}
