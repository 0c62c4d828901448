import { readFileSync } from 'node:fs';
import { BASIC } from '@hyperjump/json-schema/experimental';
import '@hyperjump/json-schema/formats';
import { type OutputUnit, setShouldValidateFormat, type Validator, validate } from '@hyperjump/json-schema/openapi-3-1';
import type { Middleware } from 'openapi-fetch';

/**
 * Every answer a client gets, checked against `openapi/openapi.json`: the status is a response its operation
 * declares, the content type one that response declares, the body valid against that media type's schema, each
 * declared header valid against its schema and each required one sent.
 *
 * The schemas are evaluated by @hyperjump/json-schema's OpenAPI 3.1 dialect (the document's own dialect: JSON
 * Schema 2020-12 with the OAS vocabulary, `$ref`s resolved inside the document, `format` asserted). No maintained
 * JavaScript library validates OpenAPI 3.1 *responses* end to end (openapi-response-validator and jest-openapi are
 * 3.0-only and unmaintained; openapi-backend compiles 3.1 schemas with a draft-07 Ajv and checks `application/json`
 * only), so picking the operation, status and media type is done here, from openapi-fetch's `schemaPath`.
 */

const DOCUMENT_URL = new URL('../../openapi/openapi.json', import.meta.url);

setShouldValidateFormat(true);

interface HeaderObject {
  $ref?: string;
  required?: boolean;
  schema?: { type?: string | string[] };
}
interface ResponseObject {
  $ref?: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, unknown>;
}
interface Document {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { headers?: Record<string, HeaderObject>; responses?: Record<string, ResponseObject> };
}

let doc: Document | null = null;
const document = (): Document => {
  doc ??= JSON.parse(readFileSync(DOCUMENT_URL, 'utf8')) as Document;
  return doc;
};

/** A JSON Pointer fragment for these tokens, URI-encoded. */
const pointer = (...tokens: string[]) =>
  `#/${tokens.map((t) => encodeURIComponent(t.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;

const describeErrors = (errors: OutputUnit[] | undefined, instance: unknown): string[] =>
  (errors ?? []).map((e) => {
    const at = decodeURIComponent(e.instanceLocation.replace(/^#/, ''));
    let value: unknown = instance;
    for (const token of at.split('/').filter(Boolean)) {
      value = (value as Record<string, unknown> | undefined)?.[token.replaceAll('~1', '/').replaceAll('~0', '~')];
    }
    const schemaAt = decodeURIComponent(e.absoluteKeywordLocation.split('#')[1] ?? '');
    const keyword = schemaAt.split('/').pop();
    return `${at || '(root)'}: fails ${keyword} (${schemaAt}), value ${JSON.stringify(value)?.slice(0, 200)}`;
  });

/** Compiled once per schema (compiling walks the document). */
const validators = new Map<string, Promise<Validator>>();

async function validateAt(fragment: string, instance: unknown): Promise<string[]> {
  let validator = validators.get(fragment);
  if (!validator) {
    validator = validate(`${DOCUMENT_URL.href}${fragment}`);
    validators.set(fragment, validator);
  }
  const output = (await validator)(instance as never, BASIC);
  return output.valid ? [] : describeErrors(output.errors, instance);
}

/** A header's value as its schema types it (headers are text on the wire). */
function headerValue(raw: string, schema: HeaderObject['schema']): unknown {
  const types = [schema?.type ?? []].flat();
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (types.includes('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

/**
 * What is wrong with this answer to `method schemaPath` by the document (nothing: an empty list). Reads a clone of
 * the response, so the caller can still read its body.
 */
export async function responseProblems(method: string, schemaPath: string, response: Response): Promise<string[]> {
  const d = document();
  const m = method.toLowerCase();
  const operation = d.paths[schemaPath]?.[m];
  if (!operation) return [`${method} ${schemaPath} is not an operation of the document`];
  const status = String(response.status);
  const key = [status, `${status[0]}XX`, 'default'].find((k) => operation.responses[k]);
  if (!key) return [`${response.status} is not a response ${method} ${schemaPath} declares`];
  let declared = operation.responses[key]!;
  let base = ['paths', schemaPath, m, 'responses', key];
  if (declared.$ref) {
    const name = declared.$ref.split('/').pop()!;
    declared = d.components.responses?.[name] ?? {};
    base = ['components', 'responses', name];
  }
  const problems: string[] = [];

  for (const [name, h] of Object.entries(declared.headers ?? {})) {
    let header = h;
    let at = pointer(...base, 'headers', name, 'schema');
    if (h.$ref) {
      const ref = h.$ref.split('/').pop()!;
      header = d.components.headers?.[ref] ?? {};
      at = pointer('components', 'headers', ref, 'schema');
    }
    const raw = response.headers.get(name);
    if (raw === null) {
      if (header.required) problems.push(`header ${name} is required and was not sent`);
      continue;
    }
    if (header.schema) {
      for (const p of await validateAt(at, headerValue(raw, header.schema))) problems.push(`header ${name} ${p}`);
    }
  }

  const text = await response.clone().text();
  const media = Object.keys(declared.content ?? {});
  if (media.length === 0) {
    if (text !== '') problems.push(`a body was sent where the response declares none: ${text.slice(0, 200)}`);
    return problems;
  }
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!media.includes(type)) {
    problems.push(`content-type ${JSON.stringify(type)}, declared: ${media.join(', ')}`);
    return problems;
  }
  if (!/^application\/([a-z0-9.+-]*\+)?json$/.test(type)) return problems;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    problems.push(`the body is not JSON: ${text.slice(0, 200)}`);
    return problems;
  }
  for (const p of await validateAt(pointer(...base, 'content', type, 'schema'), body)) problems.push(`body ${p}`);
  return problems;
}

/** One answer the middleware checked. */
export interface CheckedResponse {
  method: string;
  path: string;
  status: number;
}

/**
 * An openapi-fetch middleware that checks every answer (`client.use(...)`): an answer the document does not
 * describe makes the call throw, naming each difference. `checked` collects what passed.
 */
export function validateResponses(checked: CheckedResponse[] = []): Middleware {
  return {
    async onResponse({ request, response, schemaPath }) {
      const problems = await responseProblems(request.method, schemaPath, response);
      if (problems.length > 0) {
        throw new Error(
          `${request.method} ${new URL(request.url).pathname} answered ${response.status}, not as openapi/openapi.json ` +
            `says (${schemaPath}):\n  ${problems.join('\n  ')}`,
        );
      }
      checked.push({ method: request.method, path: schemaPath, status: response.status });
      return undefined;
    },
  };
}

/**
 * What is wrong with a webhook delivery's body by the document's `webhooks` section (the POST it declares for the
 * event's type): nothing, an empty list.
 */
export async function eventProblems(event: { type?: unknown; [field: string]: unknown }): Promise<string[]> {
  const type = String(event.type);
  const webhooks = (document() as Document & { webhooks?: Record<string, unknown> }).webhooks ?? {};
  if (!webhooks[type]) return [`${type} is not an event type of the document's webhooks`];
  return validateAt(pointer('webhooks', type, 'post', 'requestBody', 'content', 'application/json', 'schema'), event);
}
