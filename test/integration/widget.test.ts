import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * GET /widget/v1/loyalty.js (issue 12): the storefront widget as a public, cacheable, cross-origin module
 * script. Its behaviour in a browser is test/browser/widget.test.ts.
 */

const PATH = '/widget/v1/loyalty.js';
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

describe('the widget script', () => {
  it('is JavaScript, public, cached for a year on its versioned path, loadable from any origin', async () => {
    const res = await gw.request('GET', PATH, { key: null, headers: { origin: 'https://any-shop.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.text).toContain("customElements.define('loyalty-widget'");
  });

  it('has a strong ETag and answers 304 to it', async () => {
    const first = await gw.request('GET', PATH, { key: null });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{16,}"$/);
    expect((await gw.request('GET', PATH, { key: null })).headers.get('etag')).toBe(etag);
    const again = await gw.request('GET', PATH, { key: null, headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const other = await gw.request('GET', PATH, { key: null, headers: { 'if-none-match': '"something-else"' } });
    expect(other.status).toBe(200);
  });

  it('is at most 15 KB gzipped, and uses no eval, new Function, innerHTML or inline handlers', async () => {
    const res = await gw.request('GET', PATH, { key: null });
    const gzipped = gzipSync(Buffer.from(res.text)).length;
    expect(gzipped).toBeLessThanOrEqual(15 * 1024);
    for (const banned of [
      /\beval\(/,
      /new Function/,
      /\.innerHTML\b/,
      /\.outerHTML\b/,
      /insertAdjacentHTML/,
      /\son[a-z]+=/,
    ]) {
      expect(res.text).not.toMatch(banned);
    }
  });

  it('is not in the OpenAPI document', async () => {
    const doc = await gw.request('GET', '/openapi.json', { key: null });
    expect(Object.keys(doc.body.paths).filter((p) => p.startsWith('/widget'))).toEqual([]);
  });
});
