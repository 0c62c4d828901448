import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiClient, type ApiKeyTable, hashKey, type Scope } from '../config/api-keys.js';
import { GatewayError } from '../domain/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are open (health, docs). */
    scope?: Scope;
    /** The route's body fields are all optional: no body at all counts as `{}`. */
    optionalBody?: boolean;
    /** Also lets in `Authorization: Bearer <token>` when this answers true for the token (GET /metrics: METRICS_TOKEN). */
    bearer?: (token: string) => boolean;
  }
  interface FastifyRequest {
    client?: ApiClient;
  }
}

/** Checks `x-api-key` on every route that declares a scope: unknown key 401, wrong scope 403. */
export function registerAuth(app: FastifyInstance, keys: ApiKeyTable): void {
  app.decorateRequest('client', undefined);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const scope = req.routeOptions.config?.scope;
    if (scope === undefined) return;
    const bearer = req.routeOptions.config?.bearer;
    const authorization = req.headers.authorization;
    if (bearer && typeof authorization === 'string' && /^Bearer /i.test(authorization)) {
      if (bearer(authorization.slice(7).trim())) return;
      throw new GatewayError('unauthorized', 'The bearer token is not valid for this route.');
    }
    const header = req.headers['x-api-key'];
    if (typeof header !== 'string' || header === '') {
      throw new GatewayError('unauthorized', 'Send your API key in the x-api-key header.');
    }
    const client = keys.get(hashKey(header));
    if (!client) throw new GatewayError('unauthorized', 'The API key is not known to this gateway.');
    if (!client.scopes.has(scope)) {
      throw new GatewayError(
        'forbidden',
        `This operation needs the "${scope}" scope; the key has: ${[...client.scopes].join(', ')}.`,
      );
    }
    req.client = client;
  });
}

export function clientOf(req: FastifyRequest): ApiClient {
  if (!req.client) throw new GatewayError('unauthorized', 'Send your API key in the x-api-key header.');
  return req.client;
}
