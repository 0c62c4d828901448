import { ApiError } from '../api/errors.js';
import type { Transaction, TransactionType } from '../api/schemas/transactions.js';
import { ulid } from '../lib/ids.js';
import { decimalToMinor } from '../lib/money.js';
import { fingerprint } from '../ledger/idempotency.js';
import { render, type NewTransaction, type TransactionRecord } from '../ledger/transaction-record.js';
import type { TransactionLedger, IdempotencyClaim } from '../ledger/transaction-ledger.js';
import type { Operation, PointsProvider } from '../providers/provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { LedgerProvider } from '../providers/ledger/ledger-provider.js';
import { ExternalProvider, storedErrorCode } from '../providers/external-provider.js';
import type { Money, Unit } from '../api/schemas/programs.js';

/** How long a claim may be held before a retry may take it over: past the provider's slowest call. */
const leaseOf = (provider: PointsProvider): number | undefined => (provider instanceof ExternalProvider ? provider.leaseMs : undefined);

/** The unit each dedicated card operation counts in (award, redeem and adjust take the request's or the card's). */
const FIXED_UNIT: Partial<Record<TransactionType, Unit>> = { visit: 'visits', purchase: 'amount', refund_purchase: 'amount', redeem_reward: 'rewards', redeem_coupon: 'rewards' };

/** Who asks, and how: what idempotency is judged on. */
export interface CallContext {
  clientId: string;
  idempotencyKey?: string;
  /** Method and path of the request, for the Idempotency-Key fingerprint. */
  method: string;
  path: string;
  /** The body as received, for the fingerprint. */
  body: unknown;
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
  status: number;
  body: Transaction;
  replayed: boolean;
}

const METADATA_MAX_BYTES = 1024;


/** The record a successful claim has just written. */
function claimedRecord(txn: NewTransaction): TransactionRecord {
  return {
    ...txn, status: 'processing', balance_after: null, completed_at: null, reversed_points: 0, lease_until: null,
    provider_reference: null, error_code: null, error_detail: null,
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fieldError(field: string, message: string): ApiError {
  return new ApiError('validation_failed', `${field} ${message}.`, { errors: [{ field: `/${field}`, message }] });
}

/**
 * The life of a points transaction: check it, claim it in the ledger (once, whatever the retries),
 * have the card's provider apply it, and answer with the recorded outcome.
 */
export class PointsService {
  constructor(
    private readonly ledger: TransactionLedger,
    private readonly providers: ProviderRegistry,
    private readonly options: { inFlightWaitMs: number },
  ) {}

  private idem(ctx: CallContext, suffix = ''): IdempotencyClaim | undefined {
    if (ctx.idempotencyKey === undefined) return undefined;
    return {
      key: this.ledger.idempotencyKey(ctx.clientId, ctx.idempotencyKey + suffix),
      fingerprint: fingerprint(ctx.method, ctx.path, ctx.body),
    };
  }

  async requireOperation(cardId: string, op: Operation, unit?: Unit) {
    const provider = this.providers.forCard(cardId);
    const caps = await provider.cardCapabilities(cardId);
    if (!caps.operations.includes(op)) {
      throw new ApiError('unsupported_operation', `Card ${cardId} does not support ${op}; it supports: ${caps.operations.join(', ')} (units: ${caps.units.join(', ')}).`, {
        supported: caps.operations,
      });
    }
    if (unit !== undefined && !caps.units.includes(unit)) {
      throw new ApiError('unsupported_operation', `Card ${cardId} does not count in ${unit}; its units are: ${caps.units.join(', ')}. Nothing is converted between units.`, {
        supported: caps.operations,
        units: caps.units,
      });
    }
    return { provider, caps };
  }

  /** Award, redeem, adjust or expire. */
  async transact(input: TransactionInput, ctx: CallContext, idemSuffix = ''): Promise<Outcome> {
    const { provider, caps } = await this.requireOperation(input.card_id, input.type, input.unit);
    const unit: Unit = FIXED_UNIT[input.type] ?? input.unit ?? caps.native_unit ?? 'points';
    const now = Date.now();
    if (provider instanceof ExternalProvider) {
      if (input.expires_at !== undefined) throw fieldError('expires_at', `is not supported on ${provider.connection.provider} connections: the provider sets expiry itself`);
      if (input.before !== undefined) throw fieldError('before', `is not supported on ${provider.connection.provider} connections; name the points to expire`);
      if (input.amount !== undefined && input.amount.currency !== provider.currency) {
        throw fieldError('amount/currency', `must be ${provider.currency}, the currency of connection ${provider.connection.id}`);
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
    } else if ((input.type === 'award' || (input.type === 'adjust' && (input.points ?? 0) > 0)) && provider instanceof LedgerProvider) {
      expiresAt = provider.defaultExpiry(now);
    }
    if (input.type === 'adjust' && (input.points ?? 0) < 0 && input.expires_at !== undefined) {
      throw fieldError('expires_at', 'applies only to a positive adjustment');
    }
    const expireBefore = input.before !== undefined ? Date.parse(input.before) : null;
    const points = input.type === 'purchase' || input.type === 'refund_purchase' ? decimalToMinor(input.amount!.amount) : input.type === 'redeem_reward' || input.type === 'redeem_coupon' ? 1 : (input.points ?? null);
    // An expire's delta on the built-in ledger is what its script finds due; at a provider, what was asked.
    const externalExpire = input.type === 'expire' && provider instanceof ExternalProvider;
    const delta =
      input.type === 'award' || input.type === 'visit' ? points!
        : input.type === 'redeem' || input.type === 'redeem_reward' || externalExpire ? -points!
          : input.type === 'adjust' ? points! : 0;
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
    const naturalKey = input.reference_id !== undefined ? this.ledger.keys.naturalKey(input.card_id, input.type, input.reference_id) : undefined;
    return this.run(txn, this.idem(ctx, idemSuffix), naturalKey, { leaseMs: leaseOf(provider) });
  }

  /** A compensating transaction for an order cancelled or refunded: full or partial. */
  async reverse(originalId: string, body: { points?: number; reason?: string; reference_id?: string; staff?: string }, ctx: CallContext): Promise<Outcome> {
    const orig = await this.ledger.get(originalId);
    if (!orig) throw new ApiError('transaction_not_found', `No transaction ${originalId}.`);
    if (!['award', 'redeem', 'adjust'].includes(orig.type) || orig.reversal_of !== null || orig.status !== 'succeeded') {
      throw new ApiError(
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
    if (provider instanceof ExternalProvider) {
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
      body.points === undefined ? `${originalId}:full` : body.reference_id !== undefined ? `${originalId}:ref:${body.reference_id}` : undefined;
    const naturalKey = natural !== undefined ? this.ledger.keys.naturalKey(orig.card_id, 'reversal', natural) : undefined;
    const reserve = provider instanceof ExternalProvider ? { of: originalId, amount: Math.abs(delta) } : undefined;
    return this.run(txn, this.idem(ctx), naturalKey, { leaseMs: leaseOf(provider), reserve });
  }

  /** Claim, apply, answer; waits (bounded) on a duplicate that is still running. */
  private async run(
    txn: NewTransaction,
    idem: IdempotencyClaim | undefined,
    naturalKey: string | undefined,
    opts: { leaseMs?: number; reserve?: { of: string; amount: number } } = {},
  ): Promise<Outcome> {
    const deadline = Date.now() + this.options.inFlightWaitMs;
    let pause = 5;
    for (;;) {
      const claim = await this.ledger.claimTransaction(txn, { idem, naturalKey, ...opts });
      if (claim.kind === 'exceeds') {
        // Another reversal of the same transaction took (or is taking) the rest first.
        throw claim.left <= 0
          ? new ApiError('already_reversed', `Transaction ${opts.reserve?.of} is already fully reversed (or its reversals are still being applied).`)
          : new ApiError('reversal_exceeds_original', `Only ${claim.left} of ${opts.reserve?.of} are left to reverse; ${opts.reserve?.amount} were asked for.`);
      }
      if (claim.kind === 'mismatch') {
        throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request; use a new key for a new request.');
      }
      if (claim.kind === 'replay') return { status: claim.status, body: JSON.parse(claim.body) as Transaction, replayed: true };
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
        throw new ApiError(
          'idempotency_in_flight',
          idem
            ? 'A request with this Idempotency-Key is still being processed; retry in a moment to get its result.'
            : 'A transaction with this reference_id is still being processed; retry in a moment to get its result.',
          { headers: { 'retry-after': '1' } },
        );
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
  }

  /** Has the provider apply a claimed transaction; throws its refusal. Null if it vanished. */
  private async applyClaimed(record: TransactionRecord, idem: IdempotencyClaim | undefined, naturalKey: string | undefined): Promise<TransactionRecord | null> {
    const provider = this.providers.get(record.connection);
    const outcome = await provider.apply(record, { idempotencyKey: idem?.key, naturalKey });
    if (outcome.kind === 'rejected') throw outcome.error;
    if (outcome.kind === 'applied' && record.reversed_points === 0) {
      // The provider returned everything that changed: no need to read the record back.
      return {
        ...record, status: 'succeeded', balance_after: outcome.balanceAfter, delta: outcome.delta,
        provider_reference: outcome.providerReference ?? null, unit: outcome.unit ?? record.unit,
        points: record.type === 'adjust' && record.reversal_of === null ? record.points : outcome.points,
        completed_at: outcome.completedAt, lease_until: null,
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
      throw new ApiError(
        storedErrorCode(record.error_code),
        `${record.error_detail ?? 'The provider call failed.'} Transaction ${record.id} is ${record.status}: the provider may have applied it, so the gateway will not send it again; GET /v1/transactions/${record.id} shows it.`,
        { transaction_id: record.id, headers: { location: `/v1/transactions/${record.id}` } },
      );
    }
    return { status: 201, body: render({ ...record, reversed_points: 0 }), replayed };
  }

  async transactions(ids: string[]): Promise<Transaction[]> {
    return (await this.ledger.getMany(ids)).map(render);
  }

  async getTransaction(id: string): Promise<Transaction> {
    const rec = await this.ledger.get(id);
    if (!rec) throw new ApiError('transaction_not_found', `No transaction ${id}.`);
    return render(rec);
  }
}
