import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { GatewayError } from '../domain/errors.js';
import type { KeySpace } from '../redis/keys.js';

/**
 * Per-API-key request limit, shared by every gateway process on the same Redis (a fixed window:
 * this protects the gateway, it is not a provider's limit). Off when `requests` is 0.
 */
export function registerClientRateLimit(
  app: FastifyInstance,
  redis: Redis,
  keys: KeySpace,
  limit: { requests: number; perSeconds: number },
): void {
  if (limit.requests <= 0) return;
  const windowMs = limit.perSeconds * 1000;
  app.addHook('preHandler', async (req, reply) => {
    if (!req.client) return;
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const key = keys.clientRate(req.client.id, window);
    const [[, count]] = (await redis.multi().incr(key).pexpire(key, windowMs).exec()) as [[Error | null, number]];
    const left = Math.max(0, limit.requests - count);
    reply.header('ratelimit-limit', String(limit.requests));
    reply.header('ratelimit-remaining', String(left));
    if (count > limit.requests) {
      const retry = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
      throw new GatewayError(
        'rate_limited',
        `This API key may make ${limit.requests} requests per ${limit.perSeconds} s; retry in ${retry} s.`,
        {
          retryAfter: String(retry),
        },
      );
    }
  });
}
