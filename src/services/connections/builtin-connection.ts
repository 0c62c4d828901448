import { BUILTIN_CAPABILITIES, type BuiltinLedger } from '../../builtin-ledger/builtin-ledger.js';
import type { Capabilities } from '../../domain/capabilities.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import { BuiltinEngine } from '../points/builtin-engine.js';
import type { SettledHook } from '../points/transaction-events.js';
import type { Connection } from './connection.js';

/** A connection of `provider: "ledger"`: the gateway keeps its points itself (src/builtin-ledger). */
export class BuiltinConnection implements Connection {
  readonly capabilities: Capabilities = BUILTIN_CAPABILITIES;
  readonly engine: BuiltinEngine;
  readonly ownCards;

  constructor(
    readonly ledger: BuiltinLedger,
    store: TransactionStore,
    options: { inFlightWaitMs: number; onSettled?: SettledHook },
  ) {
    this.engine = new BuiltinEngine(ledger, store, options.inFlightWaitMs, options.onSettled);
    this.ownCards = {
      issue: ledger.issueCard.bind(ledger),
      setStatus: ledger.setCardStatus.bind(ledger),
    };
  }

  get id(): string {
    return this.ledger.settings.id;
  }

  get config() {
    return this.ledger.settings;
  }

  async cardCapabilities(): Promise<Capabilities> {
    return BUILTIN_CAPABILITIES;
  }

  balance(cardId: string) {
    return this.ledger.balance(cardId);
  }

  history(cardId: string, q: Parameters<BuiltinLedger['history']>[1]) {
    return this.ledger.history(cardId, q);
  }

  getCard(cardId: string) {
    return this.ledger.getCard(cardId);
  }

  /** Nothing is remembered of a built-in card outside Redis, and its balance is never cached. */
  forgetCard(): void {}

  async invalidateBalance(): Promise<void> {}
}
