import type { Redis } from 'ioredis';
import type { KeySpace } from '../redis/keys.js';
import { defineScript, runScript } from '../redis/scripts.js';
import { fromHash, toFields, type NewTransaction, type TransactionRecord } from './transaction-record.js';
import type { TransactionStatus } from '../domain/transactions.js';
import { sha256 } from '../lib/hash.js';

/**
 * The gateway's ledger of transactions: every transaction is claimed here, with its status,
 * before any provider is called, and an Idempotency-Key or a reference_id can only ever claim one.
 * It does not know points arithmetic; that is each provider's business.
 */

export interface IdempotencyClaim {
  /** The Redis key of the (client, Idempotency-Key) record. */
  key: string;
  fingerprint: string;
}

export type TransactionClaim =
  | { kind: 'claimed'; txnId: string }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'replay_txn'; status: number; record: TransactionRecord | null }
  | { kind: 'existing'; txnId: string; record: TransactionRecord | null }
  | { kind: 'mismatch' }
  | { kind: 'exceeds'; left: number };

export type RequestClaim =
  | { kind: 'claimed' | 'takeover'; resource: string }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'in_flight'; resource: string }
  | { kind: 'mismatch' };

/** An admin's action on a transaction, kept with it. */
export interface AuditEntry {
  at: string;
  action: 'retry' | 'resolve';
  /** The API key's client id that did it. */
  by: string;
  from: string;
  to: string;
  note: string | null;
}

export interface LedgerOptions {
  idempotencyTtlMs: number;
  /** How long a claimer may work before a retry may take its claim over (after a crash). */
  leaseMs: number;
}

export class TransactionStore {
  constructor(
    private readonly redis: Redis,
    readonly keys: KeySpace,
    readonly options: LedgerOptions,
  ) {
    const base = import.meta.url;
    defineScript(redis, 'lgwClaimTransaction', base, 'claim-transaction-5.lua', 5);
    defineScript(redis, 'lgwTransitionTransaction', base, 'transition-transaction-6.lua', 6);
    defineScript(redis, 'lgwClaimRequest', base, 'claim-request-1.lua', 1);
    defineScript(redis, 'lgwCompleteRequest', base, 'complete-request-1.lua', 1);
    defineScript(redis, 'lgwSettleTransaction', base, 'settle-transaction-8.lua', 8);
    defineScript(redis, 'lgwReleaseRequest', base, 'release-request-1.lua', 1);
  }

  /** Gives up a request's claim after it failed, so that a retry of the key runs again. */
  async releaseRequest(idemKey: string, resource: string): Promise<void> {
    await runScript(this.redis, 'lgwReleaseRequest', [idemKey], [resource]);
  }

  /**
   * Records what an external provider did with a transaction: succeeded, needs_review (it may or
   * may not have applied it), failed (it certainly did not; kept, its keys given up), or release
   * (it certainly did not: the claim is removed). Returns false when the transaction was not in
   * a status it may be settled from (`from`, default processing): someone else settled it first.
   */
  async settle(
    txn: {
      id: string;
      card_id: string;
      reversal_of: string | null;
      idem_key?: string | null;
      natural_key?: string | null;
    },
    outcome: 'succeeded' | 'needs_review' | 'failed' | 'release',
    opts: {
      idemKey?: string;
      naturalKey?: string;
      httpStatus?: number;
      now?: number;
      fields?: Record<string, string | number | null>;
      from?: TransactionStatus;
      audit?: AuditEntry;
    } = {},
  ): Promise<boolean> {
    const extra: string[] = [];
    for (const [k, v] of Object.entries(opts.fields ?? {})) extra.push(k, v === null ? '' : String(v));
    const idemKey = opts.idemKey ?? txn.idem_key ?? undefined;
    const naturalKey = opts.naturalKey ?? txn.natural_key ?? undefined;
    const from = opts.from ?? 'processing';
    const res = await runScript<string>(
      this.redis,
      'lgwSettleTransaction',
      [
        this.keys.txn(txn.id),
        idemKey ?? this.keys.none,
        naturalKey ?? this.keys.none,
        this.keys.history(txn.card_id),
        txn.reversal_of !== null ? this.keys.txn(txn.reversal_of) : this.keys.none,
        this.keys.txnsIn(from),
        this.keys.txnsIn(outcome === 'release' ? 'failed' : outcome),
        this.keys.audit(txn.id),
      ],
      [
        outcome,
        txn.id,
        opts.now ?? Date.now(),
        idemKey ? '1' : '0',
        naturalKey ? '1' : '0',
        opts.httpStatus ?? 201,
        JSON.stringify(extra),
        txn.reversal_of !== null ? '1' : '0',
        from,
        opts.audit ? JSON.stringify(opts.audit) : '',
      ],
    );
    return res === 'ok' || res === 'released';
  }

  /**
   * Moves a dispatched transaction between statuses if it is still in one of `from` (queued ->
   * processing when a worker sends it, back to queued for another try, failed or needs_review ->
   * queued on an admin's retry). 'taken' names the transaction that took its reference_id since.
   */
  async transition(
    txn: { id: string; status: TransactionStatus },
    to: TransactionStatus,
    opts: {
      fields?: Record<string, string | number | null>;
      clear?: string[];
      attempt?: boolean;
      audit?: AuditEntry;
      retakeNaturalKey?: string;
      /** Its idempotency record and request fingerprint, to take back (an admin's retry of a failed transaction). */
      retakeIdempotency?: { key: string; fingerprint: string };
      /** Only if it has made exactly this many attempts. */
      attempts?: number;
    } = {},
  ): Promise<{ ok: true } | { ok: false; status?: string; takenBy?: string }> {
    const fields: string[] = [];
    for (const [k, v] of Object.entries(opts.fields ?? {})) fields.push(k, v === null ? '' : String(v));
    const res = await runScript<string>(
      this.redis,
      'lgwTransitionTransaction',
      [
        this.keys.txn(txn.id),
        this.keys.txnsIn(txn.status),
        this.keys.txnsIn(to),
        this.keys.audit(txn.id),
        opts.retakeNaturalKey ?? this.keys.none,
        opts.retakeIdempotency?.key ?? this.keys.none,
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
      ],
    );
    if (res === 'ok') return { ok: true };
    const [kind, what] = res.split('|');
    return kind === 'taken' ? { ok: false, takenBy: what } : { ok: false, status: what };
  }

  /** Dispatched transactions in a status, oldest first (ids sort by creation time), after the id `after`. */
  async listByStatus(status: TransactionStatus, opts: { limit: number; after?: string }): Promise<TransactionRecord[]> {
    const ids = (await this.redis.zrange(
      this.keys.txnsIn(status),
      opts.after ? `(${opts.after}` : '-',
      '+',
      'BYLEX',
      'LIMIT',
      0,
      opts.limit,
    )) as string[];
    return this.getMany(ids);
  }

  async countByStatus(status: TransactionStatus): Promise<number> {
    return this.redis.zcard(this.keys.txnsIn(status));
  }

  async auditOf(id: string): Promise<AuditEntry[]> {
    const list = await this.redis.lrange(this.keys.audit(id), 0, -1);
    return list.map((e) => JSON.parse(e) as AuditEntry);
  }

  idempotencyKey(clientId: string, key: string): string {
    return this.keys.idempotency(clientId, sha256(key));
  }

  /** Claims a new transaction, or finds the one its Idempotency-Key or natural key already names. */
  async claimTransaction(
    txn: NewTransaction,
    opts: {
      idem?: IdempotencyClaim;
      naturalKey?: string;
      leaseMs?: number;
      reserve?: { of: string; amount: number };
      queued?: boolean;
    },
  ): Promise<TransactionClaim> {
    const now = Date.now();
    const res = await runScript<string>(
      this.redis,
      'lgwClaimTransaction',
      [
        opts.idem?.key ?? this.keys.none,
        opts.naturalKey ?? this.keys.none,
        this.keys.txn(txn.id),
        opts.reserve ? this.keys.txn(opts.reserve.of) : this.keys.none,
        opts.queued ? this.keys.txnsIn('queued') : this.keys.none,
      ],
      [
        opts.idem ? '1' : '0',
        opts.naturalKey ? '1' : '0',
        opts.idem?.fingerprint ?? '',
        now,
        opts.leaseMs ?? this.options.leaseMs,
        Math.round(this.options.idempotencyTtlMs),
        txn.id,
        JSON.stringify(toFields(txn)),
        this.keys.txnPrefix,
        opts.reserve ? String(opts.reserve.amount) : '',
        opts.queued ? 'queued' : 'processing',
      ],
    );
    // 'kind|a|rest': the rest may itself hold '|' (a stored body, a JSON field list).
    const first = res.indexOf('|');
    const kind = first === -1 ? res : res.slice(0, first);
    const second = first === -1 ? -1 : res.indexOf('|', first + 1);
    const a = first === -1 ? '' : res.slice(first + 1, second === -1 ? undefined : second);
    const rest = second === -1 ? '' : res.slice(second + 1);
    const fieldsOf = (json: string): TransactionRecord | null => {
      const list = JSON.parse(json) as string[];
      const h: Record<string, string> = {};
      for (let i = 0; i + 1 < list.length; i += 2) h[list[i]!] = list[i + 1]!;
      return fromHash(h);
    };
    switch (kind) {
      case 'claimed':
        return { kind: 'claimed', txnId: a };
      case 'replay':
        return { kind: 'replay', status: Number(a), body: rest };
      case 'replay_txn':
        return { kind: 'replay_txn', status: Number(a), record: fieldsOf(rest) };
      case 'existing':
        return { kind: 'existing', txnId: a, record: fieldsOf(rest) };
      case 'exceeds':
        return { kind: 'exceeds', left: Number(a) };
      default:
        return { kind: 'mismatch' };
    }
  }

  /** Claims an Idempotency-Key for a request that is not a transaction (issuing a card...). */
  async claimRequest(idem: IdempotencyClaim, resource: string): Promise<RequestClaim> {
    const res = await runScript<string[]>(
      this.redis,
      'lgwClaimRequest',
      [idem.key],
      [idem.fingerprint, resource, Date.now(), this.options.leaseMs, Math.round(this.options.idempotencyTtlMs)],
    );
    switch (res[0]) {
      case 'claimed':
      case 'takeover':
        return { kind: res[0], resource: res[1] as string };
      case 'replay':
        return { kind: 'replay', status: Number(res[1]), body: res[2] as string };
      case 'in_flight':
        return { kind: 'in_flight', resource: res[1] as string };
      default:
        return { kind: 'mismatch' };
    }
  }

  /** Keeps a finished request's response for replays of its Idempotency-Key. */
  async complete(idemKey: string, resource: string, status: number, body: unknown): Promise<void> {
    await runScript(this.redis, 'lgwCompleteRequest', [idemKey], [resource, status, JSON.stringify(body)]);
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
