import { type CardTypeCapabilities, POINTS_OPERATIONS } from '../../domain/capabilities.js';
import { ProviderError } from '../../domain/errors.js';
import { DAY_MS, isoDay } from '../../lib/time.js';
import type { Movement, ProviderCard, ProviderHistoryEntry } from '../adapter.js';
import { type CardData, idText, type TransactionData } from './wire.js';

/**
 * The pure translation table of the Loyalty.lt adapter: references, the capability matrix, which
 * provider call each normalized movement becomes, and how cards and history entries read back.
 */

/** Loyalty.lt has one kind of card: a points card (partner_specific / universal cards all count points). */
export const POINTS_CARD: CardTypeCapabilities = {
  cardType: 'points',
  operations: [...POINTS_OPERATIONS, 'purchase', 'issue_card', 'get_card', 'list_cards'],
  units: ['points'],
  nativeUnit: 'points',
};

const SUPPORTS =
  'Loyalty.lt points cards support award, redeem, adjust, expire (a number of points), reverse and purchase (an ' +
  'amount spent), counted in points';

/**
 * Card reference: digits only = the integer card_id; anything else = the card_number (XXX-XXX-XXX, LC00000567, QR
 * UUID).
 */
export type CardKey = { card_id: number } | { card_number: string };

export function cardKeyOf(reference: string): CardKey {
  if (/^\d{1,15}$/.test(reference)) return { card_id: Number(reference) };
  return { card_number: reference };
}

const REFERENCE_RE = /^[A-Za-z0-9._~@+=!$-]{1,200}$/;

/** The reference the gateway keeps for a card: its card_number when usable (not masked), else its id. */
export function referenceOf(card: { id: string | number; card_number?: string | null }): string {
  const n = card.card_number;
  if (n && REFERENCE_RE.test(n) && !/^\d+$/.test(n)) return n;
  return String(card.id);
}

/** What one movement becomes at the provider. */
export type Plan =
  | {
      call: 'create';
      points: number | null;
      pointsRedeemed: number | null;
      orderTotal: string | null;
      discount: string | null;
    }
  | { call: 'deduct'; points: number; expired: boolean };

const unsupported = (detail: string): ProviderError =>
  new ProviderError('unsupported_operation', `${detail}. ${SUPPORTS}.`, 'no');

export function planOf(m: Movement): Plan {
  if (m.operation === 'purchase') {
    // A purchase books an order; the provider computes the points from the card's rules.
    if (!m.money)
      throw new ProviderError(
        'validation_failed',
        'A Loyalty.lt purchase needs an amount (the order total the provider computes the points from).',
        'no',
      );
    return { call: 'create', points: null, pointsRedeemed: null, orderTotal: m.money.decimal, discount: null };
  }
  if (
    m.operation === 'visit' ||
    m.operation === 'redeem_reward' ||
    m.operation === 'redeem_coupon' ||
    m.operation === 'refund_purchase'
  ) {
    throw unsupported(`Loyalty.lt cards have no ${m.operation.replace('_', ' ')} operation`);
  }
  if (m.unit !== 'points') throw unsupported(`Loyalty.lt cannot ${m.operation} ${m.unit}`);
  const q = m.quantity;
  if (!Number.isSafeInteger(q))
    throw new ProviderError('invalid_points_amount', `points must be a whole number, not ${q}.`, 'no');
  const positive = (): void => {
    if (q <= 0)
      throw new ProviderError('invalid_points_amount', `points must be positive for ${m.operation}, not ${q}.`, 'no');
  };
  switch (m.operation) {
    case 'award':
      positive();
      return { call: 'create', points: q, pointsRedeemed: null, orderTotal: m.money?.decimal ?? null, discount: null };
    case 'redeem':
      positive();
      // points 0: the redemption's own order must not earn points.
      return { call: 'create', points: 0, pointsRedeemed: q, orderTotal: null, discount: m.money?.decimal ?? null };
    case 'adjust':
      if (q === 0) throw new ProviderError('invalid_points_amount', 'An adjustment of 0 points changes nothing.', 'no');
      return q > 0
        ? { call: 'create', points: q, pointsRedeemed: null, orderTotal: null, discount: null }
        : { call: 'deduct', points: -q, expired: false };
    case 'expire':
      // Only "expire N points": the API has no expiry by date.
      if (q <= 0)
        throw unsupported(
          'Loyalty.lt can only expire a given number of points (deduct-points), not points due before a date',
        );
      return { call: 'deduct', points: q, expired: true };
  }
}

export const TXN_RE = /\[lgw:(txn_[0-9A-Z]{26})\]/;
const DESCRIPTION_MAX = 255;

const DEFAULT_REASON: Record<Movement['operation'], string> = {
  award: 'Points awarded',
  redeem: 'Points redeemed',
  adjust: 'Points adjusted',
  expire: 'Points expired',
  purchase: 'Purchase',
  refund_purchase: 'Purchase refunded',
  visit: 'Visit',
  redeem_reward: 'Reward redeemed',
  redeem_coupon: 'Coupon redeemed',
};

/** "Order 1001 by Anna [lgw:txn_...]", at most 255 characters with the tag always kept whole. */
export function descriptionOf(m: Movement): string {
  const tag = ` [lgw:${m.txnId}]`;
  let text = m.reason.trim() || DEFAULT_REASON[m.operation];
  if (m.operation === 'expire' && !/expir/i.test(text)) text = `Expired: ${text}`;
  if (m.referenceId) text += ` (ref ${m.referenceId})`;
  if (m.staff) text += ` by ${m.staff}`;
  const room = DESCRIPTION_MAX - tag.length;
  if (text.length > room) text = `${text.slice(0, room - 1)}…`;
  return text + tag;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE_RE = /^\+?[0-9 ()-]{4,32}$/;
const cut = (s: string): string => s.slice(0, 100);

function customerOf(card: CardData): ProviderCard['customer'] {
  const u = card.user;
  if (!u) return null;
  const c: NonNullable<ProviderCard['customer']> = {};
  const first = u.first_name ?? (u.name ? u.name.trim().split(/\s+/)[0] : null);
  const last = u.last_name ?? (u.name?.trim().includes(' ') ? u.name.trim().split(/\s+/).slice(1).join(' ') : null);
  if (first) c.first_name = cut(first);
  if (last) c.last_name = cut(last);
  if (u.email && EMAIL_RE.test(u.email) && u.email.length <= 254) c.email = u.email;
  if (u.phone && PHONE_RE.test(u.phone)) c.phone = u.phone;
  return Object.keys(c).length > 0 ? c : null;
}

const timeOf = (s: string | null | undefined): number | null => {
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? t : null;
};

/** Card state: `status` (active/inactive/suspended/blocked/expired) where given, else `is_active`. */
export function cardOf(card: CardData): ProviderCard {
  const s = card.status?.toLowerCase() ?? null;
  let status: ProviderCard['status'] = 'active';
  if (s === 'expired') status = 'expired';
  else if (s === 'voided' || s === 'deleted' || s === 'cancelled') status = 'voided';
  else if ((s !== null && s !== 'active') || card.is_active === false) status = 'inactive';
  const providerStatus =
    card.status ?? (typeof card.is_active === 'boolean' ? (card.is_active ? 'active' : 'inactive') : null);
  const qr = card.qr_code_url;
  return {
    reference: referenceOf(card),
    cardType: POINTS_CARD.cardType,
    status,
    providerStatus,
    programReference: idText(card.partner_card_id),
    customerReference: idText(card.user?.id ?? card.user_id),
    customer: customerOf(card),
    links: qr && /^https?:\/\//.test(qr) ? { qr } : null,
    createdAt: timeOf(card.created_at),
    updatedAt: timeOf(card.updated_at),
  };
}

/** The card id a history entry belongs to, when it says. */
export const entryCardId = (t: TransactionData): string | null => idText(t.loyalty_card_id ?? t.loyalty_card?.id);

const SUBTRACTING = /^(?:redeem|redeemed|redemption|spent|spend|refund|deduct|deducted|deduction|expire|expired)$/;

/**
 * One GET /transactions entry, normalized. `points` is signed in the current docs ("earned
 * (positive) or deducted (negative)"); a positive number on a subtracting type is negated, and a
 * separate `points_redeemed` is subtracted.
 */
export function historyEntryOf(t: TransactionData): ProviderHistoryEntry {
  const type = t.type?.toLowerCase() ?? '';
  let delta = t.points ?? 0;
  if (delta > 0 && SUBTRACTING.test(type)) delta = -delta;
  if (t.points_redeemed) delta -= Math.abs(t.points_redeemed);
  const comment = t.description ?? null;
  const txn = comment ? TXN_RE.exec(comment) : null;
  let operation: ProviderHistoryEntry['operation'];
  if (/^expire/.test(type) || (delta < 0 && comment !== null && /\bexpir/i.test(comment))) operation = 'expire';
  else if (/^adjust/.test(type)) operation = 'adjust';
  else if (delta > 0) operation = 'award';
  else if (delta < 0) operation = 'redeem';
  else operation = 'other';
  return {
    providerReference: String(t.id),
    operation,
    unit: 'points',
    delta,
    balanceAfter: t.balance_after ?? null,
    comment,
    txnId: txn ? txn[1]! : null,
    createdAt: timeOf(t.transaction_date ?? t.created_at) ?? 0,
  };
}

/**
 * The entries of GET /transactions merged per order: one transactions/create with points_redeemed
 * is booked as two entries with the same order_id (a `spent` one and a 0-point `earned` one), while
 * the gateway made one movement. The merged entry has the summed delta and the id of the group's
 * newest entry (the one transactions/create answered with).
 */
export function historyOf(raws: TransactionData[]): ProviderHistoryEntry[] {
  const groups = new Map<string, TransactionData[]>();
  for (const t of raws) {
    const key = t.order_id ?? t.reference_number ?? null;
    const k = key !== null ? `o:${key}` : `i:${String(t.id)}`;
    const g = groups.get(k);
    if (g) g.push(t);
    else groups.set(k, [t]);
  }
  return [...groups.values()].map((g) => {
    const parts = g.map(historyEntryOf);
    if (parts.length === 1) return parts[0]!;
    const num = (e: ProviderHistoryEntry): number =>
      /^\d+$/.test(e.providerReference) ? Number(e.providerReference) : -1;
    const top = parts.reduce((a, b) => (num(b) > num(a) ? b : a));
    const delta = parts.reduce((sum, e) => sum + e.delta, 0);
    const ops = new Set(parts.map((e) => e.operation));
    const operation = ops.has('expire')
      ? 'expire'
      : ops.has('adjust')
        ? 'adjust'
        : delta > 0
          ? 'award'
          : delta < 0
            ? 'redeem'
            : 'other';
    return {
      ...top,
      operation,
      delta,
      comment: top.comment ?? parts.find((e) => e.comment !== null)?.comment ?? null,
      txnId: parts.find((e) => e.txnId !== null)?.txnId ?? null,
      createdAt: Math.max(...parts.map((e) => e.createdAt)),
    };
  });
}

/** A UTC calendar date, shifted by whole days (the provider filters by local date: ask for a day more each side). */
export function dayOf(ms: number, shiftDays: number): string {
  return isoDay(ms + shiftDays * DAY_MS);
}
