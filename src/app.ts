import { statusOf } from './api/problem.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Redis } from 'ioredis';
import { ulid } from './lib/ids.js';
import type { ApiKeyTable } from './config/api-keys.js';
import type { ConnectionConfig } from './config/connections.js';
import type { Env } from './config/env.js';
import { registerAuth } from './api/auth.js';
import { GatewayError } from './domain/errors.js';
import { sendProblem, toGatewayError } from './api/problem.js';
import { hoistTitledSchemas } from './api/openapi/hoist-schemas.js';
import { registerClientRateLimit } from './api/rate-limit.js';
import { validatorCompiler } from './api/validation.js';
import { cardRoutes } from './api/routes/cards.js';
import { pointsRoutes } from './api/routes/points.js';
import { systemRoutes } from './api/routes/system.js';
import { transactionRoutes } from './api/routes/transactions.js';
import type { TransactionStore } from './store/transaction-store.js';
import type { ConnectionRegistry } from './services/connections/registry.js';
import { createGateway, type Gateway } from './gateway.js';
import type { Role } from './dispatch/dispatcher.js';
import { bulkRoutes } from './api/routes/bulk.js';
import { pino } from 'pino';
import { cardOperationRoutes } from './api/routes/card-operations.js';
import { customerRoutes } from './api/routes/customers.js';
import { notificationRoutes, programRoutes } from './api/routes/programs.js';

export interface AppDeps {
  env: Env;
  redis: Redis;
  connections: ConnectionConfig[];
  apiKeys: ApiKeyTable;
  logger: FastifyBaseLogger | boolean;
  /** api: HTTP and queueing only; all (default: ROLE): also the workers that call the providers. */
  role?: Role;
  /** Build the routes only (the OpenAPI generator): no Redis connection is opened. */
  offline?: boolean;
}

export interface App {
  app: FastifyInstance;
  providers: ConnectionRegistry;
  ledger: TransactionStore;
  gateway: Gateway;
}

const VERSION = '0.1.0';
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The JSON pointer of the first string (or key) holding a lone surrogate, or null. */
function illFormedField(value: unknown, path: string): string | null {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (LONE_SURROGATE.test(k)) return `${path}/${k.replace(LONE_SURROGATE, '?')}`;
    const found = illFormedField(v, `${path}/${k}`);
    if (found !== null) return found;
  }
  return null;
}

/** Builds the gateway: plugins, hooks and routes. Never listens (server.ts does; tests inject or listen). */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { env, redis } = deps;
  const log = typeof deps.logger === 'object' ? deps.logger : pino({ enabled: deps.logger });
  const gateway = await createGateway({
    env,
    redis,
    connections: deps.connections,
    log,
    role: deps.role,
    offline: deps.offline,
  });
  const { keys, ledger, providers, points, bulk } = gateway;

  const app = Fastify({
    loggerInstance: typeof deps.logger === 'object' ? deps.logger : undefined,
    logger: typeof deps.logger === 'boolean' ? deps.logger : undefined,
    // Our own onResponse hook logs one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify makes a child logger per request by default; measured here, that cost a third of a
    // simple request's throughput. Lines about a request carry `reqId` explicitly instead.
    childLoggerFactory: (logger) => logger,
    bodyLimit: env.BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => `req_${ulid()}`,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // Errors Fastify raises before routing (bad percent-encoding, over-long parameters) get problem+json too.
    frameworkErrors: (error, _req, reply) => {
      const detail =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path parameter is too long.'
          : 'The URL is not valid (check its percent-encoding).';
      return sendProblem(
        reply,
        new GatewayError('validation_failed', detail, { errors: [{ field: 'url', message: detail }] }),
      );
    },
  });
  app.setValidatorCompiler(validatorCompiler());
  // Workers finish their jobs (up to SHUTDOWN_GRACE_MS); each external connection's pool closes.
  app.addHook('onClose', async () => gateway.close());
  // Bodies are JSON only: without this, Fastify's built-in text/plain parser lets a text body through to validation (400) instead of 415.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const apiError = toGatewayError(error);
    if (apiError.code.startsWith('provider_')) {
      // The provider's failure, not ours: one line an operator can act on (its transaction, if kept for review).
      req.log.warn(
        { reqId: req.id, code: apiError.code, detail: apiError.message, transaction_id: apiError.extra.transaction_id },
        'provider call failed',
      );
    } else if (statusOf(apiError.code) >= 500) req.log.error({ reqId: req.id, err: error }, 'request failed');
    return sendProblem(reply, apiError);
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(
      reply,
      new GatewayError('not_found', `There is no route ${req.method} ${req.url.split('?')[0]}; see /docs.`),
    ),
  );

  // Routes whose body fields are all optional (reverse, issue card) may be called with no body at all.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.routeOptions.config?.optionalBody === true) req.body = {};
  });

  // JSON may carry lone UTF-16 surrogates ("\ud800"): not text, and not storable as UTF-8.
  app.addHook('preValidation', async (req) => {
    const field = illFormedField(req.body, '');
    if (field !== null) {
      throw new GatewayError(
        'validation_failed',
        `${field || 'the body'} is not well-formed Unicode (a lone surrogate).`,
        {
          errors: [{ field: field || '/', message: 'must be well-formed Unicode' }],
        },
      );
    }
  });

  // One log line per request; keys and bodies are never logged.
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        reqId: req.id,
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        client: req.client?.id,
      },
      'request',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'loyalty-gateway',
        version: VERSION,
        description:
          'One normalized loyalty API (award, redeem, adjust, expire, balance, history, bulk, cards, customers, programs, rewards, visits, purchases, coupons, notifications) over Highlight Cards, Coupontools, Leal, Loyalty.lt and a built-in points ledger. Every POST takes an Idempotency-Key; errors are RFC 9457 problem details with a stable `code`.',
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
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const scope = (route.config as { scope?: string } | undefined)?.scope;
      const s = { ...(schema as Record<string, unknown>) };
      s.security = scope ? [{ apiKey: [] }] : [];
      if (scope)
        s.description = `${(s.description as string | undefined) ?? s.summary ?? ''}\n\nScope: \`${scope}\`.`.trim();
      return { schema: s as typeof schema, url };
    },
    transformObject: (doc) => hoistTitledSchemas((doc as { openapiObject: Record<string, unknown> }).openapiObject),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerAuth(app, deps.apiKeys);
  const [requests, perSeconds] = env.CLIENT_RATE_LIMIT.split('/').map(Number) as [number, number];
  registerClientRateLimit(app, redis, keys, { requests, perSeconds });

  await app.register(systemRoutes, { redis, providers });
  await app.register(pointsRoutes, { prefix: '/v1/points', points, bulk, ledger });
  await app.register(bulkRoutes, { prefix: '/v1/bulk', bulk });
  await app.register(transactionRoutes, { prefix: '/v1/transactions', points });
  await app.register(cardRoutes, {
    prefix: '/v1/cards',
    providers,
    ledger,
    points,
    inFlightWaitMs: env.IDEMPOTENCY_WAIT_MS,
  });
  await app.register(cardOperationRoutes, { prefix: '/v1/cards', points });
  await app.register(customerRoutes, {
    prefix: '/v1/customers',
    providers,
    ledger,
    inFlightWaitMs: env.IDEMPOTENCY_WAIT_MS,
  });
  await app.register(programRoutes, {
    prefix: '/v1/programs',
    providers,
    ledger,
    inFlightWaitMs: env.IDEMPOTENCY_WAIT_MS,
  });
  await app.register(notificationRoutes, {
    prefix: '/v1/notifications',
    providers,
    ledger,
    inFlightWaitMs: env.IDEMPOTENCY_WAIT_MS,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return { app, providers, ledger, gateway };
}
