import type { CardTypeCapabilities, Operation } from '../../domain/capabilities.js';
import type { Movement } from '../adapter.js';
import { refused } from './convert.js';

/**
 * What each Coupontools loyalty-card type supports through API v4. The program's `type` is the
 * card type. v4 can only ADD stamps (POST …/stats/{userId} {amount}) and USE rewards
 * (PUT …/stats/{userId}/rewards {reward_ids}): there is no endpoint to subtract stamps or to
 * move points, so redeem / adjust / expire / reverse are supported on no card type, and value is
 * taken with redeem_reward. Nothing is converted: visits or points are never turned into stamps.
 */

/** Card-level operations every program type has (users, rewards, push). */
const COMMON: Operation[] = [
  'balance',
  'get_card',
  'list_cards',
  'issue_card',
  'delete_card',
  'void_card',
  'rewards',
  'redeem_reward',
  'notify',
  'customers',
  'delete_customer',
  'programs',
  'copy_program',
];

export const STAMP: CardTypeCapabilities = {
  cardType: 'stamp',
  operations: ['award', ...COMMON],
  units: ['stamps', 'rewards'],
  nativeUnit: 'stamps',
};

/** Membership programs have users and rewards but take no stamps. */
export const MEMBERSHIP: CardTypeCapabilities = {
  cardType: 'membership',
  operations: [...COMMON],
  units: ['rewards'],
  nativeUnit: 'rewards',
};

export const CARD_TYPES: CardTypeCapabilities[] = [STAMP, MEMBERSHIP];

/** A type this adapter does not know (Coupontools may add some): only what needs no balance semantics. */
export function capabilitiesOf(type: string): CardTypeCapabilities {
  const known = CARD_TYPES.find((c) => c.cardType === type);
  return known ?? { ...MEMBERSHIP, cardType: type };
}

/** One line naming what a card type supports, for refusals. */
export function describe(caps: CardTypeCapabilities): string {
  const moves = caps.operations.filter((o) =>
    ['award', 'redeem', 'adjust', 'expire', 'visit', 'purchase', 'redeem_reward', 'redeem_coupon'].includes(o),
  );
  const award = moves.includes('award') ? `award in ${caps.units.filter((u) => u !== 'rewards').join(', ')}` : null;
  const rest = moves.filter((o) => o !== 'award');
  return (
    `a Coupontools ${caps.cardType} card supports ` +
    `${[award, ...rest].filter(Boolean).join(', ') || 'no balance operation'}`
  );
}

/** Refuses (unsupported_operation) any movement the card type cannot do through v4. */
export function checkMovement(caps: CardTypeCapabilities, m: Movement): void {
  const refuse = (why: string) => refused('unsupported_operation', `${why}; ${describe(caps)}.`);
  switch (m.operation) {
    case 'redeem':
    case 'adjust':
    case 'expire':
      throw refuse(
        `Coupontools API v4 has no endpoint to subtract stamps or points, so ${m.operation} is not possible (use ` +
          `redeem_reward to take value)`,
      );
    case 'award':
      if (!caps.operations.includes('award')) throw refuse(`a ${caps.cardType} program takes no stamps`);
      if (m.unit !== 'stamps') throw refuse(`award in ${m.unit} is not possible: Coupontools cards only add stamps`);
      if (!Number.isSafeInteger(m.quantity) || m.quantity < 1) {
        throw refused(
          'invalid_points_amount',
          'Coupontools adds whole stamps: the amount must be a whole number of at least 1.',
        );
      }
      return;
    case 'redeem_reward':
      if (!m.rewardId) throw refused('validation_failed', 'reward_id is required to use a reward on Coupontools.');
      return;
    default:
      throw refuse(`${m.operation} is not an operation of Coupontools loyalty cards`);
  }
}
