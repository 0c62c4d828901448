import type { TransactionStatus, TransactionType } from '../domain/transactions.js';
import type { Unit } from '../domain/units.js';

/** A transaction as the store keeps it (a Redis hash; times in ms). */
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

/**
 * The record a claim has just written (claim-transaction-5.lua): a dispatched one queued with its
 * keys, a built-in one processing under a lease.
 */
export function claimedRecord(
  txn: NewTransaction,
  how:
    | { queued: true; idem_key: string | null; idem_fp: string | null; natural_key: string | null }
    | { queued: false },
): TransactionRecord {
  const base: TransactionRecord = {
    ...txn,
    status: 'processing',
    balance_after: null,
    completed_at: null,
    reversed_points: 0,
    lease_until: null,
    provider_reference: null,
    error_code: null,
    error_detail: null,
    attempts: 0,
    attempt_at: null,
    idem_key: null,
    idem_fp: null,
    natural_key: null,
  };
  if (!how.queued) return base;
  return { ...base, status: 'queued', idem_key: how.idem_key, idem_fp: how.idem_fp, natural_key: how.natural_key };
}
