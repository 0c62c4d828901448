import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/**
 * GET /widget/v1/loyalty.js: the storefront widget (src/widget/loyalty.js), a public asset. Read once at
 * start; the path is versioned, so it is cached for a year (immutable) and revalidated by its strong ETag.
 * A page on another origin loads it as a module script, which the browser fetches in CORS mode: any origin
 * may (`*`, no credentials), and the answer may be embedded cross-origin (CORP).
 */
const WIDGET_FILE = new URL('../../widget/loyalty.js', import.meta.url);

export async function widgetRoutes(app: FastifyInstance) {
  const body = readFileSync(WIDGET_FILE);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;

  app.get('/widget/v1/loyalty.js', { schema: { hide: true } }, async (req, reply) => {
    reply
      .header('etag', etag)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('x-content-type-options', 'nosniff');
    const match = req.headers['if-none-match'];
    if (typeof match === 'string' && match.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
      return reply.code(304).send();
    }
    return reply.type('text/javascript; charset=utf-8').send(body);
  });
}
