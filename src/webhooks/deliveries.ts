import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { type Job, Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import type { GatewayEvent } from '../domain/events.js';
import type { DeliveryAttempt } from '../domain/webhooks.js';
import { ulidLowerBound, ulidUpperBound } from '../lib/ids.js';
import { isoTime } from '../lib/time.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KeySpace } from '../redis/keys.js';
import { tryLock, unlock } from '../redis/lock.js';
import { isPrivateAddress } from './private-address.js';
import { signedHeaders } from './signing.js';
import { type Subscriptions, wants } from './subscriptions.js';

export interface WebhookOptions {
  /** A delivery answered with a 2xx within this is delivered. */
  timeoutMs: number;
  /** The waits before each retry, in ms (Standard Webhooks' suggestion: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). */
  retryDelaysMs: number[];
  /** A subscription failing without a success for this long is disabled. */
  disableAfterMs: number;
  /** Deliveries to loopback and private addresses (the sandbox, tests). */
  allowPrivate: boolean;
  concurrency: number;
  /** How often new events are looked for. */
  pollMs: number;
}

interface DeliveryJob {
  eventId: string;
  webhookId: string;
  attempt: number;
}

const ATTEMPTS_KEPT = 1000;
const ATTEMPTS_TTL_MS = 30 * 86_400_000;
const FANOUT_BATCH = 200;
/**
 * Events are handed over only once this old: an event's id is made (from its process's clock) before its write
 * lands, so a later id can land first; the cursor must not pass an id that may still arrive.
 */
const HANDOVER_GRACE_MS = 3000;

/**
 * Events out: every event is handed to the subscriptions that want it, each delivery a BullMQ job
 * (queue `webhooks`), POSTed with Standard Webhooks' headers. The hand-over reads the event log
 * behind a cursor in Redis (one process at a time, by a lock), so an event recorded is delivered
 * even if the process that recorded it stops at once, and a slow or dead receiver never holds up
 * the transaction that made the event. A delivery failing is tried again after each of
 * `retryDelaysMs` with the same `webhook-id`; a subscription failing for `disableAfterMs` is
 * disabled, with the reason.
 */
export class WebhookDeliveries {
  private queueOf: Queue<DeliveryJob> | null = null;
  private worker: Worker<DeliveryJob> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private fanning: Promise<void> | null = null;
  private readonly agent: Agent;

  constructor(
    private readonly deps: {
      redis: Redis;
      keys: KeySpace;
      subscriptions: Subscriptions;
      /** BullMQ's connection (the dispatch layer's). */
      bull: () => Redis;
      log: FastifyBaseLogger;
      metrics?: Metrics;
      options: WebhookOptions;
    },
  ) {
    const { allowPrivate } = deps.options;
    // Every connection's address is checked where it is made: a name that resolves to a private address later
    // (DNS rebinding) is refused then too.
    this.agent = new Agent({
      connect: allowPrivate ? {} : { lookup: guardedLookup },
      headersTimeout: deps.options.timeoutMs,
      bodyTimeout: deps.options.timeoutMs,
    });
  }

  private get queue(): Queue<DeliveryJob> {
    if (!this.queueOf) {
      this.queueOf = new Queue('webhooks', { connection: this.deps.bull(), prefix: this.deps.keys.queuePrefix });
      this.queueOf.on('error', (err) => this.deps.log.warn({ err: err.message }, 'webhook queue error'));
    }
    return this.queueOf;
  }

  /** Starts the hand-over of new events and the delivery worker (worker roles). */
  start(lockMs: number): void {
    this.worker = new Worker<DeliveryJob>('webhooks', async (job) => this.deliver(job), {
      connection: this.deps.bull(),
      prefix: this.deps.keys.queuePrefix,
      concurrency: this.deps.options.concurrency,
      lockDuration: Math.max(lockMs, this.deps.options.timeoutMs + 5000),
      maxStalledCount: 1000,
    });
    this.worker.on('error', (err) => this.deps.log.warn({ err: err.message }, 'webhook worker error'));
    this.timer = setInterval(() => {
      if (this.fanning) return;
      this.fanning = this.fanOut()
        .then(() => undefined)
        .catch((err: Error) => this.deps.log.warn({ err: err.message }, 'webhooks: hand-over skipped a round'))
        .finally(() => {
          this.fanning = null;
        });
    }, this.deps.options.pollMs);
    this.timer.unref();
  }

  async stop(graceMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.fanning;
    if (this.worker) {
      const w = this.worker;
      this.worker = null;
      await Promise.race([w.close(), new Promise((r) => setTimeout(r, graceMs))]);
      await w.close(true).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.queueOf?.close().catch(() => undefined);
    await this.agent.close().catch(() => undefined);
  }

  /**
   * Hands the events recorded since the cursor to the subscriptions that want them, then moves the
   * cursor. Jobs are named by (event, subscription): a round repeated after a crash queues nothing twice.
   */
  async fanOut(): Promise<number> {
    const { redis, keys } = this.deps;
    // Nothing to hand over without a subscription: no lock, no cursor (a new one starts at its own creation).
    const active = (await this.deps.subscriptions.listCached(1000)).filter((s) => !s.disabled);
    if (active.length === 0) return 0;
    const lock = keys.lock('webhook-fanout');
    const token = await tryLock(redis, lock, 10_000);
    if (token === null) return 0;
    let handed = 0;
    try {
      // No subscription is sent events from before it was made: the cursor starts at the oldest one's creation.
      const oldest = active.reduce((t, s) => Math.min(t, Date.parse(s.created_at)), Date.now());
      const floor = `evt_${ulidLowerBound(oldest)}`;
      let cursor = (await redis.get(keys.webhookCursor)) ?? floor;
      if (cursor < floor) cursor = floor;
      for (let round = 0; round < 10; round++) {
        const upTo = `[evt_${ulidUpperBound(Date.now() - HANDOVER_GRACE_MS)}`;
        const ids = (await redis.zrange(
          keys.events,
          `(${cursor}`,
          upTo,
          'BYLEX',
          'LIMIT',
          0,
          FANOUT_BATCH,
        )) as string[];
        if (ids.length === 0) break;
        const subs = (await this.deps.subscriptions.listCached(1000)).filter((s) => !s.disabled);
        if (subs.length > 0) {
          const raw = await redis.mget(ids.map((id) => keys.event(id)));
          const jobs: { name: string; data: DeliveryJob; opts: object }[] = [];
          for (const r of raw) {
            if (!r) continue;
            const ev = JSON.parse(r) as GatewayEvent;
            for (const s of subs) {
              if (!wants(s, ev.type) || ev.created_at < s.created_at) continue;
              jobs.push(jobOf(ev.id, s.id, 1, 0));
            }
          }
          if (jobs.length > 0) await this.queue.addBulk(jobs);
          handed += jobs.length;
        }
        cursor = ids[ids.length - 1]!;
        await redis.set(keys.webhookCursor, cursor);
        if (ids.length < FANOUT_BATCH) break;
      }
    } finally {
      await unlock(redis, lock, token);
    }
    return handed;
  }

  /** Sends an event again to one subscription or to every one that wants it: the ids it was queued for. */
  async redeliver(event: GatewayEvent, webhookId?: string): Promise<string[]> {
    const subs = (await this.deps.subscriptions.list()).filter(
      (s) => !s.disabled && (webhookId ? s.id === webhookId : wants(s, event.type)),
    );
    const again = Date.now();
    await this.queue.addBulk(
      subs.map((s) => ({ ...jobOf(event.id, s.id, 1, 0), opts: jobOpts(event.id, s.id, 1, 0, again) })),
    );
    return subs.map((s) => s.id);
  }

  /** The subscription's attempts, newest first. */
  async attempts(webhookId: string, limit: number): Promise<DeliveryAttempt[]> {
    const raw = await this.deps.redis.lrange(this.deps.keys.webhookDeliveries(webhookId), 0, limit - 1);
    return raw.map((r) => JSON.parse(r) as DeliveryAttempt);
  }

  /**
   * The delivery attempts of some events, oldest first per event: read from each subscription's recent attempts (its
   * newest `perWebhook`), so older attempts of a busy subscription may be missing.
   */
  async attemptsOfEvents(
    eventIds: string[],
    perWebhook = 200,
  ): Promise<Map<string, (DeliveryAttempt & { webhook_id: string })[]>> {
    const out = new Map<string, (DeliveryAttempt & { webhook_id: string })[]>();
    if (eventIds.length === 0) return out;
    const wanted = new Set(eventIds);
    const subs = await this.deps.subscriptions.listCached(1000);
    if (subs.length === 0) return out;
    const pipe = this.deps.redis.pipeline();
    for (const s of subs) pipe.lrange(this.deps.keys.webhookDeliveries(s.id), 0, perWebhook - 1);
    const lists = (await pipe.exec()) ?? [];
    lists.forEach(([err, raw], i) => {
      if (err) throw err;
      for (const r of (raw as string[]).slice().reverse()) {
        const a = JSON.parse(r) as DeliveryAttempt;
        if (!wanted.has(a.event_id)) continue;
        const list = out.get(a.event_id) ?? [];
        list.push({ ...a, webhook_id: subs[i]!.id });
        out.set(a.event_id, list);
      }
    });
    return out;
  }

  /** One attempt: POST the event, record what came back, and queue the next attempt or give up. */
  private async deliver(job: Job<DeliveryJob>): Promise<void> {
    const { eventId, webhookId, attempt } = job.data;
    const { redis, keys, subscriptions, options, log } = this.deps;
    const wh = await subscriptions.get(webhookId);
    const raw = await redis.get(keys.event(eventId));
    if (!wh || wh.disabled || !raw) return;
    const event = JSON.parse(raw) as GatewayEvent;
    const body = raw;
    const secrets = [
      wh.secret,
      ...(wh.previous_secret && wh.previous_secret.until > Date.now() ? [wh.previous_secret.secret] : []),
    ];

    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await request(wh.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'loyalty-gateway-webhooks',
          ...signedHeaders(secrets, event.id, body),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      status = res.statusCode;
      await res.body.dump().catch(() => undefined);
      if (status < 200 || status > 299) error = `the receiver answered ${status}`;
    } catch (err) {
      error = describe(err, options.timeoutMs);
    }
    const durationMs = Math.round(performance.now() - started);
    const at = Date.now();
    const delivered = error === null;
    this.deps.metrics?.webhookDeliveries.inc({ outcome: delivered ? 'delivered' : 'failed' });

    let outcome: DeliveryAttempt['outcome'] = 'delivered';
    let next: number | null = null;
    if (delivered) {
      if (wh.failing_since !== null) await subscriptions.patch(wh.id, { failing_since: null });
    } else {
      const since = wh.failing_since ? Date.parse(wh.failing_since) : at;
      if (wh.failing_since === null) await subscriptions.patch(wh.id, { failing_since: isoTime(at) }, true);
      const delay = options.retryDelaysMs[attempt - 1];
      if (at - since >= options.disableAfterMs) {
        outcome = 'failed';
        const reason = `Every delivery failed since ${isoTime(since)} (the last: ${error}).`;
        await subscriptions.patch(wh.id, { disabled: true, disabled_reason: reason });
        log.warn({ webhook: wh.id, reason }, 'webhook subscription disabled');
      } else if (delay === undefined) {
        outcome = 'failed';
      } else {
        outcome = 'retrying';
        next = at + delay;
        await this.queue.add(
          'deliver',
          { eventId, webhookId, attempt: attempt + 1 },
          jobOpts(eventId, webhookId, attempt + 1, delay),
        );
      }
    }
    const record: DeliveryAttempt = {
      event_id: eventId,
      event_type: event.type,
      attempt,
      at: isoTime(at),
      status_code: status,
      duration_ms: durationMs,
      error,
      outcome,
      next_attempt_at: next === null ? null : isoTime(next),
    };
    const key = keys.webhookDeliveries(wh.id);
    await redis
      .multi()
      .lpush(key, JSON.stringify(record))
      .ltrim(key, 0, ATTEMPTS_KEPT - 1)
      .pexpire(key, ATTEMPTS_TTL_MS)
      .exec();
  }
}

function jobOpts(eventId: string, webhookId: string, attempt: number, delay: number, again?: number) {
  return {
    // One job per (event, subscription, attempt): a repeated hand-over adds nothing. A redelivery is a new series.
    jobId: `${eventId}.${webhookId}.${attempt}${again ? `.r${again}` : ''}`,
    delay,
    attempts: 1,
    removeOnComplete: { age: 86_400 },
    removeOnFail: { age: 86_400 },
  };
}

function jobOf(eventId: string, webhookId: string, attempt: number, delay: number) {
  return { name: 'deliver', data: { eventId, webhookId, attempt }, opts: jobOpts(eventId, webhookId, attempt, delay) };
}

/** dns.lookup, refusing private addresses (the connection is made to what it returns). */
function guardedLookup(
  hostname: string,
  options: object,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) {
      const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${bad.address}, a private address`);
      e.code = 'EPRIVATEADDRESS';
      return callback(e, '', 0);
    }
    if ((options as { all?: boolean }).all) return callback(null, list);
    const first = list[0]!;
    callback(null, first.address, first.family);
  });
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT')
    return `no answer within ${timeoutMs} ms`;
  const code = e.code ?? e.cause?.code;
  const message = e.cause?.message ?? e.message;
  return code ? `${code}: ${message}` : message;
}
