import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/domain/errors.js';
import type { Capabilities } from '../../src/domain/capabilities.js';
import type { PointsProvider } from '../../src/providers/provider.js';
import type { ProviderRegistry } from '../../src/providers/registry.js';
import type { TransactionLedger } from '../../src/ledger/transaction-ledger.js';
import { PointsService } from '../../src/transactions/points-service.js';
import type { Dispatcher } from '../../src/queue/dispatcher.js';

// No Redis and no HTTP here: only the capability check that runs before anything is claimed.
// (The built-in ledger supports every operation; stamp-card providers arrive with the Providers issue.)
const stampCard: Capabilities = { operations: ['award', 'balance', 'history', 'get_card'], units: ['stamps'] };
const provider = {
  connection: { id: 'stamps', provider: 'ledger' },
  capabilities: stampCard,
  cardCapabilities: async () => stampCard,
} as unknown as PointsProvider;
const registry = { forCard: () => provider, get: () => provider } as unknown as ProviderRegistry;
const service = new PointsService({} as TransactionLedger, registry, {} as Dispatcher, {
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
