import type { Redis } from 'ioredis';
import { BuiltinLedger } from '../../builtin-ledger/builtin-ledger.js';
import { type ConnectionConfig, publicSettings } from '../../config/connections.js';
import type { Dispatch } from '../../dispatch/dispatch.js';
import type { Capabilities, Operation } from '../../domain/capabilities.js';
import { GatewayError } from '../../domain/errors.js';
import { connectionOf } from '../../domain/ids.js';
import type { Unit } from '../../domain/units.js';
import { descriptorOf } from '../../providers/index.js';
import type { KeySpace } from '../../redis/keys.js';
import type { BalanceCache } from '../../store/balance-cache.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { SettledHook } from '../points/transaction-events.js';
import { BuiltinConnection } from './builtin-connection.js';
import type { Connection } from './connection.js';
import { ProviderConnection } from './provider-connection.js';

/**
 * Every configured connection, and the card id → connection lookup. The one place that tells the
 * built-in ledger from a provider: it builds each connection from its configuration, and answers
 * the few questions that depend on the kind (the built-in ledgers, a card's ledger).
 */
export class ConnectionRegistry {
  private readonly byId = new Map<string, Connection>();

  constructor(
    connections: ConnectionConfig[],
    deps: {
      redis: Redis;
      keys: KeySpace;
      store: TransactionStore;
      balances: BalanceCache;
      dispatch: Dispatch;
      options: { inFlightWaitMs: number; onSettled?: SettledHook };
    },
  ) {
    for (const config of connections) {
      if (config.provider === 'ledger') {
        const ledger = new BuiltinLedger(config, deps.redis, deps.keys);
        this.byId.set(config.id, new BuiltinConnection(ledger, deps.store, deps.options));
        continue;
      }
      const descriptor = descriptorOf(config.provider);
      if (!descriptor) throw new Error(`connection ${config.id}: no provider ${config.provider} in this build`);
      this.byId.set(config.id, new ProviderConnection(config, descriptor, deps));
    }
  }

  list(): Connection[] {
    return [...this.byId.values()];
  }

  get(connectionId: string): Connection {
    const c = this.byId.get(connectionId);
    if (!c) {
      throw new GatewayError(
        'unknown_connection',
        `There is no connection "${connectionId}". Configured: ${[...this.byId.keys()].join(', ')}.`,
      );
    }
    return c;
  }

  /** The connection holding a card, from the `<connection>:` part of its id. */
  forCard(cardId: string): Connection {
    return this.get(cardId.includes(':') ? connectionOf(cardId) : cardId);
  }

  /** The first built-in ledger connection: where POST /v1/cards issues a card when it names no connection. */
  defaultLedger(): Connection | undefined {
    return this.list().find((c) => c instanceof BuiltinConnection);
  }

  /** The built-in ledger holding a card (the expiry schedule); null on a provider's connection, undefined on none. */
  ledgerFor(cardId: string): BuiltinLedger | null | undefined {
    const c = this.byId.get(connectionOf(cardId));
    if (!c) return undefined;
    return c instanceof BuiltinConnection ? c.ledger : null;
  }

  /**
   * The card's connection and capabilities, when the card supports `op` (and counts in `unit`);
   * else unsupported_operation naming what it supports.
   */
  async requireOperation(
    cardId: string,
    op: Operation,
    unit?: Unit,
  ): Promise<{ conn: Connection; caps: Capabilities }> {
    const conn = this.forCard(cardId);
    const caps = await conn.cardCapabilities(cardId);
    if (!caps.operations.includes(op)) {
      throw new GatewayError(
        'unsupported_operation',
        `Card ${cardId} does not support ${op}; it supports: ${caps.operations.join(', ')} (units: ` +
          `${caps.units.join(', ')}).`,
        { supported: caps.operations },
      );
    }
    if (unit !== undefined && !caps.units.includes(unit)) {
      throw new GatewayError(
        'unsupported_operation',
        `Card ${cardId} does not count in ${unit}; its units are: ${caps.units.join(', ')}. Nothing is converted ` +
          `between units.`,
        { supported: caps.operations, units: caps.units },
      );
    }
    return { conn, caps };
  }

  describe() {
    return this.list().map((c) => ({
      id: c.id,
      provider: c.config.provider,
      capabilities: c.capabilities,
      settings: publicSettings(c.config),
    }));
  }
}
