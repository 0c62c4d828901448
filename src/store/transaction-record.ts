import type { Transaction, TransactionType } from '../domain/transactions.js';
import type { Unit } from '../domain/units.js';

/** A transaction as the ledger stores it (a Redis hash; times in ms). */
export interface TransactionRecord {
  id: string;
  type: TransactionType;
  /**
   * queued: waiting in its connection's queue (a dispatched transaction); processing: being sent
   * (or, on the built-in ledger, applied); then succeeded, failed or needs_review.
   */
  status: TransactionStatus;
  card_id: string;
  connection: string;
  /** What `points` counts. */
  unit: Unit;
  /** As asked for; null for an expire that names no amount until it is applied. */
  points: number | null;
  /** Money (decimal string) and its currency: a purchase's amount, a reward's or coupon's value. */
  amount: string | null;
  currency: string | null;
  reward_id: string | null;
  delta: number;
  balance_after: number | null;
  reason: string;
  reference_id: string | null;
  staff: string | null;
  metadata: Record<string, unknown> | null;
  expires_at: number | null;
  expire_before: number | null;
  reversal_of: string | null;
  reversed_points: number;
  source: 'api' | 'expiry_schedule';
  client: string | null;
  created_at: number;
  completed_at: number | null;
  /** Id reserved for the expiry entry a write may make first (kept so a takeover reuses it). */
  sweep_id: string | null;
  lease_until: number | null;
  /** Set when settled: the provider's operation id; the error of a failed or needs_review transaction. */
  provider_reference: string | null;
  error_code: string | null;
  error_detail: string | null;
  /** Dispatched transactions: how often it was sent, when last, and the keys to settle it with. */
  attempts: number;
  attempt_at: number | null;
  idem_key: string | null;
  /** The request fingerprint its Idempotency-Key was claimed with. */
  idem_fp: string | null;
  natural_key: string | null;
}

export type TransactionStatus = 'queued' | 'processing' | 'succeeded' | 'failed' | 'needs_review';
export const TRANSACTION_STATUSES: TransactionStatus[] = [
  'queued',
  'processing',
  'succeeded',
  'failed',
  'needs_review',
];

export type NewTransaction = Omit<
  TransactionRecord,
  | 'status'
  | 'balance_after'
  | 'completed_at'
  | 'reversed_points'
  | 'lease_until'
  | 'provider_reference'
  | 'error_code'
  | 'error_detail'
  | 'attempts'
  | 'attempt_at'
  | 'idem_key'
  | 'idem_fp'
  | 'natural_key'
>;

const str = (v: string | null | undefined): string => v ?? '';
const num = (v: number | null | undefined): string => (v === null || v === undefined ? '' : String(v));

/** Field/value pairs for HSET. Empty string stands for null. */
export function toFields(t: NewTransaction): string[] {
  return [
    'id',
    t.id,
    'type',
    t.type,
    'card_id',
    t.card_id,
    'connection',
    t.connection,
    'unit',
    t.unit,
    'points',
    num(t.points),
    'amount',
    str(t.amount),
    'currency',
    str(t.currency),
    'reward_id',
    str(t.reward_id),
    'delta',
    String(t.delta),
    'reason',
    t.reason,
    'reference_id',
    str(t.reference_id),
    'staff',
    str(t.staff),
    'metadata',
    t.metadata ? JSON.stringify(t.metadata) : '',
    'expires_at',
    num(t.expires_at),
    'expire_before',
    num(t.expire_before),
    'reversal_of',
    str(t.reversal_of),
    'reversed_points',
    '0',
    'source',
    t.source,
    'client',
    str(t.client),
    'created_at',
    String(t.created_at),
    'sweep_id',
    str(t.sweep_id),
  ];
}

const orNull = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);
const numOrNull = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

export function fromHash(h: Record<string, string>): TransactionRecord | null {
  if (!h.id) return null;
  let metadata: Record<string, unknown> | null = null;
  if (h.metadata) {
    try {
      metadata = JSON.parse(h.metadata) as Record<string, unknown>;
    } catch {
      metadata = null;
    }
  }
  return {
    id: h.id,
    type: h.type as TransactionType,
    status: (h.status ?? 'processing') as TransactionRecord['status'],
    card_id: h.card_id ?? '',
    connection: h.connection ?? '',
    unit: (h.unit || 'points') as Unit,
    points: numOrNull(h.points),
    amount: orNull(h.amount),
    currency: orNull(h.currency),
    reward_id: orNull(h.reward_id),
    delta: Number(h.delta ?? 0),
    balance_after: numOrNull(h.balance_after),
    reason: h.reason ?? '',
    reference_id: orNull(h.reference_id),
    staff: orNull(h.staff),
    metadata,
    expires_at: numOrNull(h.expires_at),
    expire_before: numOrNull(h.expire_before),
    reversal_of: orNull(h.reversal_of),
    reversed_points: Number(h.reversed_points ?? 0),
    source: (h.source as TransactionRecord['source']) ?? 'api',
    client: orNull(h.client),
    created_at: Number(h.created_at ?? 0),
    completed_at: numOrNull(h.completed_at),
    sweep_id: orNull(h.sweep_id),
    lease_until: numOrNull(h.lease_until),
    provider_reference: orNull(h.provider_reference),
    error_code: orNull(h.error_code),
    error_detail: orNull(h.error_detail),
    attempts: Number(h.attempts ?? 0),
    attempt_at: numOrNull(h.attempt_at),
    idem_key: orNull(h.idem_key),
    idem_fp: orNull(h.idem_fp),
    natural_key: orNull(h.natural_key),
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The API's view of a transaction. */
export function render(t: TransactionRecord): Transaction {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    card_id: t.card_id,
    connection: t.connection,
    unit: t.unit,
    points: t.points ?? Math.abs(t.delta),
    amount: t.amount !== null && t.currency !== null ? { amount: t.amount, currency: t.currency } : null,
    reward_id: t.reward_id,
    provider_reference: t.provider_reference,
    error: t.error_code !== null ? { code: t.error_code, detail: t.error_detail ?? '' } : null,
    delta: t.delta,
    balance_after: t.balance_after,
    reason: t.reason,
    reference_id: t.reference_id,
    staff: t.staff,
    metadata: t.metadata,
    expires_at: t.expires_at === null ? null : iso(t.expires_at),
    reversal_of: t.reversal_of,
    reversed_points: t.reversed_points,
    source: t.source,
    created_at: iso(t.created_at),
    completed_at: t.completed_at === null ? null : iso(t.completed_at),
  };
}
