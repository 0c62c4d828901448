import { describe, expect, it } from 'vitest';
import type { Movement } from '../../src/providers/adapter.js';
import { makeRef, parseRef, wireId } from '../../src/providers/coupontools/convert.js';
import { checkMovement, MEMBERSHIP, STAMP } from '../../src/providers/coupontools/mapping.js';
import { readError, readProgramList, readUser, readUserList } from '../../src/providers/coupontools/wire.js';

const mv = (over: Partial<Movement>): Movement => ({
  operation: 'award',
  unit: 'stamps',
  quantity: 1,
  money: null,
  rewardId: null,
  txnId: 't',
  reason: 'r',
  referenceId: null,
  staff: null,
  dedupKey: 'k',
  notify: false,
  ...over,
});

describe('Coupontools references', () => {
  it('joins and splits <loyaltyCardId>.<userId> at the first dot', () => {
    expect(makeRef('1001', '50001')).toBe('1001.50001');
    expect(parseRef('1001.50001')).toEqual({ programId: '1001', userId: '50001' });
    expect(parseRef('1001.a.b')).toEqual({ programId: '1001', userId: 'a.b' });
    for (const bad of ['1001', '.5', '5.', '1001/5', '', 'a b.c']) expect(parseRef(bad), bad).toBeNull();
    expect(makeRef('1001', 'a/b')).toBeNull();
    expect(wireId('42')).toBe(42);
    expect(wireId('0x2')).toBe('0x2');
    expect(wireId('u-1')).toBe('u-1');
  });
});

describe('Coupontools wire readers', () => {
  it('reads the documented program list and refuses malformed ones', () => {
    expect(readProgramList([{ id: 1, code: 'ndoh57', name: 'A', domain: 'x', type: 'stamp' }])).toEqual([
      { id: '1', code: 'ndoh57', name: 'A', type: 'stamp' },
    ]);
    expect(readProgramList({ data: [{ id: 1, type: 'Membership' }] })![0]!.type).toBe('membership');
    expect(readProgramList([{ id: 1 }])).toBeNull();
    expect(readProgramList('x')).toBeNull();
  });

  it('reads users under several field names', () => {
    expect(readUser({ id: 5, current_stamps: 3, available_rewards: 2 })).toMatchObject({
      id: '5',
      stamps: 3,
      rewards: null,
      rewardsCount: 2,
    });
    expect(readUser({ user: { id: '5', stamps: [1, 2], voided: '1' } })).toMatchObject({ stamps: 2, voided: true });
    expect(readUser({ id: 5, status: 'voided' })!.voided).toBe(true);
    expect(readUser({ id: 5, stamps: -1 })).toBeNull();
    expect(readUser({ id: 5, rewards: [{ name: 'no id' }] })).toBeNull();
    expect(readUser({ stamps: 1 })).toBeNull();
    expect(readUserList({ users: [{ id: 1 }], pagination: { page: 1, pages: 3 } })).toMatchObject({
      hasMore: true,
      total: null,
    });
  });

  it('reads v3 and generic error bodies', () => {
    expect(readError({ status: { status: 'failed', errors: { error_code: 1000, error_message: 'Bad' } } })).toEqual({
      code: '1000',
      message: 'Bad',
      failed: true,
    });
    expect(readError({ error: 'Nope' })).toEqual({ code: null, message: 'Nope', failed: false });
    expect(readError({ errors: { email: ['is taken'] } }).message).toBe('email: is taken');
    expect(readError({ id: 1, status: 'active' }).failed).toBe(false);
  });
});

describe('Coupontools capability checks', () => {
  it('allows stamps on stamp cards only, and nothing that subtracts', () => {
    expect(() => checkMovement(STAMP, mv({}))).not.toThrow();
    expect(() =>
      checkMovement(STAMP, mv({ operation: 'redeem_reward', unit: 'rewards', rewardId: '1' })),
    ).not.toThrow();
    expect(() => checkMovement(MEMBERSHIP, mv({}))).toThrow(/membership program takes no stamps/);
    expect(() => checkMovement(STAMP, mv({ unit: 'points' }))).toThrow(/only add stamps/);
    expect(() => checkMovement(STAMP, mv({ operation: 'redeem' }))).toThrow(/no endpoint to subtract/);
    expect(() => checkMovement(STAMP, mv({ quantity: 1.5 }))).toThrow(/whole number/);
  });
});
