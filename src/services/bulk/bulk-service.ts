import { type Job, Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { stopWorkers } from '../../dispatch/workers.js';
import { type ErrorCode, GatewayError } from '../../domain/errors.js';
import type { Transaction, TransactionStatus } from '../../domain/transactions.js';
import { scopeOf, type WriteRequest } from '../../idempotency/key.js';
import type { RequestClaims } from '../../idempotency/request-claims.js';
import { ulid } from '../../lib/ids.js';
import type { FieldError } from '../../lib/schema-check.js';
import { asGatewayError } from '../../redis/errors.js';
import type { KeySpace } from '../../redis/keys.js';
import type { CallContext, TransactionInput } from '../points/engine.js';
import type { PointsService } from '../points/points-service.js';

/**
 * Bulk requests: up to 1,000 award, redeem and adjust items, each validated and applied on its
 * own (a bad item never sinks the others). All on the built-in ledger, they are applied at once,
 * in order. When any item goes to a provider, the bulk runs as a job (queue `bulk`): a worker
 * claims every item and queues it at bulk priority, and its progress can be read back.
 *
 * Each item is idempotent under "<Idempotency-Key>#<index>" (or "bulk:<id>#<index>" without a
 * key), so a bulk retried, or a bulk job that runs twice (its worker died), applies no item twice.
 */

/** How long a bulk's record and results are kept. */
const BULK_TTL_MS = 7 * 86_400_000;

/** An item as the edge checked it: the transaction it asks for, or why it is refused. */
export type BulkItem = { input: TransactionInput } | { error: ItemError };

export interface ItemError {
  code: ErrorCode;
  detail: string;
  errors?: FieldError[];
}

/** What became of one item: done (applied), accepted (queued at its provider), or refused. */
export interface ItemResult {
  index: number;
  outcome: 'done' | 'accepted' | 'error';
  replayed: boolean;
  transaction?: Transaction;
  /** A refused item's transaction, kept as failed or needs_review. */
  transaction_id?: string;
  error?: ItemError;
}

/** A bulk job as it stands: every submitted item with its transaction as it is now. */
export interface BulkProgress {
  id: string;
  status: 'accepted' | 'running' | 'completed';
  total: number;
  submitted: number;
  succeeded: number;
  failed: number;
  needs_review: number;
  pending: number;
  created_at: string;
  completed_at: string | null;
  results: (Omit<ItemResult, 'transaction_id'> & { state: TransactionStatus | 'pending' | 'rejected' })[];
}

interface BulkJobData {
  bulkId: string;
  /** `admin`: jobs queued by earlier versions, whose items are checked when they run. */
  ctx: { clientId: string; idempotencyKey?: string; method: string; path: string; admin?: boolean };
}

/** How many cards' items a bulk on the built-in ledger applies at once. */
const BULK_LANES = 32;

/** An item's result as stored: its transaction is read back when the bulk is viewed. */
type StoredResult = Omit<ItemResult, 'transaction'>;

export class BulkService {
  private queueOf: Queue<BulkJobData> | null = null;
  private worker: Worker<BulkJobData> | null = null;

  constructor(
    private readonly deps: {
      redis: Redis;
      keys: KeySpace;
      points: PointsService;
      requests: RequestClaims;
      /** BullMQ's connection (the dispatch layer's). */
      bull: () => Redis;
      /**
       * How the edge checks items (src/api/bulk-items.ts): a job an earlier version queued holds its items
       * unchecked, as the request gave them, and they are checked the same way when it runs.
       */
      checkItems: (raw: unknown[], admin: boolean) => BulkItem[];
      log: FastifyBaseLogger;
    },
  ) {}

  /**
   * Applies every item now (all on the built-in ledger). The items of one card run one after
   * another, in their order; different cards run side by side (at most BULK_LANES at once), so
   * their commands share Redis round trips (auto-pipelining). Results stay in item order.
   */
  async runNow(
    items: BulkItem[],
    req: WriteRequest,
  ): Promise<{ succeeded: number; failed: number; results: ItemResult[] }> {
    const base: CallContext = { ...req, path: `${req.path}#item` };
    const results: ItemResult[] = new Array(items.length);
    const lanes = new Map<string, number[]>();
    for (const [index, item] of items.entries()) {
      const lane = 'error' in item ? `#${index}` : item.input.card_id;
      lanes.set(lane, [...(lanes.get(lane) ?? []), index]);
    }
    const queue = [...lanes.values()];
    let away: number | null = null;
    const worker = async () => {
      for (let lane = queue.shift(); lane !== undefined; lane = queue.shift()) {
        for (const index of lane) {
          // The store away fails every item after this one too: stop, and refuse the whole request (503).
          if (away !== null) return;
          const result = await this.item(items[index]!, index, base);
          if (result.error?.code === 'service_unavailable') {
            away = Math.min(away ?? index, index);
            return;
          }
          results[index] = result;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BULK_LANES, queue.length) }, worker));
    if (away !== null) {
      // Its retry with the same Idempotency-Key replays the items that were applied (each is idempotent under
      // "<key>#i") and applies the rest.
      throw new GatewayError(
        'service_unavailable',
        'The ledger store is not reachable; some items may have been applied; retry shortly with the same ' +
          'Idempotency-Key.',
        { retryAfter: '1' },
      );
    }
    const succeeded = results.filter((r) => r.outcome !== 'error').length;
    return { succeeded, failed: items.length - succeeded, results };
  }

  /** Starts a bulk job; the same Idempotency-Key (and body) names the same bulk, whose progress a retry answers. */
  async submit(items: BulkItem[], req: WriteRequest): Promise<{ progress: BulkProgress; replayed: boolean }> {
    const { answer, replayed } = await this.deps.requests.run(scopeOf(this.deps.keys, req), {
      newResource: () => `blk_${ulid()}`,
      // The job id is the bulk id: a takeover submits it again without queueing it twice.
      takeover: 'resume',
      run: async (bulkId) => {
        await this.record(bulkId, items, req);
        return { kind: 'accepted', body: { id: bulkId } };
      },
    });
    const id = (answer.body as { id: string }).id;
    const progress = await this.progress(id, req.clientId);
    if (!progress) throw new GatewayError('bulk_not_found', `Bulk ${id} is no longer kept.`);
    return { progress, replayed };
  }

  /** Records a bulk request and queues its job. */
  private async record(bulkId: string, items: BulkItem[], req: WriteRequest): Promise<void> {
    const key = this.deps.keys.bulk(bulkId);
    await this.deps.redis
      .multi()
      .hset(key, {
        id: bulkId,
        client: req.clientId,
        total: String(items.length),
        submitted: '0',
        created_at: String(Date.now()),
        items: JSON.stringify(items),
      })
      .pexpire(key, BULK_TTL_MS)
      .exec();
    const ctx = { clientId: req.clientId, idempotencyKey: req.idempotencyKey, method: req.method, path: req.path };
    await this.queue.add(
      'bulk',
      { bulkId, ctx },
      {
        jobId: bulkId,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Made on first use: a gateway that never takes a bulk (or only describes its API) opens no connection for it. */
  private get queue(): Queue<BulkJobData> {
    if (!this.queueOf) {
      this.queueOf = new Queue('bulk', { connection: this.deps.bull(), prefix: this.deps.keys.queuePrefix });
      this.queueOf.on('error', (err) => this.deps.log.warn({ err: err.message }, 'bulk queue error'));
    }
    return this.queueOf;
  }

  startWorker(lockMs: number): void {
    this.worker = new Worker<BulkJobData>('bulk', async (job) => this.run(job), {
      connection: this.deps.bull(),
      prefix: this.deps.keys.queuePrefix,
      concurrency: 2,
      lockDuration: lockMs,
      maxStalledCount: 1000,
    });
    this.worker.on('error', (err) => this.deps.log.warn({ err: err.message }, 'bulk worker error'));
  }

  private async run(job: Job<BulkJobData>): Promise<void> {
    const { redis, keys } = this.deps;
    const { bulkId, ctx } = job.data;
    const key = keys.bulk(bulkId);
    const [checked, unchecked] = await redis.hmget(key, 'items', 'input');
    let items: BulkItem[];
    if (checked) items = JSON.parse(checked) as BulkItem[];
    else if (unchecked) items = this.deps.checkItems(JSON.parse(unchecked) as unknown[], ctx.admin ?? false);
    else return;
    const base: CallContext = {
      ...ctx,
      idempotencyKey: ctx.idempotencyKey ?? `bulk:${bulkId}`,
      path: `${ctx.path}#item`,
      body: null,
      lane: 'bulk',
    };
    // A few items at a time: each is a claim and a queue add (and, once per card, a capabilities read).
    const width = 16;
    for (let start = 0; start < items.length; start += width) {
      const slice = items.slice(start, start + width);
      const results = await Promise.all(slice.map((item, k) => this.item(item, start + k, base)));
      const pipe = redis.multi();
      for (const { transaction, ...r } of results) {
        const stored: StoredResult = transaction ? { ...r, transaction_id: transaction.id } : r;
        pipe.hset(keys.bulkItems(bulkId), String(r.index), JSON.stringify(stored));
      }
      pipe.hset(key, 'submitted', String(start + slice.length)).pexpire(keys.bulkItems(bulkId), BULK_TTL_MS);
      await pipe.exec();
      await job.extendLock(job.token!, 60_000).catch(() => undefined);
    }
  }

  private async item(item: BulkItem, index: number, base: CallContext): Promise<ItemResult> {
    if ('error' in item) return { index, outcome: 'error', replayed: false, error: item.error };
    try {
      const out = await this.deps.points.transact(item.input, { ...base, body: item.input }, `#${index}`);
      return { index, outcome: out.state, replayed: out.replayed, transaction: out.transaction };
    } catch (err) {
      const e = asGatewayError(err);
      // The gateway's own failures are logged; refusals and a provider's failures are the item's answer.
      if (e.code === 'internal_error' || e.code === 'service_unavailable') {
        this.deps.log.error({ err, index }, 'bulk item failed');
      }
      const txn = typeof e.extra.transaction_id === 'string' ? e.extra.transaction_id : undefined;
      return {
        index,
        outcome: 'error',
        replayed: false,
        ...(txn ? { transaction_id: txn } : {}),
        error: { code: e.code, detail: e.message, ...(e.extra.errors ? { errors: e.extra.errors } : {}) },
      };
    }
  }

  /** A bulk's progress and results, for its own client (or an admin: null); null if there is none. */
  async progress(bulkId: string, clientId: string | null): Promise<BulkProgress | null> {
    const { redis, keys, points } = this.deps;
    if (!/^blk_[0-9A-Z]{26}$/.test(bulkId)) return null;
    // One round trip: the items are read alongside, and only shown once the bulk is found to be the client's.
    const [h, stored] = await Promise.all([redis.hgetall(keys.bulk(bulkId)), redis.hgetall(keys.bulkItems(bulkId))]);
    if (!h.id || (clientId !== null && h.client !== clientId)) return null;
    const total = Number(h.total ?? 0);
    const parsed = Object.values(stored)
      .map((v) => JSON.parse(v) as StoredResult)
      .sort((a, b) => a.index - b.index);
    const ids = parsed.map((r) => r.transaction_id).filter((x): x is string => x !== undefined);
    const txns = new Map((await points.views(ids)).map((t) => [t.id, t]));
    const counts = { succeeded: 0, failed: 0, needs_review: 0, pending: 0 };
    const results = parsed.map(({ transaction_id, ...r }) => {
      const t = transaction_id ? txns.get(transaction_id) : undefined;
      const state = t ? t.status : r.error ? ('rejected' as const) : ('pending' as const);
      if (state === 'succeeded') counts.succeeded++;
      else if (state === 'failed' || state === 'rejected') counts.failed++;
      else if (state === 'needs_review') counts.needs_review++;
      else counts.pending++;
      // A refused item that names a transaction shows the transaction, not the refusal.
      const { error, ...rest } = r;
      return { ...rest, state, ...(t ? { transaction: t } : {}), ...(error && !t ? { error } : {}) };
    });
    counts.pending += total - parsed.length;
    const submitted = Number(h.submitted ?? 0);
    const completed = submitted >= total && counts.pending === 0;
    let completedAt = h.completed_at ? Number(h.completed_at) : null;
    if (completed && completedAt === null) {
      completedAt = Date.now();
      await redis.hsetnx(keys.bulk(bulkId), 'completed_at', String(completedAt));
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
