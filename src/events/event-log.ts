import type { Redis } from 'ioredis';
import type { EventType, GatewayEvent } from '../domain/events.js';
import { ulid, ulidLowerBound } from '../lib/ids.js';
import type { KeySpace } from '../redis/keys.js';
import { defineScript, runScript } from '../redis/scripts.js';

/**
 * The gateway's events, kept `ttlMs` in Redis for consumers that pull (GET /v1/events). An event
 * is written with one script (lua/record-event-3.lua): its JSON (with a TTL) and its id in the index
 * of all events and in the index of its type; the same script trims ids older than the TTL off both
 * indexes, so they never outgrow what is kept. Ids sort in creation order, which the pages follow.
 */
export class EventLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly ttlMs: number,
  ) {
    defineScript(redis, 'lgwRecordEvent', import.meta.url, 'record-event-3.lua', 3);
  }

  async record(type: EventType, data: Record<string, unknown>, now = Date.now()): Promise<GatewayEvent> {
    const event: GatewayEvent = { id: `evt_${ulid(now)}`, type, created_at: new Date(now).toISOString(), data };
    const stale = `(evt_${ulidLowerBound(now - this.ttlMs)}`;
    await runScript(
      this.redis,
      'lgwRecordEvent',
      [this.keys.event(event.id), this.keys.events, this.keys.eventsOfType(type)],
      [event.id, JSON.stringify(event), this.ttlMs, stale],
    );
    return event;
  }

  async get(id: string): Promise<GatewayEvent | null> {
    const raw = await this.redis.get(this.keys.event(id));
    return raw ? (JSON.parse(raw) as GatewayEvent) : null;
  }

  /** Events after the id `after` (oldest first), of one type or all; `next` is the cursor of the next page. */
  async list(q: {
    type?: EventType;
    after?: string;
    limit: number;
  }): Promise<{ data: GatewayEvent[]; next: string | null }> {
    const index = q.type ? this.keys.eventsOfType(q.type) : this.keys.events;
    const ids = (await this.redis.zrange(
      index,
      q.after ? `(${q.after}` : '-',
      '+',
      'BYLEX',
      'LIMIT',
      0,
      q.limit,
    )) as string[];
    if (ids.length === 0) return { data: [], next: null };
    const raw = await this.redis.mget(ids.map((id) => this.keys.event(id)));
    const data = raw.flatMap((r) => (r ? [JSON.parse(r) as GatewayEvent] : []));
    return { data, next: ids.length === q.limit ? (ids[ids.length - 1] ?? null) : null };
  }
}
