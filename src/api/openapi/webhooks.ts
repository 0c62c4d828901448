import { EVENT_TYPES } from '../../domain/events.js';

/**
 * The document's OpenAPI 3.1 `webhooks`: one POST per event type of EVENT_TYPES (a type added there is described
 * here too), as the gateway delivers it to a subscription's URL (src/webhooks/, docs/events.md): the event as JSON,
 * signed with the Standard Webhooks headers.
 */
export function webhooksOf(doc: Record<string, unknown>): Record<string, unknown> {
  const schemas = ((doc.components ?? {}) as { schemas?: Record<string, unknown> }).schemas ?? {};
  if (!('Event' in schemas)) throw new Error('webhooks: the Event schema is not in #/components/schemas.');
  const header = (name: string, description: string, example: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
    example,
  });
  const parameters = [
    header(
      'webhook-id',
      "The event's id, the same on every retry and redelivery: de-duplicate on it.",
      'evt_01JD3X7B2C4D6E8F0G2H4J6K8M',
    ),
    header('webhook-timestamp', 'Seconds since the epoch, when this attempt was signed.', '1764000000'),
    header(
      'webhook-signature',
      "`v1,` + base64 of HMAC-SHA256, keyed with the secret's bytes (the base64 after `whsec_`), over " +
        '`<webhook-id>.<webhook-timestamp>.<body>`. After rotate-secret, for 24 hours, two signatures separated by ' +
        "a space: the new secret's and the old one's. Verify with any Standard Webhooks library.",
      'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    ),
  ];
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `on${type
            .split(/[._]/)
            .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
            .join('')}`,
          tags: ['events'],
          summary: `Event ${type}, delivered to a subscription's URL`,
          description:
            `What the gateway POSTs to each webhook subscribed to \`${type}\` (POST /v1/webhooks), at least once and ` +
            'in no particular order; the same event as GET /v1/events lists. See the EventType schema for what ' +
            '`data` holds.',
          security: [],
          parameters,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  allOf: [
                    { $ref: '#/components/schemas/Event' },
                    { type: 'object', required: ['type'], properties: { type: { const: type } } },
                  ],
                },
              },
            },
          },
          responses: {
            '2XX': { description: `Delivered: any 2xx within WEBHOOK_TIMEOUT_MS (15 s).` },
            '4XX': {
              description:
                'Not delivered, as any other answer (or none): tried again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h ' +
                'and 10 h, then given up.',
            },
          },
        },
      },
    ]),
  );
}
