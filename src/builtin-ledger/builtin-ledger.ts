import type { Redis } from 'ioredis';
import { type Capabilities, POINTS_OPERATIONS } from '../domain/capabilities.js';
import type { Card, CreateCardBody } from '../domain/cards.js';
import { GatewayError } from '../domain/errors.js';
import type { Balance, HistoryQuery } from '../domain/transactions.js';
import { ulid, ulidLowerBound, ulidUpperBound } from '../lib/ids.js';
import { DAY_MS, isoTime as iso } from '../lib/time.js';
import type { KeySpace } from '../redis/keys.js';
import { defineScript, runScript } from '../redis/scripts.js';
import type { TransactionRecord } from '../store/transaction-record.js';
import type { BuiltinLedgerSettings } from './settings.js';

/** Kept below 1e14 so that every number stays exact through Redis' Lua. */
export const MAX_BALANCE = 10_000_000_000_000;
const HISTORY_SCAN_BUDGET = 5000;

/** What every card of the built-in ledger supports. */
export const BUILTIN_CAPABILITIES: Capabilities = {
  operations: [...POINTS_OPERATIONS, 'issue_card', 'get_card', 'block_card'],
  units: ['points'],
  native_unit: 'points',
};

/** What applying a claimed transaction did. */
export type ApplyOutcome =
  /** Applied and recorded: the transaction is now succeeded. */
  | { kind: 'applied'; balanceAfter: number; delta: number; points: number; completedAt: number }
  /** Already past processing (a duplicate apply, or a takeover after a crash). */
  | { kind: 'already' }
  /** Refused before anything changed; the transaction and its claims are gone. */
  | { kind: 'rejected'; error: GatewayError };

/**
 * The built-in points ledger, `provider: "ledger"`: the gateway keeps the points itself, in Redis.
 * Its arithmetic lives in ./lua: each write is one script that applies the entry and records the
 * transaction's outcome together.
 */
export class BuiltinLedger {
  constructor(
    readonly settings: BuiltinLedgerSettings,
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {
    const base = import.meta.url;
    defineScript(redis, 'lgwLedgerApply', base, 'apply-entry.lua', 11, ['lib.lua']);
    defineScript(redis, 'lgwLedgerBalance', base, 'read-balance.lua', 7, ['lib.lua']);
    defineScript(redis, 'lgwLedgerHistory', base, 'read-history.lua', 1);
    defineScript(redis, 'lgwLedgerCreateCard', base, 'create-card.lua', 3);
    defineScript(redis, 'lgwLedgerCardStatus', base, 'set-card-status.lua', 1);
  }

  /** Default expiry for points awarded without expires_at. */
  defaultExpiry(now: number): number | null {
    const policy = this.settings.pointsExpiry;
    if (policy === undefined || policy === 'never') return null;
    return now + policy.days * DAY_MS;
  }

  private cardKeys(cardId: string): string[] {
    const k = this.keys;
    return [k.card(cardId), k.buckets(cardId), k.rest(cardId), k.totals(cardId), k.history(cardId), k.expiryDue];
  }

  async apply(txn: TransactionRecord, ctx: { idempotencyKey?: string; naturalKey?: string }): Promise<ApplyOutcome> {
    const k = this.keys;
    const now = Date.now();
    const sweepId = txn.sweep_id ?? `txn_${ulid(now)}`;
    const restoreExpiry = this.defaultExpiry(now);
    const [card, buckets, rest, totals, history, due] = this.cardKeys(txn.card_id);
    const raw = await runScript<string>(
      this.redis,
      'lgwLedgerApply',
      [
        k.txn(txn.id),
        ctx.idempotencyKey ?? k.none,
        ctx.naturalKey ?? k.none,
        card!,
        buckets!,
        rest!,
        totals!,
        history!,
        due!,
        txn.reversal_of ? k.txn(txn.reversal_of) : k.none,
        k.txn(sweepId),
      ],
      [
        now,
        sweepId,
        ctx.idempotencyKey ? '1' : '0',
        ctx.naturalKey ? '1' : '0',
        txn.reversal_of ? '1' : '0',
        restoreExpiry === null ? '+inf' : restoreExpiry,
        MAX_BALANCE,
      ],
    );
    const res = raw.split('|');
    switch (res[0]) {
      case 'ok':
        return {
          kind: 'applied',
          balanceAfter: Number(res[1]),
          delta: Number(res[2]),
          points: Number(res[3]),
          completedAt: Number(res[4]),
        };
      case 'already':
      case 'gone':
        return { kind: 'already' };
      default:
        return { kind: 'rejected', error: this.rejection(txn, res[1] as string, res[2] as string) };
    }
  }

  private rejection(txn: TransactionRecord, code: string, detail: string): GatewayError {
    // A full reversal names no amount until it is applied: "the rest of" the original.
    const asked = txn.points ?? (txn.reversal_of !== null ? `the rest of ${txn.reversal_of}` : Math.abs(txn.delta));
    switch (code) {
      case 'card_not_found':
        return new GatewayError('card_not_found', `No card ${txn.card_id} on connection ${this.settings.id}.`);
      case 'card_blocked':
        return new GatewayError(
          'card_blocked',
          `Card ${txn.card_id} is blocked: it takes no ${txn.type}s until it is unblocked.`,
        );
      case 'insufficient_points':
        return new GatewayError(
          'insufficient_points',
          `Card ${txn.card_id} has ${detail} points available for this; ` +
            `${typeof asked === 'number' ? `${asked} were` : `${asked} was`} asked for.`,
          {
            available: Number(detail),
          },
        );
      case 'nothing_to_expire':
        return new GatewayError('nothing_to_expire', `Card ${txn.card_id} has no points that match this expiry.`);
      case 'reversal_exceeds_original':
        return new GatewayError(
          'reversal_exceeds_original',
          `Only ${detail} points of ${txn.reversal_of} are left to reverse; ${asked} were asked for.`,
        );
      case 'balance_limit_exceeded':
        return new GatewayError(
          'balance_limit_exceeded',
          `Card ${txn.card_id} would hold more than ${MAX_BALANCE} points.`,
        );
      case 'already_reversed':
        return new GatewayError('already_reversed', `Transaction ${txn.reversal_of} is already fully reversed.`);
      case 'transaction_not_reversible':
        return new GatewayError(
          'transaction_not_reversible',
          `Transaction ${txn.reversal_of} cannot be reversed (${detail}).`,
        );
      default:
        return new GatewayError('internal_error', `The ledger refused the transaction (${code}).`);
    }
  }

  /** Runs read-balance.lua: expires what is due, then reads. `heal` re-indexes the card's earliest expiry. */
  private async readBalance(cardId: string, now: number, soonMs: number, heal: boolean): Promise<string[]> {
    const sweepId = `txn_${ulid(now)}`;
    const raw = await runScript<string>(
      this.redis,
      'lgwLedgerBalance',
      [...this.cardKeys(cardId), this.keys.txn(sweepId)],
      [now, sweepId, soonMs, heal ? '1' : '0'],
    );
    return raw.split('|');
  }

  async balance(cardId: string): Promise<Balance | null> {
    const now = Date.now();
    const res = await this.readBalance(cardId, now, 30 * DAY_MS, false);
    if (res[0] !== 'ok') return null;
    const [, , available, earned, redeemed, expired, adjIn, adjOut, soon, nextAt, nextPoints] = res;
    const totalEarned = Number(earned);
    return {
      card_id: cardId,
      connection: this.settings.id,
      unit: 'points',
      available: Number(available),
      held: 0,
      pending: 0,
      units: { points: Number(available) },
      total_earned: totalEarned,
      total_redeemed: Number(redeemed),
      total_expired: Number(expired),
      total_adjusted: Number(adjIn) - Number(adjOut),
      expiring_soon: Number(soon),
      next_expiry: nextAt ? { points: Number(nextPoints), at: iso(Number(nextAt)) } : null,
      tier: this.tierFor(totalEarned),
      as_of: iso(now),
    };
  }

  /** Expires what is due on one card (the schedule's step). Returns points expired. */
  async sweep(cardId: string): Promise<number> {
    const res = await this.readBalance(cardId, Date.now(), 0, true);
    return res[0] === 'ok' ? Number(res[11]) : 0;
  }

  private tierFor(earned: number): Balance['tier'] {
    const tiers = [...(this.settings.tiers ?? [])].sort((a, b) => a.minPoints - b.minPoints);
    if (tiers.length === 0) return null;
    let index = -1;
    tiers.forEach((t, i) => {
      if (earned >= t.minPoints) index = i;
    });
    const next = tiers[index + 1];
    const nextInfo = next ? { name: next.name, points_needed: next.minPoints - earned } : null;
    const current = tiers[index];
    if (!current) return { name: 'none', min_points: 0, next: nextInfo };
    return { name: current.name, min_points: current.minPoints, next: nextInfo };
  }

  async history(cardId: string, q: HistoryQuery): Promise<{ ids: string[]; next: string | null } | null> {
    if (!(await this.redis.exists(this.keys.card(cardId)))) return null;
    const toId = q.toMs !== undefined ? `txn_${ulidUpperBound(q.toMs)}` : undefined;
    let upper = toId !== undefined ? `[${toId}` : '+';
    if (q.after !== undefined && (toId === undefined || q.after <= toId)) upper = `(${q.after}`;
    const lower = q.fromMs !== undefined ? `[txn_${ulidLowerBound(q.fromMs)}` : '-';
    const res = await runScript<string[]>(
      this.redis,
      'lgwLedgerHistory',
      [this.keys.history(cardId)],
      [
        upper,
        lower,
        q.limit,
        q.type && q.type !== 'all' ? q.type : '',
        q.referenceId ?? '',
        q.staff ?? '',
        this.keys.txnPrefix,
        HISTORY_SCAN_BUDGET,
      ],
    );
    const [next, ...ids] = res;
    return { ids, next: next ? next : null };
  }

  async issueCard(cardId: string, body: CreateCardBody, now: number): Promise<{ card: Card; created: boolean }> {
    const k = this.keys;
    const ext = body.external_reference;
    const fields = [
      'id',
      cardId,
      'connection',
      this.settings.id,
      'reference',
      cardId.slice(this.settings.id.length + 1),
      'status',
      'active',
      'status_reason',
      '',
      'customer',
      body.customer ? JSON.stringify(body.customer) : '',
      'external_reference',
      ext ?? '',
      'metadata',
      body.metadata ? JSON.stringify(body.metadata) : '',
      'created_at',
      String(now),
      'updated_at',
      String(now),
    ];
    const res = await runScript<string[]>(
      this.redis,
      'lgwLedgerCreateCard',
      [k.card(cardId), ext ? k.cardByExternalRef(this.settings.id, ext) : k.none, k.cardsOf(this.settings.id)],
      [ext ? '1' : '0', cardId, now, ...fields],
    );
    const id = res[1] as string;
    const card = await this.getCard(id);
    if (!card) throw new Error(`card ${id} vanished after it was issued`);
    return { card, created: res[0] === 'created' };
  }

  async getCard(cardId: string): Promise<Card | null> {
    const h = await this.redis.hgetall(this.keys.card(cardId));
    if (!h.id) return null;
    const json = (v: string | undefined) => (v ? (JSON.parse(v) as Record<string, unknown>) : null);
    return {
      id: h.id,
      connection: h.connection ?? this.settings.id,
      reference: h.reference ?? '',
      status: h.status === 'blocked' ? 'blocked' : 'active',
      status_reason: h.status_reason ? h.status_reason : null,
      customer: json(h.customer) as Card['customer'],
      external_reference: h.external_reference ? h.external_reference : null,
      metadata: json(h.metadata),
      card_type: 'points',
      program_id: null,
      customer_id: null,
      provider_status: null,
      links: null,
      capabilities: BUILTIN_CAPABILITIES,
      created_at: iso(Number(h.created_at)),
      updated_at: iso(Number(h.updated_at)),
    };
  }

  async setCardStatus(cardId: string, status: 'active' | 'blocked', reason: string | null): Promise<Card | null> {
    const ok = await runScript<number>(
      this.redis,
      'lgwLedgerCardStatus',
      [this.keys.card(cardId)],
      [status, reason ?? '', Date.now()],
    );
    return ok === 1 ? this.getCard(cardId) : null;
  }
}
