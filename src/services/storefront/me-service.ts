import { GatewayError } from '../../domain/errors.js';
import type { Hold } from '../../domain/holds.js';
import type { HoldService } from '../holds/hold-service.js';
import type { OrderService } from '../orders/order-service.js';
import type { PointsService } from '../points/points-service.js';
import type { CustomerPrincipal } from './customer-tokens.js';

/**
 * What a customer's browser may do with a customer token (/v1/me): read its own card and history,
 * and hold or release points on it. The card is the token's: its `sub` is a gateway card id on the
 * shop's connection, or the shop's customer id, linked to a card (POST /v1/links). Nothing here
 * takes a card id from the request.
 */
export class MeService {
  constructor(private readonly deps: { orders: OrderService; points: PointsService; holds: HoldService }) {}

  async cardOf(who: CustomerPrincipal): Promise<string> {
    const shop = this.deps.orders.shop(who.shopId);
    if (who.subject.includes(':')) {
      if (!who.subject.startsWith(`${shop.connection}:`)) {
        throw new GatewayError('forbidden', `The token's card is not on shop ${shop.id}'s connection.`);
      }
      return who.subject;
    }
    const card = await this.deps.orders.cardOfCustomer(shop.id, who.subject);
    if (!card) {
      throw new GatewayError('card_not_found', `Customer ${who.subject} of shop ${shop.id} has no card linked yet.`);
    }
    return card;
  }

  async me(who: CustomerPrincipal) {
    const card = await this.cardOf(who);
    return { shop_id: who.shopId, card_id: card, balance: await this.deps.points.balance(card) };
  }

  async history(who: CustomerPrincipal, limit: number) {
    const card = await this.cardOf(who);
    const page = await this.deps.points.history(card, { type: 'all', limit });
    return { card_id: card, data: page.data };
  }

  async hold(
    who: CustomerPrincipal,
    body: { points: number; reference_id: string; ttl_seconds?: number },
  ): Promise<{ hold: Hold; created: boolean }> {
    if (who.maxHoldPoints !== null && body.points > who.maxHoldPoints) {
      throw new GatewayError('validation_failed', `points: this token may hold at most ${who.maxHoldPoints}.`, {
        errors: [{ field: '/points', message: `must be at most ${who.maxHoldPoints} (the token's max_hold_points)` }],
      });
    }
    const card = await this.cardOf(who);
    const { hold, created } = await this.deps.holds.create(
      { card_id: card, points: body.points, reference_id: body.reference_id, ttl_seconds: body.ttl_seconds },
      { clientId: `customer:${who.shopId}:${who.subject}`, method: 'POST', path: '/v1/me/holds', body },
    );
    return { hold, created };
  }

  async release(who: CustomerPrincipal, holdId: string): Promise<Hold> {
    const card = await this.cardOf(who);
    const h = await this.deps.holds.get(holdId);
    // Another customer's hold is no hold of this one's: the same answer as none at all.
    if (!h || h.card_id !== card) throw new GatewayError('hold_not_found', `No hold ${holdId} on your card.`);
    const { hold } = await this.deps.holds.release(holdId, {
      clientId: `customer:${who.shopId}:${who.subject}`,
      method: 'POST',
      path: `/v1/me/holds/${holdId}/release`,
      body: {},
    });
    return hold;
  }
}
