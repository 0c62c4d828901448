import type { Job } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { ProviderError } from '../domain/errors.js';
import { ulid } from '../lib/ids.js';
import type { KeySpace } from '../redis/keys.js';
import type { DoneSignal } from './done-signal.js';
import type { Holds } from './holds.js';
import { deserializeError, isTransient, type SerializedError, serializeError } from './job-errors.js';
import type { CallJobData, ConnectionLane, ConnectionQueues, Lane } from './queues.js';

type CallResult = { ok: unknown } | { error: SerializedError };

/**
 * The round trip of a provider call that is not a transaction (a balance read, a card, a
 * customer...): the API process adds a call job and waits; a worker runs the adapter method and
 * leaves the answer in a short-lived Redis key, then announces it.
 */
export class ProviderCalls {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly queues: ConnectionQueues,
    private readonly signal: DoneSignal,
    private readonly holds: Holds,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Runs one adapter method on a worker and returns its answer, or throws its error. A call that
   * had no turn within the wait is taken out of the queue (it never ran: certainly not applied);
   * one that is running answers provider_timeout, applied 'unknown' for a write.
   */
  async call(connectionId: string, method: string, args: unknown[], how: { lane: Lane; write: boolean }) {
    const lane = this.queues.lane(connectionId);
    const jobId = `call_${ulid()}`;
    // JSON would turn an omitted argument into null; trailing ones are dropped, so they arrive as undefined.
    const sent = [...args];
    while (sent.length > 0 && sent[sent.length - 1] === undefined) sent.pop();
    const data: CallJobData = { kind: 'call', method, args: sent, write: how.write };
    await lane.queue.add('call', data, this.queues.jobOptions(how.lane, jobId));
    const resultKey = this.keys.result(jobId);
    const waitMs = this.queues.options.waitMs;
    // The answer is read once and deleted in the same command.
    const take = () => this.redis.getdel(resultKey);
    let raw = await this.signal.waitFor(jobId, waitMs, take);
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
      if (!removed) raw = await take();
    }
    if (raw === null) {
      const what = `${lane.descriptor.name} (connection ${connectionId})`;
      throw new ProviderError(
        'provider_timeout',
        removed
          ? `${what}: the call did not get its turn within ${waitMs} ms (the connection's queue is long, or its ` +
              `rate limit is reached); it was not sent.`
          : `${what}: no answer within ${waitMs} ms.`,
        removed || !how.write ? 'no' : 'unknown',
        { retryAfter: '1' },
      );
    }
    const result = JSON.parse(raw) as CallResult;
    if ('error' in result) throw deserializeError(result.error);
    return result.ok;
  }

  /** The worker's side: runs the call on the connection's adapter and hands back its answer (or error). */
  async run(lane: ConnectionLane, job: Job<CallJobData>): Promise<void> {
    const { method, args, write } = job.data;
    const id = lane.settings.id;
    const what = `${lane.descriptor.name} (connection ${id})`;
    const sentMark = this.keys.result(`${job.id!}:sent`);
    let result: CallResult;
    // A write is sent at most once: a job that runs again (its worker died mid-call) finds the
    // mark and answers that the outcome is unknown instead of sending it a second time.
    const mark = write ? await this.redis.set(sentMark, '1', 'PX', 86_400_000, 'NX') : 'OK';
    try {
      if (mark !== 'OK') {
        throw new ProviderError(
          'provider_timeout',
          `${what}: the worker sending this call stopped before it recorded the answer; whether the provider ` +
            `applied it is unknown.`,
          'unknown',
        );
      }
      result = { ok: (await this.invoke(lane, method, args)) ?? null };
    } catch (err) {
      const hold = await this.holds.holdFor(id, err);
      if (hold) throw hold;
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (isTransient(err, write) && !last) {
        // Certainly not sent (isTransient for a write): the next try may send it.
        if (write) await this.redis.del(sentMark);
        throw err;
      }
      if (!(err instanceof ProviderError) && !(err instanceof Error && 'code' in err)) {
        this.log.error({ connection: id, method, err }, 'provider call failed unexpectedly');
      }
      result = { error: serializeError(err, `${what}: the call failed in the gateway.`) };
    }
    // Kept a minute: the process waiting on it reads it as soon as it is announced.
    await this.redis.set(
      this.keys.result(job.id!),
      JSON.stringify(result),
      'PX',
      Math.max(60_000, this.queues.options.waitMs * 2),
    );
    await this.signal.announce(job.id!);
  }

  /** The adapter method a call job names; only the queued ones (queued-adapter.ts) may be run. */
  private invoke(lane: ConnectionLane, method: string, args: unknown[]): Promise<unknown> {
    const fn = (lane.adapter as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>)[method];
    if (!isQueuedMethod(method) || typeof fn !== 'function') {
      throw new Error(`no provider call ${method} on ${lane.settings.id}`);
    }
    return fn.apply(lane.adapter, args);
  }
}

/**
 * The adapter methods that call the provider, and how each is queued. `move` is not here: transactions are jobs of
 * their own.
 */
export const QUEUED_METHODS: Record<string, { lane: Lane; write: boolean }> = {
  cardCapabilities: { lane: 'read', write: false },
  balance: { lane: 'read', write: false },
  history: { lane: 'read', write: false },
  getCard: { lane: 'read', write: false },
  listCards: { lane: 'read', write: false },
  listCustomers: { lane: 'read', write: false },
  getCustomer: { lane: 'read', write: false },
  listPrograms: { lane: 'read', write: false },
  getProgram: { lane: 'read', write: false },
  rewards: { lane: 'read', write: false },
  listNotifications: { lane: 'read', write: false },
  getNotification: { lane: 'read', write: false },
  issueCard: { lane: 'write', write: true },
  deleteCard: { lane: 'write', write: true },
  voidCard: { lane: 'write', write: true },
  createCustomer: { lane: 'write', write: true },
  updateCustomer: { lane: 'write', write: true },
  deleteCustomer: { lane: 'write', write: true },
  copyProgram: { lane: 'write', write: true },
  notify: { lane: 'write', write: true },
  bulkCreateCustomers: { lane: 'bulk', write: true },
};

const isQueuedMethod = (method: string): boolean => Object.hasOwn(QUEUED_METHODS, method);
