import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { CardId } from '../../domain/fields.js';
import type { TransactionInput } from '../../services/points/engine.js';
import type { PointsService } from '../../services/points/points-service.js';
import type { CardService } from '../../services/resources/card-service.js';
import { callContext, sendOutcome } from '../request-context.js';
import { CouponRedeemBody, PurchaseBody, RedeemRewardBody, RewardList, VisitBody } from '../schemas/cards.js';
import {
  commonErrors,
  problem,
  TransactionHeaders,
  transactionResponses,
  upstreamErrors,
} from '../schemas/responses.js';

const CardParams = Type.Object({ card_id: CardId });
/** The card path parameter, with a sandbox card that supports the operation as its example. */
const cardParams = (example: string) => Type.Object({ card_id: { ...CardId, examples: [example] } });
const txnResponses = transactionResponses(
  'No such card (card_not_found), reward (reward_not_found) or connection (unknown_connection).',
);

/**
 * The card operations beyond points: visits, purchases, rewards and coupons. Each is a transaction
 * like award and redeem: claimed once in the store, then applied by the card's connection.
 */
export async function cardOperationRoutes(app: FastifyInstance, opts: { points: PointsService; cards: CardService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { points, cards } = opts;
  /** A card operation is a transaction like any other: applied once, answered with the transaction. */
  const transact = async (req: FastifyRequest, reply: FastifyReply, input: TransactionInput) =>
    sendOutcome(reply, await points.transact(input, callContext(req)));

  r.get(
    '/:card_id/rewards',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listCardRewards',
        tags: ['cards'],
        summary: 'Rewards the card has earned',
        params: cardParams('hl:100000-000-001'),
        response: {
          200: { ...RewardList, description: 'Earned rewards (and used ones, where the provider keeps them).' },
          ...commonErrors,
          404: problem('No such card.'),
          422: problem('The card has no rewards (unsupported_operation).'),
          ...upstreamErrors,
        },
      },
    },
    async (req) => cards.rewards(req.params.card_id),
  );

  r.post(
    '/:card_id/rewards/redeem',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'redeemReward',
        tags: ['cards'],
        summary: 'Redeem an earned reward',
        description:
          "Highlight stamp cards: subtract-reward (value → purchaseSum, added to the customer's LTV); Highlight " +
          'reward cards: receive-reward {id}; Leal: redeem {reward_id}; Coupontools: use rewards {reward_ids}.',
        params: cardParams('leal:301.501'),
        headers: TransactionHeaders,
        body: RedeemRewardBody,
        response: txnResponses,
      },
    },
    async (req, reply) => {
      const { value, ...rest } = req.body;
      return transact(req, reply, {
        type: 'redeem_reward',
        card_id: req.params.card_id,
        reason: 'Reward redeemed',
        ...rest,
        ...(value ? { amount: value } : {}),
      });
    },
  );

  r.post(
    '/:card_id/visits',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'recordVisit',
        tags: ['cards'],
        summary: 'Record a visit',
        description: 'Highlight multipass, membership, and stamp or reward cards with visit mechanics (add-visit).',
        params: cardParams('hl:100000-000-002'),
        headers: TransactionHeaders,
        body: VisitBody,
        response: txnResponses,
      },
    },
    async (req, reply) => {
      const { visits, ...rest } = req.body;
      return transact(req, reply, {
        type: 'visit',
        card_id: req.params.card_id,
        points: visits ?? 1,
        reason: 'Visit',
        ...rest,
      });
    },
  );

  r.post(
    '/:card_id/purchases',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'recordPurchase',
        tags: ['cards'],
        summary: 'Record a purchase (money spent)',
        description:
          'Highlight stamp and reward cards with spend mechanics (add-purchase), cashback cards ' +
          "(add-transaction-amount). The amount is a decimal string in the connection's currency.",
        params: CardParams,
        headers: TransactionHeaders,
        body: PurchaseBody,
        response: txnResponses,
      },
    },
    async (req, reply) =>
      transact(req, reply, { type: 'purchase', card_id: req.params.card_id, reason: 'Purchase', ...req.body }),
  );

  r.post(
    '/:card_id/purchases/refund',
    {
      config: { scope: 'write' },
      schema: {
        operationId: 'refundPurchase',
        tags: ['cards'],
        summary: 'Record a refunded purchase (money taken back)',
        description:
          'Highlight stamp and reward cards with spend mechanics (subtract-purchase), cashback cards ' +
          '(subtract-transaction-amount). Use reference_id (your refund id) or an Idempotency-Key: a refund is ' +
          'applied once.',
        params: CardParams,
        headers: TransactionHeaders,
        body: PurchaseBody,
        response: txnResponses,
      },
    },
    async (req, reply) =>
      transact(req, reply, {
        type: 'refund_purchase',
        card_id: req.params.card_id,
        reason: 'Purchase refunded',
        ...req.body,
      }),
  );

  r.post(
    '/:card_id/coupon/redeem',
    {
      config: { scope: 'write', optionalBody: true },
      schema: {
        operationId: 'redeemCoupon',
        tags: ['cards'],
        summary: 'Redeem a coupon card',
        description:
          'Highlight coupon cards (redeem-coupon). A coupon redeems once: again → 409 coupon_already_redeemed.',
        params: cardParams('hl:100000-000-005'),
        headers: TransactionHeaders,
        body: CouponRedeemBody,
        response: {
          ...txnResponses,
          409: problem(
            'The coupon was already redeemed (coupon_already_redeemed), or a request with this Idempotency-Key is ' +
              'still running (idempotency_in_flight).',
          ),
        },
      },
    },
    async (req, reply) => {
      const { value, ...rest } = req.body ?? {};
      return transact(req, reply, {
        type: 'redeem_coupon',
        card_id: req.params.card_id,
        reason: 'Coupon redeemed',
        ...rest,
        ...(value ? { amount: value } : {}),
      });
    },
  );
}
