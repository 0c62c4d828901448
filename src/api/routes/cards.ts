import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { newCardRef } from '../../lib/ids.js';
import { fingerprint, parseIdempotencyKey } from '../../idempotency/key.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { ConnectionRegistry } from '../../services/connections/registry.js';
import type { PointsService } from '../../services/points/points-service.js';
import { clientOf } from '../auth.js';
import { GatewayError } from '../../domain/errors.js';
import { CardList, CardListQuery, UpdateCardBody } from '../schemas/cards.js';
import { CardSchema, CreateCardBody, type CreateCardBody as CreateCardBodyType } from '../../domain/cards.js';
import { ProviderConnection } from '../../services/connections/provider-connection.js';
import { referenceOf } from '../../domain/ids.js';
import { idempotentRequest } from '../idempotent-request.js';
import { requireOnConnection } from '../../domain/ids.js';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { CardId } from '../../domain/fields.js';
import {
  commonErrors,
  idempotencyErrors,
  IdempotencyKeyHeader,
  problem,
  upstreamErrors,
} from '../schemas/responses.js';

const CardParams = Type.Object({ card_id: CardId });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function cardRoutes(
  app: FastifyInstance,
  opts: { providers: ConnectionRegistry; ledger: TransactionStore; points: PointsService; inFlightWaitMs: number },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { providers, ledger, points } = opts;

  /** Issues a card at an external provider (once per Idempotency-Key). */
  async function issueExternal(
    req: FastifyRequest,
    reply: FastifyReply,
    provider: ProviderConnection,
    body: CreateCardBodyType,
  ) {
    const a = provider.adapter;
    // Kept only where the provider has a place for it; elsewhere refused rather than dropped.
    if (body.metadata !== undefined) {
      throw new GatewayError(
        'validation_failed',
        'metadata is kept on built-in ledger cards only; providers have no place for it.',
        { errors: [{ field: '/metadata', message: `is not supported by ${provider.connection.provider}` }] },
      );
    }
    if (
      body.external_reference !== undefined &&
      !(
        provider.connection.provider === 'leal' ||
        (provider.connection.provider === 'highlight' && body.customer !== undefined && body.customer_id === undefined)
      )
    ) {
      throw new GatewayError(
        'validation_failed',
        `external_reference is kept by Leal (the customer's external reference) and by Highlight for a new customer (externalUserId); not by this request to ${provider.connection.provider}.`,
        {
          errors: [{ field: '/external_reference', message: 'cannot be stored by this provider here' }],
        },
      );
    }
    if (!a.issueCard)
      throw new GatewayError(
        'unsupported_operation',
        `${provider.connection.provider} (connection ${provider.connection.id}) cannot issue cards through its API.`,
        { supported: provider.capabilities.operations },
      );
    requireOnConnection(provider.connection.id, '/customer_id', body.customer_id);
    requireOnConnection(provider.connection.id, '/program_id', body.program_id);
    return idempotentRequest(
      req,
      reply,
      ledger,
      { inFlightWaitMs: opts.inFlightWaitMs, path: '/v1/cards' },
      async () => {
        const c = await a.issueCard!({
          customerReference: body.customer_id !== undefined ? referenceOf(body.customer_id) : null,
          programReference: body.program_id !== undefined ? referenceOf(body.program_id) : null,
          customer: body.customer ?? null,
          externalReference: body.external_reference ?? null,
        });
        // This card's own capabilities (its template's mechanics); the type's if that read fails, as the card exists now.
        const caps = await a.cardCapabilities(c.reference).catch(() => undefined);
        const card = provider.cardOf(c, caps);
        return { status: 201, body: card, location: `/v1/cards/${card.id}` };
      },
    );
  }

  r.post(
    '/',
    {
      config: { scope: 'write', optionalBody: true },
      schema: {
        operationId: 'issueCard',
        tags: ['cards'],
        summary: 'Issue a card',
        description:
          "On the built-in ledger: issuing again with the same external_reference returns the existing card (200, `Idempotent-Replayed: true`). On a provider: a card of program_id for customer_id (Highlight, Leal), or a new user of the loyalty card program_id with the customer's data (Coupontools); use an Idempotency-Key to make it safe to retry.",
        headers: IdempotencyKeyHeader,
        body: CreateCardBody,
        response: {
          201: { ...CardSchema, description: 'The new card.' },
          200: { ...CardSchema, description: 'The card that already holds this external_reference.' },
          ...commonErrors,
          ...idempotencyErrors,
          404: problem('No such connection (unknown_connection), customer or program.'),
          ...upstreamErrors,
        },
      },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      const ledgers = providers.ledgers();
      const provider = body.connection !== undefined ? providers.get(body.connection) : ledgers[0];
      if (provider instanceof ProviderConnection) return issueExternal(req, reply, provider, body);
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
      if (!provider)
        throw new GatewayError(
          'unsupported_operation',
          'No ledger connection is configured, so the gateway cannot issue cards itself.',
          { supported: [] },
        );
      if (!provider.issueCard) {
        throw new GatewayError(
          'unsupported_operation',
          `Connection ${provider.connection.id} (${provider.connection.provider}) does not issue cards through the gateway.`,
          {
            supported: provider.capabilities.operations,
          },
        );
      }
      if (body.metadata !== undefined && Buffer.byteLength(JSON.stringify(body.metadata)) > 1024) {
        throw new GatewayError('validation_failed', 'metadata must be at most 1024 bytes as JSON.', {
          errors: [{ field: '/metadata', message: 'must be at most 1024 bytes as JSON' }],
        });
      }
      const key = parseIdempotencyKey(req.headers['idempotency-key']);
      let cardId = `${provider.connection.id}:${newCardRef()}`;
      let idem: { key: string; fingerprint: string } | undefined;
      if (key !== undefined) {
        idem = {
          key: ledger.idempotencyKey(clientOf(req).id, key),
          fingerprint: fingerprint(req.method, '/v1/cards', body),
        };
        const deadline = Date.now() + opts.inFlightWaitMs;
        for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
          const claim = await ledger.claimRequest(idem, cardId);
          if (claim.kind === 'mismatch')
            throw new GatewayError(
              'idempotency_key_reused',
              'This Idempotency-Key was already used with a different request; use a new key for a new request.',
            );
          if (claim.kind === 'replay') {
            reply.header('idempotent-replayed', 'true');
            return reply.code(claim.status).send(JSON.parse(claim.body));
          }
          if (claim.kind === 'claimed' || claim.kind === 'takeover') {
            cardId = claim.resource;
            break;
          }
          if (Date.now() >= deadline)
            throw new GatewayError(
              'idempotency_in_flight',
              'A request with this Idempotency-Key is still being processed; retry in a moment.',
              { retryAfter: '1' },
            );
          await sleep(pause);
        }
      }
      const { card, created } = await provider.issueCard(cardId, body, Date.now());
      const status = created ? 201 : 200;
      if (idem) await ledger.complete(idem.key, cardId, status, card);
      if (!created) reply.header('idempotent-replayed', 'true');
      reply.header('location', `/v1/cards/${card.id}`);
      return reply.code(status).send(card);
    },
  );

  r.get(
    '/:card_id',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getCard',
        tags: ['cards'],
        summary: 'A card, with what it supports',
        params: CardParams,
        response: {
          200: { ...CardSchema, description: 'The card.' },
          ...commonErrors,
          404: problem('No such card (card_not_found) or connection (unknown_connection).'),
          ...upstreamErrors,
        },
      },
    },
    async (req) => {
      const provider = providers.forCard(req.params.card_id);
      const card = await provider.getCard(req.params.card_id);
      if (!card) throw new GatewayError('card_not_found', `No card ${req.params.card_id}.`);
      return card;
    },
  );

  r.get(
    '/',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listCards',
        tags: ['cards'],
        summary: "A connection's cards, by customer or program",
        description:
          "Each card shows what its card type supports; GET /v1/cards/{card_id} narrows that to the card itself (a Highlight template's mechanics).",
        querystring: CardListQuery,
        response: {
          200: { ...CardList, description: 'One page of cards.' },
          ...commonErrors,
          404: problem('No such connection (unknown_connection).'),
          422: problem('The provider cannot list cards that way (unsupported_operation).'),
          ...upstreamErrors,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const provider = providers.external(q.connection, 'card list through the gateway');
      if (!provider.adapter.listCards)
        throw new GatewayError(
          'unsupported_operation',
          `${provider.connection.provider} (connection ${q.connection}) cannot list cards.`,
          { supported: provider.capabilities.operations },
        );
      requireOnConnection(q.connection, '/customer_id', q.customer_id);
      requireOnConnection(q.connection, '/program_id', q.program_id);
      const page = await provider.adapter.listCards({
        ...(q.customer_id !== undefined ? { customerReference: referenceOf(q.customer_id) } : {}),
        ...(q.program_id !== undefined ? { programReference: referenceOf(q.program_id) } : {}),
        page: q.page ?? 1,
        perPage: q.per_page ?? 20,
      });
      return { data: page.data.map((c) => provider.cardOf(c)), meta: page.meta };
    },
  );

  r.delete(
    '/:card_id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'deleteCard',
        tags: ['cards'],
        summary: 'Delete a card at its provider (admin)',
        params: CardParams,
        response: {
          204: { description: 'Deleted.', type: 'null' },
          ...commonErrors,
          404: problem('No such card (card_not_found) or connection.'),
          422: problem('The provider cannot delete cards (unsupported_operation).'),
          ...upstreamErrors,
        },
      },
    },
    async (req, reply) => {
      const provider = providers.forCard(req.params.card_id);
      if (!(provider instanceof ProviderConnection) || !provider.adapter.deleteCard) {
        throw new GatewayError(
          'unsupported_operation',
          `Cards on ${provider.connection.id} cannot be deleted through the gateway.`,
          { supported: provider.capabilities.operations },
        );
      }
      await provider.adapter.deleteCard(referenceOf(req.params.card_id));
      return reply.code(204).send(null);
    },
  );

  r.patch(
    '/:card_id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'updateCard',
        tags: ['cards'],
        summary: 'Block, unblock or void a card (admin)',
        description:
          'A blocked card refuses award and redeem with 403 card_blocked. Setting the status it already has is a no-op, so this is safe to retry.',
        params: CardParams,
        body: UpdateCardBody,
        response: {
          200: { ...CardSchema, description: 'The card after the change.' },
          ...commonErrors,
          404: problem('No such card (card_not_found) or connection (unknown_connection).'),
          422: problem('The connection cannot block cards (unsupported_operation).'),
          ...upstreamErrors,
        },
      },
    },
    async (req) => {
      if (req.body.status === 'voided') {
        const { provider } = await points.requireOperation(req.params.card_id, 'void_card');
        if (!(provider instanceof ProviderConnection) || !provider.adapter.voidCard)
          throw new GatewayError('unsupported_operation', `Cards on ${provider.connection.id} cannot be voided.`);
        return provider.cardOf(await provider.adapter.voidCard(referenceOf(req.params.card_id)));
      }
      const { provider } = await points.requireOperation(req.params.card_id, 'block_card');
      if (!provider.setCardStatus)
        throw new GatewayError(
          'unsupported_operation',
          `Cards on ${provider.connection.id} cannot be blocked through the gateway.`,
        );
      const card = await provider.setCardStatus(
        req.params.card_id,
        req.body.status as 'active' | 'blocked',
        req.body.reason ?? null,
      );
      if (!card) throw new GatewayError('card_not_found', `No card ${req.params.card_id}.`);
      return card;
    },
  );
}
