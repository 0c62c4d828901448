import { DelayedError, type Job, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { TransactionStore } from '../store/transaction-store.js';
import { HoldError, LaterError } from './holds.js';
import type { ProviderCalls } from './provider-calls.js';
import type { CallJobData, ConnectionLane, ConnectionQueues, JobData } from './queues.js';
import type { TransactionJobs } from './transaction-job.js';

/**
 * The workers of one process (roles worker and all): one BullMQ worker per provider connection,
 * running its call jobs and transaction jobs under the connection's rate limit, and the sweep that
 * queues again the transactions whose job was lost.
 */
export class Workers {
  private readonly workers: Worker<JobData>[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  /**
   * Where the last sweep stopped in each status index: each sweep reads on from there, a page at a time, then wraps.
   */
  private readonly sweepCursor: Record<'queued' | 'processing', string | undefined> = {
    queued: undefined,
    processing: undefined,
  };

  constructor(
    private readonly queues: ConnectionQueues,
    private readonly store: TransactionStore,
    private readonly calls: ProviderCalls,
    private readonly txns: TransactionJobs,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    const o = this.queues.options;
    for (const lane of this.queues.all()) {
      const id = lane.settings.id;
      const worker = new Worker<JobData>(lane.queue.name, async (job, token) => this.process(lane, job, token), {
        connection: this.queues.connection,
        prefix: lane.queue.opts.prefix,
        concurrency: o.concurrency,
        lockDuration: o.lockMs,
        stalledInterval: o.stalledIntervalMs,
        // A job whose worker died runs again: the store keeps a transaction once, so this is safe.
        maxStalledCount: 1000,
        // Needed for queue.rateLimit() (a provider's 429) to hold the queue; never reached by itself.
        limiter: { max: 1_000_000, duration: 1000 },
        settings: {
          // Exponential backoff with full jitter: a random wait in [0, base * 2^(attempt-1)], capped at a minute.
          backoffStrategy: (attemptsMade: number) =>
            Math.round(Math.random() * Math.min(60_000, o.backoffMs * 2 ** Math.max(0, attemptsMade - 1))),
        },
      });
      worker.on('error', (err) => this.log.warn({ connection: id, err: err.message }, 'worker error'));
      worker.on('failed', (job, err) => {
        if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
          this.log.warn({ connection: id, job: job.id, err: err.message }, 'job failed after its last attempt');
        }
      });
      this.workers.push(worker);
    }
    if (o.sweepIntervalMs > 0) {
      this.sweepTimer = setInterval(
        () => void this.sweep().catch((err: Error) => this.log.warn({ err: err.message }, 'sweep failed')),
        o.sweepIntervalMs,
      );
      this.sweepTimer.unref();
    }
  }

  private async process(lane: ConnectionLane, job: Job<JobData>, token: string | undefined): Promise<void> {
    try {
      // Taken from the queue only when the limit has room: a job that must wait goes back to the
      // queue, where a read can still jump ahead of it, instead of waiting in a worker slot.
      const wait = await lane.limiter.peek();
      if (wait > 0) throw new HoldError(wait);
      if (job.data.kind === 'txn') {
        await this.txns.process(lane, job.data.txnId, {
          attemptsMade: job.attemptsMade,
          attempts: job.opts.attempts ?? 1,
        });
        return;
      }
      await this.calls.run(lane, job as Job<CallJobData>);
    } catch (err) {
      if (err instanceof HoldError) {
        await lane.queue.rateLimit(Math.max(1, Math.round(err.waitMs)));
        throw Worker.RateLimitError();
      }
      if (err instanceof LaterError) {
        // Back to the queue's delayed set until then: no attempt used, no worker slot held while it waits.
        await job.moveToDelayed(Math.round(err.atMs), token);
        throw new DelayedError();
      }
      throw err;
    }
  }

  /**
   * Puts transactions that have no job (their API process died before queueing it, their job was
   * lost) back in their queue: those left queued or processing for longer than a sweep interval.
   */
  async sweep(): Promise<number> {
    const cutoff = Date.now() - this.queues.options.sweepIntervalMs;
    let n = 0;
    for (const status of ['queued', 'processing'] as const) {
      const page = await this.store.listByStatus(status, { limit: 1000, after: this.sweepCursor[status] });
      this.sweepCursor[status] = page.length === 1000 ? page[page.length - 1]!.id : undefined;
      for (const r of page) {
        if ((r.attempt_at ?? r.created_at) >= cutoff || !this.queues.has(r.connection)) continue;
        await this.queues.enqueueTxn(r.connection, r.id, 'write');
        n++;
      }
    }
    return n;
  }

  /** Stops taking jobs; running ones get up to `graceMs` (see stopWorkers). */
  async stop(graceMs: number): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await stopWorkers(this.workers, graceMs);
  }
}

/**
 * Stops workers: they take no more jobs at once (pause), the running ones get up to `graceMs`,
 * then the workers close by force; a job still running then is taken over by another worker
 * once its lock lapses, and the store keeps its transaction exactly once.
 */
export async function stopWorkers(workers: Worker[], graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((r) => {
    timer = setTimeout(r, graceMs);
  });
  await Promise.race([Promise.all(workers.map((w) => w.pause().catch(() => undefined))), grace]);
  clearTimeout(timer);
  await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
}
