import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { ConnectionConfig } from '../config/connections.js';
import type { Env } from '../config/env.js';
import { Dispatch } from '../dispatch/dispatch.js';
import type { Role } from '../dispatch/queues.js';
import type { ShopSettings } from '../domain/shops.js';
import { EventLog } from '../events/event-log.js';
import { Instance } from '../idempotency/instance.js';
import { RequestClaims } from '../idempotency/request-claims.js';
import type { Metrics } from '../metrics/metrics.js';
import { type KeySpace, keySpace } from '../redis/keys.js';
import { BalanceCache } from '../store/balance-cache.js';
import { TransactionStore } from '../store/transaction-store.js';
import { WebhookDeliveries } from '../webhooks/deliveries.js';
import { Subscriptions } from '../webhooks/subscriptions.js';
import { type AuditSchedule, startAuditSchedule } from './audit/audit-schedule.js';
import { AuditService } from './audit/audit-service.js';
import { type BulkItem, BulkService } from './bulk/bulk-service.js';
import { ConnectionRegistry } from './connections/registry.js';
import { HoldService } from './holds/hold-service.js';
import { OrderService } from './orders/order-service.js';
import { PointsService } from './points/points-service.js';
import { transactionEvents } from './points/transaction-events.js';
import { TransactionReview } from './points/transaction-review.js';
import { TransactionTimeline } from './points/transaction-timeline.js';
import { CardService } from './resources/card-service.js';
import { CustomerService } from './resources/customer-service.js';
import { ProgramService } from './resources/program-service.js';
import { CustomerTokens } from './storefront/customer-tokens.js';
import { MeService } from './storefront/me-service.js';

/**
 * The gateway without its HTTP face: the store, the connections, the dispatch queues and the
 * services the routes call; for the worker roles, the workers. `--role api` serves HTTP and
 * queues jobs; `--role worker` runs jobs only; `all` both. The one place where the parts meet.
 */
export interface Gateway {
  keys: KeySpace;
  store: TransactionStore;
  dispatch: Dispatch;
  connections: ConnectionRegistry;
  points: PointsService;
  review: TransactionReview;
  /** A transaction's steps, admin actions and events (GET /v1/transactions/{id}/timeline, the console). */
  timeline: TransactionTimeline;
  cards: CardService;
  customers: CustomerService;
  programs: ProgramService;
  bulk: BulkService;
  events: EventLog;
  webhooks: { subscriptions: Subscriptions; deliveries: WebhookDeliveries; requests: RequestClaims; keys: KeySpace };
  orders: OrderService;
  holds: HoldService;
  /** Customer tokens and what they reach (/v1/me). */
  storefront: { tokens: CustomerTokens; me: MeService };
  audits: AuditService;
  /** Null in the API role and when AUDIT_INTERVAL_SECONDS is 0. */
  auditSchedule: AuditSchedule | null;
  role: Role;
  /** Stops workers (running jobs get up to SHUTDOWN_GRACE_MS), queues and provider connections. */
  close(): Promise<void>;
}

export async function createGateway(deps: {
  env: Env;
  redis: Redis;
  connections: ConnectionConfig[];
  /** Shops whose order webhooks the gateway takes. */
  shops?: ShopSettings[];
  log: FastifyBaseLogger;
  role?: Role;
  /** Build only (the OpenAPI generator): no subscription, no workers, no connection opened. */
  offline?: boolean;
  /** How the HTTP edge checks bulk items: a bulk job queued by an earlier version checks its items with it. */
  checkBulkItems: (raw: unknown[], admin: boolean) => BulkItem[];
  /** The app's metrics (GET /metrics): dispatch counts provider calls and reads its queues into them. */
  metrics?: Metrics;
}): Promise<Gateway> {
  const { env, redis, log } = deps;
  const role = deps.role ?? env.ROLE;
  const keys = keySpace(env.REDIS_KEY_PREFIX);
  const leaseMs = 30_000;
  const idempotencyTtlMs = env.IDEMPOTENCY_TTL_HOURS * 3_600_000;

  // This process, as the claims it holds name it: once its heartbeat lapses (a crash), they are taken over at once.
  const instance = new Instance(redis, keys);
  const owner = { id: instance.id, heartbeatPrefix: keys.instancePrefix };

  const store = new TransactionStore(redis, keys, { idempotencyTtlMs, leaseMs, owner });
  const events = new EventLog(redis, keys, env.EVENTS_TTL_DAYS * 86_400_000);
  const onSettled = transactionEvents(store, events, log);
  const balances = new BalanceCache(redis, keys);
  const requests = new RequestClaims(redis, {
    leaseMs,
    ttlMs: idempotencyTtlMs,
    waitMs: env.IDEMPOTENCY_WAIT_MS,
    owner,
  });
  const dispatch = new Dispatch({
    redis,
    keys,
    store,
    balances,
    log,
    metrics: deps.metrics,
    onSettled,
    options: {
      waitMs: env.DISPATCH_WAIT_MS,
      attempts: env.DISPATCH_ATTEMPTS,
      backoffMs: env.DISPATCH_BACKOFF_MS,
      concurrency: env.DISPATCH_CONCURRENCY,
      lockMs: env.DISPATCH_LOCK_MS,
      stalledIntervalMs: env.DISPATCH_STALLED_INTERVAL_MS,
      sweepIntervalMs: env.DISPATCH_SWEEP_INTERVAL_MS,
      reconcileDeadlineMs: env.RECONCILE_DEADLINE_HOURS * 3_600_000,
    },
  });
  const connections = new ConnectionRegistry(deps.connections, {
    redis,
    keys,
    store,
    balances,
    dispatch,
    options: { inFlightWaitMs: env.IDEMPOTENCY_WAIT_MS, onSettled },
  });
  const points = new PointsService(store, keys, connections);
  const review = new TransactionReview(store, connections, dispatch, points, onSettled);
  const bull = () => dispatch.connection;
  const bulk = new BulkService({ redis, keys, points, requests, bull, checkItems: deps.checkBulkItems, log });
  const cards = new CardService(connections, requests, keys, events);
  const holds = new HoldService({ redis, keys, points, requests, events, log });
  points.heldOn = (cardId, unit) => holds.heldOn(cardId, unit);
  const orders = new OrderService({
    redis,
    keys,
    shops: deps.shops ?? [],
    connections,
    points,
    cards,
    events,
    bull,
    log,
  });
  // Only a shop with a return window makes pending points: balance reads elsewhere skip the lookup.
  if ((deps.shops ?? []).some((s) => s.pendingDays !== undefined))
    points.pendingOn = (cardId) => orders.pendingOn(cardId);
  const subscriptions = new Subscriptions(redis, keys, env.WEBHOOK_ALLOW_PRIVATE);
  const deliveries = new WebhookDeliveries({
    redis,
    keys,
    subscriptions,
    bull,
    log,
    metrics: deps.metrics,
    options: {
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryDelaysMs: env.WEBHOOK_RETRY_SCHEDULE_SECONDS.split(',').map((s) => Number(s) * 1000),
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
      allowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
      concurrency: env.WEBHOOK_CONCURRENCY,
      pollMs: 200,
    },
  });
  const audits = new AuditService({
    redis,
    keys,
    store,
    connections,
    review,
    events,
    log,
    metrics: deps.metrics,
    instance: {
      id: instance.id,
      alive: async (id) => id === instance.id || (await redis.exists(keys.instance(id))) === 1,
    },
  });

  if (!deps.offline) {
    // Before any claim names this instance.
    await instance.start();
    await dispatch.start();
  }
  if (role !== 'api' && !deps.offline) {
    dispatch.startWorkers();
    bulk.startWorker(env.DISPATCH_LOCK_MS);
    deliveries.start(env.DISPATCH_LOCK_MS);
    if (orders.shops.size > 0) orders.startWorker(env.DISPATCH_LOCK_MS);
    holds.startSweep(1000);
  }
  const auditSchedule =
    role !== 'api' && !deps.offline && env.AUDIT_INTERVAL_SECONDS > 0
      ? startAuditSchedule({
          redis,
          keys,
          audits,
          connections: () => connections.list().flatMap((c) => (c.provider ? [c.id] : [])),
          intervalMs: env.AUDIT_INTERVAL_SECONDS * 1000,
          lagMs: env.AUDIT_LAG_SECONDS * 1000,
          log,
        })
      : null;
  let closing: Promise<void> | null = null;
  return {
    keys,
    store,
    dispatch,
    connections,
    points,
    review,
    timeline: new TransactionTimeline({
      redis,
      keys,
      store,
      points,
      events,
      deliveries,
      dispatched: (id) => connections.list().some((c) => c.id === id && c.engine.dispatched),
    }),
    cards,
    customers: new CustomerService(connections, requests, keys),
    programs: new ProgramService(connections, requests, keys),
    bulk,
    events,
    webhooks: { subscriptions, deliveries, requests, keys },
    orders,
    holds,
    storefront: { tokens: new CustomerTokens(deps.shops ?? []), me: new MeService({ orders, points, holds }) },
    audits,
    auditSchedule,
    role,
    close() {
      closing ??= (async () => {
        await auditSchedule?.stop();
        // Every worker stops taking jobs at once; the running ones share one grace period.
        await Promise.all([
          bulk.stopWorker(env.SHUTDOWN_GRACE_MS),
          dispatch.stopWorkers(env.SHUTDOWN_GRACE_MS),
          deliveries.stop(env.SHUTDOWN_GRACE_MS),
          orders.stop(env.SHUTDOWN_GRACE_MS),
          holds.stopSweep(),
        ]);
        await orders.close();
        await bulk.close();
        await deliveries.close();
        await dispatch.close();
        await instance.stop();
      })();
      return closing;
    },
  };
}
