import type { FastifyError, FastifyInstance } from 'fastify';
import { GatewayError } from '../domain/errors.js';
import { redactUrl } from './hostile-input.js';
import { sendProblem, statusOf, toGatewayError } from './problem.js';

/** At most one 'store unavailable' line per this many ms (per process). */
const STORE_WARN_EVERY_MS = 5000;
let lastStoreWarnAt = 0;

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

/**
 * What every request goes through besides its route: bodies checked for what JSON Schema cannot
 * see, the request id echoed, one log line per request, and every error answered as problem+json.
 */
export function registerHooks(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const err = toGatewayError(error);
    // A replayed answer (an earlier request's, given again) was logged when it happened.
    if (err.replayed) return sendProblem(reply, err);
    if (err.code.startsWith('provider_')) {
      // The provider's failure, not ours: one line an operator can act on (its transaction, if kept for review).
      req.log.warn(
        { reqId: req.id, code: err.code, detail: err.message, transaction_id: err.extra.transaction_id },
        'provider call failed',
      );
    } else if (err.code === 'service_unavailable') {
      // Redis away: every request fails alike, so a line every few seconds at most (redis/client.ts logs when the
      // connection is lost and back; a stall, with the connection up, shows only here).
      const now = Date.now();
      if (now - lastStoreWarnAt >= STORE_WARN_EVERY_MS) {
        lastStoreWarnAt = now;
        req.log.warn({ reqId: req.id, code: err.code, cause: error.message }, 'store unavailable: answering 503');
      }
    } else if (statusOf(err.code) >= 500) req.log.error({ reqId: req.id, err: error }, 'request failed');
    return sendProblem(reply, err);
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
        url: redactUrl(req.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        client: req.client?.id,
      },
      'request',
    );
  });
}
