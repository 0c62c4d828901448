/**
 * The demo storefront (`npm run sandbox`, then /demo): a product page with the loyalty widget, a cart and a
 * checkout button, on an origin of its own, so the widget's calls to the gateway are real cross-origin ones
 * (CORS). Its tiny backend does what a shop's backend does:
 *   POST /demo/api/session   signs a customer token (HS256, jose) for the demo customer; the first time it
 *                            also gives the customer a card with points on the gateway (card, award, link)
 *   POST /demo/api/checkout  {hold_id}: checks the hold is the customer's and active, then captures it
 *                            with the shop's server-side API key (POST /v1/points/holds/{id}/capture)
 * The page is served with a strict Content-Security-Policy: no inline script or style anywhere.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';

export interface DemoStorefrontOptions {
  /** The gateway, as the browser and this backend reach it (http://127.0.0.1:3000). */
  gatewayUrl: string;
  /** A key with the write scope, for the backend's calls; a function when it is known only once the gateway runs. */
  apiKey: string | (() => string);
  /** The shop (its `id` in the connections file), its publishable key and a token secret of its `tokenSecrets`. */
  shopId: string;
  publishableKey: string;
  kid: string;
  tokenSecret: string;
  /** The demo customer's id in the shop, and the points their new card gets. */
  customerId?: string;
  welcomePoints?: number;
  /** 0 (the default): any free port. */
  port?: number;
  host?: string;
}

export interface DemoStorefront {
  /** The storefront's origin (http://127.0.0.1:3100); the page is at `${url}/demo`. */
  url: string;
  close(): Promise<void>;
}

const PUBLIC = new URL('./public/', import.meta.url);
const STATIC: Record<string, { file: string; type: string }> = {
  '/demo/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/demo/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/demo/product.svg': { file: 'product.svg', type: 'image/svg+xml' },
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export async function startDemoStorefront(opts: DemoStorefrontOptions): Promise<DemoStorefront> {
  const gateway = new URL(opts.gatewayUrl).origin;
  const customer = opts.customerId ?? 'demo-customer-1';
  const secret = new TextEncoder().encode(opts.tokenSecret);
  const files = Object.fromEntries(
    Object.entries(STATIC).map(([path, s]) => [path, readFileSync(new URL(s.file, PUBLIC))]),
  );
  const page = readFileSync(new URL('index.html', PUBLIC), 'utf8')
    .replaceAll('{{GATEWAY}}', escapeHtml(gateway))
    .replaceAll('{{PUBLISHABLE_KEY}}', escapeHtml(opts.publishableKey));
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${gateway}`,
    `connect-src 'self' ${gateway}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

  const key = () => (typeof opts.apiKey === 'function' ? opts.apiKey() : opts.apiKey);
  async function gw(method: string, path: string, body?: unknown, idempotencyKey?: string) {
    const headers: Record<string, string> = { 'x-api-key': key() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(gateway + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    return { status: res.status, data };
  }
  const sign = (ttl: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: opts.kid })
      .setSubject(customer)
      .setIssuedAt()
      .setExpirationTime(ttl)
      .sign(secret);

  // The demo customer's card: found through the customer's own token, else made once (card, points, link).
  let cardOf: Promise<string> | undefined;
  async function ensureCard(): Promise<string> {
    const me = await fetch(`${gateway}/v1/me`, {
      headers: { authorization: `Bearer ${await sign('1m')}`, 'x-publishable-key': opts.publishableKey },
    });
    if (me.ok) return ((await me.json()) as { card_id: string }).card_id;
    const card = await gw('POST', '/v1/cards', {});
    if (card.status !== 201) throw new Error(`demo: card: ${card.status} ${JSON.stringify(card.data)}`);
    const cardId = card.data!.id as string;
    const award = await gw(
      'POST',
      '/v1/points/award',
      { card_id: cardId, points: opts.welcomePoints ?? 500, reason: 'Welcome to the demo shop' },
      `demo-welcome-${cardId}`,
    );
    if (award.status >= 300) throw new Error(`demo: award: ${award.status} ${JSON.stringify(award.data)}`);
    const link = await gw('POST', '/v1/links', { shop_id: opts.shopId, shop_customer_id: customer, card_id: cardId });
    if (link.status >= 300) throw new Error(`demo: link: ${link.status} ${JSON.stringify(link.data)}`);
    return cardId;
  }
  const card = () => {
    cardOf ??= ensureCard().catch((err) => {
      cardOf = undefined;
      throw err;
    });
    return cardOf;
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && (path === '/' || path === '/demo/')) {
      res.writeHead(302, { location: '/demo' }).end();
      return;
    }
    if (get && path === '/demo') {
      send(res, 200, page, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': csp,
        'referrer-policy': 'no-referrer',
      });
      return;
    }
    if (get && path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const asset = STATIC[path];
    if (get && asset) {
      send(res, 200, files[path]!, { 'content-type': asset.type });
      return;
    }
    if (req.method === 'POST' && path === '/demo/api/session') {
      await card();
      json(res, 200, { token: await sign('15m'), customer, expires_in: 900 });
      return;
    }
    if (req.method === 'POST' && path === '/demo/api/checkout') {
      const body = (await readJson(req)) as { hold_id?: unknown } | null;
      const orderId = `DEMO-${randomUUID().slice(0, 8).toUpperCase()}`;
      const holdId = typeof body?.hold_id === 'string' ? body.hold_id : null;
      if (!holdId) {
        json(res, 200, { order_id: orderId, status: 'paid', points_used: 0 });
        return;
      }
      // A shop checks that the hold is its customer's before it takes the points off the price.
      const cardId = await card();
      const hold = await gw('GET', `/v1/points/holds/${encodeURIComponent(holdId)}`);
      if (hold.status !== 200 || hold.data?.card_id !== cardId || hold.data?.status !== 'active') {
        json(res, 409, { error: 'That hold cannot be used for this order.' });
        return;
      }
      const captured = await gw(
        'POST',
        `/v1/points/holds/${encodeURIComponent(holdId)}/capture`,
        {},
        `demo-checkout-${holdId}`,
      );
      if (captured.status !== 200) {
        json(res, 502, { error: 'The points could not be captured.', gateway: captured.data });
        return;
      }
      json(res, 200, {
        order_id: orderId,
        status: 'paid',
        points_used: captured.data!.captured_points,
        hold: captured.data,
      });
      return;
    }
    json(res, 404, { error: 'not found' });
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host === undefined || opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string>) {
  res.writeHead(status, { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown) {
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json' });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 10_000) return null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
