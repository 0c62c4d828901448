import Type from 'typebox';
import { Nullable, OneOf } from './fields.js';
import { TransactionSchema } from './transactions.js';

/**
 * A dispatched transaction's steps, as the store's scripts record them with each move (its trail), and the
 * timeline that merges them with the admin actions and the events sent about it.
 */
export const TRAIL_STEPS = [
  'sent',
  'requeued',
  'unknown',
  'answered',
  'failed',
  'needs_review',
  'retry',
  'resolved',
] as const;
export type TrailStep = (typeof TRAIL_STEPS)[number];

/** One step as the store keeps it (`attempt` is added by the script: the attempts made after the move). */
export interface TrailEntry {
  at: string;
  step: TrailStep;
  status: string;
  attempt?: number;
  code: string | null;
  detail: string | null;
  provider_reference: string | null;
  balance_after: number | null;
  by: string | null;
}

/** How many steps a transaction keeps (the oldest go first). */
export const TRAIL_KEPT = 50;

export const TIMELINE_KINDS = [
  'claimed',
  'sent',
  'requeued',
  'unknown',
  'answered',
  'failed',
  'needs_review',
  'retry',
  'resolved',
  'completed',
  'admin',
  'event',
] as const;

const Time = Type.String({ format: 'date-time' });

export const DeliverySummarySchema = Type.Object(
  {
    webhook_id: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    at: Time,
    outcome: OneOf(['delivered', 'retrying', 'failed'] as const),
    status_code: Nullable(Type.Integer()),
  },
  { title: 'TimelineDelivery', additionalProperties: false },
);

export const TimelineEntrySchema = Type.Object(
  {
    at: Time,
    kind: OneOf(TIMELINE_KINDS, {
      description:
        'claimed: recorded by the gateway (queued for an external provider). sent: a worker sent it (`attempt`). ' +
        'requeued: certainly not applied, back in the queue (a 429, a connection failure). unknown: no answer ' +
        '(a timeout, a 5xx): it is checked before being sent again. answered: the provider applied it ' +
        '(`provider_reference`, `balance_after`). failed, needs_review: it ended so (`code`, `detail`). retry, ' +
        "resolved: an admin's action (`by`). completed: a built-in ledger transaction applied. admin: an admin " +
        'action recorded before the trail existed. event: an event about it (`event_type`) and its webhook ' +
        'deliveries.',
    }),
    status: Nullable(Type.String({ description: 'Its status after this step.' })),
    attempt: Nullable(Type.Integer({ minimum: 0, description: 'Attempts made so far.' })),
    code: Nullable(Type.String({ description: 'An error code (requeued, unknown, failed, needs_review).' })),
    detail: Nullable(Type.String({ description: "The error's detail, or an admin's note." })),
    provider_reference: Nullable(Type.String()),
    balance_after: Nullable(Type.Integer()),
    by: Nullable(Type.String({ description: 'The client (API key) of an admin action, or of the request.' })),
    event_id: Nullable(Type.String()),
    event_type: Nullable(Type.String()),
    deliveries: Type.Array(DeliverySummarySchema, { description: "An event's webhook delivery attempts." }),
  },
  { title: 'TimelineEntry', additionalProperties: false },
);
export type TimelineEntry = Type.Static<typeof TimelineEntrySchema>;

export const TimelineSchema = Type.Object(
  {
    transaction: TransactionSchema,
    entries: Type.Array(TimelineEntrySchema, { description: 'Oldest first.' }),
    events_scanned: Type.Integer({
      minimum: 0,
      description: 'How many events after its creation were read to find the ones about it.',
    }),
    events_truncated: Type.Boolean({
      description: 'The scan stopped at its cap before reaching now: later events about it may be missing.',
    }),
  },
  { title: 'TransactionTimeline', additionalProperties: false },
);
export type Timeline = Type.Static<typeof TimelineSchema>;
