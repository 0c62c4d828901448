import Type from 'typebox';
import { EventTypeSchema } from './events.js';
import { Nullable, OneOf } from './fields.js';

/**
 * Webhook subscriptions: where events are delivered, signed as Standard Webhooks specifies
 * (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`, `webhook-signature`.
 */

const Time = Type.String({ format: 'date-time' });

export const WebhookUrl = Type.String({
  format: 'uri',
  pattern: '^https?://',
  maxLength: 2000,
  description:
    'Where events are POSTed. http or https; an address that resolves to loopback or a private network is refused ' +
    'unless WEBHOOK_ALLOW_PRIVATE is set.',
  examples: ['https://shop.example.com/hooks/loyalty'],
});

export const WebhookEvents = Type.Array(Type.Union([EventTypeSchema, Type.Literal('*')]), {
  minItems: 1,
  maxItems: 50,
  uniqueItems: true,
  description: 'The event types to deliver; `*` for all.',
  examples: [['transaction.succeeded', 'transaction.reversed']],
});

export const WebhookSchema = Type.Object(
  {
    id: Type.String({ examples: ['wh_01JD3X7B2C4D6E8F0G2H4J6K8M'] }),
    url: WebhookUrl,
    events: WebhookEvents,
    description: Nullable(Type.String({ maxLength: 500 })),
    disabled: Type.Boolean(),
    disabled_reason: Nullable(
      Type.String({ description: 'Why it was disabled: by an admin, or failing for WEBHOOK_DISABLE_AFTER_HOURS.' }),
    ),
    failing_since: Nullable({ ...Time, description: 'The first failed delivery since the last delivered one.' }),
    created_at: Time,
    updated_at: Time,
  },
  { title: 'Webhook', additionalProperties: false },
);
export type Webhook = Type.Static<typeof WebhookSchema>;

export const WebhookWithSecretSchema = Type.Object(
  {
    ...WebhookSchema.properties,
    secret: Type.String({
      description:
        'The signing secret (`whsec_` + base64), shown only when the subscription is made and when it is rotated. ' +
        'Verify deliveries with it (any Standard Webhooks library).',
      examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    }),
  },
  { title: 'WebhookWithSecret', additionalProperties: false },
);

export const DeliveryAttemptSchema = Type.Object(
  {
    event_id: Type.String(),
    event_type: EventTypeSchema,
    attempt: Type.Integer({ minimum: 1 }),
    at: Time,
    status_code: Nullable(Type.Integer({ description: "The receiver's HTTP status; null when none came." })),
    duration_ms: Type.Integer({ minimum: 0 }),
    error: Nullable(
      Type.String({ description: 'What went wrong when no 2xx came: a timeout, a refused connection...' }),
    ),
    outcome: OneOf(['delivered', 'retrying', 'failed'] as const, {
      description:
        'delivered (a 2xx); retrying (another attempt is due at next_attempt_at); failed (no attempt left, or the ' +
        'subscription was disabled or deleted).',
    }),
    next_attempt_at: Nullable(Time),
  },
  { title: 'DeliveryAttempt', additionalProperties: false },
);
export type DeliveryAttempt = Type.Static<typeof DeliveryAttemptSchema>;
