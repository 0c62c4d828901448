import type { Redis } from 'ioredis';
import type { KeySpace } from '../redis/keys.js';
import { defineScript, runScript } from '../redis/scripts.js';
import { fromHash, toFields, type NewTransaction, type TransactionRecord } from './transaction-record.js';
import { sha256 } from './idempotency.js';

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

export interface LedgerOptions {
  idempotencyTtlMs: number;
  /** How long a claimer may work before a retry may take its claim over (after a crash). */
  leaseMs: number;
}

export class TransactionLedger {
  constructor(
    private readonly redis: Redis,
    readonly keys: KeySpace,
    readonly options: LedgerOptions,
  ) {
    const base = import.meta.url;
    defineScript(redis, 'lgwClaimTransaction', base, 'claim-transaction-4.lua', 4);
    defineScript(redis, 'lgwClaimRequest', base, 'claim-request-1.lua', 1);
    defineScript(redis, 'lgwCompleteRequest', base, 'complete-request-1.lua', 1);
    defineScript(redis, 'lgwSettleTransaction', base, 'settle-transaction-5.lua', 5);
    defineScript(redis, 'lgwReleaseRequest', base, 'release-request-1.lua', 1);
  }

  /** Gives up a request's claim after it failed, so that a retry of the key runs again. */
  async releaseRequest(idemKey: string, resource: string): Promise<void> {
    await runScript(this.redis, 'lgwReleaseRequest', [idemKey], [resource]);
  }

  /**
   * Records what an external provider did with a claimed transaction: succeeded, needs_review (it
   * may or may not have applied it), or release (it certainly did not: the claim is removed).
   * Returns false when the transaction was no longer processing (settled by someone else).
   */
  async settle(
    txn: { id: string; card_id: string; reversal_of: string | null },
    outcome: 'succeeded' | 'needs_review' | 'release',
    opts: { idemKey?: string; naturalKey?: string; httpStatus?: number; now?: number; fields?: Record<string, string | number | null> },
  ): Promise<boolean> {
    const extra: string[] = [];
    for (const [k, v] of Object.entries(opts.fields ?? {})) extra.push(k, v === null ? '' : String(v));
    const res = await runScript<string>(
      this.redis,
      'lgwSettleTransaction',
      [
        this.keys.txn(txn.id), opts.idemKey ?? this.keys.none, opts.naturalKey ?? this.keys.none, this.keys.history(txn.card_id),
        txn.reversal_of !== null ? this.keys.txn(txn.reversal_of) : this.keys.none,
      ],
      [outcome, txn.id, opts.now ?? Date.now(), opts.idemKey ? '1' : '0', opts.naturalKey ? '1' : '0', opts.httpStatus ?? 201, JSON.stringify(extra), txn.reversal_of !== null ? '1' : '0'],
    );
    return res === 'ok' || res === 'released';
  }

  idempotencyKey(clientId: string, key: string): string {
    return this.keys.idempotency(clientId, sha256(key));
  }

  /** Claims a new transaction, or finds the one its Idempotency-Key or natural key already names. */
  async claimTransaction(
    txn: NewTransaction,
    opts: { idem?: IdempotencyClaim; naturalKey?: string; leaseMs?: number; reserve?: { of: string; amount: number } },
  ): Promise<TransactionClaim> {
    const now = Date.now();
    const res = await runScript<string>(
      this.redis,
      'lgwClaimTransaction',
      [opts.idem?.key ?? this.keys.none, opts.naturalKey ?? this.keys.none, this.keys.txn(txn.id), opts.reserve ? this.keys.txn(opts.reserve.of) : this.keys.none],
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
    const res = await runScript<string[]>(this.redis, 'lgwClaimRequest', [idem.key], [
      idem.fingerprint,
      resource,
      Date.now(),
      this.options.leaseMs,
      Math.round(this.options.idempotencyTtlMs),
    ]);
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
