import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint, parseIdempotencyKey } from '../../src/idempotency/key.js';
import { ulid, ulidTime } from '../../src/lib/ids.js';

describe('Idempotency-Key header', () => {
  it('takes bare and quoted values as the same key', () => {
    expect(parseIdempotencyKey('4f1c-aa')).toBe('4f1c-aa');
    expect(parseIdempotencyKey('"4f1c-aa"')).toBe('4f1c-aa');
    expect(parseIdempotencyKey('  "4f1c-aa"  ')).toBe('4f1c-aa');
    expect(parseIdempotencyKey('"a\\"b"')).toBe('a"b');
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it.each([[''], ['""'], ['   '], ['x'.repeat(256)], [`"${'x'.repeat(256)}"`], ['caf\u00e9'], [['a', 'b']]])(
    'refuses %j',
    (value) => {
      expect(() => parseIdempotencyKey(value as string)).toThrowError(
        expect.objectContaining({ code: 'invalid_idempotency_key' }),
      );
    },
  );

  it('accepts 255 characters', () => {
    expect(parseIdempotencyKey('k'.repeat(255))).toHaveLength(255);
  });
});

describe('fingerprint', () => {
  it('ignores key order and undefined fields, not values', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], u: undefined })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(fingerprint('POST', '/v1/points/award', { a: 1, b: 2 })).toBe(
      fingerprint('POST', '/v1/points/award', { b: 2, a: 1 }),
    );
    expect(fingerprint('POST', '/v1/points/award', { a: 1 })).not.toBe(
      fingerprint('POST', '/v1/points/redeem', { a: 1 }),
    );
    expect(fingerprint('POST', '/x', { a: 1 })).not.toBe(fingerprint('POST', '/x', { a: '1' }));
  });
});

describe('ids', () => {
  it('sort in creation order, even within one millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 1000 }, () => ulid(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ulidTime(ids[0]!)).toBe(now);
  });
});
