import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pointsFor, readDelivery, signatureValid } from '../../src/services/orders/platforms.js';

describe('earning', () => {
  it('multiplies the amount by the rate, floored or rounded, and gives 0 below the minimum order', () => {
    expect(pointsFor(4290, { pointsPerUnit: 1, rounding: 'floor' })).toBe(42);
    expect(pointsFor(4290, { pointsPerUnit: 1, rounding: 'round' })).toBe(43);
    expect(pointsFor(1025, { pointsPerUnit: 2, rounding: 'round' })).toBe(21);
    expect(pointsFor(1025, { pointsPerUnit: 2, rounding: 'floor' })).toBe(20);
    expect(pointsFor(1000, { pointsPerUnit: 0.1, rounding: 'floor' })).toBe(1);
    expect(pointsFor(499, { pointsPerUnit: 10, rounding: 'round', minOrder: '5.00' })).toBe(0);
    expect(pointsFor(500, { pointsPerUnit: 10, rounding: 'round', minOrder: '5.00' })).toBe(50);
  });
});

describe('signatures', () => {
  const body = Buffer.from('{"id":1}');
  const good = createHmac('sha256', 'secret').update(body).digest('base64');
  it('accepts the base64 HMAC-SHA256 of the raw body, nothing else', () => {
    expect(signatureValid('secret', body, good)).toBe(true);
    expect(signatureValid('secret', Buffer.from('{"id":2}'), good)).toBe(false);
    expect(signatureValid('other', body, good)).toBe(false);
    expect(signatureValid('secret', body, undefined)).toBe(false);
    expect(signatureValid('secret', body, '')).toBe(false);
    expect(signatureValid('secret', body, good.slice(0, -4))).toBe(false);
  });
});

describe('reading deliveries', () => {
  it('Shopify: paid, a refund (its successful transactions), cancelled, another topic', () => {
    expect(
      readDelivery('shopify', 'orders/paid', {
        id: 5,
        subtotal_price: '10.00',
        total_price: '12.34',
        currency: 'EUR',
        customer: { id: 9 },
      }),
    ).toMatchObject({
      kind: 'order',
      facts: { orderId: '5', paid: { subtotal: 1000, total: 1234 }, customer: { id: '9' } },
    });
    expect(
      readDelivery('shopify', 'refunds/create', {
        id: 3,
        order_id: 5,
        transactions: [
          { kind: 'refund', status: 'success', amount: '2.50' },
          { kind: 'refund', status: 'failure', amount: '9.00' },
        ],
      }),
    ).toMatchObject({ kind: 'order', facts: { orderId: '5', refunds: [{ id: '3', amount: 250 }] } });
    expect(readDelivery('shopify', 'orders/cancelled', { id: 5 })).toMatchObject({ facts: { cancelled: true } });
    expect(readDelivery('shopify', 'products/update', { id: 5 })).toMatchObject({ kind: 'ignored' });
    expect(readDelivery('shopify', 'orders/paid', { id: 5, subtotal_price: 'ten' })).toMatchObject({ kind: 'invalid' });
    expect(readDelivery('shopify', 'orders/paid', [1, 2])).toMatchObject({ kind: 'invalid' });
  });

  it('WooCommerce: completed (subtotal: the lines after discounts), refunds as negative totals, refunded, cancelled', () => {
    const order = {
      id: 7,
      currency: 'EUR',
      total: '15.00',
      line_items: [{ total: '9.99' }, { total: '1.01' }],
      refunds: [{ id: 1, total: '-2.00' }],
    };
    expect(readDelivery('woocommerce', 'order.updated', { ...order, status: 'completed' })).toMatchObject({
      facts: { paid: { subtotal: 1100, total: 1500 }, refunds: [{ id: '1', amount: 200 }], refundedInFull: false },
    });
    expect(readDelivery('woocommerce', 'order.updated', { ...order, status: 'refunded' })).toMatchObject({
      facts: { refundedInFull: true },
    });
    expect(readDelivery('woocommerce', 'order.updated', { id: 7, status: 'cancelled' })).toMatchObject({
      facts: { cancelled: true },
    });
    expect(readDelivery('woocommerce', 'order.updated', { id: 7, status: 'on-hold' })).toMatchObject({
      kind: 'ignored',
    });
  });
});
