import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/lib/time.js';
import { ConsoleClient, type Page } from '../helpers/console.js';
import { issueCard, KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * The admin console over real HTTP, against the provider simulators: sign-in with an admin key for a session
 * cookie, the CSRF and cross-site checks, the review queue with a needs_review transaction made by a fault, its
 * timeline, resolve and retry through the forms, unmatched shop orders linked and replayed, the queue board
 * behind the session, sign-out; and the key itself never in an answer or a log line.
 */

const STAMP = '^POST .*/stamp$';
const SHOP_SECRET = 'shpss_console_secret_01';

let sb: SandboxGateway;
let card: string;
/** Every page any client of this file was answered, to look for the key in. */
const seen: string[] = [];
let inReview: string;

const record = (p: Page): Page => {
  seen.push(p.text, [...p.headers].map(([k, v]) => `${k}: ${v}`).join('\n'));
  return p;
};

class RecordingClient extends ConsoleClient {
  override async get(path: string, headers: Record<string, string> = {}) {
    return record(await super.get(path, headers));
  }
  override async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return record(await super.post(path, form, headers));
  }
}

const stamp = (key: string) =>
  sb.gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points: 2, reason: 'Coffee' },
    headers: { 'idempotency-key': key },
  });

async function statusOf(gw: TestGateway, id: string): Promise<string> {
  const res = await gw.request('GET', `/v1/transactions/${id}`);
  seen.push(res.text);
  return res.body.status as string;
}

async function until(what: () => Promise<boolean>, label: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await what()) return;
    await sleep(100);
  }
  throw new Error(`never: ${label}`);
}

beforeAll(async () => {
  sb = await startSandboxGateway({ timeoutMs: 800 });
  card = `leal:${sb.leal.seed.customers.fresh.id}.${sb.leal.seed.customers.fresh.customerCardId}`;
  // Applied by Leal, but its answer never came: needs_review.
  sb.leal.sim.inject({ kind: 'timeout', applied: true, ms: 3000, match: STAMP, times: 1 });
  const res = await stamp('console-review-1');
  expect(res.status, res.text).toBe(504);
  inReview = res.body.transaction_id;
  expect(await statusOf(sb.gw, inReview)).toBe('needs_review');
  sb.leal.sim.clearFaults();
}, 30_000);
afterAll(async () => sb?.close());

describe('sign-in', () => {
  it('the sign-in page is public, with the strict headers', async () => {
    const c = new RecordingClient(sb.gw);
    const p = await c.get('/console/login');
    expect(p.status).toBe(200);
    expect(p.headers.get('content-type')).toMatch(/^text\/html/);
    expect(p.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; " +
        "base-uri 'none'",
    );
    expect(p.headers.get('cache-control')).toBe('no-store');
    expect(p.headers.get('x-frame-options')).toBe('DENY');
    expect(p.text).toContain('name="key"');
    expect(p.text).not.toMatch(/<script|style=/);
    const css = await c.get('/console/console.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('a wrong key, or a key without the admin scope: 401, and no session cookie', async () => {
    for (const key of ['not_a_key_of_this_gateway', KEYS.write, KEYS.read, '']) {
      const c = new RecordingClient(sb.gw);
      const p = await c.login(key);
      expect(p.status, key).toBe(401);
      expect(p.headers.getSetCookie().some((s) => s.startsWith('lgw_console='))).toBe(false);
      expect(c.cookies.has('lgw_console')).toBe(false);
      if (key !== '') expect(p.text).not.toContain(key);
    }
  });

  it('the sign-in form without its token is refused', async () => {
    const c = new RecordingClient(sb.gw);
    const p = await c.post('/console/login', { key: KEYS.admin });
    expect(p.status).toBe(403);
    expect(c.cookies.has('lgw_console')).toBe(false);
  });

  it('an admin key: a session cookie, HttpOnly, SameSite=Strict, Path=/console, 8 h; not Secure over http', async () => {
    const c = new RecordingClient(sb.gw);
    const p = await c.login(KEYS.admin);
    expect(p.status).toBe(303);
    expect(p.headers.get('location')).toBe('/console');
    const set = p.headers.getSetCookie().find((s) => s.startsWith('lgw_console='))!;
    expect(set).toBeDefined();
    expect(set).toMatch(/; HttpOnly/i);
    expect(set).toMatch(/; SameSite=Strict/i);
    expect(set).toMatch(/; Path=\/console(;|$)/);
    expect(set).toMatch(/; Max-Age=28800/);
    expect(set).not.toMatch(/; Secure/i);
    expect(set).not.toContain(KEYS.admin);
    expect((await c.get('/console')).status).toBe(200);
  });

  it('Secure when the request came over https (a proxy saying so is not trusted: the socket decides)', async () => {
    // The gateway trusts no proxy header, so over plain http the cookie is never Secure, whatever is claimed.
    const c = new RecordingClient(sb.gw);
    const form = await c.get('/console/login');
    const p = await c.post('/console/login', { _csrf: form.csrf!, key: KEYS.admin }, { 'x-forwarded-proto': 'https' });
    expect(p.headers.getSetCookie().find((s) => s.startsWith('lgw_console='))).not.toMatch(/; Secure/i);
  });
});

describe('without a session', () => {
  it('every console page redirects (303) to the sign-in page', async () => {
    const c = new RecordingClient(sb.gw);
    for (const path of [
      '/console',
      '/console/',
      `/console/transactions/${inReview}`,
      '/console/orders',
      '/console/queues',
      '/console/queues/api/queues',
      '/console/nothing-here',
    ]) {
      const p = await c.get(path);
      expect(p.status, path).toBe(303);
      expect(p.headers.get('location'), path).toBe('/console/login');
    }
    const forged = await c.get('/console', { cookie: 'lgw_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(forged.status).toBe(303);
  });

  it('a form sent without a session changes nothing', async () => {
    const c = new RecordingClient(sb.gw);
    const p = await c.post(`/console/transactions/${inReview}/resolve`, { outcome: 'failed', _csrf: 'x' });
    expect(p.status).toBe(303);
    expect(await statusOf(sb.gw, inReview)).toBe('needs_review');
  });

  it('an API key is no way in', async () => {
    const res = await fetch(`${sb.gw.url}/console`, { redirect: 'manual', headers: { 'x-api-key': KEYS.admin } });
    expect(res.status).toBe(303);
  });
});

describe('the review queue and a transaction', () => {
  let c: RecordingClient;
  beforeAll(async () => {
    c = new RecordingClient(sb.gw);
    expect((await c.login(KEYS.admin)).status).toBe(303);
  });

  it('lists the needs_review transaction, with the strict headers; the connection filter narrows it', async () => {
    const p = await c.get('/console');
    expect(p.status).toBe(200);
    expect(p.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(p.headers.get('cache-control')).toBe('no-store');
    expect(p.headers.get('x-frame-options')).toBe('DENY');
    expect(p.text).toContain(`href="/console/transactions/${inReview}"`);
    expect(p.text).toContain('provider_timeout');
    expect(p.text).toMatch(/<option value="leal"/);
    expect((await c.get('/console?status=needs_review&connection=leal')).text).toContain(inReview);
    expect((await c.get('/console?status=needs_review&connection=hl')).text).not.toContain(inReview);
    expect((await c.get('/console?status=failed')).text).not.toContain(inReview);
  });

  it("the transaction's page: its fields and its timeline (claim, the send, the provider's error, the event)", async () => {
    const p = await c.get(`/console/transactions/${inReview}`);
    expect(p.status).toBe(200);
    expect(p.text).toContain('needs_review');
    expect(p.text).toMatch(/step-claimed/);
    expect(p.text).toMatch(/step-sent.*attempt 1/s);
    expect(p.text).toMatch(/step-needs_review.*provider_timeout/s);
    expect(p.text).toMatch(/step-event.*transaction\.needs_review/s);
    expect(p.text).toContain(`action="/console/transactions/${inReview}/resolve"`);
    expect(p.text).toContain(`action="/console/transactions/${inReview}/retry"`);
  });

  it('a form without its CSRF token, or with a wrong one, or from another site: 403, nothing changed', async () => {
    const path = `/console/transactions/${inReview}/resolve`;
    const csrf = await c.csrf();
    const cases: [string, Promise<Page>][] = [
      ['no token', c.post(path, { outcome: 'failed' })],
      ['wrong token', c.post(path, { outcome: 'failed', _csrf: `${csrf.slice(0, -2)}xx` })],
      ['another site', c.post(path, { outcome: 'failed', _csrf: csrf }, { origin: 'https://evil.example' })],
      ['sec-fetch-site', c.post(path, { outcome: 'failed', _csrf: csrf }, { 'sec-fetch-site': 'cross-site' })],
    ];
    for (const [what, res] of cases) {
      const p = await res;
      expect(p.status, what).toBe(403);
      expect(p.headers.get('content-type'), what).toMatch(/^text\/html/);
    }
    expect(await statusOf(sb.gw, inReview)).toBe('needs_review');
  });

  it('resolving it through the form changes its status, recorded under the session key', async () => {
    const csrf = await c.csrf();
    const p = await c.post(
      `/console/transactions/${inReview}/resolve`,
      { _csrf: csrf, outcome: 'succeeded', note: 'seen at Leal', provider_reference: 'leal-op-1', balance_after: '' },
      { origin: sb.gw.url },
    );
    expect(p.status, p.text).toBe(303);
    expect(p.headers.get('location')).toBe(`/console/transactions/${inReview}?done=resolved`);
    const txn = await sb.gw.request('GET', `/v1/transactions/${inReview}`);
    expect(txn.body).toMatchObject({ status: 'succeeded', provider_reference: 'leal-op-1' });
    expect(txn.body.audit.at(-1)).toMatchObject({
      action: 'resolve',
      by: expect.stringMatching(/^key_/),
      from: 'needs_review',
      to: 'succeeded',
      note: 'seen at Leal',
    });
    const page = await c.get(p.headers.get('location')!);
    expect(page.text).toContain('Resolved.');
    expect(page.text).toMatch(/step-resolved.*seen at Leal/s);
    expect(page.text).toMatch(/transaction\.succeeded/);
    // Resolved: it has left the queue.
    expect((await c.get('/console')).text).not.toContain(inReview);
  });

  it('an error of the service is a page, not a problem+json', async () => {
    const csrf = await c.csrf();
    const p = await c.post(`/console/transactions/${inReview}/resolve`, { _csrf: csrf, outcome: 'failed' });
    expect(p.status).toBe(409);
    expect(p.headers.get('content-type')).toMatch(/^text\/html/);
    expect(p.text).toContain('only needs_review transactions');
    expect((await c.get('/console/transactions/txn_00000000000000000000000000')).status).toBe(404);
  });

  it('retry on a failed transaction sends it again', async () => {
    sb.leal.sim.inject({ kind: 'status', status: 400, match: STAMP, times: 1 });
    const res = await stamp('console-failed-1');
    const id = res.body.transaction_id as string;
    expect(id, res.text).toMatch(/^txn_/);
    expect(await statusOf(sb.gw, id)).toBe('failed');
    const list = await c.get('/console?status=failed');
    expect(list.text).toContain(id);
    const p = await c.post(`/console/transactions/${id}/retry`, { _csrf: list.csrf!, note: 'fixed' });
    expect(p.status, p.text).toBe(303);
    await until(async () => (await statusOf(sb.gw, id)) === 'succeeded', 'the retry succeeded');
    const page = await c.get(`/console/transactions/${id}`);
    expect(page.text).toMatch(/step-failed.*step-retry.*fixed.*step-sent.*attempt 2.*step-answered/s);
  });

  it('the queue board answers with a session, without the strict CSP', async () => {
    const p = await c.get('/console/queues');
    expect(p.status).toBe(200);
    expect(p.headers.get('content-type')).toMatch(/^text\/html/);
    expect(p.headers.get('content-security-policy')).toBeNull();
    expect(p.headers.get('cache-control')).toBe('no-store');
    const api = await c.get('/console/queues/api/queues');
    expect(api.status).toBe(200);
    const names = (JSON.parse(api.text) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(['conn-hl', 'conn-ct', 'conn-leal', 'conn-lt']));
  });

  it('the console is not in the OpenAPI document', async () => {
    const doc = await sb.gw.request('GET', '/openapi.json', { key: null });
    expect(Object.keys(doc.body.paths).filter((p: string) => p.startsWith('/console'))).toEqual([]);
  });

  it('signing out ends the session', async () => {
    const old = c.cookies.get('lgw_console')!;
    const csrf = await c.csrf();
    const p = await c.post('/console/logout', { _csrf: csrf });
    expect(p.status).toBe(303);
    expect(p.headers.get('location')).toBe('/console/login?done=signed_out');
    expect(c.cookies.has('lgw_console')).toBe(false);
    const again = await fetch(`${sb.gw.url}/console`, {
      redirect: 'manual',
      headers: { cookie: `lgw_console=${old}` },
    });
    expect(again.status).toBe(303);
  });
});

describe('unmatched shop orders', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      connections: [{ id: 'ledger', provider: 'ledger' }],
      shops: [
        {
          id: 'shop',
          platform: 'shopify',
          secret: SHOP_SECRET,
          connection: 'ledger',
          currency: 'EUR',
          earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
        },
      ],
    });
  });
  afterAll(async () => gw?.close());

  it('lists an unmatched order; linking its customer and replaying it awards it', async () => {
    const order = {
      id: 9101,
      name: '#9101',
      currency: 'EUR',
      subtotal_price: '30.00',
      total_price: '35.00',
      email: 'lin@example.com',
      customer: { id: 9901, email: 'lin@example.com' },
    };
    const body = JSON.stringify(order);
    const hook = await gw.request('POST', '/v1/hooks/shopify/shop', {
      rawBody: body,
      key: null,
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/paid',
        'x-shopify-webhook-id': 'dlv-console-1',
        'x-shopify-hmac-sha256': createHmac('sha256', SHOP_SECRET).update(body).digest('base64'),
      },
    });
    expect(hook.status, hook.text).toBeLessThan(300);
    await until(
      async () => (await gw.request('GET', '/v1/orders/shop:9101')).body.status === 'unmatched',
      'the order is unmatched',
    );

    const c = new RecordingClient(gw);
    expect((await c.login(KEYS.admin)).status).toBe(303);
    const list = await c.get('/console/orders');
    expect(list.status).toBe(200);
    expect(list.text).toContain('shop:9101');
    expect(list.text).toContain('lin@example.com');

    const cardId = await issueCard(gw);
    const bad = await c.post('/console/orders/link', { _csrf: list.csrf!, shop_id: 'shop', card_id: cardId });
    expect(bad.status).toBe(400);
    const linked = await c.post('/console/orders/link', {
      _csrf: list.csrf!,
      shop_id: 'shop',
      shop_customer_id: '9901',
      card_id: cardId,
    });
    expect(linked.status, linked.text).toBe(303);
    expect(linked.headers.get('location')).toBe('/console/orders?done=linked');
    const replayed = await c.post('/console/orders/replay', { _csrf: list.csrf!, id: 'shop:9101' });
    expect(replayed.status, replayed.text).toBe(303);
    const o = await gw.request('GET', '/v1/orders/shop:9101');
    expect(o.body).toMatchObject({ status: 'awarded', card_id: cardId, points: 30 });
    const after = await c.get('/console/orders?done=replayed');
    expect(after.text).toContain('Replayed.');
    expect(after.text).not.toContain('shop:9101');
    // The orders queue is on the board too.
    const queues = JSON.parse((await c.get('/console/queues/api/queues')).text) as { queues: { name: string }[] };
    expect(queues.queues.map((q) => q.name)).toContain('orders');
    seen.push(...gw.logs);
  });
});

describe('the admin key', () => {
  it('never appears in an answer or a log line', () => {
    const logs = sb.gw.logs.join('\n');
    expect(logs).toContain('console sign-in');
    expect(logs).not.toContain(KEYS.admin);
    for (const text of seen) expect(text).not.toContain(KEYS.admin);
  });
});
