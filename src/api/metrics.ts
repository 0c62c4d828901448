import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { Metrics } from '../metrics/metrics.js';
import { commonErrors } from './schemas/responses.js';

/** A constant-time comparison of a presented token with the configured one. */
function tokenCheck(expected: string): (token: string) => boolean {
  const want = Buffer.from(expected);
  return (token) => {
    const got = Buffer.from(token);
    return got.length === want.length && timingSafeEqual(got, want);
  };
}

/**
 * HTTP metrics (one onResponse hook: requests by method, route pattern and status, their latency,
 * idempotent replays) and GET /metrics, the Prometheus exposition: an admin key, or the bearer
 * METRICS_TOKEN when it is set.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, opts: { token?: string }): void {
  app.addHook('onResponse', async (req, reply) => {
    const method = req.method;
    // The route's pattern (never the raw URL: ids would make a series each); unmatched requests share one label.
    const route = req.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    metrics.httpRequests.inc({ method, route, status });
    metrics.httpDuration.observe({ method, route, status }, reply.elapsedTime / 1000);
    if (reply.getHeader('idempotent-replayed') === 'true') metrics.idempotentReplays.inc({ method, route });
  });

  app.get(
    '/metrics',
    {
      config: { scope: 'admin', ...(opts.token ? { bearer: tokenCheck(opts.token) } : {}) },
      schema: {
        operationId: 'getMetrics',
        tags: ['system'],
        summary: 'Prometheus metrics',
        description:
          'The Prometheus text exposition: HTTP requests, provider calls, rate-limit waits and 429s, queue depths, ' +
          'transactions, idempotent replays, reconciliations, process and event-loop metrics (docs/operations.md). ' +
          'With METRICS_TOKEN set, `Authorization: Bearer <METRICS_TOKEN>` is accepted instead of an admin key.',
        response: {
          200: {
            description: 'The metrics, in the Prometheus text format 0.0.4.',
            content: { 'text/plain': { schema: Type.String() } },
          },
          ...commonErrors,
        },
      },
    },
    async (_req, reply) => {
      const text = await metrics.scrape();
      return reply.type(metrics.contentType).send(text);
    },
  );
}
