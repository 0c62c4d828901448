import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Gateway } from '../../services/gateway.js';
import { auditRoutes } from './audits.js';
import { bulkRoutes } from './bulk.js';
import { cardOperationRoutes } from './card-operations.js';
import { cardRoutes } from './cards.js';
import { customerRoutes } from './customers.js';
import { eventRoutes } from './events.js';
import { holdRoutes } from './holds.js';
import { customerTokenRoutes, meRoutes } from './me.js';
import { notificationRoutes } from './notifications.js';
import { pointsRoutes } from './points.js';
import { programRoutes } from './programs.js';
import { linkRoutes, orderRoutes } from './shop-orders.js';
import { shopWebhookRoutes } from './shop-webhooks.js';
import { systemRoutes } from './system.js';
import { transactionRoutes } from './transactions.js';
import { webhookRoutes } from './webhooks.js';
import { widgetRoutes } from './widget.js';

/** Every route group, under its URL prefix; each calls the services and decides nothing else. */
export async function registerRoutes(app: FastifyInstance, gateway: Gateway, redis: Redis): Promise<void> {
  const { points, review, bulk, cards, customers, programs, connections, audits, events, webhooks, orders, holds } =
    gateway;
  await app.register(systemRoutes, { redis, connections });
  await app.register(pointsRoutes, { prefix: '/v1/points', points, bulk });
  await app.register(holdRoutes, { prefix: '/v1/points/holds', holds });
  await app.register(bulkRoutes, { prefix: '/v1/bulk', bulk });
  await app.register(transactionRoutes, { prefix: '/v1/transactions', points, review, timeline: gateway.timeline });
  await app.register(cardRoutes, { prefix: '/v1/cards', cards });
  await app.register(cardOperationRoutes, { prefix: '/v1/cards', points, cards });
  await app.register(customerRoutes, { prefix: '/v1/customers', customers });
  await app.register(programRoutes, { prefix: '/v1/programs', programs });
  await app.register(notificationRoutes, { prefix: '/v1/notifications', programs });
  await app.register(auditRoutes, { prefix: '/v1/audits', audits });
  await app.register(eventRoutes, { prefix: '/v1/events', events, deliveries: webhooks.deliveries });
  await app.register(webhookRoutes, { prefix: '/v1/webhooks', ...webhooks });
  await app.register(shopWebhookRoutes, { prefix: '/v1/hooks', orders });
  await app.register(linkRoutes, { prefix: '/v1/links', orders });
  await app.register(orderRoutes, { prefix: '/v1/orders', orders });
  await app.register(meRoutes, { prefix: '/v1/me', me: gateway.storefront.me });
  await app.register(customerTokenRoutes, { prefix: '/v1/customer-tokens', tokens: gateway.storefront.tokens, orders });
  await app.register(widgetRoutes);
}
