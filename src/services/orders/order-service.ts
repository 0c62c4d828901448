import { createHash } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { fieldError, GatewayError } from '../../domain/errors.js';
import type { Link, Order, OrderStatus, ShopSettings } from '../../domain/shops.js';
import type { EventLog } from '../../events/event-log.js';
import { ulid } from '../../lib/ids.js';
import { minorToDecimal } from '../../lib/money.js';
import { isoTime, sleep } from '../../lib/time.js';
import type { KeySpace } from '../../redis/keys.js';
import { tryLock, unlock } from '../../redis/lock.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import type { CallContext } from '../points/engine.js';
import type { PointsService } from '../points/points-service.js';
import type { CardService } from '../resources/card-service.js';
import { type OrderFacts, pointsFor, type Reading } from './platforms.js';

/** An order as kept: the public view, and what it is computed from. */
interface StoredOrder extends Order {
  /** Minor units. */
  basis: number | null;
  refunds: Record<string, number>;
  /** Refund id -> points taken back for it (0 when it took none back). */
  applied: Record<string, number>;
  refundedInFull: boolean;
  /** Why it is ignored, when a rule of the shop (not the state of the order) decides it. */
  ignoredBecause: string | null;
  unmatchedReported: boolean;
}

interface OrderJob {
  shopId: string;
  /** A delivery's reading, or (activate) the order whose pending points' window has closed. */
  reading?: Reading;
  activate?: string;
}

/** How long deliveries are remembered (their ids de-duplicate them) and orders kept. */
const DELIVERY_KEPT_S = 7 * 86_400;
const ORDER_TTL_MS = 400 * 86_400_000;
const LOCK_MS = 30_000;
/** Writes an order only while the lock is still the writer's (a lock that lapsed must not let two writers race). */
const FENCED_WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[5])
return 1
`;

/** Takes a link's index entries only when none is taken (else answers the link that holds one), then writes it. */
const LINK = `
for i = 3, #KEYS do
  local held = redis.call('GET', KEYS[i])
  if held and redis.call('EXISTS', ARGV[3] .. held) == 1 then return held end
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[1]) end
return ARGV[1]
`;

type OrderEventType = 'order.awarded' | 'order.unmatched' | 'points.activated';
/** The events an order's processing made, until the order is written (kept beside it, never stored). */
const EVENTS_OF = new WeakMap<object, { type: OrderEventType; data: Record<string, unknown> }[]>();

/** An order that cannot be processed now: the job retries; a replay answers 409 with Retry-After. */
function inFlight(id: string, why: string): GatewayError {
  return new GatewayError('idempotency_in_flight', `Order ${id} cannot be processed now: ${why}; retry shortly.`, {
    retryAfter: '2',
  });
}

/**
 * Shop orders in: a platform's signed delivery is recorded as a job (its delivery id names it: a
 * delivery seen before adds nothing) and answered at once; a worker folds its facts into the
 * order and brings the order's transactions in line with them:
 * - paid: one award, keyed by the order (two deliveries of one payment award once);
 * - each refund: a reversal of the award in proportion to the amount refunded, keyed by the refund
 *   id; together they never take back more than the award, and the one that completes the refund
 *   takes what is left;
 * - cancelled or refunded in full: a reversal of what is left.
 * The customer is found through a link (shop customer id, then email), else enrolled (a card
 * issued on the shop's connection and linked) when the shop says so, else the order is
 * `unmatched` until a link is made and it is replayed.
 */
export class OrderService {
  private queueOf: Queue<OrderJob> | null = null;
  private worker: Worker<OrderJob> | null = null;
  readonly shops: Map<string, ShopSettings>;

  constructor(
    private readonly deps: {
      redis: Redis;
      keys: KeySpace;
      shops: ShopSettings[];
      connections: ConnectionRegistry;
      points: PointsService;
      cards: CardService;
      events: EventLog;
      bull: () => Redis;
      log: FastifyBaseLogger;
    },
  ) {
    this.shops = new Map(deps.shops.map((s) => [s.id, s]));
  }

  shop(id: string): ShopSettings {
    const s = this.shops.get(id);
    if (!s) throw new GatewayError('shop_not_found', `There is no shop "${id}" in the configuration.`);
    return s;
  }

  /** The orders queue, for the console's view of the queues. */
  get jobs(): Queue {
    return this.queue;
  }

  private get queue(): Queue<OrderJob> {
    if (!this.queueOf) {
      this.queueOf = new Queue('orders', { connection: this.deps.bull(), prefix: this.deps.keys.queuePrefix });
      this.queueOf.on('error', (err) => this.deps.log.warn({ err: err.message }, 'order queue error'));
    }
    return this.queueOf;
  }

  /** Records a verified delivery for the worker; a delivery id seen before adds nothing. */
  async receive(shop: ShopSettings, deliveryId: string, reading: Reading): Promise<void> {
    const jobId = `d${createHash('sha256').update(`${shop.id}\n${deliveryId}`).digest('hex').slice(0, 32)}`;
    await this.queue.add(
      'delivery',
      { shopId: shop.id, reading },
      {
        jobId,
        attempts: 8,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: DELIVERY_KEPT_S },
        removeOnFail: { age: DELIVERY_KEPT_S },
      },
    );
  }

  startWorker(lockMs: number): void {
    this.worker = new Worker<OrderJob>('orders', async (job) => this.run(job), {
      connection: this.deps.bull(),
      prefix: this.deps.keys.queuePrefix,
      concurrency: 4,
      lockDuration: lockMs,
      maxStalledCount: 1000,
    });
    this.worker.on('error', (err) => this.deps.log.warn({ err: err.message }, 'order worker error'));
    this.worker.on('failed', (job, err) =>
      this.deps.log.warn({ job: job?.id, err: err.message }, 'order delivery failed (retried while attempts remain)'),
    );
  }

  async stop(graceMs: number): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    await Promise.race([w.close(), sleep(graceMs)]);
    await w.close(true).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.queueOf?.close().catch(() => undefined);
  }

  private async run(job: Job<OrderJob>): Promise<void> {
    const shop = this.shops.get(job.data.shopId);
    if (!shop) return;
    if (job.data.activate !== undefined) {
      await this.withOrder(shop, job.data.activate, async (o) => (o ? this.settle(shop, o) : null));
      return;
    }
    const r = job.data.reading;
    if (!r || r.kind === 'invalid') return;
    if (r.kind === 'ignored') {
      if (r.orderId)
        await this.withOrder(shop, r.orderId, async (o) => (o === null ? ignoredOrder(shop, r.orderId!, r.reason) : o));
      return;
    }
    await this.withOrder(shop, r.facts.orderId, async (o) =>
      this.settle(shop, merge(o ?? newOrder(shop, r.facts.orderId), r.facts, shop)),
    );
  }

  /** Replays an order (an unmatched one, once its customer is linked). */
  async replay(id: string): Promise<Order> {
    const { shop, orderId } = this.parseId(id);
    let out: StoredOrder | null = null;
    await this.withOrder(shop, orderId, async (o) => {
      if (!o) throw new GatewayError('order_not_found', `No order ${id}.`);
      out = await this.settle(shop, o);
      return out;
    });
    return publicOrder(out!);
  }

  async get(id: string): Promise<Order | null> {
    const { shop, orderId } = this.parseId(id);
    const o = await this.load(shop.id, orderId);
    return o ? publicOrder(await this.refreshed(o)) : null;
  }

  /** Orders of a shop, newest first, optionally of one status. */
  async list(q: { shopId: string; status?: OrderStatus; limit: number; before?: string }): Promise<{
    data: Order[];
    next: string | null;
  }> {
    const shop = this.shop(q.shopId);
    const data: Order[] = [];
    let before = q.before ? Number(q.before) : Number.POSITIVE_INFINITY;
    for (let rounds = 0; rounds < 20 && data.length < q.limit; rounds++) {
      const ids = (await this.deps.redis.zrevrangebyscore(
        this.deps.keys.ordersOf(shop.id),
        `(${before}`,
        '-inf',
        'WITHSCORES',
        'LIMIT',
        0,
        q.limit,
      )) as string[];
      if (ids.length === 0) return { data, next: null };
      for (let i = 0; i < ids.length; i += 2) {
        before = Number(ids[i + 1]);
        const o = await this.load(shop.id, ids[i]!);
        if (!o || (q.status !== undefined && o.status !== q.status)) continue;
        data.push(publicOrder(o));
        if (data.length === q.limit) return { data, next: String(before) };
      }
      if (ids.length / 2 < q.limit) return { data, next: null };
    }
    return { data, next: data.length === q.limit ? String(before) : null };
  }

  // ---- links ----

  async link(body: { shop_id: string; shop_customer_id?: string; email?: string; card_id: string }): Promise<{
    link: Link;
    created: boolean;
  }> {
    const shop = this.shop(body.shop_id);
    if (body.shop_customer_id === undefined && body.email === undefined) {
      throw new GatewayError('validation_failed', 'A link names the shop customer: shop_customer_id or email.', {
        errors: [{ field: '/shop_customer_id', message: 'shop_customer_id or email is required' }],
      });
    }
    this.deps.connections.forCard(body.card_id);
    const email = body.email?.toLowerCase() ?? null;
    const { redis, keys } = this.deps;
    const indexes = [
      ...(body.shop_customer_id !== undefined ? [keys.linkByCustomer(shop.id, body.shop_customer_id)] : []),
      ...(email !== null ? [keys.linkByEmail(shop.id, email)] : []),
    ];
    const link: Link = {
      id: `lnk_${ulid()}`,
      shop_id: shop.id,
      shop_customer_id: body.shop_customer_id ?? null,
      email,
      card_id: body.card_id,
      created_at: isoTime(Date.now()),
    };
    // In one step: the customer's index entries are taken only when none names a link yet (two enrolments at once
    // make one link). The same link again answers it; a customer already linked to another card is refused.
    const taken = (await redis.eval(
      LINK,
      2 + indexes.length,
      keys.link(link.id),
      keys.linksOfCard(link.card_id),
      ...indexes,
      link.id,
      JSON.stringify(link),
      keys.link(''),
    )) as string;
    if (taken === link.id) return { link, created: true };
    const l = await this.getLink(taken);
    if (!l)
      throw new GatewayError('idempotency_in_flight', 'The customer is being linked; retry shortly.', {
        retryAfter: '1',
      });
    if (l.card_id !== body.card_id) {
      throw new GatewayError(
        'link_exists',
        `This customer of shop ${shop.id} is linked to card ${l.card_id} (link ${l.id}); delete that link first.`,
      );
    }
    return { link: l, created: false };
  }

  async getLink(id: string): Promise<Link | null> {
    if (!/^lnk_[0-9A-Z]{26}$/.test(id)) return null;
    const raw = await this.deps.redis.get(this.deps.keys.link(id));
    return raw ? (JSON.parse(raw) as Link) : null;
  }

  async linksOfCard(cardId: string): Promise<Link[]> {
    const ids = await this.deps.redis.smembers(this.deps.keys.linksOfCard(cardId));
    const links = await Promise.all(ids.sort().map((id) => this.getLink(id)));
    return links.filter((l): l is Link => l !== null);
  }

  async unlink(id: string): Promise<boolean> {
    const l = await this.getLink(id);
    if (!l) return false;
    const { redis, keys } = this.deps;
    const m = redis.multi().del(keys.link(id)).srem(keys.linksOfCard(l.card_id), id);
    // Only the index entries that still name this link.
    if (l.shop_customer_id !== null && (await redis.get(keys.linkByCustomer(l.shop_id, l.shop_customer_id))) === id)
      m.del(keys.linkByCustomer(l.shop_id, l.shop_customer_id));
    if (l.email !== null && (await redis.get(keys.linkByEmail(l.shop_id, l.email))) === id)
      m.del(keys.linkByEmail(l.shop_id, l.email));
    await m.exec();
    return true;
  }

  /** The card linked to a shop's customer id, or null. */
  async cardOfCustomer(shopId: string, customerId: string): Promise<string | null> {
    const id = await this.deps.redis.get(this.deps.keys.linkByCustomer(shopId, customerId));
    return id === null ? null : ((await this.getLink(id))?.card_id ?? null);
  }

  private async cardFor(shop: ShopSettings, customer: Order['customer']): Promise<string | null> {
    const { redis, keys } = this.deps;
    const ids = [
      customer.shop_customer_id !== null
        ? await redis.get(keys.linkByCustomer(shop.id, customer.shop_customer_id))
        : null,
      customer.email !== null ? await redis.get(keys.linkByEmail(shop.id, customer.email)) : null,
    ];
    for (const id of ids) {
      if (id === null) continue;
      const l = await this.getLink(id);
      if (l) return l.card_id;
    }
    return null;
  }

  /** A card on the shop's connection for a customer without one, linked; null with the reason when it cannot. */
  private async enroll(shop: ShopSettings, o: StoredOrder): Promise<{ card: string } | { reason: string }> {
    const who = o.customer.shop_customer_id ?? o.customer.email;
    if (who === null) return { reason: 'the order names no customer (no customer id, no email) to enroll' };
    try {
      const conn = this.deps.connections.get(shop.connection);
      const body = conn.provider
        ? {
            connection: shop.connection,
            ...(shop.program_id !== undefined ? { program_id: shop.program_id } : {}),
            customer: o.customer.email !== null ? { email: o.customer.email } : {},
          }
        : {
            connection: shop.connection,
            external_reference: `${shop.id}:${who}`,
            ...(o.customer.email !== null ? { customer: { email: o.customer.email } } : {}),
          };
      const res = await this.deps.cards.issue(body as never, {
        clientId: `shop:${shop.id}`,
        idempotencyKey: `enroll:${who}`,
        method: 'POST',
        path: '/v1/cards',
        body,
      });
      const card = (res.answer.body as { id: string }).id;
      await this.link({
        shop_id: shop.id,
        card_id: card,
        ...(o.customer.shop_customer_id !== null ? { shop_customer_id: o.customer.shop_customer_id } : {}),
        ...(o.customer.email !== null ? { email: o.customer.email } : {}),
      });
      return { card };
    } catch (err) {
      if (err instanceof GatewayError && err.code !== 'service_unavailable' && err.code !== 'idempotency_in_flight') {
        return { reason: `enrolling the customer failed: ${err.message}` };
      }
      throw err;
    }
  }

  /** Brings the order's transactions in line with its facts, and its status with both. */
  private async settle(shop: ShopSettings, o: StoredOrder): Promise<StoredOrder> {
    const expected =
      shop.currency ?? (this.deps.connections.get(shop.connection).config as { currency?: string }).currency;
    if (expected !== undefined && o.currency !== null && o.currency !== expected) {
      o.ignoredBecause = `the order is in ${o.currency}; shop ${shop.id} earns on ${expected}`;
    }
    if (
      o.ignoredBecause === null &&
      o.paid &&
      o.basis !== null &&
      o.points === 0 &&
      !o.transactions.some((t) => t.kind === 'award')
    ) {
      o.points = pointsFor(o.basis, shop.earn);
      if (o.points === 0) {
        o.ignoredBecause =
          shop.earn.minOrder !== undefined && o.basis < Math.round(Number(shop.earn.minOrder) * 100)
            ? `the order (${minorToDecimal(o.basis)}) is below the shop's minimum of ${shop.earn.minOrder}`
            : 'the order earns 0 points';
      }
    }
    if (o.ignoredBecause === null && (o.paid || o.cancelled || Object.keys(o.refunds).length > 0)) {
      if (o.card_id === null) {
        o.card_id = await this.cardFor(shop, o.customer);
        if (o.card_id === null && shop.enroll) {
          const got = await this.enroll(shop, o);
          if ('card' in got) o.card_id = got.card;
          else o.reason = got.reason;
        }
      }
      if (o.card_id !== null && o.paid && o.points > 0) await this.apply(shop, o);
    }
    o.status = statusOf(o);
    if (o.status === 'ignored') o.reason = o.ignoredBecause ?? o.reason;
    else if (o.status === 'unmatched') {
      o.reason ??= `no card is linked to this customer of shop ${shop.id} (${o.customer.shop_customer_id ?? o.customer.email ?? 'unknown'})`;
      if (!o.unmatchedReported) {
        o.unmatchedReported = true;
        await this.event('order.unmatched', o);
      }
    } else o.reason = null;
    o.updated_at = isoTime(Date.now());
    return o;
  }

  /** The award, then the reversals its refunds and cancellation call for. */
  private async apply(shop: ShopSettings, o: StoredOrder): Promise<void> {
    const ctx = (kind: string): CallContext => ({
      clientId: `shop:${shop.id}`,
      method: 'POST',
      path: `/v1/hooks/${shop.platform}/${shop.id}#${kind}`,
      body: { order: o.order_id },
      respondAsync: true,
    });
    let award = o.transactions.find((t) => t.kind === 'award');
    if (!award && shop.pendingDays !== undefined) {
      // The return window: the points wait here, and refunds inside it take their share off before any award.
      o.activates_at ??= isoTime(Date.parse(o.created_at) + shop.pendingDays * 86_400_000);
      this.takeOffPending(o);
      if (o.points - o.points_reversed <= 0 || Date.parse(o.activates_at) > Date.now()) {
        await this.schedule(shop, o);
        return;
      }
    }
    if (!award) {
      const awardPoints = o.points - o.points_reversed;
      const out = await this.deps.points.transact(
        {
          type: 'award',
          card_id: o.card_id!,
          points: awardPoints,
          reason: `Order ${o.name ?? o.order_id}`.slice(0, 500),
          reference_id: `${shop.id}:order:${o.order_id}`.slice(0, 200),
          metadata: { shop_id: shop.id, order_id: o.order_id },
        },
        ctx('award'),
      );
      award = {
        id: out.transaction.id,
        kind: 'award',
        points: awardPoints,
        status: out.transaction.status,
        refund_id: null,
      };
      o.transactions.push(award);
      if (o.activates_at !== null) {
        await this.deps.redis.srem(this.deps.keys.pendingOfCard(o.card_id!), o.id);
        await this.event('points.activated', o);
      }
      await this.event('order.awarded', o);
    }
    if (award.status === 'queued' || award.status === 'processing') {
      // At a provider the award is settled by a worker: read it as it stands now.
      const [now] = await this.deps.points.views([award.id]);
      if (now) award.status = now.status;
    }
    const owesReversal =
      o.cancelled || o.refundedInFull || Object.keys(o.refunds).some((id) => o.applied[id] === undefined);
    if (award.status === 'queued' || award.status === 'processing') {
      // A reversal needs the award applied: the delivery is tried again (job backoff) once it has settled.
      if (owesReversal) throw inFlight(o.id, 'its award is still being applied at the provider');
      return;
    }
    if (award.status !== 'succeeded') return;
    const reverse = async (
      points: number | undefined,
      ref: string,
      kind: 'refund' | 'cancel',
      refundId: string | null,
    ) => {
      try {
        const out = await this.deps.points.reverse(
          award!.id,
          {
            ...(points !== undefined ? { points } : {}),
            reason: `Order ${o.name ?? o.order_id}: ${kind}`,
            reference_id: ref.slice(0, 200),
          },
          ctx(kind),
        );
        const moved = Math.abs(out.transaction.points ?? points ?? 0);
        o.transactions.push({
          id: out.transaction.id,
          kind,
          points: moved,
          status: out.transaction.status,
          refund_id: refundId,
        });
        o.points_reversed += moved;
        return moved;
      } catch (err) {
        // Nothing left to take back (all reversed already) is no failure of the order.
        if (err instanceof GatewayError && err.code === 'already_reversed') return 0;
        if (err instanceof GatewayError && err.code !== 'service_unavailable' && err.code !== 'idempotency_in_flight') {
          o.reason = `${kind} ${refundId ?? ''}: ${err.message}`.trim();
          return 0;
        }
        throw err;
      }
    };
    if (o.cancelled || o.refundedInFull) {
      if (o.points_reversed < o.points && !o.transactions.some((t) => t.kind === 'cancel')) {
        await reverse(undefined, `${shop.id}:order:${o.order_id}:${o.cancelled ? 'cancel' : 'refund'}`, 'cancel', null);
      }
      for (const id of Object.keys(o.refunds)) o.applied[id] ??= 0;
      return;
    }
    let refunded = Object.entries(o.refunds)
      .filter(([id]) => o.applied[id] !== undefined)
      .reduce((n, [, a]) => n + a, 0);
    for (const [id, amount] of Object.entries(o.refunds)) {
      if (o.applied[id] !== undefined) continue;
      refunded += amount;
      // The share of the award the refunds so far cover; the refund that completes it takes what is left.
      const target = refunded >= o.basis! ? o.points : Math.floor((o.points * refunded) / o.basis!);
      const take = Math.max(0, Math.min(target, o.points) - o.points_reversed);
      o.applied[id] = take > 0 ? await reverse(take, `${shop.id}:refund:${id}`, 'refund', id) : 0;
    }
  }

  /**
   * Before the award: refunds and a cancellation take their share off the pending points, with no
   * transaction (nothing was given yet); they count as reversed, so the award is what is left.
   */
  private takeOffPending(o: StoredOrder): void {
    if (o.cancelled || o.refundedInFull) {
      o.points_reversed = o.points;
      for (const id of Object.keys(o.refunds)) o.applied[id] ??= 0;
      return;
    }
    const refunded = Object.values(o.refunds).reduce((a, b) => a + b, 0);
    const target = refunded >= o.basis! ? o.points : Math.floor((o.points * refunded) / o.basis!);
    o.points_reversed = Math.max(o.points_reversed, target);
    for (const id of Object.keys(o.refunds)) o.applied[id] ??= 0;
  }

  /** Pending points: counted on the card (the balance's `pending`) and activated by a delayed job. */
  private async schedule(shop: ShopSettings, o: StoredOrder): Promise<void> {
    const { redis, keys } = this.deps;
    const left = o.points - o.points_reversed;
    if (left <= 0) {
      await redis.srem(keys.pendingOfCard(o.card_id!), o.id);
      return;
    }
    await redis.sadd(keys.pendingOfCard(o.card_id!), o.id);
    const delay = Math.max(0, Date.parse(o.activates_at!) - Date.now());
    await this.queue.add(
      'activate',
      { shopId: shop.id, activate: o.order_id },
      {
        jobId: `a${createHash('sha256').update(o.id).digest('hex').slice(0, 32)}`,
        delay,
        attempts: 8,
        backoff: { type: 'exponential', delay: 1000 },
        // Gone once done or given up: a later delivery or replay can schedule the activation again.
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Points of a card's orders still in their return window (the balance's `pending`). */
  async pendingOn(cardId: string): Promise<number> {
    const { redis, keys } = this.deps;
    const ids = await redis.smembers(keys.pendingOfCard(cardId));
    let n = 0;
    for (const id of ids) {
      const i = id.indexOf(':');
      const o = await this.load(id.slice(0, i), id.slice(i + 1));
      if (o && o.card_id === cardId && !o.transactions.some((t) => t.kind === 'award'))
        n += Math.max(0, o.points - o.points_reversed);
    }
    return n;
  }

  /**
   * An event of the order, recorded once the order is written (withOrder): a delivery that fails after the award
   * and is tried again must not report the award twice.
   */
  private async event(type: OrderEventType, o: StoredOrder): Promise<void> {
    EVENTS_OF.set(o, [...(EVENTS_OF.get(o) ?? []), { type, data: { ...publicOrder(o) } }]);
  }

  /** Runs `change` on the order under its lock (one delivery of an order at a time, across processes). */
  private async withOrder(
    shop: ShopSettings,
    orderId: string,
    change: (o: StoredOrder | null) => Promise<StoredOrder | null>,
  ): Promise<void> {
    const { redis, keys } = this.deps;
    const lock = keys.lock(`order:${shop.id}:${orderId}`);
    let token: string | null = null;
    for (let i = 0; i < 50 && token === null; i++) {
      token = await tryLock(redis, lock, LOCK_MS);
      if (token === null) await sleep(100);
    }
    if (token === null) throw inFlight(`${shop.id}:${orderId}`, 'another delivery of it is being processed');
    // Held while the work lasts (a provider call may be slow); the write checks it is still ours.
    const renew = setInterval(() => {
      redis.set(lock, token, 'PX', LOCK_MS, 'XX').catch(() => undefined);
    }, LOCK_MS / 3);
    try {
      const before = await this.load(shop.id, orderId);
      const after = await change(before);
      if (after) {
        const written = await redis.eval(
          FENCED_WRITE,
          3,
          lock,
          keys.order(shop.id, orderId),
          keys.ordersOf(shop.id),
          token,
          JSON.stringify(after),
          ORDER_TTL_MS,
          Date.parse(after.created_at),
          orderId,
        );
        if (written !== 1) throw inFlight(`${shop.id}:${orderId}`, 'its lock was lost while it was processed');
        for (const e of EVENTS_OF.get(after) ?? []) {
          await this.deps.events
            .record(e.type, e.data)
            .catch((err: Error) =>
              this.deps.log.warn({ err: err.message, order: after.id }, 'order event not recorded'),
            );
        }
      }
    } finally {
      clearInterval(renew);
      await unlock(redis, lock, token);
    }
  }

  private async load(shopId: string, orderId: string): Promise<StoredOrder | null> {
    const raw = await this.deps.redis.get(this.deps.keys.order(shopId, orderId));
    return raw ? (JSON.parse(raw) as StoredOrder) : null;
  }

  /** The statuses of its transactions as they stand now (a provider's may have settled since). */
  private async refreshed(o: StoredOrder): Promise<StoredOrder> {
    if (o.transactions.length === 0) return o;
    const views = await this.deps.points.views(o.transactions.map((t) => t.id));
    const byId = new Map(views.map((v) => [v.id, v]));
    for (const t of o.transactions) t.status = byId.get(t.id)?.status ?? t.status;
    return o;
  }

  private parseId(id: string): { shop: ShopSettings; orderId: string } {
    const i = id.indexOf(':');
    if (i <= 0 || i === id.length - 1) throw fieldError('id', 'must be <shop id>:<order id>');
    return { shop: this.shop(id.slice(0, i)), orderId: id.slice(i + 1) };
  }
}

function newOrder(shop: ShopSettings, orderId: string): StoredOrder {
  const now = isoTime(Date.now());
  return {
    id: `${shop.id}:${orderId}`,
    shop_id: shop.id,
    order_id: orderId,
    name: null,
    status: 'received',
    reason: null,
    customer: { shop_customer_id: null, email: null },
    card_id: null,
    currency: null,
    basis_amount: null,
    refunded_amount: '0.00',
    points: 0,
    points_reversed: 0,
    activates_at: null,
    paid: false,
    cancelled: false,
    transactions: [],
    created_at: now,
    updated_at: now,
    basis: null,
    refunds: {},
    applied: {},
    refundedInFull: false,
    ignoredBecause: null,
    unmatchedReported: false,
  };
}

function ignoredOrder(shop: ShopSettings, orderId: string, reason: string): StoredOrder {
  return { ...newOrder(shop, orderId), status: 'ignored', reason };
}

/** Folds a delivery's facts into the order: what is known stays known. */
function merge(o: StoredOrder, f: OrderFacts, shop: ShopSettings): StoredOrder {
  o.name ??= f.name;
  o.currency ??= f.currency;
  o.customer.shop_customer_id ??= f.customer.id;
  o.customer.email ??= f.customer.email;
  if (f.paid && !o.paid) {
    o.paid = true;
    o.basis = shop.earn.basis === 'subtotal' ? f.paid.subtotal : f.paid.total;
    o.basis_amount = minorToDecimal(o.basis);
  }
  // A subtotal basis counts the goods refunded (not shipping or taxes paid back), where the platform says.
  for (const r of f.refunds)
    o.refunds[r.id] ??= shop.earn.basis === 'subtotal' && r.subtotal !== null ? r.subtotal : r.amount;
  o.refundedInFull ||= f.refundedInFull;
  o.cancelled ||= f.cancelled;
  o.refunded_amount = minorToDecimal(Object.values(o.refunds).reduce((a, b) => a + b, 0));
  if (o.status === 'ignored' && o.ignoredBecause === null) o.status = 'received';
  return o;
}

function statusOf(o: StoredOrder): OrderStatus {
  if (o.ignoredBecause !== null) return 'ignored';
  if (!o.paid && !o.cancelled && Object.keys(o.refunds).length === 0)
    return o.status === 'ignored' ? 'ignored' : 'received';
  if (o.card_id === null) return 'unmatched';
  if (!o.transactions.some((t) => t.kind === 'award')) {
    if (o.activates_at !== null) return o.points_reversed >= o.points ? 'reversed' : 'pending';
    return o.paid ? 'unmatched' : 'received';
  }
  if (o.points_reversed >= o.points && o.points > 0) return 'reversed';
  if (o.points_reversed > 0) return 'partially_reversed';
  return 'awarded';
}

function publicOrder(o: StoredOrder): Order {
  const {
    basis: _b,
    refunds: _r,
    applied: _a,
    refundedInFull: _f,
    ignoredBecause: _i,
    unmatchedReported: _u,
    ...view
  } = o;
  return structuredClone(view);
}
