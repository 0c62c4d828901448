import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/domain/errors.js';
import type { Capabilities } from '../../src/domain/capabilities.js';
import type { Connection } from '../../src/services/connections/connection.js';
import type { ConnectionRegistry } from '../../src/services/connections/registry.js';
import type { TransactionStore } from '../../src/store/transaction-store.js';
import { PointsService } from '../../src/services/points/points-service.js';
import type { Dispatcher } from '../../src/dispatch/dispatcher.js';

// No Redis and no HTTP here: only the capability check that runs before anything is claimed.
// (The built-in ledger supports every operation; stamp-card providers arrive with the Providers issue.)
const stampCard: Capabilities = { operations: ['award', 'balance', 'history', 'get_card'], units: ['stamps'] };
const provider = {
  connection: { id: 'stamps', provider: 'ledger' },
  capabilities: stampCard,
  cardCapabilities: async () => stampCard,
} as unknown as Connection;
const registry = { forCard: () => provider, get: () => provider } as unknown as ConnectionRegistry;
const service = new PointsService({} as TransactionStore, registry, {} as Dispatcher, {
  inFlightWaitMs: 0,
  dispatchWaitMs: 0,
});

describe('capabilities', () => {
  it('refuses what a card cannot do with 422 unsupported_operation naming what it supports', async () => {
    const err = await service.requireOperation('stamps:card-1', 'redeem').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: 'unsupported_operation' });
    expect((err as GatewayError).message).toContain('award, balance, history, get_card');
    expect((err as GatewayError).message).toContain('stamps');
    expect((err as GatewayError).extra.supported).toEqual(stampCard.operations);
  });

  it('lets through what the card supports', async () => {
    await expect(service.requireOperation('stamps:card-1', 'award')).resolves.toMatchObject({ provider });
  });
});
