import { afterAll, describe, expect, it } from 'vitest';
import { statusOf } from '../../src/api/problem.js';
import type { Movement } from '../../src/providers/adapter.js';
import { LocalRequestGate } from '../../src/providers/http/local-gate.js';
import type { HttpResult } from '../../src/providers/http/provider-http.js';
import { LoyaltyltClient, parseErrorBody } from '../../src/providers/loyaltylt/client.js';
import {
  cardKeyOf,
  cardOf,
  descriptionOf,
  historyOf,
  planOf,
  referenceOf,
} from '../../src/providers/loyaltylt/mapping.js';

const client = new LoyaltyltClient(
  {
    id: 'x',
    provider: 'loyaltylt',
    baseUrl: 'http://127.0.0.1:9',
    apiKey: 'key-abcdef',
    apiSecret: 'secret-uvwxyz',
  },
  new LocalRequestGate(null),
);
afterAll(async () => client.close());

const res = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  status,
  headers,
  body,
  invalidJson: false,
  text: JSON.stringify(body),
});
const err = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  client.errorFor(res(status, body, headers), status, 'call', true, 'card_not_found');

const mv = (over: Partial<Movement>): Movement => ({
  operation: 'award',
  unit: 'points',
  quantity: 5,
  money: null,
  rewardId: null,
  txnId: 'txn_01J00000000000000000000000',
  reason: 'Order 1',
  referenceId: null,
  staff: null,
  dedupKey: 'k',
  notify: false,
  ...over,
});

describe('Loyalty.lt error bodies', () => {
  it('reads the numeric, string and nested legacy forms', () => {
    expect(parseErrorBody({ success: false, code: 1004, message: 'API key and secret are required.' })).toMatchObject({
      appCode: 1004,
      message: 'API key and secret are required.',
    });
    expect(
      parseErrorBody({
        success: false,
        code: 'VALIDATION_ERROR',
        message: 'Validation failed',
        errors: { order_id: ['The order id field is required.'] },
      }).fields,
    ).toEqual(['order_id: The order id field is required.']);
    expect(
      parseErrorBody({
        success: false,
        error: { code: 'INSUFFICIENT_POINTS', message: 'Not enough' },
        retry_after: 60,
      }),
    ).toMatchObject({ appCode: 'INSUFFICIENT_POINTS', message: 'Not enough', retryAfter: 60 });
    expect(parseErrorBody('<html>')).toEqual({ appCode: null, message: null, fields: [], retryAfter: null });
  });

  it('maps each documented refusal to the gateway code', () => {
    expect(err(401, { code: 1004, message: 'x' }).code).toBe('provider_auth_failed');
    expect(err(403, { message: 'API access is not in your plan' }).code).toBe('provider_auth_failed');
    expect(err(404, { code: 1200, message: 'Loyalty card not found' }).code).toBe('card_not_found');
    const plan = err(402, { code: 1322, message: 'Plan limit reached', data: { metric: 'api_calls' } });
    expect([plan.code, plan.message]).toEqual(['provider_rejected', expect.stringContaining('Plan limit reached')]);
    const lt = err(400, {
      success: false,
      message: 'Nepakanka taškų nuskaityti. Turimi: 300 taškų',
      code: 'VALIDATION_ERROR',
    });
    expect([lt.code, statusOf(lt.code), lt.applied]).toEqual(['insufficient_points', 400, 'no']);
    expect(lt.message).toContain('The card holds 300 points.');
    expect(
      err(400, { success: false, error: { code: 'INSUFFICIENT_POINTS', message: 'Insufficient points' } }).code,
    ).toBe('insufficient_points');
    expect(err(403, { success: false, error: { code: 'CARD_BLOCKED', message: 'Card is blocked' } }).code).toBe(
      'card_blocked',
    );
    expect(err(400, { success: false, code: 'CARD_INACTIVE', message: 'Card is inactive' }).code).toBe('card_blocked');
    const invalid = err(400, {
      success: false,
      error: { code: 'INVALID_POINTS_AMOUNT', message: 'Points must be positive' },
    });
    expect([invalid.code, invalid.message]).toEqual([
      'provider_rejected',
      expect.stringContaining('INVALID_POINTS_AMOUNT'),
    ]);
    const v = err(422, {
      code: 1100,
      message: 'The given data was invalid',
      errors: { points: ['The points must be a positive integer.'] },
    });
    expect([v.code, v.message]).toEqual([
      'provider_rejected',
      expect.stringContaining('points: The points must be a positive integer.'),
    ]);
    expect(
      err(409, { code: 'RESOURCE_ALREADY_EXISTS', message: 'Transaction already processed for this order' }).code,
    ).toBe('duplicate_at_provider');
    const limited = err(429, {
      success: false,
      error: { code: 'TRANSACTION_LIMIT_EXCEEDED', message: 'Slow down' },
      retry_after: 60,
    });
    expect([limited.code, limited.extra.retryAfter]).toEqual(['provider_rate_limited', '60']);
    expect(err(429, {}, { 'retry-after': '7' }).extra.retryAfter).toBe('7');
    const down = err(502, '<html>');
    expect([down.code, down.applied]).toEqual(['provider_unavailable', 'unknown']);
  });

  it('never repeats a credential the provider echoes', () => {
    const e = err(401, { message: 'Unknown key key-abcdef with secret secret-uvwxyz' });
    expect(e.message).not.toMatch(/key-abcdef|secret-uvwxyz/);
  });
});

describe('Loyalty.lt mapping', () => {
  it('reads references: digits are a card_id, anything else a card_number', () => {
    expect(cardKeyOf('101')).toEqual({ card_id: 101 });
    expect(cardKeyOf('100-000-101')).toEqual({ card_number: '100-000-101' });
    expect(cardKeyOf('LC00000567')).toEqual({ card_number: 'LC00000567' });
    expect(referenceOf({ id: 123, card_number: 'LC****4567' })).toBe('123');
    expect(referenceOf({ id: 123, card_number: '100-000-123' })).toBe('100-000-123');
  });

  it('plans each movement', () => {
    expect(planOf(mv({ money: { decimal: '49.99', minor: 4999, currency: 'EUR' } }))).toEqual({
      call: 'create',
      points: 5,
      pointsRedeemed: null,
      orderTotal: '49.99',
      discount: null,
    });
    expect(planOf(mv({ operation: 'redeem' }))).toEqual({
      call: 'create',
      points: 0,
      pointsRedeemed: 5,
      orderTotal: null,
      discount: null,
    });
    expect(planOf(mv({ operation: 'adjust', quantity: -3 }))).toEqual({ call: 'deduct', points: 3, expired: false });
    expect(planOf(mv({ operation: 'expire', quantity: 3 }))).toEqual({ call: 'deduct', points: 3, expired: true });
    expect(() => planOf(mv({ operation: 'adjust', quantity: 0 }))).toThrow(/changes nothing/);
  });

  it('keeps the txn tag whole in a description of at most 255 characters', () => {
    const d = descriptionOf(mv({ reason: 'x'.repeat(400), referenceId: 'R', staff: 'S' }));
    expect(d.length).toBeLessThanOrEqual(255);
    expect(d.endsWith(' [lgw:txn_01J00000000000000000000000]')).toBe(true);
    expect(descriptionOf(mv({ operation: 'expire', reason: 'Yearly clean-up' }))).toMatch(/^Expired: Yearly clean-up/);
  });

  it('merges the two entries of a redemption order', () => {
    const tag = '[lgw:txn_01J00000000000000000000000]';
    const h = historyOf([
      {
        id: 11,
        type: 'earned',
        points: 0,
        order_id: 'o',
        description: `r ${tag}`,
        balance_after: 80,
        created_at: '2025-01-01T00:00:01Z',
      },
      {
        id: 10,
        type: 'spent',
        points: 20,
        order_id: 'o',
        description: null,
        balance_after: 80,
        created_at: '2025-01-01T00:00:01Z',
      },
      {
        id: 9,
        type: 'refund',
        points: 5,
        order_id: null,
        description: 'Points expired [lgw:txn_01J00000000000000000000001]',
        created_at: '2025-01-01T00:00:00Z',
      },
    ]);
    expect(h).toEqual([
      expect.objectContaining({
        providerReference: '11',
        operation: 'redeem',
        delta: -20,
        balanceAfter: 80,
        txnId: 'txn_01J00000000000000000000000',
      }),
      expect.objectContaining({
        providerReference: '9',
        operation: 'expire',
        delta: -5,
        txnId: 'txn_01J00000000000000000000001',
      }),
    ]);
  });

  it('normalizes card state and owner', () => {
    const c = cardOf({
      id: 5,
      card_number: 'LC00000005',
      is_active: false,
      user: { id: 9, name: 'Jonas Jonaitis', email: 'j@example.com', phone: '+37060000000' },
    });
    expect(c).toMatchObject({
      reference: 'LC00000005',
      status: 'inactive',
      providerStatus: 'inactive',
      customerReference: '9',
      customer: { first_name: 'Jonas', last_name: 'Jonaitis', phone: '+37060000000' },
    });
  });
});
