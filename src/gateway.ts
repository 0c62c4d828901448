import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { ConnectionConfig } from './config/connections.js';
import type { Env } from './config/env.js';
import { TransactionStore } from './store/transaction-store.js';
import { ConnectionRegistry } from './services/connections/registry.js';
import { Dispatcher, type Role } from './dispatch/dispatcher.js';
import { TransactionJobs } from './dispatch/transaction-job.js';
import { BulkJobs } from './services/bulk/bulk-jobs.js';
import { keySpace, type KeySpace } from './redis/keys.js';
import { PointsService } from './services/points/points-service.js';

/**
 * The gateway without its HTTP face: ledger, providers, queues and, for the worker roles, the
 * workers. `--role api` serves HTTP and queues jobs; `--role worker` runs jobs only; `all` both.
 */
export interface Gateway {
  keys: KeySpace;
  ledger: TransactionStore;
  dispatch: Dispatcher;
  providers: ConnectionRegistry;
  points: PointsService;
  bulk: BulkJobs;
  role: Role;
  /** Stops workers (running jobs get up to SHUTDOWN_GRACE_MS), queues and provider connections. */
  close(): Promise<void>;
}

export async function createGateway(deps: {
  env: Env;
  redis: Redis;
  connections: ConnectionConfig[];
  log: FastifyBaseLogger;
  role?: Role;
  /** Build only (the OpenAPI generator): no subscription, no workers, no connection opened. */
  offline?: boolean;
}): Promise<Gateway> {
  const { env, redis, log } = deps;
  const role = deps.role ?? env.ROLE;
  const keys = keySpace(env.REDIS_KEY_PREFIX);
  const ledger = new TransactionStore(redis, keys, {
    idempotencyTtlMs: env.IDEMPOTENCY_TTL_HOURS * 3_600_000,
    leaseMs: 30_000,
  });
  const dispatch = new Dispatcher(
    redis,
    keys,
    {
      waitMs: env.DISPATCH_WAIT_MS,
      attempts: env.DISPATCH_ATTEMPTS,
      backoffMs: env.DISPATCH_BACKOFF_MS,
      concurrency: env.DISPATCH_CONCURRENCY,
      lockMs: env.DISPATCH_LOCK_MS,
      stalledIntervalMs: env.DISPATCH_STALLED_INTERVAL_MS,
      sweepIntervalMs: env.DISPATCH_SWEEP_INTERVAL_MS,
    },
    log,
  );
  const providers = new ConnectionRegistry(deps.connections, redis, keys, ledger, dispatch);
  const points = new PointsService(ledger, providers, dispatch, {
    inFlightWaitMs: env.IDEMPOTENCY_WAIT_MS,
    dispatchWaitMs: env.DISPATCH_WAIT_MS,
  });
  const bulk = new BulkJobs(redis, keys, points, () => dispatch.connection, log);
  if (!deps.offline) await dispatch.start();
  if (role !== 'api' && !deps.offline) {
    dispatch.startWorkers(providers.directCall, new TransactionJobs(ledger, providers, dispatch, log));
    bulk.startWorker(env.DISPATCH_LOCK_MS);
  }
  let closing: Promise<void> | null = null;
  return {
    keys,
    ledger,
    dispatch,
    providers,
    points,
    bulk,
    role,
    close() {
      closing ??= (async () => {
        // Every worker stops taking jobs at once; the running ones share one grace period.
        await Promise.all([bulk.stopWorker(env.SHUTDOWN_GRACE_MS), dispatch.stopWorkers(env.SHUTDOWN_GRACE_MS)]);
        await bulk.close();
        await dispatch.close();
        await providers.close();
      })();
      return closing;
    },
  };
}
