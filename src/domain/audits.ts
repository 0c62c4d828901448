import Type from 'typebox';
import { CardId, ConnectionId, Nullable, OneOf } from './fields.js';
import { TransactionStatusSchema } from './transactions.js';
import { UnitSchema } from './units.js';

/**
 * A provider audit: the gateway's transactions on one connection over a time window, checked
 * against the provider's own record of them. It reports; it never corrects anything by itself.
 */

export const AUDIT_METHODS = ['provider_record', 'balance_drift'] as const;
export type AuditMethod = (typeof AUDIT_METHODS)[number];

export const FINDING_KINDS = [
  'missing_at_provider',
  'applied_not_succeeded',
  'applied_twice',
  'unknown_to_gateway',
  'balance_drift',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const AUDIT_STATUSES = ['running', 'completed', 'failed'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];

const Time = Type.String({ format: 'date-time' });

export const AuditFindingSchema = Type.Object(
  {
    id: Type.String({ description: 'The finding, within its audit (`f1`, `f2`, ...).', examples: ['f1'] }),
    kind: OneOf(FINDING_KINDS, {
      description:
        'missing_at_provider: succeeded here, but no operation of the provider carries its id. ' +
        'applied_not_succeeded: the provider applied an operation carrying its id, but here it is `needs_review` ' +
        'or `failed` (a `needs_review` one can be confirmed with this finding as evidence). ' +
        'applied_twice: the provider holds more than one operation carrying its id. ' +
        "unknown_to_gateway: an operation carries a transaction id the gateway has no record of. balance_drift: the card's " +
        'balance at the provider is not what the last write the gateway made left it at (a change made elsewhere, or a ' +
        'lost or doubled write) - for providers that keep no record the gateway can match.',
    }),
    card_id: CardId,
    transaction_id: Nullable(Type.String({ description: 'The gateway transaction concerned.' })),
    status_here: Nullable(TransactionStatusSchema),
    provider_reference: Nullable(Type.String({ description: "The provider's id of the operation found." })),
    provider_at: Nullable({ ...Time, description: 'When the provider recorded it.' }),
    unit: Nullable(UnitSchema),
    expected: Nullable(Type.Integer({ description: 'balance_drift: the balance the last write of the gateway left.' })),
    actual: Nullable(Type.Integer({ description: "balance_drift: the provider's balance now." })),
    detail: Type.String({ description: 'What was found, in a sentence.' }),
    confirmable: Type.Boolean({
      description:
        'An admin may confirm it (POST /v1/audits/{id}/findings/{finding_id}/confirm): a `needs_review` transaction ' +
        'the provider applied becomes `succeeded`, with this finding as its evidence.',
    }),
    confirmed: Nullable(
      Type.Object(
        { by: Type.String(), at: Time, transaction_status: TransactionStatusSchema },
        { additionalProperties: false },
      ),
    ),
  },
  { title: 'AuditFinding', additionalProperties: false },
);
export type AuditFinding = Type.Static<typeof AuditFindingSchema>;

const Count = Type.Integer({ minimum: 0 });

export const AuditSchema = Type.Object(
  {
    id: Type.String({ examples: ['aud_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
    connection: ConnectionId,
    provider: Type.String({ description: 'The provider kind of the connection.' }),
    method: OneOf(AUDIT_METHODS, {
      description:
        "provider_record: the provider's own operations, matched by the transaction id the gateway writes into them " +
        '(Highlight `[lgw:txn_...]` comments, Loyalty.lt order ids), both ways. balance_drift: the provider keeps no ' +
        "record the gateway can match (Coupontools, Leal): each card's balance is compared with what the gateway's " +
        'last write left.',
    }),
    status: OneOf(AUDIT_STATUSES, {
      description: 'running, completed, or failed (`error` says why: the provider could not be read).',
    }),
    trigger: OneOf(['api', 'schedule'] as const),
    requested_by: Nullable(Type.String({ description: 'The API key id that asked for it (null: the schedule).' })),
    from: Time,
    to: Time,
    started_at: Time,
    finished_at: Nullable(Time),
    checked: Type.Object(
      {
        transactions: Count,
        cards: Count,
        provider_operations: Count,
        in_flight: { ...Count, description: 'Transactions still queued or processing: not judged.' },
      },
      { additionalProperties: false },
    ),
    summary: Type.Record(Type.String(), Count, { description: 'Findings by kind.' }),
    findings: Type.Array(AuditFindingSchema),
    truncated: Type.Boolean({
      description: 'More cards were touched in the window than one audit reads; audit a shorter window.',
    }),
    error: Nullable(Type.Object({ code: Type.String(), detail: Type.String() }, { additionalProperties: false })),
  },
  { title: 'Audit', additionalProperties: false },
);
export type Audit = Type.Static<typeof AuditSchema>;
