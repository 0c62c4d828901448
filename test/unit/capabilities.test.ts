import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_CAPABILITIES } from '../../src/builtin-ledger/builtin-ledger.js';
import { loadEnv } from '../../src/config/env.js';
import { GatewayError } from '../../src/domain/errors.js';
import { createGateway } from '../../src/services/gateway.js';

// No Redis server and no HTTP here: only the capability check that runs before anything is claimed.
// The registry is the gateway's own, built as the OpenAPI generator builds it (offline: nothing connects);
// a built-in ledger connection knows its capabilities without a call.
const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
const gateway = await createGateway({
  env: loadEnv({ REDIS_KEY_PREFIX: 'unit' }),
  redis,
  connections: [{ id: 'pts', provider: 'ledger' }],
  log: pino({ level: 'silent' }),
  offline: true,
  checkBulkItems: () => [],
});
const registry = gateway.connections;
afterAll(() => redis.disconnect());

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
