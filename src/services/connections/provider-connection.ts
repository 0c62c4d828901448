import type { Dispatch } from '../../dispatch/dispatch.js';
import type { Capabilities, CardTypeCapabilities, Operation } from '../../domain/capabilities.js';
import type { Card } from '../../domain/cards.js';
import { referenceOf } from '../../domain/ids.js';
import type { Balance, HistoryPage, HistoryQuery } from '../../domain/transactions.js';
import type { Unit } from '../../domain/units.js';
import { isoTime as iso } from '../../lib/time.js';
import type { ProviderAdapter } from '../../providers/adapter.js';
import type { ProviderDescriptor } from '../../providers/descriptor.js';
import type { ProviderConnectionSettings } from '../../providers/index.js';
import { balanceCacheMsOf } from '../../providers/settings.js';
import type { BalanceCache } from '../../store/balance-cache.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import { DispatchedEngine } from '../points/dispatched-engine.js';
import type { Connection } from './connection.js';
import { HISTORY_GATEWAY_WINDOW, HISTORY_PROVIDER_WINDOW, mergedHistory } from './merged-history.js';
import { capabilitiesOfType, cardView, type ViewContext } from './views.js';

/** How long a card's capabilities (its type, its template's mechanics) are remembered by an API process. */
const CAPABILITIES_MEMO_MS = 60_000;

/**
 * A connection to a provider, behind the same Connection interface as the built-in ledger. Its
 * adapter (`provider.api`) turns every provider call into a job on the connection's queue
 * (src/dispatch); its transactions are dispatched (DispatchedEngine).
 */
export class ProviderConnection implements Connection {
  readonly capabilities: Capabilities;
  readonly engine: DispatchedEngine;
  readonly provider: { api: ProviderAdapter; view: ViewContext };
  private readonly capsMemo = new Map<string, { caps: CardTypeCapabilities; until: number }>();

  constructor(
    readonly config: ProviderConnectionSettings,
    descriptor: ProviderDescriptor,
    private readonly deps: {
      store: TransactionStore;
      balances: BalanceCache;
      dispatch: Dispatch;
      options: { inFlightWaitMs: number };
    },
  ) {
    const api = deps.dispatch.addConnection(config, descriptor);
    this.provider = { api, view: { id: config.id, settings: config, descriptor } };
    this.engine = new DispatchedEngine(config, deps.store, deps.dispatch, deps.options);
    this.capabilities = connectionCapabilities(descriptor, api);
  }

  get id(): string {
    return this.config.id;
  }

  private get api(): ProviderAdapter {
    return this.provider.api;
  }

  /** How long a balance read may be served from the cache (0: never). */
  private get balanceCacheMs(): number {
    return balanceCacheMsOf(this.config);
  }

  async cardCapabilities(cardId: string): Promise<Capabilities> {
    return capabilitiesOfType(await this.typeOfCard(cardId));
  }

  /** What the card's type supports, as the provider says (a queued call), remembered a minute. */
  private async typeOfCard(cardId: string): Promise<CardTypeCapabilities> {
    const hit = this.capsMemo.get(cardId);
    if (hit && hit.until > Date.now()) return hit.caps;
    const caps = await this.api.cardCapabilities(referenceOf(cardId));
    if (this.capsMemo.size > 10_000) this.capsMemo.clear();
    this.capsMemo.set(cardId, { caps, until: Date.now() + CAPABILITIES_MEMO_MS });
    return caps;
  }

  forgetCard(cardId: string): void {
    this.capsMemo.delete(cardId);
  }

  /**
   * The card's balance: from the cache when a read in the last `balanceCacheMs` left one and no
   * write has touched the card since, else from the provider.
   */
  async balance(cardId: string): Promise<Balance | null> {
    const ttl = this.balanceCacheMs;
    if (ttl <= 0) return this.readBalance(cardId);
    const cached = await this.deps.balances.get(cardId);
    if ('hit' in cached) return cached.hit;
    const fresh = await this.readBalance(cardId);
    await this.deps.balances.put(cardId, cached.epoch, fresh, ttl);
    return fresh;
  }

  private async readBalance(cardId: string): Promise<Balance> {
    const b = await this.api.balance(referenceOf(cardId));
    return {
      card_id: cardId,
      connection: this.id,
      unit: b.nativeUnit,
      available: b.units[b.nativeUnit] ?? 0,
      held: 0,
      pending: 0,
      units: b.units,
      total_earned: b.totalEarned,
      total_redeemed: b.totalRedeemed,
      total_expired: null,
      total_adjusted: null,
      expiring_soon: null,
      next_expiry: null,
      tier: null,
      as_of: iso(Date.now()),
    };
  }

  /** The gateway's transactions on the card merged with the provider's own record (merged-history.ts). */
  async history(cardId: string, q: HistoryQuery): Promise<HistoryPage> {
    const ref = referenceOf(cardId);
    const records = await this.deps.store.getMany(await this.deps.store.idsOfCard(cardId, HISTORY_GATEWAY_WINDOW));
    const provided = this.api.history
      ? await this.api.history(ref, { limit: HISTORY_PROVIDER_WINDOW, fromMs: q.fromMs, toMs: q.toMs })
      : [];
    // Usually remembered already: the history request has just checked what the card supports.
    const nativeUnit = async (): Promise<Unit> => (await this.typeOfCard(cardId)).nativeUnit;
    const page = await mergedHistory({ id: cardId, connection: this.id, nativeUnit }, records, provided, q);
    return { ids: [], ...page };
  }

  /** The card, with what this very card supports (its template's mechanics included). */
  async getCard(cardId: string): Promise<Card | null> {
    const ref = referenceOf(cardId);
    const c = await this.api.getCard(ref);
    return c ? cardView(this.provider.view, c, await this.typeOfCard(cardId)) : null;
  }

  /** Every write the gateway makes to a card ends its cached balance (and any read already on its way). */
  async invalidateBalance(cardId: string): Promise<void> {
    if (this.balanceCacheMs > 0) await this.deps.balances.invalidate(cardId);
  }
}

/** Everything any card type supports, plus what the connection itself offers (the adapter methods it has). */
function connectionCapabilities(descriptor: ProviderDescriptor, a: ProviderAdapter): Capabilities {
  const ops = new Set<Operation>();
  const units = new Set<Unit>();
  const cardTypes = descriptor.cardTypes.map((t) => {
    const { operations } = capabilitiesOfType(t);
    for (const o of operations) ops.add(o);
    for (const u of t.units) units.add(u);
    return { card_type: t.cardType, operations, units: [...t.units], native_unit: t.nativeUnit };
  });
  const offered: [boolean, Operation][] = [
    [!!a.issueCard, 'issue_card'],
    [!!a.listCards, 'list_cards'],
    [!!a.deleteCard, 'delete_card'],
    [!!a.voidCard, 'void_card'],
    [!!a.listCustomers || !!a.createCustomer, 'customers'],
    [!!a.deleteCustomer, 'delete_customer'],
    [!!a.listPrograms, 'programs'],
    [!!a.copyProgram, 'copy_program'],
    [!!a.notify, 'notify'],
    [true, 'get_card'],
  ];
  for (const [has, op] of offered) if (has) ops.add(op);
  return { operations: [...ops], units: [...units], card_types: cardTypes };
}
