import type { Card, CreateCardBody } from '../../domain/cards.js';
import type { PageMeta } from '../../domain/customers.js';
import { GatewayError } from '../../domain/errors.js';
import { checkMetadataSize } from '../../domain/fields.js';
import { referenceOf, requireOnConnection } from '../../domain/ids.js';
import type { EarnedReward } from '../../domain/programs.js';
import type { EventLog } from '../../events/event-log.js';
import { scopeOf, type WriteRequest } from '../../idempotency/key.js';
import type { OnceResult } from '../../idempotency/once.js';
import type { Answer, RequestClaims } from '../../idempotency/request-claims.js';
import { newCardRef, ulid } from '../../lib/ids.js';
import type { KeySpace } from '../../redis/keys.js';
import type { Connection } from '../connections/connection.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import { cardView } from '../connections/views.js';
import { providerCall, providerOf } from './provider-api.js';

/** Cards on any connection: issued, read, listed, deleted, blocked or voided; and the rewards a card has earned. */
export class CardService {
  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly requests: RequestClaims,
    private readonly keys: KeySpace,
    /** Where card.issued and card.blocked are reported (none in tools that build the service alone). */
    private readonly events?: EventLog,
  ) {}

  private async report(type: 'card.issued' | 'card.blocked', card: Card): Promise<void> {
    // The card exists (or is blocked) whatever happens to its event: a failure to record it is logged by no one
    // here, and the answer stands.
    await this.events?.record(type, { ...card }).catch(() => undefined);
  }

  /**
   * Issues a card: on the built-in ledger (the default) the gateway makes it, and issuing again
   * with the same external_reference answers the card that holds it (`existing`); at a provider,
   * once per Idempotency-Key.
   */
  async issue(body: CreateCardBody, req: WriteRequest): Promise<OnceResult<Answer<Card>>> {
    const conn =
      body.connection !== undefined ? this.connections.get(body.connection) : this.connections.defaultLedger();
    if (conn?.provider) return this.issueAtProvider(conn, body, req);
    if (body.customer_id !== undefined || body.program_id !== undefined) {
      throw new GatewayError(
        'validation_failed',
        'customer_id and program_id apply to external provider connections; the built-in ledger takes customer.',
        {
          errors: [
            {
              field: body.customer_id !== undefined ? '/customer_id' : '/program_id',
              message: 'applies to external provider connections only',
            },
          ],
        },
      );
    }
    if (!conn?.ownCards) {
      throw new GatewayError(
        'unsupported_operation',
        'No ledger connection is configured, so the gateway cannot issue cards itself.',
        { supported: conn?.capabilities.operations ?? [] },
      );
    }
    checkMetadataSize(body.metadata);
    const own = conn.ownCards;
    // The card id is chosen before the claim: a request that takes over after a crash makes the same card.
    return this.requests.run(scopeOf(this.keys, req), {
      newResource: () => `${conn.id}:${newCardRef()}`,
      takeover: 'resume',
      run: async (cardId) => {
        const { card, created } = await own.issue(cardId, body, Date.now());
        if (created) await this.report('card.issued', card);
        return { kind: created ? 'created' : 'existing', body: card };
      },
    });
  }

  private async issueAtProvider(conn: Connection, body: CreateCardBody, req: WriteRequest) {
    const view = providerOf(conn, 'card issuing');
    // Kept only where the provider has a place for it; elsewhere refused rather than dropped.
    if (body.metadata !== undefined) {
      throw new GatewayError(
        'validation_failed',
        'metadata is kept on built-in ledger cards only; providers have no place for it.',
        {
          errors: [{ field: '/metadata', message: `is not supported by ${conn.config.provider}` }],
        },
      );
    }
    const where = { newCustomer: body.customer !== undefined, existingCustomer: body.customer_id !== undefined };
    if (body.external_reference !== undefined && !view.descriptor.keepsExternalReference?.(where)) {
      throw new GatewayError(
        'validation_failed',
        `external_reference cannot be kept by ${view.descriptor.name} for this request (docs/providers.md says ` +
          `where each provider keeps it).`,
        { errors: [{ field: '/external_reference', message: 'cannot be stored by this provider here' }] },
      );
    }
    const issue = providerCall(conn, 'issueCard', 'card issuing');
    const caps = providerCall(conn, 'cardCapabilities', 'card');
    requireOnConnection(conn.id, '/customer_id', body.customer_id);
    requireOnConnection(conn.id, '/program_id', body.program_id);
    return this.requests.run(scopeOf(this.keys, req), {
      newResource: () => `req_${ulid()}`,
      takeover: 'unknown',
      run: async () => {
        const c = await issue({
          customerReference: body.customer_id !== undefined ? referenceOf(body.customer_id) : null,
          programReference: body.program_id !== undefined ? referenceOf(body.program_id) : null,
          customer: body.customer ?? null,
          externalReference: body.external_reference ?? null,
        });
        // This card's own capabilities (its template's mechanics); the type's if that read fails, as the card exists
        // now.
        const own = await caps(c.reference).catch(() => undefined);
        const card = cardView(view, c, own);
        await this.report('card.issued', card);
        return { kind: 'created' as const, body: card };
      },
    });
  }

  async get(cardId: string): Promise<Card> {
    const card = await this.connections.forCard(cardId).getCard(cardId);
    if (!card) throw new GatewayError('card_not_found', `No card ${cardId}.`);
    return card;
  }

  async list(q: {
    connection: string;
    customer_id?: string;
    program_id?: string;
    page?: number;
    per_page?: number;
  }): Promise<{ data: Card[]; meta: PageMeta }> {
    const conn = this.connections.get(q.connection);
    const list = providerCall(conn, 'listCards', 'card list');
    requireOnConnection(q.connection, '/customer_id', q.customer_id);
    requireOnConnection(q.connection, '/program_id', q.program_id);
    const page = await list({
      ...(q.customer_id !== undefined ? { customerReference: referenceOf(q.customer_id) } : {}),
      ...(q.program_id !== undefined ? { programReference: referenceOf(q.program_id) } : {}),
      page: q.page ?? 1,
      perPage: q.per_page ?? 20,
    });
    const view = providerOf(conn, 'card list');
    return { data: page.data.map((c) => cardView(view, c)), meta: page.meta };
  }

  /** Deletes a card at its provider; nothing remembered of it survives. */
  async delete(cardId: string): Promise<void> {
    const conn = this.connections.forCard(cardId);
    await providerCall(conn, 'deleteCard', 'card deletion')(referenceOf(cardId));
    conn.forgetCard(cardId);
  }

  /** Blocks or unblocks a card of the built-in ledger, or voids one at a provider (Coupontools). */
  async setStatus(cardId: string, status: 'active' | 'blocked' | 'voided', reason: string | null): Promise<Card> {
    if (status === 'voided') {
      const { conn } = await this.connections.requireOperation(cardId, 'void_card');
      const voided = await providerCall(conn, 'voidCard', 'card voiding')(referenceOf(cardId));
      conn.forgetCard(cardId);
      return cardView(providerOf(conn, 'card voiding'), voided);
    }
    const { conn } = await this.connections.requireOperation(cardId, 'block_card');
    if (!conn.ownCards) {
      throw new GatewayError('unsupported_operation', `Cards on ${conn.id} cannot be blocked through the gateway.`, {
        supported: conn.capabilities.operations,
      });
    }
    const card = await conn.ownCards.setStatus(cardId, status, reason);
    if (!card) throw new GatewayError('card_not_found', `No card ${cardId}.`);
    if (status === 'blocked') await this.report('card.blocked', card);
    return card;
  }

  /** Rewards the card has earned (and used, where the provider keeps them). */
  async rewards(cardId: string): Promise<{ card_id: string; data: EarnedReward[] }> {
    const { conn } = await this.connections.requireOperation(cardId, 'rewards');
    return { card_id: cardId, data: await providerCall(conn, 'rewards', 'rewards')(referenceOf(cardId)) };
  }
}
