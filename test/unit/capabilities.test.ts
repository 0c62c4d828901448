import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_CAPABILITIES } from '../../src/builtin-ledger/builtin-ledger.js';
import type { Dispatch } from '../../src/dispatch/dispatch.js';
import { GatewayError } from '../../src/domain/errors.js';
import { keySpace } from '../../src/redis/keys.js';
import { ConnectionRegistry } from '../../src/services/connections/registry.js';
import type { BalanceCache } from '../../src/store/balance-cache.js';
import type { TransactionStore } from '../../src/store/transaction-store.js';

// No Redis server and no HTTP here: only the capability check that runs before anything is claimed.
// A built-in ledger connection knows its capabilities without a call (the Redis client never connects).
const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
afterAll(() => redis.disconnect());
const registry = new ConnectionRegistry([{ id: 'pts', provider: 'ledger' }], {
  redis,
  keys: keySpace('unit'),
  // A built-in connection uses neither: they serve provider connections.
  store: {} as TransactionStore,
  balances: {} as BalanceCache,
  dispatch: {} as Dispatch,
  options: { inFlightWaitMs: 0 },
});

describe('capabilities', () => {
  it('refuses what a card cannot do with unsupported_operation naming what it supports', async () => {
    const err = await registry.requireOperation('pts:card-1', 'visit').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: 'unsupported_operation' });
    expect((err as GatewayError).message).toContain(BUILTIN_CAPABILITIES.operations.join(', '));
    expect((err as GatewayError).extra.supported).toEqual(BUILTIN_CAPABILITIES.operations);
  });

  it('refuses a unit the card does not count in, naming its units', async () => {
    const err = await registry.requireOperation('pts:card-1', 'award', 'stamps').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unsupported_operation', extra: { units: ['points'] } });
    expect((err as GatewayError).message).toContain('does not count in stamps');
  });

  it('lets through what the card supports, with its connection', async () => {
    const { conn, caps } = await registry.requireOperation('pts:card-1', 'award', 'points');
    expect(conn.id).toBe('pts');
    expect(caps).toEqual(BUILTIN_CAPABILITIES);
  });

  it('names an unknown connection', async () => {
    await expect(registry.requireOperation('nope:card-1', 'award')).rejects.toMatchObject({
      code: 'unknown_connection',
    });
  });
});
