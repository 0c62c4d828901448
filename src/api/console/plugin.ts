import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { type ApiKeyTable, hashKey } from '../../config/api-keys.js';
import { ConsoleSessions, SESSION_TTL_MS } from '../../services/console/console-sessions.js';
import type { Gateway } from '../../services/gateway.js';
import { statusOf, toGatewayError } from '../problem.js';
import { html } from './html.js';
import { flashOf, page } from './layout.js';
import { orderPages } from './pages/orders.js';
import { reviewPages } from './pages/review.js';
import { queueBoard } from './queues.js';
import {
  cookieOptions,
  crossSite,
  field,
  LOGIN_COOKIE,
  LOGIN_PATH,
  SESSION_COOKIE,
  sameToken,
  seeOther,
} from './session.js';

/** The console's own pages: scripts none, styles only its stylesheet, forms only to itself, never framed. */
const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; " +
  "base-uri 'none'";

const css = readFileSync(new URL('./console.css', import.meta.url), 'utf8');

export interface ConsoleOptions {
  gateway: Gateway;
  redis: Redis;
  apiKeys: ApiKeyTable;
}

/**
 * The admin console under /console: server-rendered pages over the same services as the API. An admin key is
 * exchanged once, at sign-in, for a session cookie (HttpOnly, SameSite=Strict); every form carries the session's
 * CSRF token. None of its routes declares a `scope` (the API's key check), so the session check here is their only
 * gate: it runs on every route of this scope but sign-in and the stylesheet, bull-board's included.
 */
export async function consolePlugin(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const sessions = new ConsoleSessions(opts.redis, opts.gateway.keys);
  await app.register(cookie);
  // Forms here only: the rest of the app takes JSON alone (hostile-input.ts).
  await app.register(formbody, { bodyLimit: 16_384 });
  app.decorateRequest('consoleSession', null);
  app.decorateRequest('consoleSessionId', undefined);

  // Not part of the API: kept out of the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });

  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && crossSite(req)) {
      return sendPage(reply.code(403), 'Forbidden', html`<p>This form was sent from another site.</p>`);
    }
    if (req.routeOptions.config?.consolePublic) return;
    const id = req.cookies[SESSION_COOKIE];
    const session = await sessions.get(id);
    if (!session) return seeOther(reply, LOGIN_PATH);
    req.consoleSession = session;
    req.consoleSessionId = id;
  });

  // Every form of a session carries its token (sign-in has its own, before there is a session).
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST' || req.routeOptions.config?.consolePublic) return;
    if (!sameToken(field(req.body, '_csrf'), req.consoleSession?.csrf)) {
      return sendPage(
        reply.code(403),
        'Forbidden',
        html`<p>The form's security token is missing or stale. <a href="/console">Load the page again</a> and resend it.</p>`,
        req,
      );
    }
  });

  app.setErrorHandler((error, req, reply) => {
    const err = toGatewayError(error instanceof Error ? error : new Error(String(error)));
    const status = statusOf(err.code);
    if (status >= 500) req.log.error({ reqId: req.id, err: error }, 'console request failed');
    return sendPage(
      reply.code(status),
      status === 404 ? 'Not found' : 'Not done',
      html`<p class="error">${err.message}</p><p><a href="/console">Back to the review queue</a></p>`,
      req,
    );
  });
  app.setNotFoundHandler(async (req, reply) => {
    const session = await sessions.get(req.cookies[SESSION_COOKIE]);
    if (!session) return seeOther(reply, LOGIN_PATH);
    return sendPage(reply.code(404), 'Not found', html`<p>There is no such page.</p>`, req, session);
  });

  await app.register(async (pages) => {
    pages.addHook('onSend', async (_req, reply) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-frame-options', 'DENY');
      reply.header('cache-control', 'no-store');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
    });

    pages.get('/console.css', { config: { consolePublic: true } }, async (_req, reply) =>
      reply.type('text/css; charset=utf-8').send(css),
    );

    pages.get('/login', { config: { consolePublic: true } }, async (req, reply) => {
      if (await sessions.get(req.cookies[SESSION_COOKIE])) return seeOther(reply, '/console');
      return loginPage(req, reply, 200, flashOf((req.query as Record<string, unknown>).done));
    });

    pages.post('/login', { config: { consolePublic: true } }, async (req, reply) => {
      if (!sameToken(field(req.body, '_csrf'), req.cookies[LOGIN_COOKIE])) {
        return loginPage(req, reply, 403, null, 'The sign-in form expired. Try again.');
      }
      const key = field(req.body, 'key') ?? '';
      const client = key === '' ? undefined : opts.apiKeys.get(hashKey(key));
      if (!client?.scopes.has('admin')) {
        return loginPage(req, reply, 401, null, 'That is not an admin API key of this gateway.');
      }
      const { id } = await sessions.create(client.id);
      req.log.info({ reqId: req.id, client: client.id }, 'console sign-in');
      reply.clearCookie(LOGIN_COOKIE, { path: '/console' });
      reply.setCookie(SESSION_COOKIE, id, cookieOptions(req, SESSION_TTL_MS / 1000));
      return seeOther(reply, '/console');
    });

    pages.post('/logout', async (req, reply) => {
      await sessions.delete(req.consoleSessionId);
      reply.clearCookie(SESSION_COOKIE, { path: '/console' });
      return seeOther(reply, `${LOGIN_PATH}?done=signed_out`);
    });

    await pages.register(reviewPages, { gateway: opts.gateway });
    await pages.register(orderPages, { gateway: opts.gateway });
  });

  await app.register(queueBoard, { prefix: '/queues', gateway: opts.gateway });
}

/** The sign-in form: a fresh form token (cookie and hidden field); the key typed is never echoed. */
async function loginPage(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  flash: string | null,
  error?: string,
): Promise<FastifyReply> {
  const token = randomBytes(24).toString('base64url');
  reply.setCookie(LOGIN_COOKIE, token, cookieOptions(req, 3600));
  const body = html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/console/login" class="card login">
  <input type="hidden" name="_csrf" value="${token}">
  <label for="key">Admin API key</label>
  <input id="key" name="key" type="password" autocomplete="off" required autofocus>
  <button type="submit">Sign in</button>
  <p class="hint">The key is checked once; the console then keeps a session of 8 hours in a cookie.</p>
</form>`;
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page('Sign in', body, { flash }));
}

function sendPage(
  reply: FastifyReply,
  title: string,
  body: ReturnType<typeof html>,
  req?: FastifyRequest,
  session = req?.consoleSession ?? null,
): FastifyReply {
  if (reply.statusCode >= 400) {
    // The strict headers too: an error page may be answered from the outer scope's hooks.
    reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-store');
  }
  return reply.type('text/html; charset=utf-8').send(page(title, body, { session }));
}
