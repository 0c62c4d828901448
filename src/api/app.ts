import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ApiKeyTable } from '../config/api-keys.js';
import type { ConnectionConfig } from '../config/connections.js';
import type { Env } from '../config/env.js';
import type { Role } from '../dispatch/queues.js';
import { GatewayError } from '../domain/errors.js';
import type { ShopSettings } from '../domain/shops.js';
import { ulid } from '../lib/ids.js';
import { Metrics } from '../metrics/metrics.js';
import { createGateway, type Gateway } from '../services/gateway.js';
import { registerAuth } from './auth.js';
import { checkBulkItems } from './bulk-items.js';
import { consolePlugin } from './console/plugin.js';
import { registerCors } from './cors.js';
import { registerHooks } from './hooks.js';
import { clientErrorHandler, registerJsonParser, registerQueryKeyCheck } from './hostile-input.js';
import { registerMetrics } from './metrics.js';
import { registerOpenApi, serveOpenApi } from './openapi/document.js';
import { sendProblem } from './problem.js';
import { registerClientRateLimit } from './rate-limit.js';
import { registerRoutes } from './routes/index.js';
import { memoSerializers } from './serializers.js';
import { validatorCompiler } from './validation.js';

export interface AppDeps {
  env: Env;
  redis: Redis;
  connections: ConnectionConfig[];
  /** Shops whose order webhooks the gateway takes (the connections file's `shops`). */
  shops?: ShopSettings[];
  apiKeys: ApiKeyTable;
  logger: FastifyBaseLogger | boolean;
  /** api: HTTP and queueing only; all (default: ROLE): also the workers that call the providers. */
  role?: Role;
  /** Build the routes only (the OpenAPI generator): no Redis connection is opened. */
  offline?: boolean;
}

export interface App {
  app: FastifyInstance;
  gateway: Gateway;
}

/** Builds the gateway and its HTTP face: hooks, auth, the OpenAPI document, routes. Never listens (server.ts does). */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { env, redis } = deps;
  const log = typeof deps.logger === 'object' ? deps.logger : pino({ enabled: deps.logger });
  // One registry per app (never prom-client's global one): GET /metrics.
  const metrics = new Metrics();
  const gateway = await createGateway({
    env,
    redis,
    connections: deps.connections,
    shops: deps.shops ?? [],
    log,
    role: deps.role,
    offline: deps.offline,
    checkBulkItems,
    metrics,
  });

  const app = Fastify({
    loggerInstance: typeof deps.logger === 'object' ? deps.logger : undefined,
    logger: typeof deps.logger === 'boolean' ? deps.logger : undefined,
    // Our own onResponse hook logs one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify makes a child logger per request by default; measured here, that cost a third of a
    // simple request's throughput. Lines about a request carry `reqId` explicitly instead.
    childLoggerFactory: (logger) => logger,
    bodyLimit: env.BODY_LIMIT_BYTES,
    // A request (headers and body) not received in this time: 408, connection closed (hostile-input.ts). Node checks
    // its connections every connectionsCheckingInterval, so that interval bounds how late the 408 comes.
    requestTimeout: env.REQUEST_TIMEOUT_MS,
    http: {
      requestTimeout: env.REQUEST_TIMEOUT_MS,
      headersTimeout: env.REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(env.REQUEST_TIMEOUT_MS / 4))),
    },
    // Errors of Node's HTTP parser (malformed request, headers too large, bad chunking, timeouts) as problem+json.
    clientErrorHandler,
    // One response serializer per distinct shape, not per route and status (serializers.ts).
    schemaController: { compilersFactory: { buildSerializer: memoSerializers() as never } },
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
      const err = new GatewayError('validation_failed', detail, { errors: [{ field: 'url', message: detail }] });
      return sendProblem(reply, err);
    },
  });
  app.setValidatorCompiler(validatorCompiler());
  // Workers finish their jobs (up to SHUTDOWN_GRACE_MS); each provider connection's pool closes.
  app.addHook('onClose', async () => gateway.close());
  // Bodies are JSON only: without this, Fastify's text/plain parser lets a text body through to validation (400), not
  // 415.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app);
  registerHooks(app);
  registerQueryKeyCheck(app);

  await registerOpenApi(app);
  await registerCors(app, gateway.storefront.tokens.allowedOrigins());
  registerAuth(app, deps.apiKeys, gateway.storefront.tokens);
  const [requests, perSeconds] = env.CLIENT_RATE_LIMIT.split('/').map(Number) as [number, number];
  registerClientRateLimit(app, redis, gateway.keys, { requests, perSeconds });
  await registerRoutes(app, gateway, redis);
  // The admin console: HTML pages with a session cookie of their own (src/api/console), kept out of the OpenAPI document.
  await app.register(consolePlugin, { prefix: '/console', gateway, redis, apiKeys: deps.apiKeys });
  registerMetrics(app, metrics, { token: env.METRICS_TOKEN });
  serveOpenApi(app);

  return { app, gateway };
}
