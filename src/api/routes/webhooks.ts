import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { GatewayError } from '../../domain/errors.js';
import {
  DeliveryAttemptSchema,
  WebhookEvents,
  WebhookSchema,
  WebhookUrl,
  WebhookWithSecretSchema,
} from '../../domain/webhooks.js';
import { scopeOf } from '../../idempotency/key.js';
import type { RequestClaims } from '../../idempotency/request-claims.js';
import { ulid } from '../../lib/ids.js';
import type { KeySpace } from '../../redis/keys.js';
import type { WebhookDeliveries } from '../../webhooks/deliveries.js';
import { type StoredWebhook, type Subscriptions, webhookView } from '../../webhooks/subscriptions.js';
import { sendAnswer, writeRequest } from '../request-context.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  idempotencyErrors,
  idempotentResponses,
  problem,
  withHeaders,
} from '../schemas/responses.js';

const Params = Type.Object({ id: Type.String({ maxLength: 64, examples: ['wh_01JD3X7B2C4D6E8F0G2H4J6K8M'] }) });
const Description = Type.String({ maxLength: 500, description: 'What it is for.' });

const CreateBody = Type.Object(
  { url: WebhookUrl, events: WebhookEvents, description: Type.Optional(Description) },
  {
    additionalProperties: false,
    examples: [{ url: 'https://shop.example.com/hooks/loyalty', events: ['transaction.succeeded'] }],
  },
);
const PatchBody = Type.Object(
  {
    url: Type.Optional(WebhookUrl),
    events: Type.Optional(WebhookEvents),
    description: Type.Optional(Description),
    disabled: Type.Optional(
      Type.Boolean({ description: 'true stops deliveries; false starts them again (and forgets the failures).' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
const WebhookList = Type.Object(
  { data: Type.Array(WebhookSchema) },
  { title: 'WebhookList', additionalProperties: false },
);
const DeliveryList = Type.Object(
  { data: Type.Array(DeliveryAttemptSchema) },
  { title: 'DeliveryAttemptList', additionalProperties: false },
);
const notFound = problem('No such subscription (webhook_not_found).');

/** Webhook subscriptions (admin): events POSTed to a URL, signed as Standard Webhooks specifies. */
export async function webhookRoutes(
  app: FastifyInstance,
  opts: { subscriptions: Subscriptions; deliveries: WebhookDeliveries; requests: RequestClaims; keys: KeySpace },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { subscriptions, deliveries } = opts;
  const found = (wh: StoredWebhook | null, id: string): StoredWebhook => {
    if (!wh) throw new GatewayError('webhook_not_found', `No webhook subscription ${id}.`);
    return wh;
  };

  r.post(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'createWebhook',
        tags: ['events'],
        summary: 'Subscribe a URL to events (admin)',
        description:
          'Each event of the chosen types is POSTed to `url` as JSON (`{id, type, created_at, data}`) with the ' +
          'Standard Webhooks headers `webhook-id` (the event id, the same on every retry), `webhook-timestamp` and ' +
          '`webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the secret). A 2xx within ' +
          'WEBHOOK_TIMEOUT_MS (15 s) is delivered; anything else is tried again after 5 s, 5 min, 30 min, 2 h, 5 h, ' +
          '10 h and 10 h. A subscription failing for WEBHOOK_DISABLE_AFTER_HOURS (5 days) is disabled, with the ' +
          'reason. The secret is answered here and by rotate-secret only. Events recorded from now on are sent.',
        headers: IdempotencyKeyHeader,
        body: CreateBody,
        response: idempotentResponses({
          201: withHeaders(
            { ...WebhookWithSecretSchema, description: 'The subscription, with its signing secret.' },
            { Location: { required: true, description: 'The subscription: `/v1/webhooks/{id}`.' } },
          ),
          ...idempotencyErrors,
          ...commonErrors,
        }),
      },
    },
    async (req, reply) => {
      // Once per Idempotency-Key: a retried request answers the subscription (and secret) it made.
      const body = req.body;
      const result = await opts.requests.run(scopeOf(opts.keys, writeRequest(req)), {
        newResource: () => `wh_${ulid()}`,
        takeover: 'resume',
        run: async (id) => {
          const wh = await subscriptions.create(body, id);
          return { kind: 'created' as const, body: { ...webhookView(wh), secret: wh.secret } };
        },
      });
      return sendAnswer(reply, result, (wh) => `/v1/webhooks/${wh.id}`);
    },
  );

  r.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'listWebhooks',
        tags: ['events'],
        summary: 'Webhook subscriptions (admin)',
        response: { 200: { ...WebhookList, description: 'Every subscription, oldest first.' }, ...commonErrors },
      },
    },
    async () => ({ data: (await subscriptions.list()).map(webhookView) }),
  );

  r.get(
    '/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getWebhook',
        tags: ['events'],
        summary: 'One webhook subscription (admin)',
        params: Params,
        response: { 200: { ...WebhookSchema, description: 'The subscription.' }, ...commonErrors, 404: notFound },
      },
    },
    async (req) => webhookView(found(await subscriptions.get(req.params.id), req.params.id)),
  );

  r.patch(
    '/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'updateWebhook',
        tags: ['events'],
        summary: 'Change a subscription: url, events, description, disabled (admin)',
        params: Params,
        body: PatchBody,
        response: { 200: { ...WebhookSchema, description: 'The subscription.' }, ...commonErrors, 404: notFound },
      },
    },
    async (req) => {
      const b = req.body;
      if (b.url !== undefined) await subscriptions.checkUrl(b.url);
      const wh = await subscriptions.update(req.params.id, (w) => {
        if (b.url !== undefined) w.url = b.url;
        if (b.events !== undefined) w.events = b.events;
        if (b.description !== undefined) w.description = b.description;
        if (b.disabled === true && !w.disabled) {
          w.disabled = true;
          w.disabled_reason = 'Disabled by an admin.';
        } else if (b.disabled === false) {
          w.disabled = false;
          w.disabled_reason = null;
          w.failing_since = null;
        }
      });
      return webhookView(found(wh, req.params.id));
    },
  );

  r.delete(
    '/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'deleteWebhook',
        tags: ['events'],
        summary: 'Delete a subscription: no more deliveries (admin)',
        params: Params,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...commonErrors, 404: notFound },
      },
    },
    async (req, reply) => {
      if (!(await subscriptions.remove(req.params.id))) found(null, req.params.id);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/:id/rotate-secret',
    {
      config: { scope: 'admin', optionalBody: true },
      schema: {
        operationId: 'rotateWebhookSecret',
        tags: ['events'],
        summary: 'A new signing secret (admin)',
        description:
          'Answers the new secret once. For 24 hours deliveries carry two signatures, with the new secret and the ' +
          'old one, so that a receiver can switch without missing a delivery.',
        params: Params,
        response: {
          200: { ...WebhookWithSecretSchema, description: 'The subscription, with its new secret.' },
          ...commonErrors,
          404: notFound,
        },
      },
    },
    async (req) => {
      const wh = found(await subscriptions.rotate(req.params.id), req.params.id);
      return { ...webhookView(wh), secret: wh.secret };
    },
  );

  r.get(
    '/:id/deliveries',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'listWebhookDeliveries',
        tags: ['events'],
        summary: "A subscription's delivery attempts, newest first (admin)",
        description: 'The last 1,000 attempts, kept 30 days: when, the status code, how long it took, what comes next.',
        params: Params,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) },
          { additionalProperties: false },
        ),
        response: { 200: { ...DeliveryList, description: 'Attempts.' }, ...commonErrors, 404: notFound },
      },
    },
    async (req) => {
      found(await subscriptions.get(req.params.id), req.params.id);
      return { data: await deliveries.attempts(req.params.id, req.query.limit ?? 50) };
    },
  );
}
