import Type, { type Static } from 'typebox';
import { CardId, DateTime, Metadata, Nullable, Points, Reason, ReferenceId, Staff } from '../../domain/fields.js';
import { HistoryEntrySchema, TRANSACTION_TYPES, TransactionSchema } from '../../domain/transactions.js';
import { UnitSchema } from '../../domain/units.js';

/** award and redeem name a unit when the card counts in more than one; without it, the card's native unit. */
const UnitField = Type.Optional({
  ...UnitSchema,
  description:
    "What `points` counts. Without it, the card's native unit (points on the built-in ledger, stamps on a stamp " +
    'card...). A unit the card does not support: 422 unsupported_operation.',
});

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
        card_id: 'lt:100-000-101',
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
        card_id: 'lt:100-000-101',
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
        card_id: 'lt:100-000-101',
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
    unit: UnitField,
    reason: Type.Optional(Reason),
    staff: Type.Optional(Staff),
  },
  {
    title: 'ExpireRequest',
    additionalProperties: false,
    description:
      'Neither `before` nor `points`: expire what is due now (the built-in ledger; at a provider, name the points: ' +
      '422 unsupported_operation otherwise). `unit` as for redeem.',
    examples: [{ card_id: 'lt:100-000-101', points: 10, reason: 'Points from 2025 expire' }],
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
            card_id: 'lt:100-000-101',
            points: 100,
            reason: 'Campaign bonus',
            reference_id: 'campaign-7:c1',
          },
          { type: 'redeem', card_id: 'lt:100-000-101', points: 30, reason: 'Voucher' },
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

export const HistoryQuery = Type.Object(
  {
    type: Type.Optional(
      Type.Union([Type.Literal('all'), ...TRANSACTION_TYPES.map((t) => Type.Literal(t))], { default: 'all' }),
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

const ItemError = Type.Object({
  code: Type.String(),
  detail: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

export const BulkJobSchema = Type.Object(
  {
    id: Type.String({ examples: ['blk_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
    status: Type.Union([Type.Literal('accepted'), Type.Literal('running'), Type.Literal('completed')], {
      description:
        'accepted: not started; running: items being queued or applied; completed: every item succeeded, failed, ' +
        'needs review or was refused.',
    }),
    total: Type.Integer(),
    submitted: Type.Integer({ description: 'Items the job has validated and claimed (queued, applied or refused).' }),
    succeeded: Type.Integer(),
    failed: Type.Integer({ description: 'Items refused (invalid, unsupported) or failed at the provider.' }),
    needs_review: Type.Integer(),
    pending: Type.Integer({ description: 'Items not yet submitted, queued or being sent.' }),
    created_at: Type.String({ format: 'date-time' }),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
    results: Type.Array(
      Type.Object(
        {
          index: Type.Integer(),
          status: Type.Integer({
            description: 'The HTTP status the item would have had on its own (201 applied, 202 queued, 4xx refused).',
          }),
          state: Type.Union(
            [
              Type.Literal('pending'),
              Type.Literal('queued'),
              Type.Literal('processing'),
              Type.Literal('succeeded'),
              Type.Literal('failed'),
              Type.Literal('needs_review'),
              Type.Literal('rejected'),
            ],
            {
              description:
                'pending: not yet submitted; rejected: refused before it was claimed (see error); else its ' +
                "transaction's status.",
            },
          ),
          replayed: Type.Boolean(),
          transaction: Type.Optional(TransactionSchema),
          error: Type.Optional(ItemError),
        },
        { additionalProperties: false },
      ),
      { description: 'One per submitted item, in order, with its transaction as it stands now.' },
    ),
  },
  { title: 'BulkJob', additionalProperties: false },
);

export type BulkView = Static<typeof BulkJobSchema>;
