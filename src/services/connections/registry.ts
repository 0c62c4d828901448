import type { Redis } from 'ioredis';
import { GatewayError } from '../../domain/errors.js';
import { publicSettings, type ConnectionConfig } from '../../config/connections.js';
import type { KeySpace } from '../../redis/keys.js';
import { BuiltinLedger } from '../../builtin-ledger/builtin-ledger.js';
import { ProviderConnection } from './provider-connection.js';
import { createAdapter } from '../../providers/adapters.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { Connection } from './connection.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { isQueuedMethod } from '../../dispatch/queued-adapter.js';

/** The provider of every configured connection, and the card-id → connection lookup. */
export class ConnectionRegistry {
  private readonly byId = new Map<string, Connection>();

  constructor(
    connections: ConnectionConfig[],
    redis: Redis,
    keys: KeySpace,
    ledger: TransactionStore,
    dispatch: Dispatcher,
  ) {
    for (const conn of connections) {
      if (conn.provider === 'ledger') {
        this.byId.set(conn.id, new BuiltinLedger(conn, redis, keys));
        continue;
      }
      // The connection's queue, and the Redis limiter every request of its adapter goes through.
      const gate = dispatch.addConnection(conn);
      this.byId.set(conn.id, new ProviderConnection(conn, createAdapter(conn, gate), ledger, redis, keys, dispatch));
    }
  }

  /** Runs an adapter method for a call job (workers only): the connection's real adapter, not the queued one. */
  readonly directCall = async (connectionId: string, method: string, args: unknown[]): Promise<unknown> => {
    const provider = this.get(connectionId);
    if (!(provider instanceof ProviderConnection) || !isQueuedMethod(method))
      throw new Error(`no provider call ${method} on ${connectionId}`);
    const fn = (provider.direct as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>)[
      method
    ];
    if (typeof fn !== 'function') throw new Error(`${connectionId} has no ${method}`);
    return fn.apply(provider.direct, args);
  };

  /** The external connection `connectionId`, or unsupported_operation naming what it is. */
  external(connectionId: string, what: string): ProviderConnection {
    const p = this.get(connectionId);
    if (!(p instanceof ProviderConnection)) {
      throw new GatewayError(
        'unsupported_operation',
        `Connection ${connectionId} is the built-in ledger, which has no ${what}.`,
        { supported: p.capabilities.operations },
      );
    }
    return p;
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((p) => (p instanceof ProviderConnection ? p.close() : undefined)));
  }

  list(): Connection[] {
    return [...this.byId.values()];
  }

  get(connectionId: string): Connection {
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
  forCard(cardId: string): Connection {
    const colon = cardId.indexOf(':');
    return this.get(colon === -1 ? cardId : cardId.slice(0, colon));
  }

  /** The built-in ledger connections (where cards can be issued by the gateway itself). */
  ledgers(): BuiltinLedger[] {
    return this.list().filter((p): p is BuiltinLedger => p instanceof BuiltinLedger);
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
