import type { Redis } from 'ioredis';
import { TRAIL_KEPT, type TrailEntry, type TrailStep } from '../domain/timeline.js';
import type { AuditEntry, TransactionStatus } from '../domain/transactions.js';
import { ulidLowerBound, ulidUpperBound } from '../lib/ids.js';
import type { KeySpace } from '../redis/keys.js';
import { defineScript, runScript } from '../redis/scripts.js';
import { fromHash, type NewTransaction, type TransactionRecord, toFields } from './transaction-record.js';

/**
 * The gateway's record of transactions: every transaction is claimed here, with its status,
 * before any provider is called, and an Idempotency-Key or a reference_id can only ever claim one.
 * It knows no points arithmetic (the built-in ledger's scripts and the providers do that) and no
 * HTTP: callers turn its answers into the gateway's.
 */

/**
 * The idempotency record a transaction is claimed under: the (client, Idempotency-Key) record and the request's
 * fingerprint.
 */
export interface IdempotencyScope {
  /** The Redis key of the (client, Idempotency-Key) record. */
  key: string;
  fingerprint: string;
}

/** What a claim of a new transaction found. */
export type TransactionClaim =
  /** The caller owns the new transaction and must have it applied. */
  | { kind: 'claimed'; txnId: string }
  /** The key's first request finished: its transaction (null if it was removed since). */
  | { kind: 'done'; txnId: string; record: TransactionRecord | null }
  /** The key or the reference_id names a transaction already claimed, in whatever status. */
  | { kind: 'existing'; txnId: string; record: TransactionRecord | null }
  /**
   * One the built-in ledger was applying, whose owner process is gone (its heartbeat lapsed): the
   * caller owns it now (a new lease) and must apply it.
   */
  | { kind: 'takeover'; txnId: string; record: TransactionRecord | null }
  /** The key was used with another request. */
  | { kind: 'mismatch' }
  /** A reversal asks for more than what is left of the original. */
  | { kind: 'exceeds'; left: number };

/** A reversal at a provider reserves its amount on the original while it is in flight. */
export interface Reservation {
  of: string;
  amount: number;
}

export interface StoreOptions {
  idempotencyTtlMs: number;
  /**
   * How long a claimer may work before a retry may take its claim over (after a crash). The upper
   * bound: a claim whose owner process's heartbeat lapsed is taken over at once.
   */
  leaseMs: number;
  /** This process (the owner a claim records) and the prefix of heartbeat keys: see src/idempotency/instance.ts. */
  owner: { id: string; heartbeatPrefix: string };
}

type Fields = Record<string, string | number | null>;

/** Field/value pairs as one JSON array of strings (an empty string stands for null). */
const flat = (fields: Fields = {}): string[] =>
  Object.entries(fields).flatMap(([k, v]) => [k, v === null ? '' : String(v)]);

export class TransactionStore {
  constructor(
    private readonly redis: Redis,
    readonly keys: KeySpace,
    readonly options: StoreOptions,
  ) {
    const base = import.meta.url;
    defineScript(redis, 'lgwClaimTransaction', base, 'claim-transaction-5.lua', 5);
    defineScript(redis, 'lgwTransitionTransaction', base, 'transition-transaction-7.lua', 7, ['trail.lua']);
    defineScript(redis, 'lgwSettleTransaction', base, 'settle-transaction-9.lua', 9, ['trail.lua']);
  }

  /**
   * Claims a new transaction, or finds the one its Idempotency-Key or natural key already names.
   * `queued`: a transaction for a provider's queue (its keys are kept with it, for the worker
   * that settles it); else one the built-in ledger applies now, under a lease.
   */
  async claim(
    txn: NewTransaction,
    opts: { idem?: IdempotencyScope; naturalKey?: string; reserve?: Reservation; queued?: boolean },
  ): Promise<TransactionClaim> {
    const k = this.keys;
    const res = await runScript<string>(
      this.redis,
      'lgwClaimTransaction',
      [
        opts.idem?.key ?? k.none,
        opts.naturalKey ?? k.none,
        k.txn(txn.id),
        opts.reserve ? k.txn(opts.reserve.of) : k.none,
        opts.queued ? k.txnsIn('queued') : k.none,
      ],
      [
        opts.idem ? '1' : '0',
        opts.naturalKey ? '1' : '0',
        opts.idem?.fingerprint ?? '',
        Date.now(),
        this.options.leaseMs,
        Math.round(this.options.idempotencyTtlMs),
        txn.id,
        JSON.stringify(toFields(txn)),
        k.txnPrefix,
        opts.reserve ? String(opts.reserve.amount) : '',
        opts.queued ? 'queued' : 'processing',
        this.options.owner.id,
        this.options.owner.heartbeatPrefix,
      ],
    );
    // 'kind|id|json': the JSON is the rest, whatever it holds.
    const [kind = '', id = ''] = res.split('|', 2);
    const json = res.slice(kind.length + id.length + 2);
    switch (kind) {
      case 'claimed':
        return { kind, txnId: id };
      case 'done':
      case 'existing':
      case 'takeover':
        return { kind, txnId: id, record: recordOf(json) };
      case 'exceeds':
        return { kind, left: Number(id) };
      default:
        return { kind: 'mismatch' };
    }
  }

  /**
   * Records what a provider did with a dispatched transaction (or what an admin found out):
   * succeeded, needs_review (it may or may not have applied it), or failed (it certainly did
   * not; kept, its keys given up). Returns false when the transaction was not in the status it
   * may be settled from (`from`, default processing): someone else settled it first.
   */
  async settle(
    txn: Pick<TransactionRecord, 'id' | 'card_id' | 'reversal_of' | 'idem_key' | 'natural_key'>,
    outcome: 'succeeded' | 'needs_review' | 'failed',
    opts: { now?: number; fields?: Fields; from?: TransactionStatus; audit?: AuditEntry } = {},
  ): Promise<boolean> {
    const k = this.keys;
    const from = opts.from ?? 'processing';
    const res = await runScript<string>(
      this.redis,
      'lgwSettleTransaction',
      [
        k.txn(txn.id),
        txn.idem_key ?? k.none,
        txn.natural_key ?? k.none,
        k.history(txn.card_id),
        txn.reversal_of !== null ? k.txn(txn.reversal_of) : k.none,
        k.txnsIn(from),
        k.txnsIn(outcome),
        k.audit(txn.id),
        k.trail(txn.id),
      ],
      [
        outcome,
        txn.id,
        opts.now ?? Date.now(),
        txn.idem_key ? '1' : '0',
        txn.natural_key ? '1' : '0',
        JSON.stringify(flat(opts.fields)),
        txn.reversal_of !== null ? '1' : '0',
        from,
        opts.audit ? JSON.stringify(opts.audit) : '',
        JSON.stringify(trailEntry(settleStep(outcome, opts.audit), outcome, opts.fields, opts.audit)),
        TRAIL_KEPT,
      ],
    );
    return res === 'ok';
  }

  /**
   * Moves a dispatched transaction to another status if it is still in the one the caller saw
   * (queued -> processing when a worker sends it, back to queued for another try, failed or
   * needs_review -> queued on an admin's retry). `takenBy` names the transaction that took its
   * reference_id or Idempotency-Key since.
   */
  async transition(
    txn: Pick<TransactionRecord, 'id' | 'status'>,
    to: TransactionStatus,
    opts: {
      fields?: Fields;
      clear?: string[];
      /** Count an attempt (attempts + 1, attempt_at = now). */
      attempt?: boolean;
      audit?: AuditEntry;
      /** Its natural key, to take back (an admin's retry of a failed transaction, whose keys were released). */
      retakeNaturalKey?: string;
      /** Its idempotency record and request fingerprint, to take back the same way. */
      retakeIdempotency?: IdempotencyScope;
      /** Only if it has made exactly this many attempts. */
      attempts?: number;
    } = {},
  ): Promise<{ ok: true } | { ok: false; status?: string; takenBy?: string }> {
    const k = this.keys;
    const fields = flat(opts.fields);
    const res = await runScript<string>(
      this.redis,
      'lgwTransitionTransaction',
      [
        k.txn(txn.id),
        k.txnsIn(txn.status),
        k.txnsIn(to),
        k.audit(txn.id),
        opts.retakeNaturalKey ?? k.none,
        opts.retakeIdempotency?.key ?? k.none,
        k.trail(txn.id),
      ],
      [
        txn.status,
        to,
        Date.now(),
        fields.length ? JSON.stringify(fields) : '',
        opts.attempt ? '1' : '0',
        opts.audit ? JSON.stringify(opts.audit) : '',
        opts.clear?.length ? JSON.stringify(opts.clear) : '',
        opts.retakeNaturalKey ? '1' : '0',
        opts.retakeIdempotency ? '1' : '0',
        opts.retakeIdempotency?.fingerprint ?? '',
        Math.round(this.options.idempotencyTtlMs),
        opts.attempts !== undefined ? String(opts.attempts) : '',
        JSON.stringify(trailEntry(transitionStep(to, opts), to, opts.fields, opts.audit)),
        TRAIL_KEPT,
      ],
    );
    if (res === 'ok') return { ok: true };
    const [kind, what] = res.split('|');
    return kind === 'taken' ? { ok: false, takenBy: what } : { ok: false, status: what };
  }

  /** Dispatched transactions in a status, oldest first (ids sort by creation time), after the id `after`. */
  async listByStatus(status: TransactionStatus, opts: { limit: number; after?: string }): Promise<TransactionRecord[]> {
    const from = opts.after ? `(${opts.after}` : '-';
    const ids = (await this.redis.zrange(
      this.keys.txnsIn(status),
      from,
      '+',
      'BYLEX',
      'LIMIT',
      0,
      opts.limit,
    )) as string[];
    return this.getMany(ids);
  }

  /**
   * Dispatched transactions in a status created between `fromMs` and `toMs` (inclusive), oldest
   * first, after the id `after`: the ids sort by creation time, so the range is a lexicographic one.
   */
  async listCreatedBetween(
    status: TransactionStatus,
    fromMs: number,
    toMs: number,
    opts: { limit: number; after?: string },
  ): Promise<TransactionRecord[]> {
    const ids = (await this.redis.zrange(
      this.keys.txnsIn(status),
      opts.after ? `(${opts.after}` : `[txn_${ulidLowerBound(fromMs)}`,
      `[txn_${ulidUpperBound(toMs)}`,
      'BYLEX',
      'LIMIT',
      0,
      opts.limit,
    )) as string[];
    return this.getMany(ids);
  }

  /** A dispatched transaction's steps, oldest first (the last TRAIL_KEPT). */
  async trailOf(id: string): Promise<TrailEntry[]> {
    const list = await this.redis.lrange(this.keys.trail(id), 0, -1);
    return list.map((e) => JSON.parse(e) as TrailEntry);
  }

  async auditOf(id: string): Promise<AuditEntry[]> {
    const list = await this.redis.lrange(this.keys.audit(id), 0, -1);
    return list.map((e) => JSON.parse(e) as AuditEntry);
  }

  /** The ids of a card's transactions, newest first (at most `limit`). */
  async idsOfCard(cardId: string, limit: number): Promise<string[]> {
    return (await this.redis.zrange(
      this.keys.history(cardId),
      '+',
      '-',
      'BYLEX',
      'REV',
      'LIMIT',
      0,
      limit,
    )) as string[];
  }

  async get(id: string): Promise<TransactionRecord | null> {
    if (!/^txn_[0-9A-Z]{26}$/.test(id)) return null;
    return fromHash(await this.redis.hgetall(this.keys.txn(id)));
  }

  async getMany(ids: string[]): Promise<TransactionRecord[]> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.txn(id));
    const res = (await pipe.exec()) ?? [];
    const out: TransactionRecord[] = [];
    for (const [err, h] of res) {
      if (err) throw err;
      const rec = fromHash(h as Record<string, string>);
      if (rec) out.push(rec);
    }
    return out;
  }
}

/** The step a transition is: an admin's retry, a send, or a try that ended without an answer. */
function transitionStep(to: TransactionStatus, opts: { attempt?: boolean; audit?: AuditEntry }): TrailStep {
  if (opts.audit) return 'retry';
  if (to === 'processing') return opts.attempt ? 'sent' : 'unknown';
  return 'requeued';
}

function settleStep(outcome: 'succeeded' | 'needs_review' | 'failed', audit?: AuditEntry): TrailStep {
  if (audit) return 'resolved';
  return outcome === 'succeeded' ? 'answered' : outcome;
}

const DETAIL_MAX = 300;
const text = (v: string | number | null | undefined): string | null =>
  v === null || v === undefined || v === '' ? null : String(v).slice(0, DETAIL_MAX);

/**
 * A trail entry, written by the transition and settle scripts in the same step as the move (no round trip of its
 * own): what the provider answered (its reference and the balance after, or the error), or who acted.
 */
function trailEntry(step: TrailStep, status: string, fields: Fields = {}, audit?: AuditEntry): TrailEntry {
  const balance = fields.balance_after;
  return {
    at: new Date().toISOString(),
    step,
    status,
    code: text(fields.error_code),
    detail: audit ? text(audit.note) : text(fields.error_detail),
    provider_reference: text(fields.provider_reference),
    balance_after: balance === null || balance === undefined || balance === '' ? null : Number(balance),
    by: audit?.by ?? null,
  };
}

/**
 * A transaction's fields as the claim script returns them: a JSON array [field, value, ...] ([] if it was just
 * removed).
 */
function recordOf(json: string): TransactionRecord | null {
  const list = JSON.parse(json || '[]') as string[];
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) h[list[i]!] = list[i + 1]!;
  return fromHash(h);
}
