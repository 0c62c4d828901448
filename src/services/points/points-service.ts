import { GatewayError } from '../../domain/errors.js';
import type { Transaction, TransactionType } from '../../domain/transactions.js';
import { ulid } from '../../lib/ids.js';
import { decimalToMinor } from '../../lib/money.js';
import { fingerprint } from '../../idempotency/key.js';
import { render, type NewTransaction, type TransactionRecord } from '../../store/transaction-record.js';
import type { TransactionStatus } from '../../domain/transactions.js';
import type { TransactionStore, IdempotencyClaim } from '../../store/transaction-store.js';
import type { Operation } from '../../domain/capabilities.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import { BuiltinLedger } from '../../builtin-ledger/builtin-ledger.js';
import { ProviderConnection } from '../connections/provider-connection.js';
import { storedErrorCode } from '../../domain/errors.js';
import type { Money, Unit } from '../../domain/units.js';
import type { Dispatcher, Lane } from '../../dispatch/dispatcher.js';

/** The unit each dedicated card operation counts in (award, redeem and adjust take the request's or the card's). */
const FIXED_UNIT: Partial<Record<TransactionType, Unit>> = {
  visit: 'visits',
  purchase: 'amount',
  refund_purchase: 'amount',
  redeem_reward: 'rewards',
  redeem_coupon: 'rewards',
};

/** Who asks, and how: what idempotency is judged on. */
export interface CallContext {
  clientId: string;
  idempotencyKey?: string;
  /** Method and path of the request, for the Idempotency-Key fingerprint. */
  method: string;
  path: string;
  /** The body as received, for the fingerprint. */
  body: unknown;
  /** `Prefer: respond-async`: answer 202 as soon as the transaction is queued. */
  respondAsync?: boolean;
  /** `Prefer: wait=N`: wait at most this long (ms) for a dispatched transaction (never longer than DISPATCH_WAIT_MS). */
  waitMs?: number;
  /** Bulk items: queue at bulk priority and never wait. */
  lane?: Lane;
}

export interface TransactionInput {
  type: TransactionType;
  card_id: string;
  points?: number;
  unit?: Unit;
  /** Money: a purchase's amount, or the value of a redeemed reward or coupon. */
  amount?: Money;
  reward_id?: string;
  reason?: string;
  reference_id?: string;
  expires_at?: string;
  staff?: string;
  metadata?: Record<string, unknown>;
  before?: string;
}

export interface Outcome {
  /** 201 (done), or 202 (queued or still running at the provider: poll its Location). */
  status: number;
  body: Transaction;
  replayed: boolean;
  /** 202 because the client asked for it (Prefer: respond-async). */
  asyncPreferred?: boolean;
}

const METADATA_MAX_BYTES = 1024;

/** The record a successful claim has just written. */
function claimedRecord(txn: NewTransaction): TransactionRecord {
  return {
    ...txn,
    status: 'processing',
    balance_after: null,
    completed_at: null,
    reversed_points: 0,
    lease_until: null,
    provider_reference: null,
    error_code: null,
    error_detail: null,
    attempts: 0,
    attempt_at: null,
    idem_key: null,
    idem_fp: null,
    natural_key: null,
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The record a queued claim has just written. */
function queuedRecord(
  txn: NewTransaction,
  idem: IdempotencyClaim | undefined,
  naturalKey: string | null,
): TransactionRecord {
  return {
    ...claimedRecord(txn),
    status: 'queued',
    idem_key: idem?.key ?? null,
    idem_fp: idem?.fingerprint ?? null,
    natural_key: naturalKey,
  };
}

function fieldError(field: string, message: string): GatewayError {
  return new GatewayError('validation_failed', `${field} ${message}.`, { errors: [{ field: `/${field}`, message }] });
}

/**
 * The life of a points transaction: check it, claim it in the ledger (once, whatever the retries),
 * have the card's provider apply it, and answer with the recorded outcome.
 */
export class PointsService {
  constructor(
    private readonly ledger: TransactionStore,
    private readonly providers: ConnectionRegistry,
    private readonly dispatch: Dispatcher,
    private readonly options: { inFlightWaitMs: number; dispatchWaitMs: number },
  ) {}

  private idem(ctx: CallContext, suffix = ''): IdempotencyClaim | undefined {
    if (ctx.idempotencyKey === undefined) return undefined;
    return {
      key: this.ledger.idempotencyKey(ctx.clientId, ctx.idempotencyKey + suffix),
      fingerprint: fingerprint(ctx.method, ctx.path, ctx.body),
    };
  }

  /** Whether a card id names a card on an external provider's connection (false for unknown connections). */
  isExternalCard(cardId: unknown): boolean {
    if (typeof cardId !== 'string') return false;
    try {
      return this.providers.forCard(cardId) instanceof ProviderConnection;
    } catch {
      return false;
    }
  }

  async requireOperation(cardId: string, op: Operation, unit?: Unit) {
    const provider = this.providers.forCard(cardId);
    const caps = await provider.cardCapabilities(cardId);
    if (!caps.operations.includes(op)) {
      throw new GatewayError(
        'unsupported_operation',
        `Card ${cardId} does not support ${op}; it supports: ${caps.operations.join(', ')} (units: ${caps.units.join(', ')}).`,
        {
          supported: caps.operations,
        },
      );
    }
    if (unit !== undefined && !caps.units.includes(unit)) {
      throw new GatewayError(
        'unsupported_operation',
        `Card ${cardId} does not count in ${unit}; its units are: ${caps.units.join(', ')}. Nothing is converted between units.`,
        {
          supported: caps.operations,
          units: caps.units,
        },
      );
    }
    return { provider, caps };
  }

  /** Award, redeem, adjust or expire. */
  async transact(input: TransactionInput, ctx: CallContext, idemSuffix = ''): Promise<Outcome> {
    const { provider, caps } = await this.requireOperation(input.card_id, input.type, input.unit);
    const unit: Unit = FIXED_UNIT[input.type] ?? input.unit ?? caps.native_unit ?? 'points';
    const now = Date.now();
    if (provider instanceof ProviderConnection) {
      if (input.expires_at !== undefined)
        throw fieldError(
          'expires_at',
          `is not supported on ${provider.connection.provider} connections: the provider sets expiry itself`,
        );
      if (input.before !== undefined)
        throw fieldError(
          'before',
          `is not supported on ${provider.connection.provider} connections; name the points to expire`,
        );
      if (input.amount !== undefined && input.amount.currency !== provider.currency) {
        throw fieldError(
          'amount/currency',
          `must be ${provider.currency}, the currency of connection ${provider.connection.id}`,
        );
      }
    } else if (input.amount !== undefined) {
      throw fieldError('amount', 'applies only to external provider connections');
    }
    if (input.metadata !== undefined && Buffer.byteLength(JSON.stringify(input.metadata)) > METADATA_MAX_BYTES) {
      throw fieldError('metadata', `must be at most ${METADATA_MAX_BYTES} bytes as JSON`);
    }
    let expiresAt: number | null = null;
    if (input.expires_at !== undefined) {
      expiresAt = Date.parse(input.expires_at);
      if (!(expiresAt > now)) throw fieldError('expires_at', 'must be in the future');
    } else if (
      (input.type === 'award' || (input.type === 'adjust' && (input.points ?? 0) > 0)) &&
      provider instanceof BuiltinLedger
    ) {
      expiresAt = provider.defaultExpiry(now);
    }
    if (input.type === 'adjust' && (input.points ?? 0) < 0 && input.expires_at !== undefined) {
      throw fieldError('expires_at', 'applies only to a positive adjustment');
    }
    const expireBefore = input.before !== undefined ? Date.parse(input.before) : null;
    const points =
      input.type === 'purchase' || input.type === 'refund_purchase'
        ? decimalToMinor(input.amount!.amount)
        : input.type === 'redeem_reward' || input.type === 'redeem_coupon'
          ? 1
          : (input.points ?? null);
    // An expire's delta on the built-in ledger is what its script finds due; at a provider, what was asked.
    const externalExpire = input.type === 'expire' && provider instanceof ProviderConnection;
    const delta =
      input.type === 'award' || input.type === 'visit'
        ? points!
        : input.type === 'redeem' || input.type === 'redeem_reward' || externalExpire
          ? -points!
          : input.type === 'adjust'
            ? points!
            : 0;
    const sweepId = `txn_${ulid(now)}`;
    const txn: NewTransaction = {
      id: `txn_${ulid(now)}`,
      type: input.type,
      card_id: input.card_id,
      connection: provider.connection.id,
      unit,
      points: input.type === 'adjust' ? points : points === null ? null : Math.abs(points),
      amount: input.amount?.amount ?? null,
      currency: input.amount?.currency ?? null,
      reward_id: input.reward_id ?? null,
      delta,
      reason: input.reason ?? (input.type === 'expire' ? 'Points expired by request' : ''),
      reference_id: input.reference_id ?? null,
      staff: input.staff ?? null,
      metadata: input.metadata ?? null,
      expires_at: expiresAt,
      expire_before: expireBefore,
      reversal_of: null,
      source: 'api',
      client: ctx.clientId,
      created_at: now,
      sweep_id: sweepId,
    };
    const naturalKey =
      input.reference_id !== undefined
        ? this.ledger.keys.naturalKey(input.card_id, input.type, input.reference_id)
        : undefined;
    if (provider instanceof ProviderConnection)
      return this.dispatched(provider, txn, this.idem(ctx, idemSuffix), naturalKey, ctx);
    return this.run(txn, this.idem(ctx, idemSuffix), naturalKey);
  }

  /** A compensating transaction for an order cancelled or refunded: full or partial. */
  async reverse(
    originalId: string,
    body: { points?: number; reason?: string; reference_id?: string; staff?: string },
    ctx: CallContext,
  ): Promise<Outcome> {
    const orig = await this.ledger.get(originalId);
    if (!orig) throw new GatewayError('transaction_not_found', `No transaction ${originalId}.`);
    if (
      !['award', 'redeem', 'adjust'].includes(orig.type) ||
      orig.reversal_of !== null ||
      orig.status !== 'succeeded'
    ) {
      throw new GatewayError(
        'transaction_not_reversible',
        orig.reversal_of !== null
          ? `Transaction ${originalId} is itself a reversal; make an adjustment instead.`
          : orig.status !== 'succeeded'
            ? `Transaction ${originalId} is ${orig.status}; only succeeded transactions can be reversed.`
            : `Only award, redeem and adjust transactions can be reversed; ${originalId} is an ${orig.type}.`,
      );
    }
    const { provider } = await this.requireOperation(orig.card_id, 'reverse');
    // The built-in ledger settles "all that is left" atomically in its script; an external provider
    // is sent an exact opposite movement, so the amount is worked out here.
    let points: number | null = body.points ?? null;
    let delta = orig.delta > 0 ? -1 : 1;
    if (provider instanceof ProviderConnection) {
      // The claim script is the one judge of what is left: it replays a retried reversal (its keys)
      // and refuses one that exceeds the rest, counting reversals still in flight. Nothing left,
      // for a full reversal: ask for the whole original, which the script refuses as already reversed.
      const left = Math.abs(orig.delta) - orig.reversed_points;
      const amount = points ?? (left > 0 ? left : Math.abs(orig.delta));
      delta = orig.delta > 0 ? -amount : amount;
      points = delta;
    }
    const now = Date.now();
    // Made first, as in transact(): an expiry the reversal writes happens before it, so its id sorts first.
    const sweepId = `txn_${ulid(now)}`;
    const txn: NewTransaction = {
      id: `txn_${ulid(now)}`,
      type: 'adjust',
      card_id: orig.card_id,
      connection: orig.connection,
      unit: orig.unit,
      amount: null,
      currency: null,
      reward_id: null,
      // Null: "all that is left", which the built-in ledger settles atomically.
      points,
      delta,
      reason: body.reason ?? `Reversal of ${originalId}`,
      reference_id: body.reference_id ?? null,
      staff: body.staff ?? null,
      metadata: null,
      expires_at: null,
      expire_before: null,
      reversal_of: originalId,
      source: 'api',
      client: ctx.clientId,
      created_at: now,
      sweep_id: sweepId,
    };
    // A full reversal happens once; a partial one is keyed by its reference_id.
    const natural =
      body.points === undefined
        ? `${originalId}:full`
        : body.reference_id !== undefined
          ? `${originalId}:ref:${body.reference_id}`
          : undefined;
    const naturalKey =
      natural !== undefined ? this.ledger.keys.naturalKey(orig.card_id, 'reversal', natural) : undefined;
    if (provider instanceof ProviderConnection) {
      return this.dispatched(provider, txn, this.idem(ctx), naturalKey, ctx, {
        of: originalId,
        amount: Math.abs(delta),
      });
    }
    return this.run(txn, this.idem(ctx), naturalKey);
  }

  /**
   * A transaction at an external provider: claimed in the ledger as queued, its job put on the
   * connection's queue, and its outcome awaited up to the dispatch wait; still running then (or
   * with Prefer: respond-async), the answer is 202 with the transaction to poll. A retry of the
   * same key or reference_id finds the same transaction (and queues its job again if it was lost).
   */
  private async dispatched(
    provider: ProviderConnection,
    txn: NewTransaction,
    idem: IdempotencyClaim | undefined,
    naturalKey: string | undefined,
    ctx: CallContext,
    reserve?: { of: string; amount: number },
  ): Promise<Outcome> {
    const lane: Lane = ctx.lane ?? 'write';
    let record: TransactionRecord | null = null;
    let replayed = false;
    for (let tries = 0; record === null; tries++) {
      const claim = await this.ledger.claimTransaction(txn, { idem, naturalKey, reserve, queued: true });
      if (claim.kind === 'exceeds') throw this.exceeds(claim.left, reserve);
      if (claim.kind === 'mismatch') {
        throw new GatewayError(
          'idempotency_key_reused',
          'This Idempotency-Key was already used with a different request; use a new key for a new request.',
        );
      }
      if (claim.kind === 'replay')
        return { status: claim.status, body: JSON.parse(claim.body) as Transaction, replayed: true };
      if (claim.kind === 'claimed') {
        record = queuedRecord(txn, idem, naturalKey ?? null);
      } else if ((claim.kind === 'replay_txn' || claim.kind === 'existing') && claim.record) {
        record = claim.record;
        replayed = true;
      } else if (tries > 20) {
        throw new GatewayError(
          'idempotency_in_flight',
          'A request with this Idempotency-Key is still being processed; retry in a moment to get its result.',
          { retryAfter: '1' },
        );
      } else {
        await sleep(5);
      }
    }
    if (record.status === 'succeeded' || record.status === 'failed' || record.status === 'needs_review')
      return this.answer(record, replayed);
    // Queued again on a retry: a no-op while its job exists, a rescue when its first API process died before queueing it.
    await this.dispatch.enqueueTxn(provider.connection.id, record.id, lane);
    if (ctx.respondAsync || ctx.lane === 'bulk')
      return { status: 202, body: render(record), replayed, asyncPreferred: ctx.respondAsync };
    const id = record.id;
    const waitMs = Math.min(ctx.waitMs ?? this.options.dispatchWaitMs, this.options.dispatchWaitMs);
    const done = await this.dispatch.waitFor(id, waitMs, async () => {
      const r = await this.ledger.get(id);
      return r && (r.status === 'succeeded' || r.status === 'failed' || r.status === 'needs_review') ? r : null;
    });
    if (done) return this.answer(done, replayed);
    return { status: 202, body: render((await this.ledger.get(id)) ?? record), replayed };
  }

  private exceeds(left: number, reserve?: { of: string; amount: number }): GatewayError {
    // Another reversal of the same transaction took (or is taking) the rest first.
    return left <= 0
      ? new GatewayError(
          'already_reversed',
          `Transaction ${reserve?.of} is already fully reversed (or its reversals are still being applied).`,
        )
      : new GatewayError(
          'reversal_exceeds_original',
          `Only ${left} of ${reserve?.of} are left to reverse; ${reserve?.amount} were asked for.`,
        );
  }

  /** Claim, apply, answer; waits (bounded) on a duplicate that is still running. */
  private async run(
    txn: NewTransaction,
    idem: IdempotencyClaim | undefined,
    naturalKey: string | undefined,
  ): Promise<Outcome> {
    const opts: { reserve?: { of: string; amount: number } } = {};
    const deadline = Date.now() + this.options.inFlightWaitMs;
    let pause = 5;
    for (;;) {
      const claim = await this.ledger.claimTransaction(txn, { idem, naturalKey });
      if (claim.kind === 'exceeds') throw this.exceeds(claim.left, opts.reserve);
      if (claim.kind === 'mismatch') {
        throw new GatewayError(
          'idempotency_key_reused',
          'This Idempotency-Key was already used with a different request; use a new key for a new request.',
        );
      }
      if (claim.kind === 'replay')
        return { status: claim.status, body: JSON.parse(claim.body) as Transaction, replayed: true };
      if (claim.kind === 'replay_txn' && claim.record) return this.answer(claim.record, true);

      let record: TransactionRecord | null;
      if (claim.kind === 'claimed') {
        record = await this.applyClaimed(claimedRecord(txn), idem, naturalKey);
        if (record) return this.answer(record, false);
      } else if (claim.kind === 'existing') {
        record = claim.record;
        if (record && record.status !== 'processing') return this.answer(record, true);
        if (record && record.lease_until !== null && record.lease_until < Date.now()) {
          // Its claimer died mid-way: applying is idempotent, so finish its work.
          const done = await this.applyClaimed(record, idem, naturalKey);
          if (done) return this.answer(done, true);
        }
      }
      // Someone else holds it (or just released it): look again shortly.
      if (Date.now() >= deadline) {
        throw new GatewayError(
          'idempotency_in_flight',
          idem
            ? 'A request with this Idempotency-Key is still being processed; retry in a moment to get its result.'
            : 'A transaction with this reference_id is still being processed; retry in a moment to get its result.',
          { retryAfter: '1' },
        );
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
  }

  /** Has the provider apply a claimed transaction; throws its refusal. Null if it vanished. */
  private async applyClaimed(
    record: TransactionRecord,
    idem: IdempotencyClaim | undefined,
    naturalKey: string | undefined,
  ): Promise<TransactionRecord | null> {
    // Only the built-in ledger gets here: external transactions are dispatched (dispatched()).
    const provider = this.providers.get(record.connection) as BuiltinLedger;
    const outcome = await provider.apply(record, { idempotencyKey: idem?.key, naturalKey });
    if (outcome.kind === 'rejected') throw outcome.error;
    if (outcome.kind === 'applied' && record.reversed_points === 0) {
      // The provider returned everything that changed: no need to read the record back.
      return {
        ...record,
        status: 'succeeded',
        balance_after: outcome.balanceAfter,
        delta: outcome.delta,
        provider_reference: outcome.providerReference ?? null,
        unit: outcome.unit ?? record.unit,
        points: record.type === 'adjust' && record.reversal_of === null ? record.points : outcome.points,
        completed_at: outcome.completedAt,
        lease_until: null,
      };
    }
    return this.ledger.get(record.id);
  }

  /**
   * The answer to a transaction request: the transaction as it was when it completed, so that a
   * replay (Idempotency-Key or reference_id) is identical to the first answer even after later
   * reversals; GET /v1/transactions/{id} shows it as it stands now. The provider marked the
   * Idempotency-Key done together with the transaction, so nothing is left to store here.
   */
  private answer(record: TransactionRecord, replayed: boolean): Outcome {
    if (record.status === 'needs_review' || record.status === 'failed') {
      const why =
        record.status === 'needs_review'
          ? 'the provider may have applied it, so the gateway will not send it again by itself'
          : "the provider did not apply it; a new request (or an admin's retry) may send it again";
      throw new GatewayError(
        storedErrorCode(record.error_code),
        `${record.error_detail ?? 'The provider call failed.'} Transaction ${record.id} is ${record.status}: ${why}; GET /v1/transactions/${record.id} shows it.`,
        { transaction_id: record.id },
      );
    }
    return { status: 201, body: render({ ...record, reversed_points: 0 }), replayed };
  }

  async transactions(ids: string[]): Promise<Transaction[]> {
    return (await this.ledger.getMany(ids)).map(render);
  }

  async getTransaction(id: string): Promise<Transaction> {
    const rec = await this.ledger.get(id);
    if (!rec) throw new GatewayError('transaction_not_found', `No transaction ${id}.`);
    const audit = await this.ledger.auditOf(id);
    return {
      ...render(rec),
      ...(rec.idem_key !== null || rec.attempts > 0 || rec.status === 'queued' ? { attempts: rec.attempts } : {}),
      ...(audit.length ? { audit } : {}),
    };
  }

  /** Dispatched transactions in a status, oldest first; `after` is the last id of the previous page. */
  async listTransactions(q: {
    status: TransactionStatus;
    connection?: string;
    limit: number;
    after?: string;
  }): Promise<{ data: Transaction[]; next: string | null }> {
    const data: Transaction[] = [];
    let after = q.after;
    // A connection filter may skip entries: read on until the page is full or the status is exhausted.
    for (let rounds = 0; rounds < 20 && data.length < q.limit; rounds++) {
      const page = await this.ledger.listByStatus(q.status, { limit: q.limit, after });
      if (page.length === 0) return { data, next: null };
      for (const r of page) {
        after = r.id;
        if (q.connection !== undefined && r.connection !== q.connection) continue;
        data.push({ ...render(r), attempts: r.attempts });
        if (data.length === q.limit) break;
      }
      if (page.length < q.limit && data.length < q.limit) return { data, next: null };
    }
    return { data, next: data.length === q.limit ? (after ?? null) : null };
  }

  private async dispatchedRecord(id: string): Promise<{ rec: TransactionRecord; provider: ProviderConnection }> {
    const rec = await this.ledger.get(id);
    if (!rec) throw new GatewayError('transaction_not_found', `No transaction ${id}.`);
    const provider = this.providers.get(rec.connection);
    if (!(provider instanceof ProviderConnection)) {
      throw new GatewayError(
        'transaction_not_retryable',
        `Transaction ${id} is on the built-in ledger, which applies or refuses a transaction at once; there is nothing to retry or resolve.`,
      );
    }
    return { rec, provider };
  }

  /**
   * An admin sends a failed or needs_review transaction again (for needs_review: after checking at
   * the provider that it was not applied). Same transaction id; an audit entry records who did it.
   */
  async retryTransaction(
    id: string,
    by: string,
    note: string | null,
    ctx: Pick<CallContext, 'respondAsync' | 'waitMs'>,
  ): Promise<Outcome> {
    const { rec, provider } = await this.dispatchedRecord(id);
    if (rec.status !== 'failed' && rec.status !== 'needs_review') {
      throw new GatewayError(
        'transaction_not_retryable',
        `Transaction ${id} is ${rec.status}; only failed and needs_review transactions can be retried.`,
      );
    }
    if (rec.status === 'failed' && rec.reversal_of !== null) {
      throw new GatewayError(
        'transaction_not_retryable',
        `Transaction ${id} is a failed reversal; make a new reversal of ${rec.reversal_of} instead.`,
      );
    }
    const res = await this.ledger.transition(rec, 'queued', {
      clear: ['error_code', 'error_detail', 'completed_at'],
      audit: { at: new Date().toISOString(), action: 'retry', by, from: rec.status, to: 'queued', note },
      // A failed transaction gave up its reference_id and Idempotency-Key: take them back, unless
      // another transaction has one of them now (the client sent the order again).
      retakeNaturalKey: rec.status === 'failed' && rec.natural_key ? rec.natural_key : undefined,
      retakeIdempotency:
        rec.status === 'failed' && rec.idem_key && rec.idem_fp
          ? { key: rec.idem_key, fingerprint: rec.idem_fp }
          : undefined,
    });
    if (!res.ok) {
      throw new GatewayError(
        'transaction_not_retryable',
        res.takenBy
          ? `Transaction ${id}'s reference_id or Idempotency-Key was used by transaction ${res.takenBy} since it failed; retrying it could apply the order twice.`
          : `Transaction ${id} is ${res.status ?? 'gone'} now; only failed and needs_review transactions can be retried.`,
      );
    }
    await this.dispatch.enqueueTxn(provider.connection.id, id, 'write', { fresh: true });
    if (ctx.respondAsync)
      return { status: 202, body: render((await this.ledger.get(id)) ?? rec), replayed: false, asyncPreferred: true };
    const waitMs = Math.min(ctx.waitMs ?? this.options.dispatchWaitMs, this.options.dispatchWaitMs);
    const done = await this.dispatch.waitFor(id, waitMs, async () => {
      const r = await this.ledger.get(id);
      return r && r.status !== 'queued' && r.status !== 'processing' ? r : null;
    });
    const now = done ?? (await this.ledger.get(id)) ?? rec;
    return { status: done ? 200 : 202, body: await this.getTransaction(now.id), replayed: false };
  }

  /**
   * An admin settles a needs_review transaction after checking at the provider: `succeeded` (it
   * was applied) or `failed` (it was not; its keys are released). An audit entry records it.
   */
  async resolveTransaction(
    id: string,
    by: string,
    body: { outcome: 'succeeded' | 'failed'; note?: string; provider_reference?: string; balance_after?: number },
  ): Promise<Transaction> {
    const { rec, provider } = await this.dispatchedRecord(id);
    if (rec.status !== 'needs_review') {
      throw new GatewayError(
        'transaction_not_retryable',
        `Transaction ${id} is ${rec.status}; only needs_review transactions are resolved by hand.`,
      );
    }
    const audit = {
      at: new Date().toISOString(),
      action: 'resolve' as const,
      by,
      from: rec.status,
      to: body.outcome,
      note: body.note ?? null,
    };
    const fields: Record<string, string | number | null> =
      body.outcome === 'succeeded'
        ? {
            provider_reference: body.provider_reference ?? rec.provider_reference,
            balance_after: body.balance_after ?? null,
            error_code: null,
            error_detail: null,
          }
        : {};
    const ok = await this.ledger.settle(rec, body.outcome, {
      from: 'needs_review',
      fields,
      audit,
      httpStatus: body.outcome === 'succeeded' ? 201 : 422,
    });
    if (!ok)
      throw new GatewayError('transaction_not_retryable', `Transaction ${id} was settled by someone else meanwhile.`);
    await provider.invalidateBalance(rec.card_id);
    return this.getTransaction(id);
  }
}
