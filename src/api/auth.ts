import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiClient, type ApiKeyTable, hashKey, type Scope } from '../config/api-keys.js';
import { GatewayError } from '../domain/errors.js';
import type { CustomerPrincipal, CustomerTokens } from '../services/storefront/customer-tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are open (health, docs). */
    scope?: Scope;
    /** The route's body fields are all optional: no body at all counts as `{}`. */
    optionalBody?: boolean;
    /** Also lets in `Authorization: Bearer <token>` when this answers true for the token (GET /metrics: METRICS_TOKEN). */
    bearer?: (token: string) => boolean;
    /** A customer's route (/v1/me): a customer token and the shop's publishable key, never an API key. */
    customer?: boolean;
  }
  interface FastifyRequest {
    client?: ApiClient;
    customer?: CustomerPrincipal;
  }
}

/**
 * Checks `x-api-key` on every route that declares a scope: unknown key 401, wrong scope 403; and the
 * customer token (with the shop's publishable key) on a customer's route, the only routes a token reaches.
 */
export function registerAuth(app: FastifyInstance, keys: ApiKeyTable, tokens: CustomerTokens): void {
  app.decorateRequest('client', undefined);
  app.decorateRequest('customer', undefined);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const publishable = req.headers['x-publishable-key'];
    const authorization = req.headers.authorization;
    const token =
      typeof authorization === 'string' && /^Bearer /i.test(authorization) ? authorization.slice(7).trim() : '';
    if (req.routeOptions.config?.customer) {
      const shop = tokens.shopOf(typeof publishable === 'string' ? publishable : undefined);
      if (!shop)
        throw new GatewayError('unauthorized', "Send the shop's publishable key in the x-publishable-key header.");
      if (token === '')
        throw new GatewayError('unauthorized', 'Send the customer token as Authorization: Bearer <token>.');
      req.customer = await tokens.verify(shop, token);
      return;
    }
    const scope = req.routeOptions.config?.scope;
    if (scope === undefined) return;
    if (req.headers['x-api-key'] === undefined && publishable !== undefined && token !== '') {
      throw new GatewayError('forbidden', 'A customer token reaches only the /v1/me routes.');
    }
    const bearer = req.routeOptions.config?.bearer;
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

export function customerOf(req: FastifyRequest): CustomerPrincipal {
  if (!req.customer)
    throw new GatewayError('unauthorized', 'Send the customer token as Authorization: Bearer <token>.');
  return req.customer;
}

export function clientOf(req: FastifyRequest): ApiClient {
  if (!req.client) throw new GatewayError('unauthorized', 'Send your API key in the x-api-key header.');
  return req.client;
}
