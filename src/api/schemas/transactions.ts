import Type, { type Static } from 'typebox';
import { CardId, ConnectionId, DateTime, Metadata, Nullable, Points, Reason, ReferenceId, Staff } from './common.js';
import { MoneySchema, UnitSchema } from './programs.js';

/** award and redeem name a unit when the card counts in more than one; without it, the card's native unit. */
const UnitField = Type.Optional({
  ...UnitSchema,
  description:
    "What `points` counts. Without it, the card's native unit (points on the built-in ledger, stamps on a stamp card...). A unit the card does not support: 422 unsupported_operation.",
});

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

export const TransactionStatusSchema = Type.Union(
  [
    Type.Literal('queued'),
    Type.Literal('processing'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('needs_review'),
  ],
  {
    title: 'TransactionStatus',
    description:
      "queued: recorded, waiting in its connection's queue (external providers); processing: being sent to the provider (or applied by the built-in ledger); succeeded; failed: the provider did not apply it (refused, or unreachable through every retry); needs_review: the provider may or may not have applied it (a timeout, a dropped connection, a 5xx after sending) and the provider offers no way to check, so the gateway will not send it again by itself: an admin retries or resolves it.",
  },
);

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

export const TransactionSchema = Type.Object(
  {
    id: Type.String({
      description: 'Transaction id; ids sort by creation time.',
      examples: ['txn_01JD3X7B2C4D6E8F0G2H4J6K8M'],
    }),
    type: Type.Union(
      [
        Type.Literal('award'),
        Type.Literal('redeem'),
        Type.Literal('adjust'),
        Type.Literal('expire'),
        Type.Literal('visit'),
        Type.Literal('purchase'),
        Type.Literal('refund_purchase'),
        Type.Literal('redeem_reward'),
        Type.Literal('redeem_coupon'),
      ],
      {
        description:
          'award, redeem, adjust, expire: points operations. visit, purchase, refund_purchase, redeem_reward, redeem_coupon: the card operations of /v1/cards/{card_id}/...',
      },
    ),
    status: TransactionStatusSchema,
    card_id: CardId,
    connection: ConnectionId,
    unit: UnitSchema,
    points: Type.Integer({
      description:
        'The quantity, in `unit`: positive for award, redeem and expire; signed for adjust. For unit `amount`, minor units (cents). A purchase counts what it moved on the card when the provider says (cashback credited, points earned), else the money spent in `amount` units with delta 0 and no balance_after.',
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
        "api: made through the gateway. expiry_schedule: written by the gateway when points reached their expiry date. provider: found only in the provider's own records (made outside the gateway; history only).",
    }),
    created_at: Type.String({ format: 'date-time' }),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
    attempts: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'External providers: how many times the gateway sent it (retries after connection failures and reconciliations count).',
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

export const AwardBody = Type.Object(
  {
    card_id: CardId,
    points: Points,
    unit: UnitField,
    reason: Reason,
    reference_id: Type.Optional(ReferenceId),
    expires_at: Type.Optional({
      ...DateTime,
      description:
        "When these points expire; must be in the future. Without it, the connection's default expiry policy applies.",
    }),
    staff: Type.Optional(Staff),
    metadata: Type.Optional(Metadata),
  },
  {
    title: 'AwardRequest',
    additionalProperties: false,
    examples: [
      {
        card_id: 'ledger:c_01JD3X5Q8T2M4N6P8R0S2T4V6W',
        points: 120,
        reason: 'Order #1001',
        reference_id: 'order-1001',
        metadata: { order_total: '54.90', currency: 'EUR' },
      },
    ],
  },
);
export type AwardBody = Static<typeof AwardBody>;

export const RedeemBody = Type.Object(
  {
    card_id: CardId,
    points: Points,
    unit: UnitField,
    reason: Reason,
    reference_id: Type.Optional(ReferenceId),
    staff: Type.Optional(Staff),
    metadata: Type.Optional(Metadata),
  },
  {
    title: 'RedeemRequest',
    additionalProperties: false,
    examples: [
      {
        card_id: 'ledger:c_01JD3X5Q8T2M4N6P8R0S2T4V6W',
        points: 50,
        reason: '5 EUR voucher',
        reference_id: 'order-1002',
        staff: 'till-3',
      },
    ],
  },
);
export type RedeemBody = Static<typeof RedeemBody>;

export const AdjustBody = Type.Object(
  {
    card_id: CardId,
    points: Type.Integer({
      minimum: -1_000_000_000,
      maximum: 1_000_000_000,
      not: { const: 0 },
      description: 'Signed, not 0: positive adds points, negative takes them (oldest expiry first).',
      examples: [-20],
    }),
    unit: UnitField,
    reason: Reason,
    reference_id: Type.Optional(ReferenceId),
    expires_at: Type.Optional({ ...DateTime, description: 'For a positive adjustment: when the points expire.' }),
    staff: Type.Optional(Staff),
    metadata: Type.Optional(Metadata),
  },
  {
    title: 'AdjustRequest',
    additionalProperties: false,
    examples: [
      {
        card_id: 'ledger:c_01JD3X5Q8T2M4N6P8R0S2T4V6W',
        points: -20,
        reason: 'Correction: points awarded twice by the till',
        staff: 'support-anna',
      },
    ],
  },
);
export type AdjustBody = Static<typeof AdjustBody>;

export const ExpireBody = Type.Object(
  {
    card_id: CardId,
    before: Type.Optional({
      ...DateTime,
      description: 'Expire the unspent points of every award expiring at or before this time.',
    }),
    points: Type.Optional({
      ...Points,
      description: 'Expire this many points, earliest expiry first (with `before`: only from points expiring by then).',
    }),
    reason: Type.Optional(Reason),
    staff: Type.Optional(Staff),
  },
  {
    title: 'ExpireRequest',
    additionalProperties: false,
    description: 'Neither `before` nor `points`: expire what is due now.',
    examples: [{ card_id: 'ledger:c_01JD3X5Q8T2M4N6P8R0S2T4V6W', before: '2026-12-31T23:59:59Z' }],
  },
);
export type ExpireBody = Static<typeof ExpireBody>;

export const ReverseBody = Type.Object(
  {
    points: Type.Optional({
      ...Points,
      description: 'Reverse this many points; without it, all that is left of the original.',
    }),
    reason: Type.Optional(Reason),
    reference_id: Type.Optional({
      ...ReferenceId,
      description: 'Your refund or cancellation id: the natural key of a partial reversal.',
    }),
    staff: Type.Optional(Staff),
  },
  {
    title: 'ReverseRequest',
    additionalProperties: false,
    examples: [{ points: 40, reason: 'Partial refund of order #1001', reference_id: 'refund-77' }],
  },
);
export type ReverseBody = Static<typeof ReverseBody>;

const bulkItem = <T extends Type.TProperties>(type: string, body: Type.TObject<T>) =>
  Type.Object({ type: Type.Literal(type), ...body.properties }, { additionalProperties: false });

export const BulkAward = bulkItem('award', AwardBody);
export const BulkRedeem = bulkItem('redeem', RedeemBody);
export const BulkAdjust = bulkItem('adjust', AdjustBody);

export const BulkItemSchema = Type.Union([BulkAward, BulkRedeem, BulkAdjust], {
  title: 'BulkItem',
  description: 'An award, redeem or adjust request with its `type`. Each item is validated and applied on its own.',
  // The route validates items one by one, so that one bad item never sinks the others.
  'x-per-item-validation': true,
});

export const BulkBody = Type.Object(
  { transactions: Type.Array(BulkItemSchema, { minItems: 1, maxItems: 1000 }) },
  {
    title: 'BulkRequest',
    additionalProperties: false,
    examples: [
      {
        transactions: [
          {
            type: 'award',
            card_id: 'ledger:c_01JD3X5Q8T2M4N6P8R0S2T4V6W',
            points: 100,
            reason: 'Campaign bonus',
            reference_id: 'campaign-7:c1',
          },
          { type: 'redeem', card_id: 'ledger:c_01JD3X5Q8T2M4N6P8R0S2T4V6X', points: 30, reason: 'Voucher' },
        ],
      },
    ],
  },
);

export const BulkResultSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    status: Type.Integer({ description: 'The HTTP status this item would have had on its own.', examples: [201] }),
    replayed: Type.Boolean({
      description: 'The item was already applied (same Idempotency-Key or reference_id): its first result.',
    }),
    transaction: Type.Optional(TransactionSchema),
    error: Type.Optional(
      Type.Object({
        code: Type.String(),
        detail: Type.String(),
        errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
      }),
    ),
  },
  { title: 'BulkResult', additionalProperties: false },
);

export const BulkResponse = Type.Object(
  {
    succeeded: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 }),
    results: Type.Array(BulkResultSchema),
  },
  { title: 'BulkResponse', additionalProperties: false },
);

export const BalanceSchema = Type.Object(
  {
    card_id: CardId,
    connection: ConnectionId,
    unit: { ...UnitSchema, description: "The card's native unit: what `available` counts." },
    available: Type.Integer({
      description: 'What can be redeemed now, in `unit` (amount: minor units).',
      examples: [320],
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

export const HistoryQuery = Type.Object(
  {
    type: Type.Optional(
      Type.Union(
        [
          Type.Literal('all'),
          Type.Literal('award'),
          Type.Literal('redeem'),
          Type.Literal('adjust'),
          Type.Literal('expire'),
          Type.Literal('visit'),
          Type.Literal('purchase'),
          Type.Literal('refund_purchase'),
          Type.Literal('redeem_reward'),
          Type.Literal('redeem_coupon'),
        ],
        { default: 'all' },
      ),
    ),
    from: Type.Optional({ ...DateTime, description: 'Only entries at or after this time.' }),
    to: Type.Optional({ ...DateTime, description: 'Only entries at or before this time.' }),
    reference_id: Type.Optional(ReferenceId),
    staff: Type.Optional(Staff),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The next_cursor of the previous page.' })),
  },
  { additionalProperties: false },
);

export const HistoryEntrySchema = Type.Object(
  {
    ...TransactionSchema.properties,
    recorded_by: Type.Union([Type.Literal('gateway'), Type.Literal('provider'), Type.Literal('both')], {
      description:
        "Where the entry comes from: the gateway's ledger, the provider's own record (an operation made outside the gateway), or both (matched by the transaction id the gateway writes into the provider's comment field).",
    }),
  },
  { title: 'HistoryEntry', additionalProperties: false },
);
export type HistoryEntry = Static<typeof HistoryEntrySchema>;

export const HistorySchema = Type.Object(
  {
    card_id: CardId,
    data: Type.Array(HistoryEntrySchema, { description: 'Newest first.' }),
    next_cursor: Nullable(
      Type.String({ description: 'Pass as `cursor` for the next (older) page; null on the last page.' }),
    ),
  },
  { title: 'History', additionalProperties: false },
);
