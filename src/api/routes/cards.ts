import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { newCardRef } from '../../lib/ids.js';
import { fingerprint, parseIdempotencyKey } from '../../ledger/idempotency.js';
import type { TransactionLedger } from '../../ledger/transaction-ledger.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { PointsService } from '../../transactions/points-service.js';
import { clientOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { CardSchema, CreateCardBody, UpdateCardBody } from '../schemas/cards.js';
import { CardId, commonErrors, idempotencyErrors, IdempotencyKeyHeader, problem } from '../schemas/common.js';

const CardParams = Type.Object({ card_id: CardId });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function cardRoutes(app: FastifyInstance, opts: { providers: ProviderRegistry; ledger: TransactionLedger; points: PointsService; inFlightWaitMs: number }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { providers, ledger, points } = opts;

  r.post('/', {
    config: { scope: 'write', optionalBody: true },
    schema: {
      operationId: 'issueCard', tags: ['cards'], summary: 'Issue a card on the built-in ledger',
      description: 'Issuing again with the same external_reference returns the existing card (200, `Idempotent-Replayed: true`).',
      headers: IdempotencyKeyHeader, body: CreateCardBody,
      response: {
        201: { ...CardSchema, description: 'The new card.' },
        200: { ...CardSchema, description: 'The card that already holds this external_reference.' },
        ...commonErrors,
        ...idempotencyErrors,
        404: problem('No such connection (unknown_connection).'),
      },
    },
  }, async (req, reply) => {
    const body = req.body ?? {};
    const ledgers = providers.ledgers();
    const provider = body.connection !== undefined ? providers.get(body.connection) : ledgers[0];
    if (!provider) throw new ApiError('unsupported_operation', 'No ledger connection is configured, so the gateway cannot issue cards itself.', { supported: [] });
    if (!provider.issueCard) {
      throw new ApiError('unsupported_operation', `Connection ${provider.connection.id} (${provider.connection.provider}) does not issue cards through the gateway.`, {
        supported: provider.capabilities.operations,
      });
    }
    if (body.metadata !== undefined && Buffer.byteLength(JSON.stringify(body.metadata)) > 1024) {
      throw new ApiError('validation_failed', 'metadata must be at most 1024 bytes as JSON.', { errors: [{ field: '/metadata', message: 'must be at most 1024 bytes as JSON' }] });
    }
    const key = parseIdempotencyKey(req.headers['idempotency-key']);
    let cardId = `${provider.connection.id}:${newCardRef()}`;
    let idem: { key: string; fingerprint: string } | undefined;
    if (key !== undefined) {
      idem = { key: ledger.idempotencyKey(clientOf(req).id, key), fingerprint: fingerprint(req.method, '/v1/cards', body) };
      const deadline = Date.now() + opts.inFlightWaitMs;
      for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
        const claim = await ledger.claimRequest(idem, cardId);
        if (claim.kind === 'mismatch') throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request; use a new key for a new request.');
        if (claim.kind === 'replay') {
          reply.header('idempotent-replayed', 'true');
          return reply.code(claim.status).send(JSON.parse(claim.body));
        }
        if (claim.kind === 'claimed' || claim.kind === 'takeover') {
          cardId = claim.resource;
          break;
        }
        if (Date.now() >= deadline) throw new ApiError('idempotency_in_flight', 'A request with this Idempotency-Key is still being processed; retry in a moment.', { headers: { 'retry-after': '1' } });
        await sleep(pause);
      }
    }
    const { card, created } = await provider.issueCard(cardId, body, Date.now());
    const status = created ? 201 : 200;
    if (idem) await ledger.complete(idem.key, cardId, status, card);
    if (!created) reply.header('idempotent-replayed', 'true');
    reply.header('location', `/v1/cards/${card.id}`);
    return reply.code(status).send(card);
  });

  r.get('/:card_id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getCard', tags: ['cards'], summary: 'A card, with what it supports',
      params: CardParams,
      response: { 200: { ...CardSchema, description: 'The card.' }, ...commonErrors, 404: problem('No such card (card_not_found) or connection (unknown_connection).') },
    },
  }, async (req) => {
    const provider = providers.forCard(req.params.card_id);
    const card = await provider.getCard(req.params.card_id);
    if (!card) throw new ApiError('card_not_found', `No card ${req.params.card_id}.`);
    return card;
  });

  r.patch('/:card_id', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'updateCard', tags: ['cards'], summary: 'Block or unblock a card (admin)',
      description: 'A blocked card refuses award and redeem with 403 card_blocked. Setting the status it already has is a no-op, so this is safe to retry.',
      params: CardParams, body: UpdateCardBody,
      response: { 200: { ...CardSchema, description: 'The card after the change.' }, ...commonErrors, 404: problem('No such card (card_not_found) or connection (unknown_connection).'), 422: problem('The connection cannot block cards (unsupported_operation).') },
    },
  }, async (req) => {
    const provider = await points.requireOperation(req.params.card_id, 'block_card');
    if (!provider.setCardStatus) throw new ApiError('unsupported_operation', `Cards on ${provider.connection.id} cannot be blocked through the gateway.`);
    const card = await provider.setCardStatus(req.params.card_id, req.body.status, req.body.reason ?? null);
    if (!card) throw new ApiError('card_not_found', `No card ${req.params.card_id}.`);
    return card;
  });
}
