import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { ulid } from '../lib/ids.js';
import type { KeySpace } from '../redis/keys.js';
import { ProviderError } from '../domain/errors.js';
import type { ExternalConnection } from '../config/connections.js';
import { rateLimitOf } from '../config/connections.js';
import { RedisRateLimiter } from './rate-limiter.js';
import {
  deserializeError,
  isOwnLimit,
  isTransient,
  rateLimitWaitMs,
  serializeError,
  type SerializedError,
} from './job-errors.js';

/**
 * Every call to an external provider goes through the BullMQ queue of its connection
 * (`conn-<connection id>`), shared by every gateway process on the same Redis. API processes add
 * jobs and wait for their outcome; worker processes take them, one connection's rate limit
 * (rate-limiter.ts) gating every HTTP request they make.
 *
 *  - call jobs: one adapter method (a balance read, a card, a customer...), its answer handed back
 *    through a short-lived Redis key and a pub/sub message;
 *  - txn jobs: one ledger transaction to apply (transaction-job.ts), its outcome in the ledger.
 *
 * Priorities: reads 1, writes 5, bulk 10 (BullMQ takes the lowest first), so a checkout's balance
 * check is not stuck behind a bulk import.
 */

export type Role = 'api' | 'worker' | 'all';
export type Lane = 'read' | 'write' | 'bulk';
export const PRIORITY: Record<Lane, number> = { read: 1, write: 5, bulk: 10 };

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
  /** How often a worker re-queues transactions left queued without a job (a process that died between claim and queue). */
  sweepIntervalMs: number;
}

export interface CallJobData {
  kind: 'call';
  method: string;
  args: unknown[];
  write: boolean;
}
export interface TxnJobData {
  kind: 'txn';
  txnId: string;
}
type JobData = CallJobData | TxnJobData;

type CallResult = { ok: unknown } | { error: SerializedError };

/** What runs a transaction job (transaction-job.ts); kept behind an interface so this file knows no ledger rules. */
export interface TxnProcessor {
  process(connectionId: string, txnId: string, job: { attemptsMade: number; attempts: number }): Promise<void>;
  /** Transactions left queued or processing for longer than that (some may have no job), to be queued again (the sweep). */
  stranded(olderThanMs: number): Promise<{ connection: string; id: string }[]>;
}

/** What runs call jobs: the connection's own adapter (not the queued one). */
export type DirectCall = (connectionId: string, method: string, args: unknown[]) => Promise<unknown>;

/** Thrown by a processor to put its job back in the queue without using an attempt (BullMQ's manual rate limit). */
export class HoldError extends Error {
  constructor(readonly waitMs: number) {
    super('rate limited');
  }
}

/**
 * Stops workers: they take no more jobs at once (pause), the running ones get up to `graceMs`,
 * then the workers close by force; a job still running then is taken over by another worker
 * once its lock lapses, and the ledger keeps its transaction exactly once.
 */
export async function stopWorkers(workers: Worker[], graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
  await Promise.race([Promise.all(workers.map((w) => w.pause().catch(() => undefined))), grace]);
  clearTimeout(timer);
  await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
}

interface ConnectionLane {
  connection: ExternalConnection;
  queue: Queue;
  worker?: Worker;
  limiter: RedisRateLimiter;
}

export class Dispatcher {
  private readonly lanes = new Map<string, ConnectionLane>();
  /** BullMQ's connection (made on first use): no retry limit, no auto-pipelining, RESP2 (what BullMQ is tested with). */
  private bullOf: Redis | null = null;
  private subscriber: Redis | null = null;
  private readonly waiters = new Map<string, Set<() => void>>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    readonly keys: KeySpace,
    readonly options: DispatchOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** BullMQ's connection, shared by every queue and worker of this process (the bulk queue's too). */
  get connection(): Redis {
    if (!this.bullOf) {
      this.bullOf = this.redis.duplicate({
        maxRetriesPerRequest: null,
        enableAutoPipelining: false,
        protocol: 2,
        connectionName: 'loyalty-gateway-queue',
      });
      // Reconnects by itself; BullMQ's own 'error' events say what failed.
      this.bullOf.on('error', () => undefined);
    }
    return this.bullOf;
  }

  /** Registers an external connection: its queue and its limiter (workers come with startWorkers). */
  addConnection(connection: ExternalConnection): RedisRateLimiter {
    const limit = rateLimitOf(connection) ?? { requests: 1_000_000, perSeconds: 1 };
    const limiter = new RedisRateLimiter(
      this.redis,
      { log: this.keys.rateLog(connection.id), blocked: this.keys.rateBlocked(connection.id) },
      limit,
      connection.timeoutMs ?? 10_000,
      connection.id,
    );
    const queue = new Queue(`conn-${connection.id}`, { connection: this.connection, prefix: this.keys.queuePrefix });
    queue.on('error', (err) => this.log.warn({ connection: connection.id, err: err.message }, 'queue error'));
    this.lanes.set(connection.id, { connection, queue, limiter });
    return limiter;
  }

  private lane(connectionId: string): ConnectionLane {
    const l = this.lanes.get(connectionId);
    if (!l) throw new Error(`no queue for connection ${connectionId}`);
    return l;
  }

  queueOf(connectionId: string): Queue {
    return this.lane(connectionId).queue;
  }

  /** Subscribes to job outcomes (every role: a worker's bulk jobs make calls and wait on them too). */
  async start(): Promise<void> {
    if (this.subscriber) return;
    this.subscriber = this.redis.duplicate({
      protocol: 2,
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
      connectionName: 'loyalty-gateway-events',
    });
    this.subscriber.on('message', (_channel: string, id: string) => this.wake(id));
    this.subscriber.on('error', () => undefined);
    await this.subscriber.subscribe(this.keys.dispatchDone);
  }

  private wake(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const w of set) w();
  }

  /** Tells waiting API processes that job `id` (a call, or a transaction) is done. */
  async announce(id: string): Promise<void> {
    await this.redis.publish(this.keys.dispatchDone, id);
  }

  /**
   * Waits until `check` returns a value: woken by the job's announcement, and checking every
   * half second anyway (an announcement can be missed while the subscriber reconnects).
   */
  async waitFor<T>(id: string, timeoutMs: number, check: () => Promise<T | null>): Promise<T | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let wake!: () => void;
      const woken = new Promise<void>((r) => (wake = r));
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      set.add(wake);
      try {
        const got = await check();
        if (got !== null) return got;
        const left = deadline - Date.now();
        if (left <= 0) return null;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, Math.min(500, left))))]);
        clearTimeout(timer);
      } finally {
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
      }
    }
  }

  // ---- API side ----

  /**
   * Runs one adapter method on a worker and returns its answer, or throws its error. A call that
   * had no turn within the wait is taken out of the queue (it never ran: certainly not applied);
   * one that is running answers provider_timeout, applied 'unknown' for a write.
   */
  async call(
    connectionId: string,
    method: string,
    args: unknown[],
    opts: { lane: Lane; write: boolean; waitMs?: number },
  ): Promise<unknown> {
    const lane = this.lane(connectionId);
    const jobId = `call_${ulid()}`;
    // JSON would turn an omitted argument into null; trailing ones are dropped, so they arrive as undefined.
    const sent = [...args];
    while (sent.length > 0 && sent[sent.length - 1] === undefined) sent.pop();
    const data: CallJobData = { kind: 'call', method, args: sent, write: opts.write };
    await lane.queue.add('call', data, {
      jobId,
      priority: PRIORITY[opts.lane],
      attempts: this.options.attempts,
      backoff: { type: 'jitter', delay: this.options.backoffMs },
      removeOnComplete: true,
      removeOnFail: true,
    });
    const resultKey = this.keys.result(jobId);
    const waitMs = opts.waitMs ?? this.options.waitMs;
    let raw = await this.waitFor(jobId, waitMs, () => this.redis.get(resultKey));
    let removed = false;
    if (raw === null) {
      const job = await lane.queue.getJob(jobId);
      removed = job
        ? await job.remove().then(
            () => true,
            () => false,
          )
        : false;
      // It may have finished between the last look and now.
      if (!removed) raw = await this.redis.get(resultKey);
    }
    if (raw === null) {
      const what = `${lane.connection.provider} (connection ${connectionId})`;
      throw new ProviderError(
        'provider_timeout',
        removed
          ? `${what}: the call did not get its turn within ${waitMs} ms (the connection's queue is long, or its rate limit is reached); it was not sent.`
          : `${what}: no answer within ${waitMs} ms.`,
        removed || !opts.write ? 'no' : 'unknown',
        { retryAfter: '1' },
      );
    }
    this.redis.del(resultKey).catch(() => undefined);
    const result = JSON.parse(raw) as CallResult;
    if ('error' in result) throw deserializeError(result.error);
    return result.ok;
  }

  /**
   * Queues a transaction's job; a no-op while a job for it already exists (its id is the
   * transaction id). `fresh` (an admin's retry): a finished job not yet removed is replaced.
   */
  async enqueueTxn(connectionId: string, txnId: string, lane: Lane, opts: { fresh?: boolean } = {}): Promise<void> {
    const data: TxnJobData = { kind: 'txn', txnId };
    const queue = this.lane(connectionId).queue;
    const add = () =>
      queue.add('txn', data, {
        jobId: txnId,
        priority: PRIORITY[lane],
        attempts: this.options.attempts,
        backoff: { type: 'jitter', delay: this.options.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      });
    const job = await add();
    if (opts.fresh) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') {
        await job.remove().catch(() => undefined);
        await add();
      }
    }
  }

  // ---- worker side ----

  /** Starts one worker per connection (roles worker and all: src/gateway.ts decides). */
  startWorkers(direct: DirectCall, txns: TxnProcessor): void {
    for (const lane of this.lanes.values()) {
      const id = lane.connection.id;
      const worker = new Worker<JobData>(lane.queue.name, async (job) => this.process(lane, job, direct, txns), {
        connection: this.connection,
        prefix: this.keys.queuePrefix,
        concurrency: this.options.concurrency,
        lockDuration: this.options.lockMs,
        stalledInterval: this.options.stalledIntervalMs,
        // A job whose worker died runs again: the ledger keeps a transaction once, so this is safe.
        maxStalledCount: 1000,
        // Needed for queue.rateLimit() (a provider's 429) to hold the queue; never reached by itself.
        limiter: { max: 1_000_000, duration: 1000 },
        settings: {
          // Exponential backoff with full jitter: a random wait in [0, base * 2^(attempt-1)], capped at a minute.
          backoffStrategy: (attemptsMade: number) =>
            Math.round(Math.random() * Math.min(60_000, this.options.backoffMs * 2 ** Math.max(0, attemptsMade - 1))),
        },
      });
      worker.on('error', (err) => this.log.warn({ connection: id, err: err.message }, 'worker error'));
      worker.on('failed', (job, err) => {
        if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
          this.log.warn({ connection: id, job: job.id, err: err.message }, 'job failed after its last attempt');
      });
      lane.worker = worker;
    }
    if (this.options.sweepIntervalMs > 0) {
      this.sweepTimer = setInterval(
        () => void this.sweep(txns).catch((err: Error) => this.log.warn({ err: err.message }, 'sweep failed')),
        this.options.sweepIntervalMs,
      );
      this.sweepTimer.unref();
    }
  }

  /** Puts transactions that have no job (their API process died before queueing it, their job was lost) back in their queue. */
  async sweep(txns: TxnProcessor): Promise<number> {
    let n = 0;
    for (const { connection, id } of await txns.stranded(this.options.sweepIntervalMs)) {
      if (!this.lanes.has(connection)) continue;
      await this.enqueueTxn(connection, id, 'write');
      n++;
    }
    return n;
  }

  private async process(
    lane: ConnectionLane,
    job: Job<JobData>,
    direct: DirectCall,
    txns: TxnProcessor,
  ): Promise<void> {
    const id = lane.connection.id;
    try {
      // Taken from the queue only when the limit has room: a job that must wait goes back to the
      // queue, where a read can still jump ahead of it, instead of waiting in a worker slot.
      const wait = await lane.limiter.peek();
      if (wait > 0) throw new HoldError(wait);
      if (job.data.kind === 'txn') {
        await txns.process(id, job.data.txnId, { attemptsMade: job.attemptsMade, attempts: job.opts.attempts ?? 1 });
        return;
      }
      await this.processCall(lane, job as Job<CallJobData>, direct);
    } catch (err) {
      const hold = err instanceof HoldError ? err.waitMs : null;
      if (hold !== null) {
        await lane.queue.rateLimit(Math.max(1, Math.round(hold)));
        throw Worker.RateLimitError();
      }
      throw err;
    }
  }

  private async processCall(lane: ConnectionLane, job: Job<CallJobData>, direct: DirectCall): Promise<void> {
    const { method, args, write } = job.data;
    let result: CallResult;
    // A write is sent at most once: a job that runs again (its worker died mid-call) finds the
    // mark and answers that the outcome is unknown instead of sending it a second time.
    const mark = write ? await this.redis.set(this.keys.result(`${job.id!}:sent`), '1', 'PX', 86_400_000, 'NX') : 'OK';
    try {
      if (mark !== 'OK') {
        throw new ProviderError(
          'provider_timeout',
          `${lane.connection.provider} (connection ${lane.connection.id}): the worker sending this call stopped before it recorded the answer; whether the provider applied it is unknown.`,
          'unknown',
        );
      }
      result = { ok: (await direct(lane.connection.id, method, args)) ?? null };
    } catch (err) {
      const hold = await this.holdFor(lane.connection.id, err);
      if (hold) throw hold;
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (isTransient(err, write) && !last) {
        // Certainly not sent (isTransient for a write): the next try may send it.
        if (write) await this.redis.del(this.keys.result(`${job.id!}:sent`));
        throw err;
      }
      if (!(err instanceof ProviderError) && !(err instanceof Error && 'code' in err)) {
        this.log.error({ connection: lane.connection.id, method, err }, 'provider call failed unexpectedly');
      }
      result = {
        error: serializeError(
          err,
          `${lane.connection.provider} (connection ${lane.connection.id}): the call failed in the gateway.`,
        ),
      };
    }
    // Kept a minute: the process waiting on it reads it as soon as it is announced.
    await this.redis.set(
      this.keys.result(job.id!),
      JSON.stringify(result),
      'PX',
      Math.max(60_000, this.options.waitMs * 2),
    );
    await this.announce(job.id!);
  }

  /**
   * What a job does on a rate-limit error: a provider's 429 holds the whole connection (below);
   * a wait at our own gate that was too long only puts the job back. Null for any other error;
   * else the HoldError to throw (BullMQ's manual rate limit: no attempt used).
   */
  async holdFor(connectionId: string, err: unknown): Promise<HoldError | null> {
    const limited = rateLimitWaitMs(err);
    if (limited === null) return null;
    return new HoldError(isOwnLimit(err) ? limited : await this.holdConnection(connectionId, limited));
  }

  /**
   * A provider's 429 (or a spent RateLimit window): every process holds the connection for the
   * wait it asked for plus a positive jitter (so that a fleet does not come back at one instant).
   */
  async holdConnection(connectionId: string, waitMs: number): Promise<number> {
    const lane = this.lane(connectionId);
    const total = Math.round(Math.max(waitMs, 0) + 50 + Math.random() * Math.min(1000, 100 + waitMs * 0.1));
    await lane.limiter.block(Date.now() + total);
    this.log.warn(
      { connection: lane.connection.id, holdMs: total },
      "provider rate limit reached; the connection's queue is held",
    );
    return total;
  }

  /** Stops this process's workers: no more jobs; running ones get up to `graceMs` (see stopWorkers). */
  async stopWorkers(graceMs: number): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const workers = [...this.lanes.values()].map((l) => l.worker).filter((w): w is Worker => !!w);
    await stopWorkers(workers, graceMs);
  }

  /** Closes the queues and the connections (after stopWorkers, and after the bulk queue closed). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.lanes.values()].map((l) => l.queue.close().catch(() => undefined)));
    if (this.subscriber) await this.subscriber.quit().catch(() => undefined);
    await this.bullOf?.quit().catch(() => undefined);
  }
}
