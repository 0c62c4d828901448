import type { CardTypeCapabilities } from '../../domain/capabilities.js';
import { ProviderError } from '../../domain/errors.js';
import type { EarnedReward } from '../../domain/programs.js';
import type { Unit } from '../../domain/units.js';
import { DAY_MS, isoDay } from '../../lib/time.js';
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
import { badResponse, type HttpResult, orNullIfMissing } from '../http/provider-http.js';
import type { RequestGate } from '../http/request-gate.js';
import { currencyOf } from '../settings.js';
import { HighlightClient } from './client.js';
import { HighlightDirectory, pageMeta } from './directory.js';
import {
  type CardKind,
  type CardType,
  capabilitiesOf,
  findRow,
  type MoveKind,
  moveKindOf,
  NATIVE_UNIT,
  nativeUnitOf,
  type Readings,
  readingsOf,
  type TemplateSettings,
  templateSettings,
} from './mapping.js';
import {
  balanceOf,
  historyEntryOf,
  minorToDecimal,
  rewardsOf,
  timeOf,
  toMinor,
  toProviderCard,
  typeOfCard,
  unitsByBalance,
  unitsOf,
} from './normalize.js';
import type { HighlightSettings } from './settings.js';
import { isCard, isOperation, itemOf, listOf, type WireCard, type WireOperation, type WireRewardTier } from './wire.js';

/**
 * Highlight Cards API v2 (white label of Boomerangme). A card reference is the card serial
 * (`544256-439-856`); a customer reference the Highlight customer id; a program reference the
 * template id. What each card type can do is OPERATION_TABLE in mapping.ts.
 */

interface CardInfo {
  type: CardType;
  templateId: string;
}

const SUBTRACTIONS = new Set<MoveKind>([
  'redeem',
  'expire',
  'adjust-',
  'refund_purchase',
  'redeem_reward',
  'redeem_coupon',
]);

/** findApplied: how much earlier than `sinceMs` an operation may be stamped (Highlight's clock against ours). */
const FIND_SKEW_MS = 5 * 60_000;
/** findApplied reads at most this many pages of this many operations (the newest of the card since the day before). */
const FIND_PER_PAGE = 100;
const FIND_MAX_PAGES = 10;

export class HighlightAdapter extends HighlightDirectory implements ProviderAdapter {
  private readonly cache = new Map<string, CardInfo & { until: number }>();
  private readonly cacheMs: number;
  private readonly readings: Readings;

  constructor(
    private readonly conn: HighlightSettings,
    gate: RequestGate,
  ) {
    super(new HighlightClient(conn, gate));
    this.cacheMs = (conn.cardTypeCacheSeconds ?? 300) * 1000;
    this.readings = readingsOf(conn);
  }

  settingsOf(type: CardType, templateId: string): TemplateSettings {
    return templateSettings(this.conn, type, templateId);
  }

  /** How a card of this type and template is read on this connection. */
  private kindOf(info: CardInfo): CardKind {
    return { type: info.type, template: this.settingsOf(info.type, info.templateId), readings: this.readings };
  }

  protected override tierUnit(type: CardType, templateId: string): Unit {
    return type === 'reward' ? nativeUnitOf(type, this.settingsOf(type, templateId)) : NATIVE_UNIT[type];
  }

  private cardPath(ref: string): string {
    return this.pathOf('cards', ref);
  }

  private remember(card: WireCard): CardInfo {
    const type = typeOfCard(card);
    if (!type)
      throw badResponse(
        this.client.what('GET', `/cards/${card.id}`),
        `unknown card type ${JSON.stringify(card.type)}`,
        false,
      );
    const info = { type, templateId: String(card.templateId) };
    if (this.cacheMs > 0) this.cache.set(card.id, { ...info, until: Date.now() + this.cacheMs });
    return info;
  }

  /** GET /cards/{serial}, validated; refreshes the type cache. */
  protected override async fetchCard(ref: string): Promise<{ card: WireCard; info: CardInfo }> {
    const path = this.cardPath(ref);
    const res = await this.client.call('GET', path, { notFound: 'card_not_found' });
    const card = itemOf(res.body, isCard);
    if (!card) throw badResponse(this.client.what('GET', path), 'no card in data', false);
    return { card, info: this.remember(card) };
  }

  /** The card's type and template, from the cache when fresh. */
  protected override async cardInfo(ref: string): Promise<CardInfo> {
    const hit = this.cache.get(ref);
    if (hit && hit.until > Date.now()) return hit;
    this.cache.delete(ref);
    return (await this.fetchCard(ref)).info;
  }

  private capsOf(info: CardInfo): CardTypeCapabilities {
    return capabilitiesOf(info.type, this.settingsOf(info.type, info.templateId));
  }

  async cardCapabilities(reference: string): Promise<CardTypeCapabilities> {
    return this.capsOf(await this.cardInfo(reference));
  }

  private unsupported(ref: string, info: CardInfo, m: Movement): ProviderError {
    const caps = this.capsOf(info);
    const s = this.settingsOf(info.type, info.templateId);
    const setting = info.type === 'membership' ? `${s.limits ? 'with' : 'without'} limits` : `${s.mechanics} mechanics`;
    const asked =
      m.operation === 'adjust'
        ? `adjust (${m.quantity < 0 ? 'subtract' : 'add'}) in ${m.unit}`
        : `${m.operation} in ${m.unit}`;
    return new ProviderError(
      'unsupported_operation',
      `Card ${ref} is a Highlight ${info.type} card (template ${info.templateId}, ${setting}): ${asked} is not ` +
        `supported. ` +
        `It supports ${caps.operations.join(', ')}; units ${caps.units.join(', ')} (native ${caps.nativeUnit}).`,
      'no',
      { supported: caps.operations },
    );
  }

  async move(reference: string, m: Movement): Promise<MoveResult> {
    const path = this.cardPath(reference);
    const kind = moveKindOf(m);
    // Subtractions read the card first: the docs do not say whether Highlight refuses or clamps an overdraft.
    let fresh = SUBTRACTIONS.has(kind) ? await this.fetchCard(reference) : null;
    const info = fresh?.info ?? (await this.cardInfo(reference));
    const card = this.kindOf(info);
    const row = findRow(kind, info.type, card.template, m.unit);
    if (!row) throw this.unsupported(reference, info, m);
    // With the "rate" reading the cashback a transaction amount moves is the template's rule: read before and after.
    const byRate = row.path.endsWith('-transaction-amount') && card.readings.transactionAmountCredit === 'rate';
    if (byRate && !fresh) fresh = await this.fetchCard(reference);

    const what = this.client.what('POST', `${path}/${row.path}`);
    const currency = currencyOf(this.conn);
    if (m.money && m.money.currency !== currency) {
      throw new ProviderError(
        'validation_failed',
        `${what}: the connection counts money in ${currency}, not ${m.money.currency}.`,
        'no',
      );
    }
    const qty = Math.abs(m.quantity);
    const body: Record<string, unknown> = {};
    let need: number | null = null;
    if (row.field === 'amount') {
      const decimal =
        m.money?.decimal ?? (kind === 'purchase' || kind === 'refund_purchase' ? null : minorToDecimal(qty));
      if (decimal === null || Number(decimal) <= 0)
        throw new ProviderError('validation_failed', `${what}: a positive amount of money is required.`, 'no');
      body.amount = Number(decimal);
      need = m.money?.minor ?? qty;
    } else if (row.field === 'id') {
      if (!m.rewardId || !/^[0-9]{1,15}$/.test(m.rewardId)) {
        throw new ProviderError(
          m.rewardId ? 'reward_not_found' : 'validation_failed',
          `${what}: a Reward card redeems a reward tier by its numeric id (reward_id; see the card's rewards).`,
          'no',
        );
      }
      body.id = Number(m.rewardId);
      need = (await this.tierOf(reference, info, fresh!.card, m.rewardId, what)).threshold ?? null;
    } else if (row.field) {
      const n = kind === 'redeem_reward' ? Math.max(1, qty) : qty;
      if (!Number.isInteger(n) || n < 1)
        throw new ProviderError('invalid_points_amount', `${what}: a whole quantity of at least 1 is required.`, 'no');
      body[row.field] = n;
      need = n;
    }
    body.comment = commentOf(m);
    if (m.money && row.field !== 'amount') body.purchaseSum = Number(m.money.decimal);

    // The unit the card moves: a reward tier costs the card's own unit (scores, or visits with visit mechanics).
    const moved: Unit | null = row.field === 'id' ? nativeUnitOf(info.type, card.template) : row.unit;
    const heldBefore = fresh && moved ? unitsOf(fresh.card, card)[moved] : undefined;
    if (fresh) {
      // A stamp card's earned rewards have one id (see rewards()); another id names no reward of this card.
      if (kind === 'redeem_reward' && info.type === 'stamp' && m.rewardId !== null) {
        const ids = rewardsOf(fresh.card, card).map((r) => r.id);
        if (ids.length > 0 && !ids.includes(m.rewardId)) {
          throw new ProviderError(
            'reward_not_found',
            `${what}: card ${reference} has no reward "${m.rewardId.slice(0, 60)}"; its earned reward is ` +
              `${ids.join(', ')}.`,
            'no',
          );
        }
      }
      if (kind === 'redeem_coupon' && fresh.card.couponRedeemed === true) {
        throw new ProviderError(
          'coupon_already_redeemed',
          `${what}: the coupon on card ${reference} was already redeemed.`,
          'no',
        );
      }
      // By rate, what a subtraction takes is not known before: Highlight's own refusal stands.
      if (SUBTRACTIONS.has(kind) && !byRate && heldBefore !== undefined && need !== null && heldBefore < need)
        throw insufficient(what, reference, heldBefore, need, moved!);
    }

    let res: HttpResult;
    try {
      res = await this.client.call('POST', `${path}/${row.path}`, {
        body,
        notFound: row.field === 'id' ? 'reward_not_found' : 'card_not_found',
        ...(kind === 'redeem_coupon' ? { conflict: 'coupon_already_redeemed' as const } : {}),
      });
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'insufficient_points' && moved)
        throw await this.withHolding(err, reference, card, moved);
      throw err;
    }
    const answer = itemOf(res.body, isCard);
    if (!answer) throw badResponse(what, 'no card in data', true);
    try {
      this.remember(answer);
    } catch {
      /* the move is done; an unreadable type only skips the cache */
    }
    const units = unitsOf(answer, card);

    // Cashback moved by a transaction amount: the amount itself, or by rate what the card's balance says.
    if (row.path.endsWith('-transaction-amount') && need !== null) {
      const after = units.amount ?? null;
      const sign = SUBTRACTIONS.has(kind) ? -1 : 1;
      const delta = !byRate ? sign * need : after !== null && heldBefore !== undefined ? after - heldBefore : null;
      if (delta !== null && (byRate || kind === 'purchase' || kind === 'refund_purchase'))
        return { balanceAfter: after, providerReference: null, effect: { unit: 'amount', delta } };
      return { balanceAfter: after, providerReference: null };
    }
    // A redemption records what it cost, in the card's unit, and the balance after (read back when not in the answer).
    if (kind === 'redeem_reward' || kind === 'redeem_coupon') {
      const unit = moved ?? 'rewards';
      const cost = kind === 'redeem_coupon' ? 1 : need;
      const after = units[unit] ?? (await this.readBack(reference, card, unit));
      const delta = cost !== null ? -cost : after !== null && heldBefore !== undefined ? after - heldBefore : null;
      return {
        balanceAfter: after,
        providerReference: null,
        ...(delta !== null ? { effect: { unit, delta } } : {}),
      };
    }
    return { balanceAfter: units[m.unit] ?? null, providerReference: null };
  }

  /**
   * The reward tier a Reward card redeems: among the card's `availableRewardTiers`, else among all the tiers of its
   * template (one the card cannot pay for yet); an id in neither is no reward of this card, refused before sending.
   */
  private async tierOf(
    ref: string,
    info: CardInfo,
    card: WireCard,
    rewardId: string,
    what: string,
  ): Promise<WireRewardTier> {
    const here = card.availableRewardTiers?.find((t) => String(t.id) === rewardId);
    if (here) return here;
    const all = await orNullIfMissing('program_not_found', () => this.templateTiers(info.templateId));
    const tier = all?.find((t) => String(t.id) === rewardId);
    if (tier) return tier;
    const known = [...new Set([...(card.availableRewardTiers ?? []), ...(all ?? [])].map((t) => String(t.id)))];
    throw new ProviderError(
      'reward_not_found',
      `${what}: card ${ref} (template ${info.templateId}) has no reward tier ${rewardId}` +
        (known.length ? `; its tiers are ${known.join(', ')}.` : '.'),
      'no',
    );
  }

  /** The card's balance in `unit`, read again after a move whose answer did not carry it; null when unreadable. */
  private async readBack(ref: string, kind: CardKind, unit: Unit): Promise<number | null> {
    try {
      return unitsOf((await this.fetchCard(ref)).card, kind)[unit] ?? null;
    } catch {
      // The move is done: an unreadable balance is only not recorded.
      return null;
    }
  }

  /** Adds what the card holds to an insufficient_points refusal (best effort). */
  private async withHolding(err: ProviderError, ref: string, kind: CardKind, unit: Unit): Promise<ProviderError> {
    try {
      const { card } = await this.fetchCard(ref);
      const held = unitsOf(card, kind)[unit];
      if (held === undefined) return err;
      return new ProviderError('insufficient_points', `${err.message} The card holds ${fmt(held, unit)}.`, 'no', {
        available: held,
      });
    } catch {
      return err;
    }
  }

  async balance(reference: string): Promise<ProviderBalance> {
    const { card, info } = await this.fetchCard(reference);
    return balanceOf(card, this.kindOf(info));
  }

  async history(
    reference: string,
    opts: { limit: number; fromMs?: number; toMs?: number },
  ): Promise<ProviderHistoryEntry[]> {
    // Up to now, the operations reach back from the card's current balance, which says the unit each one moved.
    const current = opts.toMs === undefined ? await this.fetchCard(reference) : null;
    const info = current?.info ?? (await this.cardInfo(reference));
    const kind = this.kindOf(info);
    const perPage = Math.max(1, Math.min(opts.limit, 100));
    const page = (n: number) =>
      this.operationPage(
        reference,
        n,
        perPage,
        opts.fromMs !== undefined ? isoDay(opts.fromMs) : undefined,
        opts.toMs !== undefined ? isoDay(opts.toMs) : undefined,
      );
    const first = await page(1);
    let ops: WireOperation[] = first.data;
    // The order is undocumented: when the first page is oldest-first and more pages exist, read the newest ones too.
    const total = first.meta?.totalItems;
    const t = (o: WireOperation) => timeOf(o.createdAt) ?? 0;
    if (total !== undefined && total > perPage && ops.length > 1 && t(ops[0]!) < t(ops[ops.length - 1]!)) {
      const last = Math.ceil(total / perPage);
      ops = (await page(last)).data;
      if (ops.length < opts.limit && last - 1 > 1) ops = ops.concat((await page(last - 1)).data);
    }
    const units = this.capsOf(info).units;
    const native = nativeUnitOf(info.type, kind.template);
    // Newest first; operations in the same instant by their (increasing) ids.
    const num = (o: WireOperation) => (typeof o.id === 'number' ? o.id : Number.NaN);
    ops = [...ops].sort((a, b) => t(b) - t(a) || num(b) - num(a) || 0);
    const moved = current ? unitsByBalance(ops, current.card, kind) : null;
    return ops
      .map((o) => historyEntryOf(o, info.type, units, { native, unit: moved?.get(o) }))
      .filter(
        (e) =>
          (opts.fromMs === undefined || e.createdAt >= opts.fromMs) &&
          (opts.toMs === undefined || e.createdAt <= opts.toMs),
      )
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, opts.limit);
  }

  /** One page of GET /operations for the card. */
  private async operationPage(reference: string, n: number, perPage: number, startDate?: string, endDate?: string) {
    const query = { cardId: reference, page: n, itemsPerPage: perPage, startDate, endDate };
    const res = await this.client.call('GET', '/operations', { query, notFound: 'card_not_found' });
    const list = listOf(res.body, isOperation);
    if (!list) throw badResponse(this.client.what('GET', '/operations'), 'no operation list in data', false);
    return list;
  }

  /**
   * The operation that applied `m`, found by the `[lgw:<txnId>]` of its comment among the card's
   * operations since a little before `sinceMs`. It reads pages of 100 from the newest (whichever
   * order Highlight lists them in) until one holds the txn id, or the operations are older than
   * `sinceMs` less FIND_SKEW_MS, or FIND_MAX_PAGES pages were read (1,000 operations: a card busy
   * enough to have more in a few minutes is not expected). startDate is the UTC day before, as
   * Highlight's day may be local.
   */
  async findApplied(reference: string, m: Movement, sinceMs: number): Promise<MoveResult | null> {
    const info = await this.cardInfo(reference);
    const units = this.capsOf(info).units;
    const from = sinceMs - FIND_SKEW_MS;
    const startDate = isoDay(from - DAY_MS);
    const page = (n: number) => this.operationPage(reference, n, FIND_PER_PAGE, startDate);
    const t = (o: WireOperation) => timeOf(o.createdAt) ?? 0;
    const native = nativeUnitOf(info.type, this.settingsOf(info.type, info.templateId));
    const match = (ops: WireOperation[]): { e: ProviderHistoryEntry; o: WireOperation } | null => {
      for (const o of ops) {
        const e = historyEntryOf(o, info.type, units, { native });
        if (e.txnId === m.txnId) return { e, o };
      }
      return null;
    };

    const first = await page(1);
    const total = first.meta?.totalItems;
    const ops = first.data;
    const oldestFirst = ops.length > 1 && t(ops[0]!) < t(ops[ops.length - 1]!);
    let found = match(ops);
    if (!found && oldestFirst && total !== undefined && total > FIND_PER_PAGE) {
      // Oldest first: from the last page backwards, while pages still reach back to `from`.
      const last = Math.ceil(total / FIND_PER_PAGE);
      for (let n = last; n > 1 && n > last - FIND_MAX_PAGES && !found; n--) {
        const list = (await page(n)).data;
        found = match(list);
        if (list.length > 0 && t(list[list.length - 1]!) < from) break;
      }
    } else if (!found) {
      // Newest first (or unknown: read on), until the entries are older than `from`.
      let list = ops;
      for (let n = 2; n <= FIND_MAX_PAGES && !found; n++) {
        const more = total !== undefined ? (n - 1) * FIND_PER_PAGE < total : list.length >= FIND_PER_PAGE;
        if (!more || list.length === 0 || (!oldestFirst && t(list[list.length - 1]!) < from)) break;
        list = (await page(n)).data;
        found = match(list);
      }
    }
    if (!found) return null;
    const { e: entry, o: op } = found;
    const amount = op.amount;

    // What move() would have answered: the balance in the unit moved (the entry's unit is a guess
    // from eventId: when it is another unit the balance is not given), and what the operation moved.
    const kind = moveKindOf(m);
    const row = findRow(kind, info.type, this.settingsOf(info.type, info.templateId), m.unit);
    const txnAmount = !!row?.path.endsWith('-transaction-amount');
    const byRate = txnAmount && this.readings.transactionAmountCredit === 'rate';
    const redemption = kind === 'redeem_reward' || kind === 'redeem_coupon';
    const unit: Unit = txnAmount
      ? 'amount'
      : kind === 'redeem_coupon'
        ? 'rewards'
        : row?.field === 'id'
          ? native
          : m.unit;
    const result: MoveResult = {
      balanceAfter: kind === 'redeem_coupon' ? 0 : entry.unit === unit ? entry.balanceAfter : null,
      providerReference: entry.providerReference,
    };
    if (byRate && typeof amount === 'number') {
      // The operation says what the rate moved.
      result.effect = { unit: 'amount', delta: toMinor(amount) };
    } else if (txnAmount && (kind === 'purchase' || kind === 'refund_purchase')) {
      const need = m.money?.minor ?? Math.abs(m.quantity);
      result.effect = { unit: 'amount', delta: kind === 'purchase' ? need : -need };
    } else if (redemption) {
      // What it cost: what the operation took (a tier's threshold), else one coupon or the rewards asked for.
      const cost = kind === 'redeem_coupon' ? 1 : typeof amount === 'number' && amount !== 0 ? Math.abs(amount) : null;
      const n = cost ?? (row?.field === 'id' ? null : Math.max(1, Math.abs(m.quantity)));
      if (n !== null) result.effect = { unit, delta: -n };
    }
    return result;
  }

  async getCard(reference: string): Promise<ProviderCard | null> {
    return orNullIfMissing('card_not_found', async () => {
      const { card, info } = await this.fetchCard(reference);
      return toProviderCard(card, info.type);
    });
  }

  async listCards(q: ListCardsInput): Promise<Page<ProviderCard>> {
    const query = {
      customerId: q.customerReference,
      templateId: q.programReference,
      page: q.page,
      itemsPerPage: q.perPage,
    };
    const res = await this.client.call('GET', '/cards', {
      query,
      notFound: q.customerReference ? 'customer_not_found' : 'program_not_found',
    });
    const list = listOf(res.body, isCard);
    if (!list) throw badResponse(this.client.what('GET', '/cards'), 'no card list in data', false);
    // A card of a type this adapter does not know is left out rather than failing the whole page.
    const data = list.data.flatMap((c) => {
      const type = typeOfCard(c);
      return type ? [toProviderCard(c, type)] : [];
    });
    return { data, meta: pageMeta(q.page, q.perPage, list.data.length, list.meta) };
  }

  async issueCard(input: IssueCardInput): Promise<ProviderCard> {
    const card = await this.issue(input);
    return toProviderCard(card, this.remember(card).type);
  }

  async deleteCard(reference: string): Promise<void> {
    await this.client.call('DELETE', this.cardPath(reference), { notFound: 'card_not_found' });
    this.cache.delete(reference);
  }

  async rewards(reference: string): Promise<EarnedReward[]> {
    const { card, info } = await this.fetchCard(reference);
    return rewardsOf(card, this.kindOf(info));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The comment of a movement: its reason and the gateway txn id, which history() finds back. */
export function commentOf(m: Pick<Movement, 'reason' | 'txnId'>): string {
  const reason = m.reason
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, 200);
  return reason ? `${reason} [lgw:${m.txnId}]` : `[lgw:${m.txnId}]`;
}

const fmt = (n: number, unit: string) => (unit === 'amount' ? `${minorToDecimal(n)} (amount)` : `${n} ${unit}`);

function insufficient(what: string, ref: string, held: number, need: number, unit: string): ProviderError {
  return new ProviderError(
    'insufficient_points',
    `${what}: card ${ref} holds ${fmt(held, unit)}; ${fmt(need, unit)} were asked for.`,
    'no',
    { available: held },
  );
}
