import type { FastifyBaseLogger } from 'fastify';
import { isOwnLimit, rateLimitWaitMs } from './job-errors.js';
import type { ConnectionQueues } from './queues.js';

/** Thrown by a processor to put its job back in the queue without using an attempt (BullMQ's manual rate limit). */
export class HoldError extends Error {
  constructor(readonly waitMs: number) {
    super('rate limited');
  }
}

/**
 * Thrown by a processor to run its job again at `atMs` (epoch ms) without using an attempt and without holding a
 * worker slot meanwhile (BullMQ's moveToDelayed): a lookup that must wait until an earlier request can no longer be
 * running at the provider, or that failed and is tried again later.
 */
export class LaterError extends Error {
  constructor(readonly atMs: number) {
    super('run again later');
  }
}

/**
 * What a rate-limit error does to a connection. A provider's 429 (or a spent RateLimit window)
 * holds the whole connection, in every process; a wait at our own gate that was too long only
 * puts the job back.
 */
export class Holds {
  constructor(
    private readonly queues: ConnectionQueues,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Null for any error but a rate limit; else the HoldError to throw (BullMQ's manual rate limit: no attempt used). */
  async holdFor(connectionId: string, err: unknown): Promise<HoldError | null> {
    const limited = rateLimitWaitMs(err);
    if (limited === null) return null;
    return new HoldError(isOwnLimit(err) ? limited : await this.holdConnection(connectionId, limited));
  }

  /**
   * Holds every process's requests to the connection for the wait the provider asked for, plus a
   * positive jitter (so that a fleet does not come back at one instant). Returns the hold, in ms.
   */
  async holdConnection(connectionId: string, waitMs: number): Promise<number> {
    const lane = this.queues.lane(connectionId);
    const total = Math.round(Math.max(waitMs, 0) + 50 + Math.random() * Math.min(1000, 100 + waitMs * 0.1));
    await lane.limiter.block(Date.now() + total);
    this.log.warn(
      { connection: connectionId, holdMs: total },
      "provider rate limit reached; the connection's queue is held",
    );
    return total;
  }
}
