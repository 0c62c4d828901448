/**
 * The smallest real checkout integration, on the generated client (clients/typescript): a shop whose order webhooks
 * go to the gateway (docs/shops.md) links each customer to a card at sign-up or checkout, shows the customer the
 * card's balance and history, and reverses an order's points when it refunds the order outside the platform (at
 * a till, say: a refund the platform reports itself, `refunds/create`, is reversed by the gateway already).
 *
 *   LOYALTY_GATEWAY_URL=http://localhost:3000 LOYALTY_API_KEY=... SHOP_ID=webshop npx tsx examples/checkout.ts 7001 ada@example.com
 *
 * Paying with points: `holdPoints` when the customer chooses to spend points on the order being paid, then
 * `capturePoints` once the payment succeeds or `releasePoints` if it does not (a hold releases itself after its TTL).
 * An order's points waiting through the shop's return window show as the balance's `pending`.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createGatewayClient, type GatewayClient, type Schemas } from '../clients/typescript/index.js';

export interface CheckoutOptions {
  baseUrl: string;
  /** An API key with the `write` scope. */
  apiKey: string;
  /** The shop, as configured in the gateway's connections file (`shops[].id`). */
  shopId: string;
  /** A client of your own (with middlewares); by default one is made from baseUrl and apiKey. */
  client?: GatewayClient;
}

export interface CardView {
  card_id: string;
  balance: Schemas['Balance'];
  /** The newest entries first. */
  history: Schemas['HistoryEntry'][];
}

/** The answer's data, or an error naming the gateway's problem (RFC 9457: its `code` and `detail`). */
function ok<T>(what: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data !== undefined) return answer.data;
  const problem = answer.error as { code?: string; detail?: string } | undefined;
  throw new Error(`${what}: ${answer.response.status} ${problem?.code ?? ''} ${problem?.detail ?? ''}`.trim());
}

export function createCheckout(options: CheckoutOptions) {
  const gw = options.client ?? createGatewayClient({ baseUrl: options.baseUrl, apiKey: options.apiKey });
  const shop_id = options.shopId;

  return {
    client: gw,

    /**
     * The customer's card, linked to their id at the shop: issued on the built-in ledger the first time (keyed by
     * the customer's id, so issuing again returns the same card), linked once (the same link again answers 200).
     */
    async linkCustomer(customer: { id: string; email?: string; firstName?: string }): Promise<string> {
      const card = ok(
        'issue the card',
        await gw.POST('/v1/cards', {
          body: {
            external_reference: `${shop_id}:${customer.id}`,
            customer: {
              ...(customer.email ? { email: customer.email } : {}),
              ...(customer.firstName ? { first_name: customer.firstName } : {}),
            },
          },
          params: { header: { 'idempotency-key': randomUUID() } },
        }),
      );
      ok(
        'link the customer',
        await gw.POST('/v1/links', { body: { shop_id, shop_customer_id: customer.id, card_id: card.id } }),
      );
      return card.id;
    },

    /** What the customer sees: the balance and the latest history entries. */
    async showCard(cardId: string, limit = 10): Promise<CardView> {
      const [balance, history] = await Promise.all([
        gw.GET('/v1/points/balance/{card_id}', { params: { path: { card_id: cardId } } }),
        gw.GET('/v1/points/history/{card_id}', { params: { path: { card_id: cardId }, query: { limit } } }),
      ]);
      return { card_id: cardId, balance: ok('balance', balance), history: ok('history', history).data };
    },

    /** What the gateway did with an order (`awarded`, `partially_reversed`...), or null before it has it. */
    async order(orderId: string): Promise<Schemas['Order'] | null> {
      const answer = await gw.GET('/v1/orders/{id}', { params: { path: { id: `${shop_id}:${orderId}` } } });
      if (answer.response.status === 404) return null;
      return ok('order', answer);
    },

    /**
     * A refund the shop made itself: reverses `points` of the order's award (all that is left without them), keyed
     * by the refund's id, so retrying it never reverses twice.
     */
    async reverseOnRefund(refund: { orderId: string; refundId: string; points?: number; reason?: string }) {
      const order = await this.order(refund.orderId);
      const award = order?.transactions.find((t) => t.kind === 'award');
      if (!order || !award) throw new Error(`order ${refund.orderId}: no award to reverse`);
      return ok(
        'reverse',
        await gw.POST('/v1/transactions/{id}/reverse', {
          params: { path: { id: award.id }, header: { 'idempotency-key': `refund-${shop_id}-${refund.refundId}` } },
          body: {
            reference_id: `refund-${refund.refundId}`,
            reason: refund.reason ?? `Refund of order ${order.name ?? refund.orderId}`,
            ...(refund.points === undefined ? {} : { points: refund.points }),
          },
        }),
      );
    },

    /** Holds points for the cart being paid (one hold per cart: asking again answers it). */
    async holdPoints(cardId: string, points: number, cartId: string): Promise<Schemas['Hold']> {
      return ok(
        'hold',
        await gw.POST('/v1/points/holds', {
          params: { header: { 'idempotency-key': `hold-${shop_id}-${cartId}` } },
          body: { card_id: cardId, points, reference_id: `${shop_id}-${cartId}` },
        }),
      );
    },

    /** The payment went through: the points held are spent (`points`: fewer than held; the rest goes back). */
    async capturePoints(holdId: string, points?: number): Promise<Schemas['Hold']> {
      return ok(
        'capture',
        await gw.POST('/v1/points/holds/{id}/capture', {
          params: { path: { id: holdId }, header: { 'idempotency-key': `capture-${holdId}` } },
          body: points === undefined ? {} : { points },
        }),
      );
    },

    /** The payment failed or the cart was abandoned: the points go back. */
    async releasePoints(holdId: string): Promise<Schemas['Hold']> {
      return ok(
        'release',
        await gw.POST('/v1/points/holds/{id}/release', {
          params: { path: { id: holdId }, header: { 'idempotency-key': `release-${holdId}` } },
          body: {},
        }),
      );
    },
  };
}

export type Checkout = ReturnType<typeof createCheckout>;

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const [customerId, email] = process.argv.slice(2);
  const baseUrl = process.env.LOYALTY_GATEWAY_URL ?? 'http://localhost:3000';
  const apiKey = process.env.LOYALTY_API_KEY;
  const shopId = process.env.SHOP_ID;
  if (!customerId || !apiKey || !shopId) {
    console.error('usage: LOYALTY_API_KEY=... SHOP_ID=... npx tsx examples/checkout.ts <shop customer id> [email]');
    process.exit(2);
  }
  const checkout = createCheckout({ baseUrl, apiKey, shopId });
  const cardId = await checkout.linkCustomer({ id: customerId, ...(email ? { email } : {}) });
  const { balance, history } = await checkout.showCard(cardId);
  console.log(
    `card ${cardId}: ${balance.available} ${balance.unit} available, ${balance.pending} pending, ${balance.held} held`,
  );
  for (const e of history)
    console.log(`  ${e.created_at}  ${e.type.padEnd(8)} ${String(e.points).padStart(6)}  ${e.reason}`);
}
