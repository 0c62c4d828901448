import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_HEADERS } from '../../src/api/schemas/responses.js';
import type { Res } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * The OpenAPI document against the gateway that serves it, on the sandbox (`npm run sandbox`'s simulators and
 * seeds): every operation called with the document's own examples answers 2xx (what a tool that calls the
 * examples, or a mock server's consumer, gets), every answer's body is what its response schema says (a
 * validating proxy's view), and the headers the gateway sends are the ones each response declares.
 */

/** Operations whose examples cannot answer 2xx on a fresh sandbox, and why. */
const NOT_CALLED: Record<string, string> = {};

/**
 * Routes of the shop integrations: the test sandbox configures no shop, a hook needs a fresh HMAC, and /v1/me a
 * customer token signed for the moment (storefront.test.ts, shop-orders.test.ts and checkout-e2e.test.ts cover them).
 */
const NO_SHOP = /^\/v1\/(orders|hooks|links|me|customer-tokens)\b/;

/** Path parameters naming what the gateway itself makes (no seed can hold them): examples are well-formed only. */
const GATEWAY_MADE = /^(txn|blk|aud|evt|wh|hld)_/;

type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { headers: Record<string, unknown> };
};
interface Operation {
  operationId: string;
  parameters?: { in: string; name: string; required?: boolean; example?: unknown; schema?: { examples?: unknown[] } }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, Response>;
}
interface Response {
  headers?: Record<string, { $ref?: string; required?: boolean }>;
  content?: Record<string, { schema: unknown }>;
}

/** Reads first, then writes, changes and deletions (of seeded cards and customers); some reads after writes. */
const ORDER: Record<string, number> = { get: 0, post: 1, patch: 2, put: 2, delete: 3 };
const AFTER_WRITES: Record<string, string> = {
  'GET /v1/notifications/{connection}/{notification_id}':
    "its example is the sandbox's first push, which POST /v1/notifications's example makes",
};
const rank = (path: string, method: string) =>
  AFTER_WRITES[`${method.toUpperCase()} ${path}`] ? 1.5 : (ORDER[method] ?? 0);

let sb: SandboxGateway;
let doc: Doc;
beforeAll(async () => {
  sb = await startSandboxGateway({ env: { CLIENT_RATE_LIMIT: '100000/1', WEBHOOK_ALLOW_PRIVATE: 'true' } });
  doc = (await sb.gw.request('GET', '/openapi.json', { key: null })).body;
}, 60_000);
afterAll(async () => sb?.close());

const exampleOf = (p: NonNullable<Operation['parameters']>[number]) => p.example ?? p.schema?.examples?.[0];

/** The names (lower case) of the headers a response declares, with whether each is required. */
function declaredHeaders(response: Response): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const [name, h] of Object.entries(response.headers ?? {})) {
    const resolved = h.$ref ? (doc.components.headers[h.$ref.split('/').pop()!] as { required?: boolean }) : h;
    out.set(name.toLowerCase(), resolved.required === true);
  }
  return out;
}

const SENT = Object.keys(RESPONSE_HEADERS).map((n) => n.toLowerCase());

/** Every RESPONSE_HEADERS header the answer carries is declared by its response, and every required one is sent. */
function expectHeadersDeclared(what: string, op: Operation, res: Res): void {
  const response = op.responses[String(res.status)];
  expect(response, `${what}: ${res.status} is not a declared response`).toBeDefined();
  const declared = declaredHeaders(response!);
  for (const name of SENT) {
    if (res.headers.has(name))
      expect(declared.has(name), `${what} ${res.status}: ${name} sent, not declared`).toBe(true);
  }
  for (const [name, required] of declared) {
    if (required)
      expect(res.headers.has(name), `${what} ${res.status}: ${name} declared required, not sent`).toBe(true);
  }
}

function validatorFor(d: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...d, $id: 'doc' });
  return (op: Operation, res: Res) => {
    const media = op.responses[String(res.status)]?.content;
    const entry = media ? Object.entries(media)[0] : undefined;
    if (!entry) return null;
    const schema = entry[1].schema as { $ref?: string };
    const validate = ajv.compile(
      schema.$ref ? { $ref: `doc${schema.$ref}` } : JSON.parse(JSON.stringify(schema).replaceAll('"#/', '"doc#/')),
    );
    return validate(res.body) ? null : ajv.errorsText(validate.errors);
  };
}

describe('the OpenAPI document against the sandbox', () => {
  it("calls every operation with the document's examples: 2xx, bodies as declared, headers as declared", async () => {
    const validate = validatorFor(doc);
    const ops = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })))
      .filter(({ path }) => path !== '/metrics')
      .sort((a, b) => rank(a.path, a.method) - rank(b.path, b.method));
    const failures: string[] = [];
    let called = 0;
    for (const { path, method, op } of ops) {
      const name = `${method.toUpperCase()} ${path}`;
      if (NOT_CALLED[name] || NO_SHOP.test(path)) continue;
      const params = op.parameters ?? [];
      const pathParams = params.filter((p) => p.in === 'path');
      if (pathParams.some((p) => GATEWAY_MADE.test(String(exampleOf(p))))) continue;
      let url = path;
      for (const p of pathParams) url = url.replace(`{${p.name}}`, encodeURIComponent(String(exampleOf(p))));
      const query = new URLSearchParams();
      for (const p of params.filter((p) => p.in === 'query' && exampleOf(p) !== undefined)) {
        query.set(p.name, String(exampleOf(p)));
      }
      if ([...query].length > 0) url += `?${query}`;
      const headers: Record<string, string> = {};
      for (const p of params.filter((p) => p.in === 'header' && exampleOf(p) !== undefined)) {
        headers[p.name] = String(exampleOf(p));
      }
      const body = op.requestBody?.content['application/json']?.example;
      const res = await sb.gw.request(method.toUpperCase(), url, { body, headers });
      called++;
      if (res.status < 200 || res.status > 299) {
        failures.push(`${name} (${url}): ${res.status} ${res.body?.code ?? ''} ${res.body?.detail ?? ''}`);
        continue;
      }
      const invalid = validate(op, res);
      if (invalid) failures.push(`${name}: the ${res.status} body is not its schema: ${invalid}`);
      expectHeadersDeclared(name, op, res);
    }
    expect(failures).toEqual([]);
    expect(called).toBeGreaterThan(30);
  }, 120_000);

  it('declares the headers of replays, asynchronous answers and refusals, and a card without a customer', async () => {
    const validate = validatorFor(doc);
    const check = async (method: string, path: string, status: number, opts: Parameters<typeof sb.gw.request>[2]) => {
      const res = await sb.gw.request(method, path, opts);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(status);
      const op = doc.paths[path]?.[method.toLowerCase()];
      return { res, op: op! };
    };
    // A ledger card issued without a customer answers customer: null, which the Card schema allows.
    const issue = {
      body: { external_reference: 'contract-no-customer' },
      headers: { 'idempotency-key': 'contract-1' },
    };
    const first = await check('POST', '/v1/cards', 201, issue);
    expect(first.res.body.customer).toBeNull();
    expect(validate(first.op, first.res)).toBeNull();
    expectHeadersDeclared('POST /v1/cards', first.op, first.res);
    expect(first.res.headers.get('location')).toBe(`/v1/cards/${first.res.body.id}`);
    const again = await check('POST', '/v1/cards', 201, issue);
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    expectHeadersDeclared('POST /v1/cards (replay)', again.op, again.res);

    // An award at a provider, asked to answer at once: 202, Location, Retry-After, Preference-Applied.
    const award = doc.paths['/v1/points/award']!.post!;
    const accepted = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: 'lt:100-000-101', points: 5, reason: 'contract' },
      headers: { prefer: 'respond-async' },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('preference-applied')).toBe('respond-async');
    expectHeadersDeclared('POST /v1/points/award (async)', award, accepted);

    // A refusal carries X-Request-Id (and the rate-limit headers) too.
    const missing = await sb.gw.request('GET', '/v1/cards/hl:999999-999-999');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-request-id')).toMatch(/^req_/);
    expect(missing.headers.get('ratelimit-limit')).toBe('100000');
    expectHeadersDeclared('GET /v1/cards/{card_id} (404)', doc.paths['/v1/cards/{card_id}']!.get!, missing);
  }, 60_000);
});
