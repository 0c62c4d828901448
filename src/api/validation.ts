import type { FastifySchemaCompiler } from 'fastify';
import { coercingAjv, strictAjv } from '../lib/schema-check.js';

/** Replaces sub-schemas marked `x-per-item-validation` with `{}`: the route checks those items one by one. */
function withoutPerItemParts(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutPerItemParts);
  if (schema === null || typeof schema !== 'object') return schema;
  if ((schema as Record<string, unknown>)['x-per-item-validation'] === true) return {};
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, withoutPerItemParts(v)]));
}

/**
 * Bodies are checked without type coercion ("10" is not 10, true is not 1: this is money);
 * query strings and path parameters arrive as text and are coerced.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = strictAjv();
  const other = coercingAjv();
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? body : other;
    return ajv.compile(withoutPerItemParts(schema) as object) as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}
