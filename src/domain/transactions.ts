import Type, { type Static } from 'typebox';
import { CardId, ConnectionId, Metadata, Nullable, OneOf } from './fields.js';
import { MoneySchema, UnitSchema } from './units.js';

export const TRANSACTION_TYPES = [
  'award',
  'redeem',
  'adjust',
  'expire',
  'visit',
  'purchase',
  'refund_purchase',
  'redeem_reward',
  'redeem_coupon',
] as const;

export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/**
 * queued: waiting in its connection's queue (a dispatched transaction); processing: being sent
 * (or, on the built-in ledger, applied); then succeeded, failed or needs_review.
 */
export const TRANSACTION_STATUSES = ['queued', 'processing', 'succeeded', 'failed', 'needs_review'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

/** The statuses a transaction ends in. */
export const isFinal = (status: TransactionStatus): boolean =>
  status === 'succeeded' || status === 'failed' || status === 'needs_review';

export const TransactionStatusSchema = OneOf(TRANSACTION_STATUSES, {
  title: 'TransactionStatus',
  description:
    "queued: recorded, waiting in its connection's queue (external providers); processing: being sent to the " +
    'provider (or applied by the built-in ledger); succeeded; failed: the provider did not apply it (refused, ' +
    'or unreachable through every retry); needs_review: the provider may or may not have applied it (a ' +
    'timeout, a dropped connection, a 5xx after sending) and the provider offers no way to check, so the ' +
    'gateway will not send it again by itself: an admin retries or resolves it.',
});

export const AuditEntrySchema = Type.Object(
  {
    at: Type.String({ format: 'date-time' }),
    action: Type.Union([Type.Literal('retry'), Type.Literal('resolve')]),
    by: Type.String({ description: 'The client (API key) that did it.' }),
    from: Type.String({ description: 'The status before.' }),
    to: Type.String({ description: 'The status after.' }),
    note: Nullable(Type.String()),
  },
  { title: 'AuditEntry', additionalProperties: false },
);
/** An admin's action on a transaction, kept with it. */
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const TransactionSchema = Type.Object(
  {
    id: Type.String({
      description: 'Transaction id; ids sort by creation time.',
      examples: ['txn_01JD3X7B2C4D6E8F0G2H4J6K8M'],
    }),
    type: OneOf(TRANSACTION_TYPES, {
      description:
        'award, redeem, adjust, expire: points operations. visit, purchase, refund_purchase, redeem_reward, ' +
        'redeem_coupon: the card operations of /v1/cards/{card_id}/...',
    }),
    status: TransactionStatusSchema,
    card_id: CardId,
    connection: ConnectionId,
    unit: UnitSchema,
    points: Type.Integer({
      description:
        'The quantity, in `unit`: positive for award, redeem and expire; signed for adjust. For unit `amount`, ' +
        'minor units (cents). A purchase counts what it moved on the card when the provider says (cashback ' +
        'credited, points earned), else the money spent in `amount` units with delta 0 and no balance_after.',
      examples: [120],
    }),
    amount: Nullable({
      ...MoneySchema,
      description: 'Money: the amount of a purchase, or the value of a redeemed reward or coupon.',
    }),
    reward_id: Nullable(Type.String({ description: 'The reward redeemed (redeem_reward).' })),
    provider_reference: Nullable(
      Type.String({ description: "The provider's id for the operation, when it gives one." }),
    ),
    error: Nullable(
      Type.Object(
        { code: Type.String(), detail: Type.String() },
        { description: 'Why the transaction is failed or needs_review.' },
      ),
    ),
    delta: Type.Integer({ description: 'Signed change to the available balance.', examples: [120] }),
    balance_after: Nullable(
      Type.Integer({ description: 'Available points right after this transaction.', examples: [320] }),
    ),
    reason: Type.String({ examples: ['Order #1001'] }),
    reference_id: Nullable(Type.String()),
    staff: Nullable(Type.String()),
    metadata: Nullable(Metadata),
    expires_at: Nullable(
      Type.String({ format: 'date-time', description: 'When the awarded points expire (award, positive adjust).' }),
    ),
    reversal_of: Nullable(Type.String({ description: 'The transaction this one reverses.' })),
    reversed_points: Type.Integer({
      minimum: 0,
      description: 'How much of this transaction later reversals took back or gave back.',
    }),
    source: Type.Union([Type.Literal('api'), Type.Literal('expiry_schedule'), Type.Literal('provider')], {
      description:
        'api: made through the gateway. expiry_schedule: written by the gateway when points reached their expiry ' +
        "date. provider: found only in the provider's own records (made outside the gateway; history only).",
    }),
    created_at: Type.String({ format: 'date-time' }),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
    attempts: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'External providers: how many times the gateway sent it (retries after connection failures and ' +
          'reconciliations count).',
      }),
    ),
    audit: Type.Optional(
      Type.Array(AuditEntrySchema, {
        description: 'Admin actions on it (retry, resolve), oldest first. Shown by GET /v1/transactions/{id}.',
      }),
    ),
  },
  { title: 'Transaction', additionalProperties: false },
);

export type Transaction = Static<typeof TransactionSchema>;

export const BalanceSchema = Type.Object(
  {
    card_id: CardId,
    connection: ConnectionId,
    unit: { ...UnitSchema, description: "The card's native unit: what `available` counts." },
    available: Type.Integer({
      description: 'What can be redeemed now, in `unit` (amount: minor units); points held at checkout are out of it.',
      examples: [320],
    }),
    pending: Type.Integer({
      description: "Shop orders' points waiting for the end of their return window, in `unit`: not in `available` yet.",
      examples: [0],
    }),
    held: Type.Integer({
      description: 'Held at checkout by active holds, in `unit`: already out of `available`, back in it if released.',
      examples: [0],
    }),
    units: Type.Object(
      {
        points: Type.Optional(Type.Integer()),
        stamps: Type.Optional(Type.Integer()),
        visits: Type.Optional(Type.Integer()),
        scores: Type.Optional(Type.Integer()),
        amount: Type.Optional(Type.Integer({ description: 'Minor units of the connection currency.' })),
        rewards: Type.Optional(Type.Integer({ description: 'Rewards earned and not yet used.' })),
      },
      { additionalProperties: false, description: 'Every balance the provider reports for the card, by unit.' },
    ),
    total_earned: Nullable(
      Type.Integer({ description: 'Ever awarded, in `unit`; null when the provider does not say.', examples: [500] }),
    ),
    total_redeemed: Nullable(Type.Integer({ examples: [150] })),
    total_expired: Nullable(Type.Integer({ examples: [10] })),
    total_adjusted: Nullable(
      Type.Integer({ description: 'Net of all adjustments and reversals (signed).', examples: [-20] }),
    ),
    expiring_soon: Nullable(
      Type.Integer({ description: 'Points that expire within the next 30 days.', examples: [40] }),
    ),
    next_expiry: Nullable(
      Type.Object(
        { points: Type.Integer(), at: Type.String({ format: 'date-time' }) },
        { description: 'The next points to expire and when.' },
      ),
    ),
    tier: Nullable(
      Type.Object(
        {
          name: Type.String({ examples: ['Silver'] }),
          min_points: Type.Integer(),
          next: Nullable(Type.Object({ name: Type.String(), points_needed: Type.Integer() })),
        },
        { description: 'The tier by lifetime points earned, when the connection configures tiers.' },
      ),
    ),
    as_of: Type.String({ format: 'date-time' }),
  },
  { title: 'Balance', additionalProperties: false },
);

export type Balance = Static<typeof BalanceSchema>;

export const HistoryEntrySchema = Type.Object(
  {
    ...TransactionSchema.properties,
    recorded_by: Type.Union([Type.Literal('gateway'), Type.Literal('provider'), Type.Literal('both')], {
      description:
        "Where the entry comes from: the gateway's ledger, the provider's own record (an operation made outside " +
        "the gateway), or both (matched by the transaction id the gateway writes into the provider's comment " +
        'field).',
    }),
  },
  { title: 'HistoryEntry', additionalProperties: false },
);

export type HistoryEntry = Static<typeof HistoryEntrySchema>;

/** A query of a card's history, as the API takes it (times in ms). */
export interface HistoryQuery {
  type?: string;
  fromMs?: number;
  toMs?: number;
  referenceId?: string;
  staff?: string;
  limit: number;
  /** The last id (or position) of the previous page. */
  after?: string;
}

/**
 * One page of a card's history: the store's transactions by id, or entries already made (a provider's record merged
 * in).
 */
export interface HistoryPage {
  /** Transactions of the store, newest first, when `entries` is absent. */
  ids: string[];
  /** Entries already made (a provider's own record merged in). */
  entries?: HistoryEntry[];
  /** Where the next page starts, when older entries remain. */
  next: string | null;
}
