import type { Redis } from 'ioredis';
import type { GatewayEvent } from '../../domain/events.js';
import type { Timeline, TimelineEntry } from '../../domain/timeline.js';
import type { AuditEntry } from '../../domain/transactions.js';
import type { EventLog } from '../../events/event-log.js';
import { ulidLowerBound } from '../../lib/ids.js';
import type { KeySpace } from '../../redis/keys.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { WebhookDeliveries } from '../../webhooks/deliveries.js';
import type { PointsService } from './points-service.js';

/** How many events after a transaction's creation are read, at most, to find the ones about it. */
export const EVENT_SCAN_CAP = 2000;
const EVENT_PAGE = 500;
/** An event is looked for from a little before the transaction's creation (clocks of several processes). */
const CLOCK_SLACK_MS = 5000;

const blank = {
  status: null,
  attempt: null,
  code: null,
  detail: null,
  provider_reference: null,
  balance_after: null,
  by: null,
  event_id: null,
  event_type: null,
  deliveries: [],
} satisfies Omit<TimelineEntry, 'at' | 'kind'>;

/**
 * One transaction's story, for the API and the console alike: its claim, the steps the store's scripts recorded as it
 * moved (sends, the provider's answers, errors, an admin's retry or resolution), admin actions older than the trail,
 * and the events sent about it with their webhook deliveries. Oldest first.
 */
export class TransactionTimeline {
  constructor(
    private readonly deps: {
      redis: Redis;
      keys: KeySpace;
      store: TransactionStore;
      points: PointsService;
      events: EventLog;
      deliveries: WebhookDeliveries;
      /** Whether a connection sends its transactions through a provider's queue. */
      dispatched: (connectionId: string) => boolean;
    },
  ) {}

  async of(id: string): Promise<Timeline> {
    const { store, points } = this.deps;
    const transaction = await points.getTransaction(id);
    const rec = (await store.get(id))!;
    const trail = await store.trailOf(id);
    const entries: TimelineEntry[] = [
      {
        ...blank,
        at: new Date(rec.created_at).toISOString(),
        kind: 'claimed',
        // A provider's transaction starts queued; the built-in ledger applies one in its request.
        status: this.deps.dispatched(rec.connection) ? 'queued' : 'processing',
        by: rec.client,
      },
    ];
    for (const t of trail) {
      entries.push({
        ...blank,
        at: t.at,
        kind: t.step,
        status: t.status,
        attempt: t.attempt ?? null,
        code: t.code,
        detail: t.detail,
        provider_reference: t.provider_reference,
        balance_after: t.balance_after,
        by: t.by,
      });
    }
    if (trail.length === 0 && rec.completed_at !== null) {
      // The built-in ledger applies a transaction in its request: no trail, one step.
      entries.push({
        ...blank,
        at: new Date(rec.completed_at).toISOString(),
        kind: 'completed',
        status: rec.status,
        provider_reference: rec.provider_reference,
        balance_after: rec.balance_after,
        code: rec.error_code,
        detail: rec.error_detail,
      });
    }
    for (const a of transaction.audit ?? []) {
      if (!inTrail(a, trail)) {
        entries.push({ ...blank, at: a.at, kind: 'admin', status: a.to, detail: a.note, by: a.by });
      }
    }
    const { events, scanned, truncated } = await this.eventsAbout(id, rec.created_at);
    const deliveries = await this.deps.deliveries.attemptsOfEvents(events.map((e) => e.id));
    for (const e of events) {
      entries.push({
        ...blank,
        at: e.created_at,
        kind: 'event',
        event_id: e.id,
        event_type: e.type,
        deliveries: (deliveries.get(e.id) ?? []).map((d) => ({
          webhook_id: d.webhook_id,
          attempt: d.attempt,
          at: d.at,
          outcome: d.outcome,
          status_code: d.status_code,
        })),
      });
    }
    // A stable sort: steps made in the same millisecond keep the order they were written in.
    entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return { transaction, entries, events_scanned: scanned, events_truncated: truncated };
  }

  /** The events naming this transaction (or its reversal), read from its creation on, at most EVENT_SCAN_CAP. */
  private async eventsAbout(
    id: string,
    createdAt: number,
  ): Promise<{ events: GatewayEvent[]; scanned: number; truncated: boolean }> {
    const { redis, keys } = this.deps;
    const found: GatewayEvent[] = [];
    let from = `[evt_${ulidLowerBound(Math.max(0, createdAt - CLOCK_SLACK_MS))}`;
    let scanned = 0;
    while (scanned < EVENT_SCAN_CAP) {
      const ids = (await redis.zrange(keys.events, from, '+', 'BYLEX', 'LIMIT', 0, EVENT_PAGE)) as string[];
      if (ids.length === 0) return { events: found, scanned, truncated: false };
      scanned += ids.length;
      const raw = await redis.mget(ids.map((e) => keys.event(e)));
      for (const r of raw) {
        if (!r) continue;
        const e = JSON.parse(r) as GatewayEvent;
        if (e.data.id === id || e.data.reversal_id === id || e.data.transaction_id === id) found.push(e);
      }
      if (ids.length < EVENT_PAGE) return { events: found, scanned, truncated: false };
      from = `(${ids[ids.length - 1]}`;
    }
    return { events: found, scanned, truncated: true };
  }
}

/** An admin action the trail already shows (a retry or resolution recorded with it). */
function inTrail(a: AuditEntry, trail: { step: string; by: string | null; at: string }[]): boolean {
  const step = a.action === 'retry' ? 'retry' : 'resolved';
  return trail.some((t) => t.step === step && t.by === a.by && Math.abs(Date.parse(t.at) - Date.parse(a.at)) < 5000);
}
