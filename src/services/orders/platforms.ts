import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Platform } from '../../domain/shops.js';
import { decimalToMinor } from '../../lib/money.js';

/**
 * What the gateway reads from a platform's order webhook: its signature, its delivery id, and the
 * facts of the order it carries, the same for every platform. Nothing here calls anything.
 *
 * Shopify (https://shopify.dev/docs/apps/build/webhooks): `X-Shopify-Hmac-Sha256` is the base64
 * HMAC-SHA256 of the raw body with the app's secret; `X-Shopify-Webhook-Id` names the delivery,
 * `X-Shopify-Topic` the topic: orders/paid (an Order), refunds/create (a Refund), orders/cancelled.
 * WooCommerce: `X-WC-Webhook-Signature` is the base64 HMAC-SHA256 of the raw body with the
 * webhook's secret; `X-WC-Webhook-Delivery-ID`, `X-WC-Webhook-Topic` (order.created,
 * order.updated); the order's `status` says what happened (completed, refunded, cancelled) and its
 * `refunds` list each refund (negative totals).
 */

/** A delivery's facts about one order. Amounts in minor units. */
export interface OrderFacts {
  orderId: string;
  name: string | null;
  currency: string | null;
  customer: { id: string | null; email: string | null };
  /** Set when the delivery says the order is paid (Shopify orders/paid, WooCommerce completed). */
  paid: { subtotal: number; total: number } | null;
  /** Refunds it names: what was paid back, and of it the goods before shipping and taxes where the platform says. */
  refunds: { id: string; amount: number; subtotal: number | null }[];
  /** The whole order refunded (WooCommerce status refunded). */
  refundedInFull: boolean;
  cancelled: boolean;
}

export type Reading =
  | { kind: 'order'; facts: OrderFacts }
  /** A delivery about something else (another topic, an order status that changes nothing): answered 200, recorded. */
  | { kind: 'ignored'; orderId: string | null; reason: string }
  | { kind: 'invalid'; reason: string };

/** Constant-time check of a base64 HMAC-SHA256 of the raw body. */
export function signatureValid(secret: string, raw: Buffer, given: string | undefined): boolean {
  if (!given) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  let got: Buffer;
  try {
    got = Buffer.from(given.trim(), 'base64');
  } catch {
    return false;
  }
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export const SIGNATURE_HEADER: Record<Platform, string> = {
  shopify: 'x-shopify-hmac-sha256',
  woocommerce: 'x-wc-webhook-signature',
};
export const DELIVERY_HEADER: Record<Platform, string> = {
  shopify: 'x-shopify-webhook-id',
  woocommerce: 'x-wc-webhook-delivery-id',
};
export const TOPIC_HEADER: Record<Platform, string> = {
  shopify: 'x-shopify-topic',
  woocommerce: 'x-wc-webhook-topic',
};

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
const str = (v: unknown): string | null =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.flatMap((x) => (obj(x) ? [obj(x)!] : [])) : []);

/** A decimal amount ("12.50", 12.5, "-5.00") in minor units, absolute; null when it is not one. */
function minor(v: unknown): number | null {
  const s = typeof v === 'number' ? v.toFixed(2) : typeof v === 'string' ? v.trim() : null;
  if (s === null || !/^-?[0-9]{1,12}(\.[0-9]{1,4})?$/.test(s)) return null;
  const abs = s.replace(/^-/, '');
  const [whole, frac = ''] = abs.split('.');
  // Beyond the cent: rounded half up, as the platforms show money.
  const cents = Number(`${whole}${frac.padEnd(4, '0').slice(0, 2)}`);
  return cents + (Number(frac.padEnd(4, '0').slice(2, 4)) >= 50 ? 1 : 0);
}

const sum = (xs: (number | null)[]): number | null =>
  xs.some((x) => x === null) ? null : xs.reduce<number>((a, b) => a + (b as number), 0);

export function readDelivery(platform: Platform, topic: string, body: unknown): Reading {
  const o = obj(body);
  if (!o) return { kind: 'invalid', reason: 'the body is not a JSON object' };
  return platform === 'shopify' ? readShopify(topic, o) : readWooCommerce(topic, o);
}

function customerOf(o: Json, emailField: unknown): OrderFacts['customer'] {
  const c = obj(o.customer);
  return { id: str(c?.id), email: str(emailField ?? c?.email)?.toLowerCase() ?? null };
}

function readShopify(topic: string, o: Json): Reading {
  if (topic === 'refunds/create') {
    const orderId = str(o.order_id);
    const id = str(o.id);
    if (!orderId || !id) return { kind: 'invalid', reason: 'a refund needs id and order_id' };
    // What was paid back: the successful refund transactions; else the refunded lines.
    const txns = list(o.transactions).filter((t) => t.kind === 'refund' && (t.status ?? 'success') === 'success');
    const lines = list(o.refund_line_items);
    const subtotal = lines.length > 0 ? sum(lines.map((l) => minor(l.subtotal))) : null;
    const amount = txns.length > 0 ? sum(txns.map((t) => minor(t.amount))) : subtotal;
    if (amount === null) return { kind: 'invalid', reason: 'the refund has no readable amount' };
    return {
      kind: 'order',
      facts: { ...blank(orderId), refunds: [{ id, amount, subtotal }] },
    };
  }
  const orderId = str(o.id);
  if (!orderId) return { kind: 'invalid', reason: 'an order needs an id' };
  const base = {
    ...blank(orderId),
    name: str(o.name),
    currency: str(o.currency),
    customer: customerOf(o, o.email),
  };
  if (topic === 'orders/paid') {
    const subtotal = minor(o.subtotal_price);
    const total = minor(o.total_price);
    if (subtotal === null || total === null)
      return { kind: 'invalid', reason: 'the order has no readable subtotal_price or total_price' };
    return { kind: 'order', facts: { ...base, paid: { subtotal, total } } };
  }
  if (topic === 'orders/cancelled') return { kind: 'order', facts: { ...base, cancelled: true } };
  return { kind: 'ignored', orderId, reason: `topic ${topic || '(none)'} is not one the gateway acts on` };
}

function readWooCommerce(topic: string, o: Json): Reading {
  if (topic !== 'order.created' && topic !== 'order.updated') {
    return { kind: 'ignored', orderId: str(o.id), reason: `topic ${topic || '(none)'} is not one the gateway acts on` };
  }
  const orderId = str(o.id);
  if (!orderId) return { kind: 'invalid', reason: 'an order needs an id' };
  const billing = obj(o.billing);
  const customerId = str(o.customer_id);
  const facts: OrderFacts = {
    ...blank(orderId),
    name: str(o.number),
    currency: str(o.currency),
    customer: { id: customerId === '0' ? null : customerId, email: str(billing?.email)?.toLowerCase() ?? null },
    refunds: list(o.refunds).flatMap((r) => {
      const id = str(r.id);
      const amount = minor(r.total);
      return id && amount !== null && amount > 0 ? [{ id, amount, subtotal: null }] : [];
    }),
  };
  const status = str(o.status);
  if (status === 'completed' || status === 'refunded') {
    // Subtotal: the lines after discounts, before shipping and taxes.
    const subtotal = sum(list(o.line_items).map((l) => minor(l.total)));
    const total = minor(o.total);
    if (subtotal === null || total === null)
      return { kind: 'invalid', reason: 'the order has no readable total or line_items' };
    // A refunded order's `total` is what was charged; its refunds say what went back.
    facts.paid = { subtotal, total };
    facts.refundedInFull = status === 'refunded';
  } else if (status === 'cancelled') {
    facts.cancelled = true;
  } else if (facts.refunds.length === 0) {
    return { kind: 'ignored', orderId, reason: `status ${status ?? '(none)'} changes nothing` };
  }
  return { kind: 'order', facts };
}

function blank(orderId: string): OrderFacts {
  return {
    orderId,
    name: null,
    currency: null,
    customer: { id: null, email: null },
    paid: null,
    refunds: [],
    refundedInFull: false,
    cancelled: false,
  };
}

/** Points for an amount (minor units) under a shop's earning rule; 0 below the minimum order. */
export function pointsFor(
  amountMinor: number,
  earn: { pointsPerUnit: number; rounding: 'floor' | 'round'; minOrder?: string },
): number {
  if (earn.minOrder !== undefined && amountMinor < decimalToMinor(earn.minOrder)) return 0;
  // Whole units of currency times the rate, computed on cents to stay exact for rates like 1 or 10.
  const raw = (amountMinor * earn.pointsPerUnit) / 100;
  const n = earn.rounding === 'floor' ? Math.floor(raw + 1e-9) : Math.round(raw);
  return Math.max(0, n);
}
