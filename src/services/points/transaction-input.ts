import type { Capabilities } from '../../domain/capabilities.js';
import { fieldError, GatewayError } from '../../domain/errors.js';
import { checkMetadataSize } from '../../domain/fields.js';
import type { TransactionType } from '../../domain/transactions.js';
import type { Unit } from '../../domain/units.js';
import { ulid } from '../../lib/ids.js';
import { decimalToMinor } from '../../lib/money.js';
import type { NewTransaction, TransactionRecord } from '../../store/transaction-record.js';
import type { PointsEngine, ReversalInput, TransactionInput } from './engine.js';

/** The unit each dedicated card operation counts in (award, redeem and adjust take the request's or the card's). */
const FIXED_UNIT: Partial<Record<TransactionType, Unit>> = {
  visit: 'visits',
  purchase: 'amount',
  refund_purchase: 'amount',
  redeem_reward: 'rewards',
  redeem_coupon: 'rewards',
};

/**
 * What the card's capabilities refuse beyond the operation and the unit (the registry checks those): an adjust
 * in a direction the card cannot take, and, at a provider, an expire that names no points (only the built-in
 * ledger knows what is due). Refused here, before anything is recorded or sent, as every unsupported operation is.
 */
function refuseUnsupported(input: TransactionInput, unit: Unit, caps: Capabilities, engine: PointsEngine): void {
  const refuse = (what: string) =>
    new GatewayError(
      'unsupported_operation',
      `Card ${input.card_id} does not support ${what}; it supports: ${caps.operations.join(', ')} (units: ` +
        `${caps.units.join(', ')}).`,
      { supported: caps.operations },
    );
  if (input.type === 'adjust' && caps.adjust && input.points !== undefined) {
    const adds = input.points > 0;
    if (!(adds ? caps.adjust.add : caps.adjust.subtract).includes(unit)) {
      const can = adds ? caps.adjust.subtract : caps.adjust.add;
      throw refuse(
        `an adjustment that ${adds ? 'adds' : 'subtracts'} ${unit}` +
          (can.includes(unit) ? ` (only one that ${adds ? 'subtracts' : 'adds'})` : ''),
      );
    }
  }
  if (input.type === 'expire' && engine.dispatched && input.points === undefined && input.before === undefined) {
    throw refuse('an expire without `points` (what is due is known only to the built-in ledger): name the points');
  }
}

/** The transaction a request makes on a card of `connection`: checked, its unit, points, delta and expiry decided. */
export function newTransaction(
  input: TransactionInput,
  where: { connection: string; caps: Capabilities; engine: PointsEngine; clientId: string },
): NewTransaction {
  const { engine } = where;
  const unit: Unit = FIXED_UNIT[input.type] ?? input.unit ?? where.caps.native_unit ?? 'points';
  const now = Date.now();
  refuseUnsupported(input, unit, where.caps, engine);
  engine.check(input);
  checkMetadataSize(input.metadata);
  const adds = input.type === 'award' || (input.type === 'adjust' && (input.points ?? 0) > 0);
  let expiresAt: number | null = null;
  if (input.expires_at !== undefined) {
    expiresAt = Date.parse(input.expires_at);
    if (!(expiresAt > now)) throw fieldError('expires_at', 'must be in the future');
  } else if (adds) {
    expiresAt = engine.defaultExpiry(now);
  }
  if (input.type === 'adjust' && (input.points ?? 0) < 0 && input.expires_at !== undefined) {
    throw fieldError('expires_at', 'applies only to a positive adjustment');
  }
  const points =
    input.type === 'purchase' || input.type === 'refund_purchase'
      ? decimalToMinor(input.amount!.amount)
      : input.type === 'redeem_reward' || input.type === 'redeem_coupon'
        ? 1
        : (input.points ?? null);
  const delta =
    input.type === 'award' || input.type === 'visit' || input.type === 'adjust'
      ? points!
      : input.type === 'redeem' || input.type === 'redeem_reward'
        ? -points!
        : input.type === 'expire'
          ? engine.expireDelta(points)
          : 0;
  // Made first: an expiry entry the write makes happens before it, so its id sorts first.
  const sweepId = `txn_${ulid(now)}`;
  return {
    id: `txn_${ulid(now)}`,
    type: input.type,
    card_id: input.card_id,
    connection: where.connection,
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
    expire_before: input.before !== undefined ? Date.parse(input.before) : null,
    reversal_of: null,
    source: 'api',
    client: where.clientId,
    created_at: now,
    sweep_id: sweepId,
  };
}

/** The compensating adjustment that reverses `orig` (an order cancelled or refunded), fully or in part. */
export function reversalTransaction(
  orig: TransactionRecord,
  body: ReversalInput,
  where: { engine: PointsEngine; clientId: string },
): NewTransaction {
  const { points, delta } = where.engine.reversal(orig, body.points);
  const now = Date.now();
  const sweepId = `txn_${ulid(now)}`;
  return {
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
    reason: body.reason ?? `Reversal of ${orig.id}`,
    reference_id: body.reference_id ?? null,
    staff: body.staff ?? null,
    metadata: null,
    expires_at: null,
    expire_before: null,
    reversal_of: orig.id,
    source: 'api',
    client: where.clientId,
    created_at: now,
    sweep_id: sweepId,
  };
}
