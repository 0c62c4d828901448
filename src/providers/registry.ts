import type { Redis } from 'ioredis';
import { GatewayError } from '../domain/errors.js';
import { publicSettings, type ConnectionConfig } from '../config/connections.js';
import type { KeySpace } from '../redis/keys.js';
import { LedgerProvider } from './ledger/ledger-provider.js';
import { ExternalProvider } from './external-provider.js';
import { createAdapter } from './adapters.js';
import type { TransactionLedger } from '../ledger/transaction-ledger.js';
import type { PointsProvider } from './provider.js';
import type { Dispatcher } from '../queue/dispatcher.js';
import { isQueuedMethod } from '../queue/queued-adapter.js';

/** The provider of every configured connection, and the card-id → connection lookup. */
export class ProviderRegistry {
  private readonly byId = new Map<string, PointsProvider>();

  constructor(
    connections: ConnectionConfig[],
    redis: Redis,
    keys: KeySpace,
    ledger: TransactionLedger,
    dispatch: Dispatcher,
  ) {
    for (const conn of connections) {
      if (conn.provider === 'ledger') {
        this.byId.set(conn.id, new LedgerProvider(conn, redis, keys));
        continue;
      }
      // The connection's queue, and the Redis limiter every request of its adapter goes through.
      const gate = dispatch.addConnection(conn);
      this.byId.set(conn.id, new ExternalProvider(conn, createAdapter(conn, gate), ledger, redis, keys, dispatch));
    }
  }

  /** Runs an adapter method for a call job (workers only): the connection's real adapter, not the queued one. */
  readonly directCall = async (connectionId: string, method: string, args: unknown[]): Promise<unknown> => {
    const provider = this.get(connectionId);
    if (!(provider instanceof ExternalProvider) || !isQueuedMethod(method))
      throw new Error(`no provider call ${method} on ${connectionId}`);
    const fn = (provider.direct as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>)[
      method
    ];
    if (typeof fn !== 'function') throw new Error(`${connectionId} has no ${method}`);
    return fn.apply(provider.direct, args);
  };

  /** The external connection `connectionId`, or unsupported_operation naming what it is. */
  external(connectionId: string, what: string): ExternalProvider {
    const p = this.get(connectionId);
    if (!(p instanceof ExternalProvider)) {
      throw new GatewayError(
        'unsupported_operation',
        `Connection ${connectionId} is the built-in ledger, which has no ${what}.`,
        { supported: p.capabilities.operations },
      );
    }
    return p;
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((p) => (p instanceof ExternalProvider ? p.close() : undefined)));
  }

  list(): PointsProvider[] {
    return [...this.byId.values()];
  }

  get(connectionId: string): PointsProvider {
    const p = this.byId.get(connectionId);
    if (!p) {
      throw new GatewayError(
        'unknown_connection',
        `There is no connection "${connectionId}". Configured: ${[...this.byId.keys()].join(', ')}.`,
      );
    }
    return p;
  }

  /** The provider holding a card, from the `<connection>:` part of its id. */
  forCard(cardId: string): PointsProvider {
    const colon = cardId.indexOf(':');
    return this.get(colon === -1 ? cardId : cardId.slice(0, colon));
  }

  /** The built-in ledger connections (where cards can be issued by the gateway itself). */
  ledgers(): LedgerProvider[] {
    return this.list().filter((p): p is LedgerProvider => p instanceof LedgerProvider);
  }

  describe() {
    return this.list().map((p) => ({
      id: p.connection.id,
      provider: p.connection.provider,
      capabilities: p.capabilities,
      settings: publicSettings(p.connection),
    }));
  }
}
