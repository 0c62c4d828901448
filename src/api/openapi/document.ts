import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { HEADER_REQUIRED, RESPONSE_HEADERS, type ResponseHeaderName } from '../schemas/responses.js';
import { hoistTitledSchemas } from './hoist-schemas.js';
import { webhooksOf } from './webhooks.js';

const VERSION = '0.1.0';

/**
 * The OpenAPI document, made from the routes' own schemas (openapi/openapi.json is this, written
 * by `npm run openapi`), served at /openapi.json with Swagger UI at /docs.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'loyalty-gateway',
        version: VERSION,
        description:
          'One normalized loyalty API (award, redeem, adjust, expire, balance, history, bulk, cards, customers, ' +
          'programs, rewards, visits, purchases, coupons, notifications) over Highlight Cards, Coupontools, ' +
          'Leal, Loyalty.lt and a built-in points ledger. Every POST takes an Idempotency-Key; errors are RFC ' +
          '9457 problem details with a stable `code`.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: 'http://localhost:3000', description: 'A gateway on this machine' }],
      tags: [
        { name: 'points', description: 'Award, redeem, adjust, expire, bulk; balance and history' },
        { name: 'transactions', description: 'One transaction; reversals' },
        { name: 'cards', description: 'Cards on any connection; visits, purchases, rewards and coupons' },
        { name: 'customers', description: 'Customers at a provider' },
        { name: 'programs', description: 'Programs: card templates and loyalty cards' },
        { name: 'notifications', description: 'Push notifications to cards' },
        { name: 'storefront', description: "A customer's own routes, with a customer token (no API key)" },
        { name: 'shops', description: 'Shop order webhooks in, customer links, orders' },
        { name: 'audits', description: "Provider audits: the gateway's transactions against the provider's record" },
        { name: 'events', description: 'What changed, for consumers that pull' },
        { name: 'connections', description: 'Configured providers' },
        { name: 'system', description: 'Health and problem types' },
      ],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'apiKey',
            in: 'header',
            name: 'x-api-key',
            description: 'A key from API_KEYS, with the scope the operation names.',
          },
          customerToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              "A customer token (HS256, signed by the shop's backend or minted by POST /v1/customer-tokens), sent " +
              "with the shop's publishable key in x-publishable-key: it reaches /v1/me only.",
          },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const config = route.config as { scope?: string; customer?: boolean } | undefined;
      const scope = config?.scope;
      const s = { ...(schema as Record<string, unknown>) };
      s.security = scope ? [{ apiKey: [] }] : config?.customer ? [{ customerToken: [] }] : [];
      if (config?.customer) s['x-customer-token'] = true;
      // Machine-readable, from the same `config.scope` the auth hook checks (test/integration/scopes.test.ts reads it).
      if (scope) s['x-required-scope'] = scope;
      if (scope)
        s.description = `${(s.description as string | undefined) ?? s.summary ?? ''}\n\nScope: \`${scope}\`.`.trim();
      return { schema: s as typeof schema, url };
    },
    transformObject: (doc) => {
      const openapi = hoistTitledSchemas((doc as { openapiObject: Record<string, unknown> }).openapiObject);
      declareHeaders(openapi);
      openapi.webhooks = webhooksOf(openapi);
      return openapi;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

/** Headers on every response (X-Request-Id), and on every response of an operation that takes an API key. */
const EVERY_RESPONSE: ResponseHeaderName[] = ['X-Request-Id'];
const AUTHENTICATED: ResponseHeaderName[] = ['RateLimit-Limit', 'RateLimit-Remaining'];

/**
 * The response headers: those shared by every response are #/components/headers (from RESPONSE_HEADERS) referenced
 * by each response; the ones a route declares (withHeaders) get their `required` from the HEADER_REQUIRED mark.
 */
function declareHeaders(doc: Record<string, unknown>): void {
  doc.components ??= {};
  const components = doc.components as Record<string, unknown>;
  components.headers = Object.fromEntries(
    [...EVERY_RESPONSE, ...AUTHENTICATED].map((name) => {
      const { description, schema } = RESPONSE_HEADERS[name];
      return [name, { description, ...(EVERY_RESPONSE.includes(name) ? { required: true } : {}), schema }];
    }),
  );
  const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const op of Object.values(item) as { responses?: Record<string, Record<string, unknown>>; security?: [] }[]) {
      if (typeof op !== 'object' || op === null || op.responses === undefined) continue;
      const shared = [...EVERY_RESPONSE, ...((op.security ?? []).length > 0 ? AUTHENTICATED : [])];
      for (const response of Object.values(op.responses)) {
        const own = (response.headers ?? {}) as Record<string, { schema: Record<string, unknown>; required?: boolean }>;
        for (const header of Object.values(own)) {
          if (header.schema[HEADER_REQUIRED] === true) header.required = true;
          delete header.schema[HEADER_REQUIRED];
        }
        response.headers = { ...own, ...Object.fromEntries(shared.map((name) => [name, ref(name)])) };
      }
    }
  }
}

/** Serves the document (after the routes are registered: it describes them). */
export function serveOpenApi(app: FastifyInstance): void {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
