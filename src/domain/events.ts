import Type from 'typebox';

/**
 * Events: every change of state the gateway reports, kept for EVENTS_TTL_DAYS and paged by
 * GET /v1/events for consumers that pull. The list of types grows with what reports them.
 */
export const EVENT_TYPES = [
  'transaction.succeeded',
  'transaction.failed',
  'transaction.needs_review',
  'transaction.reversed',
  'points.expired',
  'points.activated',
  'card.issued',
  'card.blocked',
  'hold.captured',
  'hold.released',
  'hold.expired',
  'order.awarded',
  'order.unmatched',
  'audit.drift_found',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

// An enum (not OneOf's anyOf): the list may hold one type.
export const EventTypeSchema = Type.Unsafe<EventType>({
  type: 'string',
  enum: [...EVENT_TYPES],
  title: 'EventType',
  description:
    'transaction.succeeded, .failed, .needs_review: a transaction reached that status (data: the transaction). ' +
    'transaction.reversed: a reversal of it succeeded (data: the original, as it stands after, and `reversal_id`). ' +
    'points.expired: the expiry schedule expired points of a card (data: card_id, points). card.issued, card.blocked: ' +
    'a card was issued, or blocked (data: the card). ' +
    'points.activated: the pending points of a shop order became available at the end of its return window ' +
    '(data: the order). hold.captured, .released, .expired: a hold at checkout ended (data: the hold). ' +
    'order.awarded: a shop order earned its points (data: the order). order.unmatched: a shop order names a customer ' +
    'linked to no card (data: the order; link one, then replay it). ' +
    'audit.drift_found: a provider audit found differences between the gateway and the provider (data: the audit ' +
    'id, connection, window and summary).',
});

export const EventSchema = Type.Object(
  {
    id: Type.String({ description: 'Sorts in creation order.', examples: ['evt_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
    type: EventTypeSchema,
    created_at: Type.String({ format: 'date-time' }),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'What happened; its shape depends on `type`.' }),
  },
  { title: 'Event', additionalProperties: false },
);
export type GatewayEvent = Type.Static<typeof EventSchema>;
