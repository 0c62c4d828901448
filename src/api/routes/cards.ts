import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { CardSchema, CreateCardBody } from '../../domain/cards.js';
import { CardId } from '../../domain/fields.js';
import type { CardService } from '../../services/resources/card-service.js';
import { sendAnswer, writeRequest } from '../request-context.js';
import { CardList, CardListQuery, UpdateCardBody } from '../schemas/cards.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  idempotencyErrors,
  idempotentResponses,
  problem,
  upstreamErrors,
  withHeaders,
} from '../schemas/responses.js';

const CardParams = Type.Object({ card_id: CardId });
/** A Coupontools card of the sandbox: one that can be voided and deleted. */
const CouponCardParams = Type.Object({ card_id: { ...CardId, examples: ['ct:1001.50001'] } });
const CARD_LOCATION = { required: true, description: 'The card: `/v1/cards/{card_id}`.' };

/** Cards on any connection: issued, read, listed, deleted, blocked or voided. */
export async function cardRoutes(app: FastifyInstance, opts: { cards: CardService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { cards } = opts;

  r.post(
    '/',
    {
      config: { scope: 'write', optionalBody: true },
      schema: {
        operationId: 'issueCard',
        tags: ['cards'],
        summary: 'Issue a card',
        description:
          'On the built-in ledger: issuing again with the same external_reference returns the existing card (200, ' +
          '`Idempotent-Replayed: true`). On a provider: a card of program_id for customer_id (Highlight, ' +
          "Leal), or a new user of the loyalty card program_id with the customer's data (Coupontools); use an " +
          'Idempotency-Key to make it safe to retry.',
        headers: IdempotencyKeyHeader,
        body: CreateCardBody,
        response: idempotentResponses({
          201: withHeaders({ ...CardSchema, description: 'The new card.' }, { Location: CARD_LOCATION }),
          200: withHeaders(
            { ...CardSchema, description: 'The card that already holds this external_reference.' },
            { Location: CARD_LOCATION },
          ),
          ...commonErrors,
          ...idempotencyErrors,
          404: problem('No such connection (unknown_connection), customer or program.'),
          ...upstreamErrors,
        }),
      },
    },
    async (req, reply) =>
      sendAnswer(reply, await cards.issue(req.body ?? {}, writeRequest(req)), (card) => `/v1/cards/${card.id}`),
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
    async (req) => cards.get(req.params.card_id),
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
          'Each card shows what its card type supports; GET /v1/cards/{card_id} narrows that to the card itself (a ' +
          "Highlight template's mechanics).",
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
    async (req) => cards.list(req.query),
  );

  r.delete(
    '/:card_id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'deleteCard',
        tags: ['cards'],
        summary: 'Delete a card at its provider (admin)',
        params: CouponCardParams,
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
      await cards.delete(req.params.card_id);
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
          'A blocked card refuses award and redeem with 403 card_blocked. Setting the status it already has is a ' +
          'no-op, so this is safe to retry.',
        params: CouponCardParams,
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
    async (req) => cards.setStatus(req.params.card_id, req.body.status, req.body.reason ?? null),
  );
}
