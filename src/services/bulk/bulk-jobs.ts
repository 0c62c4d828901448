import { statusOf } from '../../api/problem.js';
import { Queue, Worker, type Job } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { GatewayError } from '../../domain/errors.js';
import { toGatewayError, validationError } from '../../api/problem.js';
import { BulkAdjust, BulkAward, BulkRedeem } from '../../api/schemas/points.js';
import type { BulkView } from '../../api/schemas/points.js';
import { ulid } from '../../lib/ids.js';
import { fieldErrors, strictAjv } from '../../lib/schema-check.js';
import type { KeySpace } from '../../redis/keys.js';
import type { CallContext, PointsService, TransactionInput } from '../points/points-service.js';
import { stopWorkers } from '../../dispatch/dispatcher.js';

/**
 * Bulk requests that reach an external provider run as a job (queue `bulk`): POST answers 202
 * with the bulk's id, a worker claims every item in the ledger and queues it (at bulk priority,
 * behind reads and single writes), and GET /v1/bulk/{id} shows progress and each item's outcome.
 * Each item is idempotent under "<Idempotency-Key>#<index>" (or "bulk:<id>#<index>" without a
 * key), so a bulk job that runs twice (its worker died) never applies an item twice.
 */

/** How long a bulk's record and results are kept. */
const BULK_TTL_MS = 7 * 86_400_000;

export interface BulkJobData {
  bulkId: string;
  ctx: { clientId: string; idempotencyKey?: string; method: string; path: string; admin: boolean };
}

export interface BulkItemResult {
  index: number;
  /** The HTTP status the item would have had on its own (201 applied, 202 queued, 4xx refused...). */
  status: number;
  replayed: boolean;
  transaction_id?: string;
  error?: { code: string; detail: string; errors?: { field: string; message: string }[] };
}

const validators = {
  award: strictAjv().compile(BulkAward),
  redeem: strictAjv().compile(BulkRedeem),
  adjust: strictAjv().compile(BulkAdjust),
};

/** Checks one bulk item; throws its error (the index names the field). */
export function checkBulkItem(item: unknown, index: number, admin: boolean): TransactionInput {
  const type = (item as { type?: unknown } | null)?.type;
  const validate = typeof type === 'string' ? validators[type as keyof typeof validators] : undefined;
  if (!validate) {
    throw new GatewayError('validation_failed', `Item ${index}: type must be one of award, redeem, adjust.`, {
      errors: [{ field: `/transactions/${index}/type`, message: 'must be one of: award, redeem, adjust' }],
    });
  }
  if (!validate(item)) throw validationError(fieldErrors(validate.errors, `/transactions/${index}`), 'body');
  if (type === 'adjust' && !admin) throw new GatewayError('forbidden', 'Adjust items need the "admin" scope.');
  return item as TransactionInput;
}

export class BulkJobs {
  private queueOf: Queue | null = null;
  private worker: Worker | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly points: PointsService,
    /** BullMQ's connection (the dispatcher's). */
    private readonly bull: () => Redis,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Made on first use: a gateway that never takes a bulk (or only describes its API) opens no connection for it. */
  private get queue(): Queue {
    if (!this.queueOf) {
      this.queueOf = new Queue('bulk', { connection: this.bull(), prefix: this.keys.queuePrefix });
      this.queueOf.on('error', (err) => this.log.warn({ err: err.message }, 'bulk queue error'));
    }
    return this.queueOf;
  }

  /** Records a bulk request and queues its job. */
  async submit(items: unknown[], ctx: BulkJobData['ctx'], bulkId = `blk_${ulid()}`): Promise<BulkView> {
    const key = this.keys.bulk(bulkId);
    const created = Date.now();
    await this.redis
      .multi()
      .hset(
        key,
        'id',
        bulkId,
        'client',
        ctx.clientId,
        'total',
        String(items.length),
        'submitted',
        '0',
        'created_at',
        String(created),
        'input',
        JSON.stringify(items),
      )
      .pexpire(key, BULK_TTL_MS)
      .exec();
    const data: BulkJobData = { bulkId, ctx };
    await this.queue.add('bulk', data, {
      jobId: bulkId,
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: true,
    });
    return (await this.view(bulkId, ctx.clientId, true))!;
  }

  startWorker(lockMs: number): void {
    this.worker = new Worker<BulkJobData>('bulk', async (job) => this.run(job), {
      connection: this.bull(),
      prefix: this.keys.queuePrefix,
      concurrency: 2,
      lockDuration: lockMs,
      maxStalledCount: 1000,
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'bulk worker error'));
  }

  private async run(job: Job<BulkJobData>): Promise<void> {
    const { bulkId, ctx } = job.data;
    const key = this.keys.bulk(bulkId);
    const raw = await this.redis.hget(key, 'input');
    if (raw === null) return;
    const items = JSON.parse(raw) as unknown[];
    const base: CallContext = {
      clientId: ctx.clientId,
      idempotencyKey: ctx.idempotencyKey ?? `bulk:${bulkId}`,
      method: ctx.method,
      path: `${ctx.path}#item`,
      body: null,
      lane: 'bulk',
    };
    // A few items at a time: each is a claim and a queue add (and, once per card, a capabilities read).
    const width = 16;
    for (let start = 0; start < items.length; start += width) {
      const slice = items.slice(start, start + width);
      const results = await Promise.all(slice.map((item, k) => this.item(item, start + k, base, ctx.admin)));
      const pipe = this.redis.multi();
      for (const r of results) pipe.hset(this.keys.bulkItems(bulkId), String(r.index), JSON.stringify(r));
      pipe.hset(key, 'submitted', String(start + slice.length)).pexpire(this.keys.bulkItems(bulkId), BULK_TTL_MS);
      await pipe.exec();
      await job.extendLock(job.token!, 60_000).catch(() => undefined);
    }
  }

  private async item(item: unknown, index: number, base: CallContext, admin: boolean): Promise<BulkItemResult> {
    try {
      const input = checkBulkItem(item, index, admin);
      const outcome = await this.points.transact(input, { ...base, body: item }, `#${index}`);
      return { index, status: outcome.status, replayed: outcome.replayed, transaction_id: outcome.body.id };
    } catch (err) {
      const e = toGatewayError(err as Error);
      if (statusOf(e.code) >= 500 && !e.code.startsWith('provider_'))
        this.log.error({ err, index }, 'bulk item failed');
      const txn = typeof e.extra.transaction_id === 'string' ? e.extra.transaction_id : undefined;
      return {
        index,
        status: statusOf(e.code),
        replayed: false,
        ...(txn ? { transaction_id: txn } : {}),
        error: { code: e.code, detail: e.message, ...(e.extra.errors ? { errors: e.extra.errors } : {}) },
      };
    }
  }

  /** A bulk's progress and results, for its own client (or an admin); null if none. */
  async view(bulkId: string, clientId: string | null, fresh = false): Promise<BulkView | null> {
    if (!/^blk_[0-9A-Z]{26}$/.test(bulkId)) return null;
    const h = await this.redis.hgetall(this.keys.bulk(bulkId));
    if (!h.id || (clientId !== null && h.client !== clientId)) return null;
    const total = Number(h.total ?? 0);
    const stored = fresh ? {} : await this.redis.hgetall(this.keys.bulkItems(bulkId));
    const parsed = Object.values(stored)
      .map((v) => JSON.parse(v) as BulkItemResult)
      .sort((a, b) => a.index - b.index);
    const ids = parsed.map((r) => r.transaction_id).filter((x): x is string => x !== undefined);
    const txns = new Map((await this.points.transactions(ids)).map((t) => [t.id, t]));
    const counts = { succeeded: 0, failed: 0, needs_review: 0, pending: 0 };
    const results: BulkView['results'] = parsed.map((r) => {
      const t = r.transaction_id ? txns.get(r.transaction_id) : undefined;
      const state: BulkView['results'][number]['state'] = t ? t.status : r.error ? 'rejected' : 'pending';
      if (state === 'succeeded') counts.succeeded++;
      else if (state === 'failed' || state === 'rejected') counts.failed++;
      else if (state === 'needs_review') counts.needs_review++;
      else counts.pending++;
      return {
        index: r.index,
        status: t && t.status === 'succeeded' ? 201 : r.status,
        state,
        replayed: r.replayed,
        ...(t ? { transaction: t } : {}),
        ...(r.error && !t ? { error: r.error } : {}),
      };
    });
    counts.pending += total - parsed.length;
    const submitted = Number(h.submitted ?? 0);
    const completed = submitted >= total && counts.pending === 0;
    let completedAt = h.completed_at ? Number(h.completed_at) : null;
    if (completed && completedAt === null) {
      completedAt = Date.now();
      await this.redis.hsetnx(this.keys.bulk(bulkId), 'completed_at', String(completedAt));
    }
    return {
      id: bulkId,
      status: completed ? 'completed' : submitted === 0 ? 'accepted' : 'running',
      total,
      submitted,
      ...counts,
      created_at: new Date(Number(h.created_at ?? 0)).toISOString(),
      completed_at: completedAt !== null ? new Date(completedAt).toISOString() : null,
      results,
    };
  }

  async stopWorker(graceMs: number): Promise<void> {
    if (this.worker) await stopWorkers([this.worker], graceMs);
  }

  async close(): Promise<void> {
    await this.queueOf?.close().catch(() => undefined);
  }
}
