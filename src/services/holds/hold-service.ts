import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { GatewayError } from '../../domain/errors.js';
import type { Hold } from '../../domain/holds.js';
import type { Unit } from '../../domain/units.js';
import type { EventLog } from '../../events/event-log.js';
import { scopeOf, type WriteRequest } from '../../idempotency/key.js';
import type { RequestClaims } from '../../idempotency/request-claims.js';
import { ulid } from '../../lib/ids.js';
import { isoTime } from '../../lib/time.js';
import type { KeySpace } from '../../redis/keys.js';
import { tryLock, unlock } from '../../redis/lock.js';
import type { CallContext } from '../points/engine.js';
import type { PointsService } from '../points/points-service.js';

/** A hold as kept: the view, and whether its unused points are still to be given back. */
interface StoredHold extends Hold {
  /** Points to give back by the hold's compensating award (reversal), not yet given (a retry owes them). */
  owed: number;
}

const HOLD_TTL_AFTER_END_MS = 30 * 86_400_000;
const TRANSITION = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 'gone' end
local h = cjson.decode(raw)
if h.status ~= 'active' then return 'not_active|' .. h.status end
h.status = ARGV[1]
h.owed = tonumber(ARGV[2])
if ARGV[1] == 'captured' then h.captured_points = tonumber(ARGV[3]) end
h.updated_at = ARGV[4]
redis.call('SET', KEYS[1], cjson.encode(h), 'KEEPTTL')
redis.call('ZREM', KEYS[2], h.id)
redis.call('SREM', KEYS[3], h.id)
-- What it owes stays owed until given back: a crash before then leaves it to the sweep.
if h.owed > 0 then redis.call('ZADD', KEYS[4], tonumber(ARGV[5]), h.id) end
return 'ok'
`;

/**
 * Holds at checkout: points reserved while a customer pays. A hold redeems its points at once, on
 * every connection (at an external provider it is the only way to be sure the points are there
 * and no one else spends them), so held points are out of `available` until the hold ends:
 * - capture keeps the redemption (a partial capture gives the rest back);
 * - release, or the hold's time running out, gives them all back (a reversal of the redemption,
 *   with the expiry they had on the built-in ledger; a compensating award at a provider).
 * One of capture, release and expiry wins (an atomic transition from `active`); the others
 * answer 409 hold_not_active. Each call is idempotent by Idempotency-Key, and the give-back by
 * the hold's own reference, so a retried or crashed one never gives back twice.
 */
export class HoldService {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      redis: Redis;
      keys: KeySpace;
      points: PointsService;
      requests: RequestClaims;
      events: EventLog;
      log: FastifyBaseLogger;
    },
  ) {}

  /** Points held on a card by its active holds, in its native unit (what `held` shows beside `available`). */
  async heldOn(cardId: string, unit: Unit): Promise<number> {
    const { redis, keys } = this.deps;
    const ids = await redis.smembers(keys.holdsOfCard(cardId));
    if (ids.length === 0) return 0;
    const raw = await redis.mget(ids.map((id) => keys.hold(id)));
    return raw.reduce((n, r) => {
      const h = r ? (JSON.parse(r) as StoredHold) : null;
      return h && h.status === 'active' && h.unit === unit ? n + h.points : n;
    }, 0);
  }

  async create(
    body: { card_id: string; points: number; unit?: Unit; reference_id: string; ttl_seconds?: number },
    req: WriteRequest,
  ): Promise<{ hold: Hold; replayed: boolean; created: boolean }> {
    const { redis, keys, requests } = this.deps;
    const { answer, replayed } = await requests.run(scopeOf(keys, req), {
      newResource: () => `hld_${ulid()}`,
      takeover: 'resume',
      run: async (holdId) => {
        // One hold per card and reference (the checkout), taken atomically before anything is redeemed: asking
        // again answers it; a request racing the first is told to retry.
        const refKey = keys.holdByReference(body.card_id, body.reference_id);
        const ttl = (body.ttl_seconds ?? 900) * 1000;
        if ((await redis.set(refKey, holdId, 'PX', ttl + HOLD_TTL_AFTER_END_MS, 'NX')) !== 'OK') {
          const existing = await redis.get(refKey);
          if (existing !== null && existing !== holdId) {
            const h = await this.load(existing);
            if (h) return { kind: 'existing', body: view(h) };
            throw new GatewayError('idempotency_in_flight', 'A hold for this reference is being made; retry shortly.', {
              retryAfter: '1',
            });
          }
        }
        const now = Date.now();
        const redeemed = await this.deps.points.transact(
          {
            type: 'redeem',
            card_id: body.card_id,
            points: body.points,
            ...(body.unit !== undefined ? { unit: body.unit } : {}),
            reason: `Held at checkout (${body.reference_id})`.slice(0, 500),
            // The hold's own id: a reference reused once its hold is long gone makes a new redemption.
            reference_id: `hold:${holdId}`,
            metadata: { hold_id: holdId },
          },
          ctxOf(req, 'hold'),
        );
        const t = redeemed.transaction;
        const hold: StoredHold = {
          id: holdId,
          card_id: body.card_id,
          connection: t.connection,
          points: body.points,
          unit: t.unit,
          reference_id: body.reference_id,
          status: 'active',
          expires_at: isoTime(now + ttl),
          captured_points: null,
          redemption_id: t.id,
          release_id: null,
          created_at: isoTime(now),
          updated_at: isoTime(now),
          owed: 0,
        };
        await redis
          .multi()
          .set(keys.hold(holdId), JSON.stringify(hold), 'PX', ttl + HOLD_TTL_AFTER_END_MS)
          .zadd(keys.holdsDue, now + ttl, holdId)
          .sadd(keys.holdsOfCard(body.card_id), holdId)
          .exec();
        return { kind: 'created', body: view(hold) };
      },
    });
    return { hold: answer.body as Hold, replayed, created: answer.kind === 'created' };
  }

  async get(id: string): Promise<Hold | null> {
    const h = await this.load(id);
    return h ? view(h) : null;
  }

  /** Redeems what the checkout took (all, or `points` of it: the rest is given back). */
  async capture(id: string, points: number | undefined, req: WriteRequest): Promise<{ hold: Hold; replayed: boolean }> {
    return this.end(id, 'captured', points, req);
  }

  async release(id: string, req: WriteRequest): Promise<{ hold: Hold; replayed: boolean }> {
    return this.end(id, 'released', undefined, req);
  }

  private async end(
    id: string,
    to: 'captured' | 'released' | 'expired',
    capturePoints: number | undefined,
    req: WriteRequest | null,
  ): Promise<{ hold: Hold; replayed: boolean }> {
    const run = async (): Promise<{ kind: 'ok'; body: Hold }> => {
      const h = await this.load(id);
      if (!h) throw new GatewayError('hold_not_found', `No hold ${id}.`);
      if (capturePoints !== undefined && capturePoints > h.points) {
        throw new GatewayError('validation_failed', `points: the hold is for ${h.points}; at most that is captured.`, {
          errors: [{ field: '/points', message: `must be at most ${h.points}` }],
        });
      }
      // An expired hold whose sweep has not come yet is expired: checked here, not left to the clock of the sweep.
      if (h.status === 'active' && to !== 'expired' && Date.parse(h.expires_at) <= Date.now()) {
        await this.end(id, 'expired', undefined, null).catch(() => undefined);
        throw notActive(id, 'expired');
      }
      if (to === 'captured' && h.status === 'active') {
        // At a provider a hold may be answered while its redemption is still queued: what is captured must have
        // been taken. One that failed took nothing: the hold ends, released, with nothing to give back.
        const redemption = await this.redemptionStatus(h);
        if (redemption === 'failed') {
          await this.end(id, 'released', undefined, null).catch(() => undefined);
          throw notActive(id, 'released (its redemption failed at the provider)');
        }
        if (redemption !== 'succeeded') {
          throw new GatewayError(
            'idempotency_in_flight',
            `Hold ${id}'s redemption is still being applied at the provider; capture it once it has succeeded.`,
            { retryAfter: '2' },
          );
        }
      }
      const captured = to === 'captured' ? (capturePoints ?? h.points) : 0;
      const res = (await this.deps.redis.eval(
        TRANSITION,
        4,
        this.deps.keys.hold(id),
        this.deps.keys.holdsDue,
        this.deps.keys.holdsOfCard(h.card_id),
        this.deps.keys.holdsOwed,
        to,
        h.points - captured,
        to === 'captured' ? captured : 0,
        isoTime(Date.now()),
        Date.now(),
      )) as string;
      if (res === 'gone') throw new GatewayError('hold_not_found', `No hold ${id}.`);
      if (res.startsWith('not_active|')) throw notActive(id, res.split('|')[1]!);
      const after = await this.giveBack(id);
      await this.deps.events
        .record(`hold.${to}`, { ...view(after) })
        .catch((err: Error) => this.deps.log.warn({ err: err.message, hold: id }, 'hold event not recorded'));
      return { kind: 'ok', body: view(after) };
    };
    if (req === null) return { hold: (await run()).body, replayed: false };
    const { answer, replayed } = await this.deps.requests.run(scopeOf(this.deps.keys, req), {
      newResource: () => id,
      takeover: 'resume',
      run,
    });
    return { hold: answer.body as Hold, replayed };
  }

  /**
   * Gives back what an ended hold owes: a reversal of its redemption, keyed by the hold (a retry,
   * or the sweep after a crash, never gives back twice). Left owed when it cannot be made now.
   */
  private async giveBack(id: string): Promise<StoredHold> {
    const h = (await this.load(id))!;
    if (h.owed <= 0) return h;
    try {
      const out = await this.deps.points.reverse(
        h.redemption_id,
        { points: h.owed, reason: `Hold ${h.status}: points given back`, reference_id: `hold:${h.id}:return` },
        {
          clientId: 'holds',
          method: 'POST',
          path: `/v1/points/holds/${h.id}#return`,
          body: { hold: h.id },
          respondAsync: true,
        },
      );
      h.release_id = out.transaction.id;
      h.owed = 0;
      await this.deps.redis.set(this.deps.keys.hold(id), JSON.stringify(h), 'KEEPTTL');
      await this.deps.redis.zrem(this.deps.keys.holdsOwed, id);
    } catch (err) {
      const code = err instanceof GatewayError ? err.code : null;
      // A redemption still on its way at a provider cannot be reversed yet, but will owe its points once applied.
      const redemption = code === 'transaction_not_reversible' ? await this.redemptionStatus(h) : null;
      if (code === 'already_reversed' || redemption === 'failed') {
        // Nothing to give back: given back already, or the redemption never applied (it failed at a provider).
        this.deps.log.warn({ hold: id, code }, 'hold: nothing to give back');
        h.owed = 0;
        await this.deps.redis.set(this.deps.keys.hold(id), JSON.stringify(h), 'KEEPTTL');
        await this.deps.redis.zrem(this.deps.keys.holdsOwed, id);
      } else {
        this.deps.log.warn(
          { hold: id, err: (err as Error).message },
          'hold: points not given back yet; the sweep retries',
        );
        await this.deps.redis.zadd(this.deps.keys.holdsOwed, Date.now() + 5000, id);
      }
    }
    return h;
  }

  /** Every few seconds (worker roles): holds past their time expire; give-backs that failed are tried again. */
  startSweep(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((err: Error) => this.deps.log.warn({ err: err.message }, 'hold sweep skipped a round'))
        .finally(() => {
          this.sweeping = null;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stopSweep(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  async sweep(): Promise<void> {
    const { redis, keys } = this.deps;
    // Most rounds find nothing: they write nothing either (no lock).
    const [due1, owed1] = await Promise.all([
      redis.zrangebyscore(keys.holdsDue, '-inf', Date.now(), 'LIMIT', 0, 1),
      redis.zrangebyscore(keys.holdsOwed, '-inf', Date.now(), 'LIMIT', 0, 1),
    ]);
    if (due1.length === 0 && owed1.length === 0) return;
    const lock = keys.lock('hold-sweep');
    const token = await tryLock(redis, lock, 30_000);
    if (token === null) return;
    try {
      const due = await redis.zrangebyscore(keys.holdsDue, '-inf', Date.now(), 'LIMIT', 0, 200);
      for (const id of due) {
        await this.end(id, 'expired', undefined, null).catch((err: Error) => {
          if (err instanceof GatewayError && (err.code === 'hold_not_active' || err.code === 'hold_not_found'))
            return redis.zrem(keys.holdsDue, id);
          throw err;
        });
      }
      const owed = await redis.zrangebyscore(keys.holdsOwed, '-inf', Date.now(), 'LIMIT', 0, 200);
      for (const id of owed) {
        // Out of the index only once given back (giveBack): a crash here leaves it for the next round.
        if ((await this.load(id)) === null) await redis.zrem(keys.holdsOwed, id);
        else await this.giveBack(id);
      }
    } finally {
      await unlock(redis, lock, token);
    }
  }

  /** The hold's redemption as it stands now (at a provider it is settled by a worker). */
  private async redemptionStatus(h: StoredHold): Promise<string | null> {
    const [t] = await this.deps.points.views([h.redemption_id]);
    return t?.status ?? null;
  }

  private async load(id: string): Promise<StoredHold | null> {
    if (!/^hld_[0-9A-Z]{26}$/.test(id)) return null;
    const raw = await this.deps.redis.get(this.deps.keys.hold(id));
    return raw ? (JSON.parse(raw) as StoredHold) : null;
  }
}

function view(h: StoredHold): Hold {
  const { owed: _owed, ...rest } = h;
  return rest;
}

function notActive(id: string, status: string): GatewayError {
  return new GatewayError('hold_not_active', `Hold ${id} is ${status}: only an active hold is captured or released.`, {
    hold_status: status,
  });
}

/** The hold's own call, without its Idempotency-Key (the hold's record holds it): the reference keys the redemption. */
function ctxOf(req: WriteRequest, what: string): CallContext {
  const { idempotencyKey: _key, ...rest } = req;
  return { ...rest, path: `${req.path}#${what}` };
}
