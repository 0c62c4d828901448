import type { Redis } from 'ioredis';
import { ERROR_CODES, type ErrorCode } from '../../domain/errors.js';
import type { Card } from '../../domain/cards.js';
import type { CustomerResource } from '../../domain/customers.js';
import type { Program } from '../../domain/programs.js';
import type { Balance, HistoryEntry } from '../../domain/transactions.js';
import type { ExternalConnection } from '../../config/connections.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import { render, type TransactionRecord } from '../../store/transaction-record.js';
import type { KeySpace } from '../../redis/keys.js';
import { decimalToMinor, minorToDecimal } from '../../lib/money.js';
import type { CardTypeCapabilities } from '../../domain/capabilities.js';
import type {
  Movement,
  ProviderAdapter,
  ProviderCard,
  ProviderCustomer,
  ProviderHistoryEntry,
  ProviderProgram,
} from '../../providers/adapter.js';
import type { Unit } from '../../domain/units.js';
import { queuedAdapter } from '../../dispatch/queued-adapter.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import type { MoveResult } from '../../providers/adapter.js';
import type { Capabilities, Operation } from '../../domain/capabilities.js';
import type { HistoryPage, HistoryQuery, Connection } from './connection.js';

/**
 * How much of each side history merges: the latest entries of the gateway and of the provider
 * (documented: an external card's history reaches back this far; older entries are not listed).
 */
const HISTORY_GATEWAY_WINDOW = 500;
const HISTORY_PROVIDER_WINDOW = 200;

/** A time as ISO 8601; a provider time out of range reads as the epoch rather than failing the answer. */
const iso = (ms: number): string => {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : new Date(0).toISOString();
};

/** The part of a gateway id after `<connection>:`. */
export const referenceOf = (id: string): string => id.slice(id.indexOf(':') + 1);

/** The `<connection>` part of a gateway id ('' when there is none). */
export const connectionOf = (id: string): string => (id.includes(':') ? id.slice(0, id.indexOf(':')) : '');

/** How long a card's capabilities (its type, its template's mechanics) are remembered by an API process. */
const CAPABILITIES_MEMO_MS = 60_000;

/**
 * A connection to an external provider, behind the same Connection interface as the built-in
 * ledger. The adapter translates; this class keeps the gateway's promises around it.
 *
 * Two views of the adapter: `adapter` (what routes use) turns every provider call into a job on
 * the connection's queue (src/queue/); `direct` is the adapter itself, used only by the workers
 * that run those jobs. Transactions are not applied here: PointsService claims them as queued and
 * a worker applies them (src/queue/transaction-job.ts).
 */
export class ProviderConnection implements Connection {
  readonly capabilities: Capabilities;
  readonly adapter: ProviderAdapter;
  private readonly capsMemo = new Map<string, { caps: Capabilities; until: number }>();

  constructor(
    readonly connection: ExternalConnection,
    readonly direct: ProviderAdapter,
    private readonly ledger: TransactionStore,
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    dispatch: Dispatcher,
  ) {
    this.adapter = queuedAdapter(direct, connection.id, dispatch);
    this.capabilities = this.connectionCapabilities();
  }

  /** How long a balance read may be served from the cache (0: never). */
  get balanceCacheMs(): number {
    return this.connection.balanceCacheMs ?? 2000;
  }

  get currency(): string {
    return this.connection.currency ?? 'EUR';
  }

  /** Everything any card type supports, plus what the connection itself offers. */
  private connectionCapabilities(): Capabilities {
    const ops = new Set<Operation>();
    const units = new Set<CardTypeCapabilities['units'][number]>();
    const cardTypes = this.adapter.cardTypes.map((t) => {
      const operations = this.withGatewayOps(t.operations);
      for (const o of operations) ops.add(o);
      for (const u of t.units) units.add(u);
      return { card_type: t.cardType, operations, units: [...t.units], native_unit: t.nativeUnit };
    });
    const a = this.adapter;
    const extra: [boolean, Operation][] = [
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
    for (const [has, op] of extra) if (has) ops.add(op);
    return { operations: [...ops], units: [...units], card_types: cardTypes };
  }

  /** The gateway always keeps history (its own ledger); reverse is the adapter's to declare (both directions needed). */
  private withGatewayOps(operations: Operation[]): Operation[] {
    const out = new Set(operations);
    out.add('history');
    out.add('get_card');
    return [...out];
  }

  async cardCapabilities(cardId: string): Promise<Capabilities> {
    const hit = this.capsMemo.get(cardId);
    if (hit && hit.until > Date.now()) return hit.caps;
    const t = await this.adapter.cardCapabilities(referenceOf(cardId));
    const caps: Capabilities = {
      operations: this.withGatewayOps(t.operations),
      units: [...t.units],
      native_unit: t.nativeUnit,
    };
    if (this.capsMemo.size > 10_000) this.capsMemo.clear();
    this.capsMemo.set(cardId, { caps, until: Date.now() + CAPABILITIES_MEMO_MS });
    return caps;
  }

  /** Forgets what was remembered of a card (deleted, voided). */
  forgetCard(cardId: string): void {
    this.capsMemo.delete(cardId);
  }

  movementOf(txn: TransactionRecord): Movement {
    const money =
      txn.amount !== null
        ? { decimal: txn.amount, minor: decimalToMinor(txn.amount), currency: txn.currency ?? this.currency }
        : txn.unit === 'amount' && txn.points !== null
          ? { decimal: minorToDecimal(Math.abs(txn.points)), minor: Math.abs(txn.points), currency: this.currency }
          : null;
    return {
      operation: txn.type,
      unit: txn.unit,
      quantity: txn.points ?? 0,
      money,
      rewardId: txn.reward_id,
      txnId: txn.id,
      reason: txn.reason,
      referenceId: txn.reference_id,
      staff: txn.staff,
      // The transaction's own id: unique, and the same whenever this transaction is sent (a
      // reference_id is not enough: the same order number may be used on two cards).
      dedupKey: txn.id,
      notify: this.connection.notifyCustomers ?? true,
    };
  }

  /** The fields a succeeded transaction records from the provider's answer. */
  successFields(txn: TransactionRecord, res: MoveResult): Record<string, string | number | null> {
    let { unit, delta } = txn;
    let points = txn.points ?? 0;
    let balanceAfter = res.balanceAfter;
    if (txn.type === 'purchase' || txn.type === 'refund_purchase') {
      // A purchase records money spent; its effect on the card is the provider's rule, known only when it says.
      if (res.effect) ({ unit, delta } = res.effect), (points = Math.abs(res.effect.delta));
      else balanceAfter = null;
    }
    return { balance_after: balanceAfter, provider_reference: res.providerReference, unit, points, delta };
  }

  /** Every write the gateway makes to a card ends its cached balance (and any read already on its way). */
  async invalidateBalance(cardId: string): Promise<void> {
    if (this.balanceCacheMs <= 0) return;
    await this.redis
      .multi()
      .incr(this.keys.balanceEpoch(cardId))
      .pexpire(this.keys.balanceEpoch(cardId), 86_400_000)
      .exec();
  }

  /**
   * The card's balance: from the cache when a read in the last `balanceCacheMs` left one and no
   * write has touched the card since (the epoch counter), else from the provider.
   */
  async balance(cardId: string): Promise<Balance | null> {
    const ttl = this.balanceCacheMs;
    const key = this.keys.balanceCache(cardId);
    let epoch = '0';
    if (ttl > 0) {
      const [cached, current] = await this.redis.mget(key, this.keys.balanceEpoch(cardId));
      epoch = current ?? '0';
      if (cached) {
        const sep = cached.indexOf('|');
        if (cached.slice(0, sep) === epoch) return JSON.parse(cached.slice(sep + 1)) as Balance;
      }
    }
    const fresh = await this.readBalance(cardId);
    if (ttl > 0 && fresh) await this.redis.set(key, `${epoch}|${JSON.stringify(fresh)}`, 'PX', ttl);
    return fresh;
  }

  private async readBalance(cardId: string): Promise<Balance | null> {
    const b = await this.adapter.balance(referenceOf(cardId));
    return {
      card_id: cardId,
      connection: this.connection.id,
      unit: b.nativeUnit,
      available: b.units[b.nativeUnit] ?? 0,
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

  /**
   * The gateway's transactions on the card merged with the provider's own record: an operation
   * found in both (by the txn id the adapter wrote into the provider's comment) is one entry,
   * recorded_by "both"; operations made outside the gateway appear with source "provider".
   */
  async history(cardId: string, q: HistoryQuery): Promise<HistoryPage | null> {
    const ref = referenceOf(cardId);
    const ids = (await this.redis.zrange(
      this.keys.history(cardId),
      '+',
      '-',
      'BYLEX',
      'REV',
      'LIMIT',
      0,
      HISTORY_GATEWAY_WINDOW,
    )) as string[];
    const records = await this.ledger.getMany(ids);
    const provided: ProviderHistoryEntry[] = this.adapter.history
      ? await this.adapter.history(ref, { limit: HISTORY_PROVIDER_WINDOW, fromMs: q.fromMs, toMs: q.toMs })
      : [];
    // One provider operation matches one gateway transaction (the first carrying its id); any other
    // operation, even one quoting a known id, is shown as the provider's own.
    const known = new Set(records.map((r) => r.id));
    const byTxn = new Map<string, ProviderHistoryEntry>();
    const unmatched: ProviderHistoryEntry[] = [];
    for (const p of provided) {
      if (p.txnId && known.has(p.txnId) && !byTxn.has(p.txnId)) byTxn.set(p.txnId, p);
      else unmatched.push(p);
    }
    const entries: HistoryEntry[] = records.map((r) => {
      const p = byTxn.get(r.id);
      const t = render(r);
      return {
        ...t,
        provider_reference: t.provider_reference ?? p?.providerReference ?? null,
        recorded_by: p ? 'both' : 'gateway',
      };
    });
    const nativeUnit = unmatched.length > 0 ? (await this.adapter.cardCapabilities(ref)).nativeUnit : 'points';
    for (const p of unmatched) entries.push(this.providerOnly(cardId, p, nativeUnit));

    const matching = entries.filter((e) => {
      const at = Date.parse(e.created_at);
      return (
        (q.type === undefined || q.type === 'all' || e.type === q.type) &&
        (q.referenceId === undefined || e.reference_id === q.referenceId) &&
        (q.staff === undefined || e.staff === q.staff) &&
        (q.fromMs === undefined || at >= q.fromMs) &&
        (q.toMs === undefined || at <= q.toMs)
      );
    });
    const key = (e: HistoryEntry) => `${String(Date.parse(e.created_at)).padStart(15, '0')}|${e.id}`;
    matching.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
    const start = q.after !== undefined ? matching.findIndex((e) => key(e) < q.after!) : 0;
    const rest = start === -1 ? [] : matching.slice(start);
    const page = rest.slice(0, q.limit);
    const next = rest.length > q.limit ? key(page[page.length - 1]!) : null;
    return { ids: [], entries: page, next };
  }

  private providerOnly(cardId: string, p: ProviderHistoryEntry, nativeUnit: Unit): HistoryEntry {
    const at = iso(p.createdAt);
    // The gateway counts whole units; a provider's fractional figure is rounded, never a failed answer.
    const whole = (n: number) => (Number.isFinite(n) ? Math.round(n) : 0);
    p = { ...p, delta: whole(p.delta), balanceAfter: p.balanceAfter === null ? null : whole(p.balanceAfter) };
    return {
      id: `prv_${p.providerReference}`,
      type: p.operation === 'other' ? 'adjust' : p.operation,
      status: 'succeeded',
      card_id: cardId,
      connection: this.connection.id,
      unit: p.unit ?? nativeUnit,
      points: Math.abs(p.delta),
      amount: null,
      reward_id: null,
      provider_reference: p.providerReference,
      error: null,
      delta: p.delta,
      balance_after: p.balanceAfter,
      reason: p.comment ?? '',
      reference_id: null,
      staff: null,
      metadata: null,
      expires_at: null,
      reversal_of: null,
      reversed_points: 0,
      source: 'provider',
      created_at: at,
      completed_at: at,
      recorded_by: 'provider',
    };
  }

  // ---- cards, customers, programs: the provider's objects with gateway ids ----

  cardOf(c: ProviderCard, caps?: CardTypeCapabilities): Card {
    const type = caps ?? this.adapter.cardTypes.find((t) => t.cardType === c.cardType);
    const id = this.connection.id;
    return {
      id: `${id}:${c.reference}`,
      connection: id,
      reference: c.reference,
      status: c.status,
      status_reason: null,
      card_type: c.cardType,
      program_id: c.programReference !== null ? `${id}:${c.programReference}` : null,
      customer_id: c.customerReference !== null ? `${id}:${c.customerReference}` : null,
      provider_status: c.providerStatus,
      links: c.links,
      customer: c.customer,
      external_reference: null,
      metadata: null,
      capabilities: type
        ? { operations: this.withGatewayOps(type.operations), units: [...type.units], native_unit: type.nativeUnit }
        : { operations: ['get_card', 'history'], units: [] },
      created_at: iso(c.createdAt ?? 0),
      updated_at: iso(c.updatedAt ?? c.createdAt ?? 0),
    };
  }

  customerOf(c: ProviderCustomer): CustomerResource {
    const id = this.connection.id;
    const { cardReferences, ...rest } = c;
    return { ...rest, id: `${id}:${c.reference}`, connection: id, card_ids: cardReferences.map((r) => `${id}:${r}`) };
  }

  programOf(p: ProviderProgram): Program {
    const id = this.connection.id;
    const type =
      this.adapter.programCapabilities?.(p) ?? this.adapter.cardTypes.find((t) => t.cardType === p.card_type);
    return {
      ...p,
      id: `${id}:${p.reference}`,
      connection: id,
      capabilities: type
        ? { operations: this.withGatewayOps(type.operations), units: [...type.units], native_unit: type.nativeUnit }
        : { operations: [], units: [] },
    };
  }

  /** The card, with what this very card supports (its template's mechanics included). */
  async getCard(cardId: string): Promise<Card | null> {
    const ref = referenceOf(cardId);
    const c = await this.adapter.getCard(ref);
    return c ? this.cardOf(c, await this.adapter.cardCapabilities(ref)) : null;
  }

  async close(): Promise<void> {
    await this.direct.close();
  }
}

/** A code stored with a transaction, back as an ErrorCode (older or unknown codes read as provider_unavailable). */
export function storedErrorCode(code: string | null): ErrorCode {
  return code !== null && Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : 'provider_unavailable';
}
