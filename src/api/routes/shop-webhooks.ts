import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { GatewayError } from '../../domain/errors.js';
import { PLATFORMS, type Platform } from '../../domain/shops.js';
import type { OrderService } from '../../services/orders/order-service.js';
import {
  DELIVERY_HEADER,
  readDelivery,
  SIGNATURE_HEADER,
  signatureValid,
  TOPIC_HEADER,
} from '../../services/orders/platforms.js';
import { problem } from '../schemas/responses.js';

/** The raw body, kept out of enumeration so that the body checks every route gets do not walk its bytes. */
const rawOf = (body: unknown): Buffer => (body as { raw?: Buffer } | undefined)?.raw ?? Buffer.alloc(0);

const Received = Type.Object(
  { received: Type.Boolean(), order_id: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false, description: 'Recorded: it is processed in the background.' },
);

/**
 * Shop order webhooks in: `POST /v1/hooks/shopify/{shop_id}` and `/v1/hooks/woocommerce/{shop_id}`.
 * No API key: a delivery is authenticated by its platform's HMAC of the raw body with the shop's
 * secret (compared in constant time). It is recorded and answered at once (platforms give a few
 * seconds); the order is processed by a worker.
 */
export async function shopWebhookRoutes(app: FastifyInstance, opts: { orders: OrderService }) {
  // The signature is over the exact bytes: this scope reads every body raw.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    const holder = {};
    Object.defineProperty(holder, 'raw', { value: body, enumerable: false });
    done(null, holder);
  });
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  for (const platform of PLATFORMS) {
    r.post(
      `/${platform}/:shop_id`,
      {
        config: { optionalBody: false },
        schema: {
          operationId: platform === 'shopify' ? 'receiveShopifyWebhook' : 'receiveWooCommerceWebhook',
          tags: ['shops'],
          security: [],
          summary:
            platform === 'shopify'
              ? 'A Shopify order webhook (orders/paid, refunds/create, orders/cancelled)'
              : 'A WooCommerce order webhook (order.created, order.updated)',
          description:
            platform === 'shopify'
              ? 'Authenticated by `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body with the shop secret); ' +
                '`X-Shopify-Webhook-Id` de-duplicates deliveries, `X-Shopify-Topic` says what happened. Answered ' +
                'at once; the order is processed in the background (GET /v1/orders/{shop_id}:{order_id}).'
              : 'Authenticated by `X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the raw body with the webhook ' +
                'secret); `X-WC-Webhook-Delivery-ID` de-duplicates deliveries. A completed order earns, refunds ' +
                'reverse in proportion, refunded or cancelled reverses the rest. The ping WooCommerce sends when the ' +
                'webhook is made (a form body) answers 200.',
          params: Type.Object({ shop_id: Type.String({ maxLength: 64, examples: ['demo'] }) }),
          response: {
            200: Received,
            400: problem('Signed, but not an order delivery the gateway can read (validation_failed, invalid_json).'),
            401: problem('The signature is missing or wrong (invalid_signature); nothing is recorded.'),
            404: problem('No such shop on this platform (shop_not_found).'),
          },
        },
      },
      async (req) => {
        const shop = opts.orders.shop(req.params.shop_id);
        if (shop.platform !== platform) {
          throw new GatewayError('shop_not_found', `Shop ${shop.id} is a ${shop.platform} shop, not ${platform}.`);
        }
        const raw = rawOf(req.body);
        const header = (name: string) => {
          const v = req.headers[name];
          return Array.isArray(v) ? v[0] : v;
        };
        // WooCommerce pings a new webhook with a form body (webhook_id=<n>), unsigned: it only wants a 200.
        if (platform === 'woocommerce' && /^webhook_id=\d+$/.test(raw.toString('latin1').trim())) {
          return { received: true, order_id: null };
        }
        if (!signatureValid(shop.secret, raw, header(SIGNATURE_HEADER[platform]))) {
          throw new GatewayError(
            'invalid_signature',
            `The ${SIGNATURE_HEADER[platform]} header is missing or is not the HMAC of this body with shop ${shop.id}'s secret.`,
          );
        }
        let body: unknown;
        try {
          body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
        } catch {
          throw new GatewayError('invalid_json', 'The delivery is signed but its body is not UTF-8 JSON.');
        }
        const reading = readDelivery(platform as Platform, header(TOPIC_HEADER[platform]) ?? '', body);
        if (reading.kind === 'invalid') {
          throw new GatewayError('validation_failed', `The delivery is signed but cannot be read: ${reading.reason}.`, {
            errors: [{ field: '/', message: reading.reason }],
          });
        }
        // Without a delivery id, the body itself names the delivery (a repeat of the same bytes is the same one).
        const deliveryId =
          header(DELIVERY_HEADER[platform]) ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
        await opts.orders.receive(shop, deliveryId, reading);
        return {
          received: true,
          order_id: reading.kind === 'order' ? reading.facts.orderId : reading.orderId,
        };
      },
    );
  }
}
