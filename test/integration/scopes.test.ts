import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { parseApiKeys, SCOPES, type Scope } from '../../src/config/api-keys.js';
import { DEFAULT_CONNECTIONS } from '../../src/config/connections.js';
import { loadEnv } from '../../src/config/env.js';
import { expectProblem, KEYS, type Res, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Every operation of the OpenAPI document, table-driven: a scoped one answers 401 without a key,
 * 403 forbidden to a key lacking its scope, and lets a key holding it through; an operation that
 * declares no scope must be listed in PUBLIC below, with the reason it is open. A new route thus
 * cannot ship without a scope (or a deliberate entry here).
 *
 * The scope comes from the document's `x-required-scope`, which src/api/openapi/document.ts writes
 * from the same `config.scope` the auth hook (src/api/auth.ts, onRequest) checks.
 */

/** Operations open to anyone, and why. Anything else without `x-required-scope` fails. */
const PUBLIC: Record<string, string> = {
  'GET /healthz': 'liveness probe: orchestrators call it without credentials',
  'GET /readyz': 'readiness probe: orchestrators call it without credentials',
  'GET /problems/{code}': 'the problem `type` URIs of error bodies must resolve for any client, keyless ones too',
  'POST /v1/hooks/shopify/{shop_id}': "Shopify sends no API key: the shop's HMAC signature authenticates a delivery",
  'POST /v1/hooks/woocommerce/{shop_id}': "WooCommerce sends no API key: the shop's HMAC signature authenticates it",
};

/** Routes the router serves that the document hides on purpose (all open), and why. */
const HIDDEN_PUBLIC: Record<string, string> = {
  'GET /openapi.json': 'the document itself',
  'GET /docs': 'Swagger UI (static pages over the document)',
  'GET /docs/static/index.html': 'Swagger UI',
  'GET /docs/static/swagger-initializer.js': 'Swagger UI',
  'GET /docs/*': 'Swagger UI static assets',
  'GET /docs/json': 'Swagger UI: the document as JSON',
  'GET /docs/yaml': 'Swagger UI: the document as YAML',
  'GET /widget/v1/loyalty.js': 'the storefront widget: a public script any shop page loads (docs/storefront.md)',
  'OPTIONS *': "CORS preflights (@fastify/cors): answered with CORS headers for a shop's allowed origins only",
};

/**
 * The admin console's routes (src/api/console, bull-board's under /console/queues): hidden from the document, and
 * gated by a console session (a cookie) instead of an API key. Only these are reached without a session.
 */
const CONSOLE_PUBLIC: Record<string, string> = {
  'GET /console/login': 'the sign-in form',
  'POST /console/login': 'sign-in: an admin key for a session',
  'GET /console/console.css': "the console's stylesheet",
};
const isConsole = (route: string) => / \/console(\/|$)/.test(route);

/**
 * The key holding exactly the scope (the least a client needs), and the most a key can hold
 * without it: admin implies read and write, so a key lacking read is a write-only key (not in the
 * suite's KEYS: the probe app below has it).
 */
const WRITE_ONLY_KEY = 'scope_probe_write_only_key';
const HOLDING: Record<Scope, string> = { read: KEYS.read, write: KEYS.write, admin: KEYS.admin };
const LACKING: Record<Scope, { key: string; name: string }> = {
  read: { key: WRITE_ONLY_KEY, name: 'write' },
  write: { key: KEYS.read, name: 'read' },
  admin: { key: KEYS.write, name: 'read+write' },
};

/** Well-formed ids of things that do not exist: a request that gets through finds nothing to change. */
const PLACEHOLDERS: Record<string, string> = {
  card_id: 'ledger:c_SCOPEPROBE0000',
  shop_id: 'scope-probe',
  customer_id: 'ledger:scope-probe',
  program_id: 'ledger:scope-probe',
  id: 'txn_00000000000000000000000000',
  connection: 'ledger',
  notification_id: '1',
  code: 'not_found',
};
/** Where a parameter name means another kind of id. */
const PLACEHOLDERS_BY_PATH: Record<string, Record<string, string>> = {
  '/v1/bulk/{id}': { id: 'blk_00000000000000000000000000' },
  '/v1/audits/{id}': { id: 'aud_00000000000000000000000000' },
  '/v1/audits/{id}/findings/{finding_id}/confirm': { id: 'aud_00000000000000000000000000', finding_id: 'f1' },
};

/**
 * The body every write is sent with: a JSON array, which no body schema accepts. A request that
 * gets past auth is refused by validation and changes nothing; one refused by auth shows that
 * auth runs before validation (onRequest), or the 401/403 would be a 400.
 */
const BODY: unknown = [];

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Operation {
  name: string;
  method: string;
  path: string;
  scope: unknown;
  security: unknown;
  /** A customer's route (/v1/me): a customer token, never an API key (storefront.test.ts covers it). */
  customer: boolean;
}

// The probe app: the same routes, described offline (no Redis), with a write-only key. It gives the
// table its rows at collection time, the router's own list of routes, and the keys-lacking-read check.
const probeRedis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
const probe = await buildApp({
  env: loadEnv({}),
  redis: probeRedis,
  connections: DEFAULT_CONNECTIONS,
  apiKeys: parseApiKeys(`${WRITE_ONLY_KEY}:write`, 'API_KEYS'),
  logger: false,
  offline: true,
});
await probe.app.ready();

function operationsOf(doc: { paths?: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      ops.push({
        name: `${m.toUpperCase()} ${path}`,
        method: m.toUpperCase(),
        path,
        scope: op['x-required-scope'],
        security: op.security,
        customer: op['x-customer-token'] === true,
      });
    }
  }
  return ops;
}

const OPERATIONS = operationsOf(probe.app.swagger() as Parameters<typeof operationsOf>[0]);
const SCOPED = OPERATIONS.filter((op) => !(op.name in PUBLIC) && !op.customer);
const OPEN = OPERATIONS.filter((op) => op.name in PUBLIC);
const CUSTOMER = OPERATIONS.filter((op) => op.customer);

/** The path with its parameters filled in. */
function urlOf(path: string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = PLACEHOLDERS_BY_PATH[path]?.[name] ?? PLACEHOLDERS[name];
    if (value === undefined) throw new Error(`scopes.test.ts: add a placeholder for path parameter {${name}}`);
    return encodeURIComponent(value);
  });
}

const hasBody = (method: string) => method === 'POST' || method === 'PUT' || method === 'PATCH';

/**
 * Every route the router serves, as "METHOD /path" with {params}, read from printRoutes (a tree:
 * each line's depth is the column of its branch, its text a path segment and its methods).
 */
function routerRoutes(): string[] {
  const tree = probe.app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.+?) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    // A wildcard is printed as a child segment "*" of its parent ("/docs" + "*" is the route /docs/*).
    const path = stack
      .join('')
      .replace(/([^/])\*$/, '$1/*')
      .replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of m[3]!.split(',').map((s) => s.trim())) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  await probe.app.close();
  probeRedis.disconnect();
});

describe('the OpenAPI document declares a scope for every operation', () => {
  it('is the document the gateway serves at /openapi.json, without a key', async () => {
    const served = await gw.request('GET', '/openapi.json', { key: null });
    expect(served.status, served.text).toBe(200);
    const ops = operationsOf(served.body);
    expect(ops.map((o) => [o.name, o.scope])).toEqual(OPERATIONS.map((o) => [o.name, o.scope]));
    // The table is not empty by accident (a document with no paths would pass everything below); 40 today.
    expect(ops.length).toBeGreaterThanOrEqual(30);
  });

  it('names a scope, or is listed as public, for every operation', () => {
    const undeclared = SCOPED.filter((op) => !(SCOPES as readonly unknown[]).includes(op.scope)).map(
      (op) => `${op.name} (x-required-scope: ${JSON.stringify(op.scope)})`,
    );
    expect(undeclared, 'operations with no scope: give the route config.scope, or list it in PUBLIC').toEqual([]);
    for (const op of SCOPED) expect(op.security, op.name).toEqual([{ apiKey: [] }]);
    for (const op of OPEN) {
      expect(op.scope, `${op.name} is listed as public but declares a scope`).toBeUndefined();
      expect(op.security, op.name).toEqual([]);
    }
    for (const op of CUSTOMER) {
      expect(op.scope, `${op.name} is a customer's route but declares a scope`).toBeUndefined();
      expect(op.security, op.name).toEqual([{ customerToken: [] }]);
    }
    // Every PUBLIC entry names an operation that exists (a stale entry would hide nothing, but mislead).
    expect(Object.keys(PUBLIC).filter((name) => !OPERATIONS.some((op) => op.name === name))).toEqual([]);
  });

  it('describes every route the router serves (or lists it as hidden and public)', () => {
    const routes = routerRoutes();
    // The parse found the documented operations: a change in printRoutes' format cannot pass silently.
    expect(OPERATIONS.map((op) => op.name).filter((name) => !routes.includes(name))).toEqual([]);
    const undocumented = routes.filter(
      (r) => !OPERATIONS.some((op) => op.name === r) && !(r in HIDDEN_PUBLIC) && !isConsole(r),
    );
    expect(undocumented, 'routes missing from the OpenAPI document').toEqual([]);
  });

  it('sends every console route but sign-in to the sign-in page without a session (an API key is no session)', async () => {
    const routes = routerRoutes().filter((r) => isConsole(r) && !(r in CONSOLE_PUBLIC));
    expect(routes).toEqual(expect.arrayContaining(['GET /console', 'POST /console/transactions/{id}/resolve']));
    expect(routes.some((r) => r.startsWith('GET /console/queues'))).toBe(true);
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(/\{[^}]+\}/g, 'x').replace(/\*$/, 'x');
      const res = await fetch(gw.url + url, {
        method,
        redirect: 'manual',
        headers: {
          'x-api-key': KEYS.admin,
          ...(method === 'GET' ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(method === 'GET' ? {} : { body: 'a=1' }),
      });
      expect(res.status, route).toBe(303);
      expect(res.headers.get('location'), route).toBe('/console/login');
    }
  });
});

/** A request to the probe app (offline, same routes and hooks) with its write-only key. */
async function probeWithWriteOnlyKey(op: Operation, url: string): Promise<Res> {
  const res = await probe.app.inject({
    method: op.method as 'GET',
    url,
    headers: { 'x-api-key': WRITE_ONLY_KEY, ...(hasBody(op.method) ? { 'content-type': 'application/json' } : {}) },
    ...(hasBody(op.method) ? { payload: JSON.stringify(BODY) } : {}),
  });
  let body: unknown = res.body;
  try {
    body = res.json();
  } catch {
    /* not JSON */
  }
  return { status: res.statusCode, headers: new Headers(res.headers as Record<string, string>), body, text: res.body };
}

// One row per operation; rows run concurrently (nothing they send changes anything), each row's
// requests at once.
describe.concurrent('every scoped operation refuses a missing key and a key lacking its scope', () => {
  it.each(SCOPED)('$name', async (op) => {
    expect(SCOPES, `${op.name} declares no scope (x-required-scope) and is not listed as public`).toContain(op.scope);
    const scope = op.scope as Scope;
    const url = urlOf(op.path);
    const send = (key: string | null): Promise<Res> =>
      gw.request(op.method, url, { key, ...(hasBody(op.method) ? { body: BODY } : {}) });
    const lacking = LACKING[scope];
    const [none, head, refused, holding] = await Promise.all([
      send(null),
      // Fastify adds a HEAD route beside each GET: it must be guarded too.
      op.method === 'GET' ? fetch(gw.url + url, { method: 'HEAD', headers: { 'x-api-key': '' } }) : null,
      // The suite's keys all hold read: the probe app has a write-only key.
      lacking.key === WRITE_ONLY_KEY ? probeWithWriteOnlyKey(op, url) : send(lacking.key),
      send(HOLDING[scope]),
    ]);

    expectProblem(none, 401, 'unauthorized');
    if (head) expect(head.status, `HEAD ${op.path} without a key`).toBe(401);

    expectProblem(refused, 403, 'forbidden');
    expect(refused.body.detail, `${op.name} with a ${lacking.name} key`).toContain(`needs the "${scope}" scope`);

    expect([401, 403], `${op.name} refused a ${scope} key: ${holding.text}`).not.toContain(holding.status);
    // The placeholders and the invalid body are refused by the route itself, never by a crash.
    expect(holding.status, holding.text).toBeLessThan(500);
  });
});

describe.concurrent.each(CUSTOMER)('$name (customer token)', (op) => {
  it('refuses a request without a customer token, an admin API key included (401)', async () => {
    for (const key of [null, KEYS.admin]) {
      const res = await gw.request(op.method, urlOf(op.path), { key, ...(hasBody(op.method) ? { body: {} } : {}) });
      expect(res.status, res.text).toBe(401);
      expect(res.body.code).toBe('unauthorized');
    }
  });
});

describe.concurrent.each(OPEN)('$name (public)', (op) => {
  it(`answers without a key: ${PUBLIC[op.name]}`, async () => {
    const res = await gw.request(op.method, urlOf(op.path), { key: null });
    // A webhook from a platform is judged by its signature (here: no such shop), never by an API key.
    if (op.method === 'GET') expect(res.status, res.text).toBe(200);
    else expect(['unauthorized', 'forbidden'], res.text).not.toContain(res.body?.code);
  });
});
