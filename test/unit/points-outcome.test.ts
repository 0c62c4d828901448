import { describe, expect, it } from 'vitest';
import { reversalRefused } from '../../src/services/points/outcome.js';

describe('a reversal refused because too little is left', () => {
  it('names its original and the amounts, whichever engine refused it', () => {
    const txn = { reversal_of: 'txn_01JD3X7B2C4D6E8F0G2H4J6K8M', delta: -40 };
    const exceeds = reversalRefused(25, txn);
    expect(exceeds.code).toBe('reversal_exceeds_original');
    expect(exceeds.message).toBe('Only 25 of txn_01JD3X7B2C4D6E8F0G2H4J6K8M are left to reverse; 40 were asked for.');
    const done = reversalRefused(0, txn);
    expect(done.code).toBe('already_reversed');
    expect(done.message).toContain('Transaction txn_01JD3X7B2C4D6E8F0G2H4J6K8M is already fully reversed');
    expect(`${exceeds.message} ${done.message}`).not.toContain('undefined');
  });
});
