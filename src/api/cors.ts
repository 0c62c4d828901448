import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS for storefront pages (@fastify/cors): only the origins some shop allows (`allowedOrigins`)
 * get CORS headers, preflights included; any other origin gets none, so its page cannot read an
 * answer. No credentials: a page sends its customer token in a header, never a cookie.
 */
export async function registerCors(app: FastifyInstance, allowed: Set<string>): Promise<void> {
  await app.register(cors, {
    origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)),
    credentials: false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-publishable-key'],
    exposedHeaders: ['location', 'retry-after', 'idempotent-replayed', 'x-request-id'],
    maxAge: 600,
  });
}
