import { describe, expect, it } from 'vitest';
import { cardOf, cardStatusOf, customerOf, earnedRewardsOf, parseCardRef } from '../../src/providers/leal/mapping.js';
import {
  readAvailableReward,
  readCustomer,
  readCustomerCard,
  readCustomerList,
  readErrorMessage,
  readRedemption,
} from '../../src/providers/leal/wire.js';

const card = {
  id: 501,
  account_id: 1,
  customer_id: 301,
  card_id: 7,
  card_name: 'Coffee',
  uuid: 'u',
  stamps_count: 25,
  stamps_remaining: 5,
  progress_percentage: 50,
  available_rewards: [{ id: 71, name: 'Free coffee', stamps_required: 10 }],
  status: 'active',
  pass_installed: false,
  apple_wallet_url: 'https://a',
  google_wallet_url: '',
  issued_at: '2025-01-15T10:00:00Z',
  created_at: '2025-01-15T10:00:00Z',
  updated_at: 'garbage',
};

describe('leal wire guards', () => {
  it('refuses customer cards without their required fields, and reads optional ones defensively', () => {
    expect(readCustomerCard(card)).not.toBeNull();
    expect(readCustomerCard({ ...card, stamps_count: '12' })).toBeNull();
    expect(readCustomerCard({ ...card, id: undefined })).toBeNull();
    expect(readCustomerCard({ ...card, available_rewards: 'none' })).toBeNull();
    expect(readCustomerCard([card])).toBeNull();
    expect(readCustomerCard({ ...card, status: 3, available_rewards: undefined })).toMatchObject({
      status: null,
      available_rewards: [],
    });
  });

  it('reads lists bare or wrapped, and refuses a list with one bad element', () => {
    const c = {
      id: 1,
      first_name: 'A',
      external_references: [{ source: 'loyalty-gateway', external_id: 42 }, 'junk'],
      customer_cards: [9, card],
    };
    expect(readCustomerList([c])?.customers).toHaveLength(1);
    expect(
      readCustomerList({ customers: [c], pagination: { count: 1, items: 20, page: 1, pages: 1 } })?.pagination,
    ).toEqual({ count: 1, items: 20, page: 1, pages: 1 });
    expect(readCustomerList({ customers: [c, { first_name: 'no id' }] })).toBeNull();
    expect(readCustomerList({ data: [c] })).toBeNull();
    const mapped = customerOf(readCustomer(c)!);
    expect(mapped.external_reference).toBe('42');
    expect(mapped.cardReferences).toEqual(['1.9', '1.501']);
  });

  it('reads redemptions and available_rewards elements of any shape', () => {
    expect(readRedemption({ success: true, redemption: { id: 9, stamps_remaining: 2 } })).toMatchObject({
      id: 9,
      stamps_remaining: 2,
      success: true,
    });
    expect(readRedemption({ success: true })).toBeNull();
    expect(readAvailableReward(71)).toEqual({ id: '71', name: null, cost: null });
    expect(readAvailableReward('71')).toEqual({ id: '71', name: null, cost: null });
    expect(readAvailableReward('Free coffee')).toEqual({ id: null, name: 'Free coffee', cost: null });
    expect(readAvailableReward({ reward_id: 72, reward_name: 'Cake', cost: 15 })).toEqual({
      id: '72',
      name: 'Cake',
      cost: 15,
    });
    expect(readAvailableReward({})).toBeNull();
    expect(readAvailableReward(null)).toBeNull();
  });

  it('turns Leal error bodies into one sentence', () => {
    expect(
      readErrorMessage({
        error: 'Validation failed',
        errors: { email: ['has already been taken'], phone: ['is invalid', 'is too short'] },
      }),
    ).toBe('Validation failed; email has already been taken; phone is invalid; phone is too short');
    expect(readErrorMessage({ errors: ['Not enough stamps'] })).toBe('Not enough stamps');
    expect(readErrorMessage('oops')).toBeNull();
    expect(readErrorMessage({})).toBeNull();
  });
});

describe('leal mapping', () => {
  it('parses card references <customer_id>.<customer_card_id> only', () => {
    expect(parseCardRef('301.501')).toEqual({ customerId: '301', cardId: '501' });
    for (const bad of ['301', '301.', '.501', '301.501.1', '0.5', 'a.b', '301.0501x'])
      expect(parseCardRef(bad)).toBeNull();
  });

  it('maps a customer card to a ProviderCard', () => {
    const c = cardOf(readCustomerCard(card)!);
    expect(c).toMatchObject({
      reference: '301.501',
      status: 'active',
      programReference: '7',
      customerReference: '301',
      links: { apple: 'https://a' },
      updatedAt: null,
    });
    expect(c.createdAt).toBe(Date.parse('2025-01-15T10:00:00Z'));
    expect(cardStatusOf('expired')).toBe('expired');
    expect(cardStatusOf('archived')).toBe('voided');
    expect(cardStatusOf('paused')).toBe('inactive');
    expect(cardStatusOf(null)).toBe('active');
  });

  it('counts earned rewards against the stamps, and keeps available rewards the template list lacks', () => {
    const wire = readCustomerCard({ ...card, available_rewards: [{ id: 71, name: 'Free coffee' }, 99, 'Mystery'] })!;
    const rewards = earnedRewardsOf(wire, [
      { id: 71, card_id: 7, name: 'Free coffee', stamps_required: 10, active: true },
      { id: 73, card_id: 7, name: 'Mug', stamps_required: 30, active: true },
      { id: 72, card_id: 7, name: 'Cake', stamps_required: 15, active: false },
    ]);
    expect(rewards).toEqual([
      { id: '71', name: 'Free coffee', status: 'available', cost: 10, unit: 'stamps', count: 2 },
      { id: '73', name: 'Mug', status: 'available', cost: 30, unit: 'stamps', count: 0 },
      { id: '99', name: null, status: 'available', cost: null, unit: null, count: 1 },
    ]);
  });
});
