import { Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { sha256 } from '../lib/hash.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ProviderAdapter } from '../providers/adapter.js';
import { type ProviderDescriptor, rateLimitOf } from '../providers/descriptor.js';
import type { ProviderConnectionSettings } from '../providers/index.js';
import { duplicateRedis } from '../redis/client.js';
import type { KeySpace } from '../redis/keys.js';
import { observedAdapter } from './observed-adapter.js';
import { RedisRateLimiter } from './rate-limiter.js';

/**
 * One BullMQ queue per provider connection (`conn-<connection id>`), shared by every gateway
 * process on the same Redis, with the connection's rate limiter and its adapter. Priorities:
 * reads 1, writes 5, bulk 10 (BullMQ takes the lowest first), so a checkout's balance check is
 * not stuck behind a bulk import.
 */

export type Role = 'api' | 'worker' | 'all';
export type Lane = 'read' | 'write' | 'bulk';
const PRIORITY: Record<Lane, number> = { read: 1, write: 5, bulk: 10 };

export interface DispatchOptions {
  /** How long a request waits for its provider call before answering 202 (writes) or 504 (reads). */
  waitMs: number;
  /** Tries per job for transient failures (5xx on reads, network errors before sending). */
  attempts: number;
  /** Base of the exponential backoff (full jitter) between tries. */
  backoffMs: number;
  /** Jobs a worker runs at once per connection. */
  concurrency: number;
  /** A job's lock: a worker that stops renewing it (killed) loses its jobs to another after this. */
  lockMs: number;
  /** How often workers look for jobs whose worker stopped. */
  stalledIntervalMs: number;
  /**
   * How often a worker re-queues transactions left queued without a job (a process that died between claim and queue).
   */
  sweepIntervalMs: number;
  /**
   * How long a transaction whose outcome is unknown is looked for at a provider that can be searched (from its
   * creation) before it goes to needs_review (RECONCILE_DEADLINE_HOURS).
   */
  reconcileDeadlineMs: number;
}

/** A transaction job: one stored transaction to apply (transaction-job.ts). Its job id is the transaction id. */
interface TxnJobData {
  kind: 'txn';
  txnId: string;
}

/**
 * A call job: one adapter method (a balance read, a card, a customer...), its answer handed back (provider-calls.ts).
 */
export interface CallJobData {
  kind: 'call';
  method: string;
  args: unknown[];
  write: boolean;
}

export type JobData = CallJobData | TxnJobData;

/** One provider connection as the dispatch layer holds it. */
export interface ConnectionLane {
  settings: ProviderConnectionSettings;
  descriptor: ProviderDescriptor;
  /** The adapter itself: only workers call it. */
  adapter: ProviderAdapter;
  queue: Queue<JobData>;
  limiter: RedisRateLimiter;
}

export class ConnectionQueues {
  private readonly lanes = new Map<string, ConnectionLane>();
  /**
   * BullMQ's connection (made on first use): no retry limit, no auto-pipelining, RESP2 (what BullMQ is tested with).
   */
  private bullOf: Redis | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    readonly options: DispatchOptions,
    private readonly log: FastifyBaseLogger,
    /** Counts provider calls, 429s and rate-gate waits; none in tools and tests that build dispatch alone. */
    private readonly metrics?: Metrics,
  ) {}

  /** BullMQ's connection, shared by every queue and worker of this process (the bulk queue's too). */
  get connection(): Redis {
    if (!this.bullOf) {
      // On a Cluster too (BullMQ takes an ioredis Cluster; its keys share the gateway's hash tag: keys.queuePrefix).
      this.bullOf = duplicateRedis(this.redis, {
        maxRetriesPerRequest: null,
        enableAutoPipelining: false,
        protocol: 2,
        connectionName: 'loyalty-gateway-queue',
        // BullMQ's blocking reads wait longer than any command timeout; its commands wait out a reconnect.
        commandTimeout: undefined,
        enableOfflineQueue: true,
      });
      // Reconnects by itself; BullMQ's own 'error' events say what failed.
      this.bullOf.on('error', () => undefined);
    }
    return this.bullOf;
  }

  /**
   * Registers a provider connection: its queue, its rate limiter (every request of its adapter passes it), its adapter.
   */
  add(settings: ProviderConnectionSettings, descriptor: ProviderDescriptor): ConnectionLane {
    const limit = rateLimitOf(descriptor, settings) ?? { requests: 1_000_000, perSeconds: 1 };
    const account = accountOf(settings, descriptor);
    const limiter = new RedisRateLimiter(
      this.redis,
      { log: this.keys.rateLog(account), blocked: this.keys.rateBlocked(account) },
      limit,
      settings.id,
      this.metrics,
    );
    const queue = new Queue<JobData>(`conn-${settings.id}`, {
      connection: this.connection,
      prefix: this.keys.queuePrefix,
    });
    queue.on('error', (err) => this.log.warn({ connection: settings.id, err: err.message }, 'queue error'));
    const adapter = descriptor.create(settings, limiter);
    const lane: ConnectionLane = {
      settings,
      descriptor,
      adapter: this.metrics ? observedAdapter(adapter, settings.id, this.metrics) : adapter,
      queue,
      limiter,
    };
    this.lanes.set(settings.id, lane);
    return lane;
  }

  lane(connectionId: string): ConnectionLane {
    const l = this.lanes.get(connectionId);
    if (!l) throw new Error(`no queue for connection ${connectionId}`);
    return l;
  }

  has(connectionId: string): boolean {
    return this.lanes.has(connectionId);
  }

  all(): ConnectionLane[] {
    return [...this.lanes.values()];
  }

  /** What every job is added with: its priority, its tries with backoff, and no record kept once done. */
  jobOptions(lane: Lane, jobId: string) {
    return {
      jobId,
      priority: PRIORITY[lane],
      attempts: this.options.attempts,
      backoff: { type: 'jitter', delay: this.options.backoffMs },
      removeOnComplete: true,
      removeOnFail: true,
    };
  }

  /**
   * Queues a transaction's job; a no-op while a job for it already exists (its id is the
   * transaction id). `fresh` (an admin's retry): a finished job not yet removed is replaced.
   */
  async enqueueTxn(connectionId: string, txnId: string, lane: Lane, opts: { fresh?: boolean } = {}): Promise<void> {
    const queue = this.lane(connectionId).queue;
    const add = () => queue.add('txn', { kind: 'txn', txnId }, this.jobOptions(lane, txnId));
    const job = await add();
    if (opts.fresh) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') {
        await job.remove().catch(() => undefined);
        await add();
      }
    }
  }

  /** Closes the queues, the adapters' connection pools and BullMQ's connection (after the workers stopped). */
  async close(): Promise<void> {
    await Promise.all(this.all().map((l) => l.queue.close().catch(() => undefined)));
    await Promise.all(this.all().map((l) => l.adapter.close().catch(() => undefined)));
    await this.bullOf?.quit().catch(() => undefined);
  }
}

/**
 * The provider account a connection calls as: providers count a limit per credential, so connections that share
 * one (the same provider, base URL and secrets) share one rate-limit log and one 429 hold. Named by a digest: the
 * secrets never reach a Redis key.
 */
export function accountOf(settings: ProviderConnectionSettings, descriptor: ProviderDescriptor): string {
  const values = settings as unknown as Record<string, unknown>;
  const secrets = descriptor.secrets.map((name) => String(values[name] ?? ''));
  return `acct-${sha256([descriptor.kind, settings.baseUrl, ...secrets].join('\n')).slice(0, 24)}`;
}
