import type { Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { isFinal, TRANSACTION_STATUSES } from '../domain/transactions.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ProviderAdapter } from '../providers/adapter.js';
import type { ProviderDescriptor } from '../providers/descriptor.js';
import type { ProviderConnectionSettings } from '../providers/index.js';
import type { KeySpace } from '../redis/keys.js';
import type { BalanceCache } from '../store/balance-cache.js';
import type { TransactionRecord } from '../store/transaction-record.js';
import type { TransactionStore } from '../store/transaction-store.js';
import { DoneSignal } from './done-signal.js';
import { Holds } from './holds.js';
import { ProviderCalls } from './provider-calls.js';
import { queuedAdapter } from './queued-adapter.js';
import { ConnectionQueues, type DispatchOptions, type Lane } from './queues.js';
import { TransactionJobs } from './transaction-job.js';
import { Workers } from './workers.js';

/**
 * Every call to a provider goes through the BullMQ queue of its connection, shared by every
 * gateway process on the same Redis: API processes add jobs and wait for their outcome; worker
 * processes take them, the connection's rate limit gating every HTTP request they make.
 *
 *   queues.ts           the queue, rate limiter and adapter of each connection
 *   provider-calls.ts   call jobs: one adapter method, its answer handed back
 *   transaction-job.ts  transaction jobs: one stored transaction applied, exactly once
 *   workers.ts          the workers and the sweep;  holds.ts  what a 429 does
 *   done-signal.ts      "job <id> is done", told to every process
 */
export class Dispatch {
  private readonly queues: ConnectionQueues;
  private readonly signal: DoneSignal;
  private readonly calls: ProviderCalls;
  private readonly holds: Holds;
  private readonly workers: Workers;
  private readonly store: TransactionStore;

  constructor(deps: {
    redis: Redis;
    keys: KeySpace;
    store: TransactionStore;
    balances: BalanceCache;
    options: DispatchOptions;
    log: FastifyBaseLogger;
    /** The process's metrics: provider calls, rate-gate waits, settled transactions; queue depths at each scrape. */
    metrics?: Metrics;
    /** Told of each transaction a worker settled (its event), by id. */
    onSettled?: (txnId: string) => Promise<void>;
  }) {
    const { redis, keys, store, balances, options, log, metrics } = deps;
    this.store = store;
    this.queues = new ConnectionQueues(redis, keys, options, log, metrics);
    this.signal = new DoneSignal(redis, keys);
    this.holds = new Holds(this.queues, log);
    this.calls = new ProviderCalls(redis, keys, this.queues, this.signal, this.holds, log);
    const txns = new TransactionJobs(
      store,
      balances,
      this.holds,
      this.signal,
      log,
      { reconcileDeadlineMs: options.reconcileDeadlineMs },
      metrics,
      deps.onSettled,
    );
    this.workers = new Workers(this.queues, store, this.calls, txns, log);
    if (metrics) {
      metrics.onScrape(() => this.collectQueues(metrics));
      metrics.onScrape(async () => {
        const counts = await Promise.all(TRANSACTION_STATUSES.map((s) => redis.zcard(keys.txnsIn(s))));
        for (const [i, status] of TRANSACTION_STATUSES.entries()) metrics.transactions.set({ status }, counts[i] ?? 0);
      });
    }
  }

  /** Each connection's queue, read at scrape time: jobs by state, and the age of the oldest waiting one. */
  private async collectQueues(metrics: Metrics): Promise<void> {
    const lanes = this.queues.all();
    const read = await Promise.all(
      lanes.map(async (lane) => {
        const [counts, oldest] = await Promise.all([
          lane.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
          // Jobs here carry priorities, so most waiting ones are in the prioritized set (ordered by priority, then
          // age): the oldest is looked for among its first 200 (bounded work per scrape), and the plain wait list's head.
          Promise.all([lane.queue.getWaiting(0, 0), lane.queue.getPrioritized(0, 199)]),
        ]);
        return { id: lane.settings.id, counts, oldest: oldest.flat() };
      }),
    );
    metrics.queueJobs.reset();
    metrics.queueOldestWaiting.reset();
    const now = Date.now();
    for (const { id, counts, oldest } of read) {
      for (const [state, n] of Object.entries(counts)) metrics.queueJobs.set({ connection: id, state }, n);
      const first = Math.min(...oldest.map((j) => j?.timestamp ?? now), now);
      metrics.queueOldestWaiting.set({ connection: id }, Math.max(0, (now - first) / 1000));
    }
  }

  /** BullMQ's connection of this process (the bulk queue shares it). */
  get connection(): Redis {
    return this.queues.connection;
  }

  /** Adds a provider connection; returns its adapter as the API side uses it (every call a job). */
  addConnection(settings: ProviderConnectionSettings, descriptor: ProviderDescriptor): ProviderAdapter {
    const lane = this.queues.add(settings, descriptor);
    return queuedAdapter(lane.adapter, settings.id, this.calls);
  }

  /** Listens for finished jobs (every role). */
  start(): Promise<void> {
    return this.signal.start();
  }

  /** Starts this process's workers (roles worker and all). */
  startWorkers(): void {
    this.workers.start();
  }

  /** Queues a transaction's job (a no-op while one exists); `fresh` replaces a finished one (an admin's retry). */
  enqueueTxn(connectionId: string, txnId: string, lane: Lane, opts: { fresh?: boolean } = {}): Promise<void> {
    return this.queues.enqueueTxn(connectionId, txnId, lane, opts);
  }

  /**
   * The transaction once it is final, woken by its job's announcement; null when it is not final
   * within `waitMs` (never longer than the dispatch wait, DISPATCH_WAIT_MS).
   */
  settled(txnId: string, waitMs?: number): Promise<TransactionRecord | null> {
    const limit = this.queues.options.waitMs;
    return this.signal.waitFor(txnId, Math.min(waitMs ?? limit, limit), async () => {
      const r = await this.store.get(txnId);
      return r && isFinal(r.status) ? r : null;
    });
  }

  /** Holds a connection as a provider's 429 would (operators, tests). */
  holdConnection(connectionId: string, waitMs: number): Promise<number> {
    return this.holds.holdConnection(connectionId, waitMs);
  }

  queueOf(connectionId: string): Queue {
    return this.queues.lane(connectionId).queue;
  }

  stopWorkers(graceMs: number): Promise<void> {
    return this.workers.stop(graceMs);
  }

  async close(): Promise<void> {
    await this.signal.close();
    await this.queues.close();
  }
}
