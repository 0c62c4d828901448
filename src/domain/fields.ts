import Type from 'typebox';
import { fieldError } from './errors.js';

/**
 * The fields the whole API shares, and the ids of what lives on a connection. A `title` names a
 * schema: the OpenAPI step turns every titled schema into a component under #/components/schemas.
 */

/** Every gateway id (card, customer, program): `<connection id>:<the provider's own reference>`. */
export const GATEWAY_ID_PATTERN = '^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._~@+=!$*()-]{1,200}$';

export const CardId = Type.String({
  pattern: GATEWAY_ID_PATTERN,
  maxLength: 233,
  description:
    "A card, as `<connection id>:<the provider's own card reference>`, e.g. `ledger:c_01JD3X5Q8T2M4N6P8R0S2T4V6W`.",
  // The examples are the sandbox's seeded ids (`npm run sandbox`), so that calling them works.
  examples: ['hl:100000-000-003'],
});

export const ConnectionId = Type.String({
  pattern: '^[a-z][a-z0-9_-]{0,31}$',
  description: 'A configured connection id.',
  examples: ['hl'],
});

export const CustomerId = Type.String({
  pattern: GATEWAY_ID_PATTERN,
  maxLength: 233,
  description: "A customer, as `<connection id>:<the provider's own customer id>`.",
  examples: ['hl:cus_00000000000000000000000001'],
});

export const ProgramId = Type.String({
  pattern: GATEWAY_ID_PATTERN,
  maxLength: 233,
  description: 'A program (Highlight template, Coupontools loyalty card, Leal card): `<connection id>:<provider id>`.',
  examples: ['hl:103'],
});

/** A connection id in the configuration file. */
export const ConnectionIdSetting = Type.String({
  pattern: '^[a-z][a-z0-9_-]{0,31}$',
  description: 'Lower-case letters, digits, "_" and "-", starting with a letter; at most 32 characters.',
});

export const Points = Type.Integer({
  minimum: 1,
  maximum: 1_000_000_000,
  description: 'Whole points, 1 to 1,000,000,000.',
  examples: [120],
});

/** Printable text: control characters other than tab and new lines are refused. */
const TEXT = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]+$';

export const Reason = Type.String({
  minLength: 1,
  maxLength: 500,
  pattern: TEXT,
  description: 'Why, in words a customer may read.',
  examples: ['Order #1001'],
});

export const ReferenceId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description:
    'Your reference (order number, invoice id). Without an Idempotency-Key it is the natural key: the same card, ' +
    'type and reference_id never make a second transaction.',
  examples: ['order-1001'],
});

export const Staff = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description: 'Who did it (id or name).',
  examples: ['till-3'],
});

export const Metadata = Type.Record(Type.String(), Type.Unknown(), {
  maxProperties: 50,
  propertyNames: { minLength: 1, maxLength: 64 },
  description: 'Your own data, kept with the transaction; at most 1 KB as JSON.',
  examples: [{ channel: 'web', order_total: '54.90', currency: 'EUR' }],
});

const METADATA_MAX_BYTES = 1024;

/** The size limit of `metadata` (JSON Schema cannot count bytes): a validation_failed naming the field. */
export function checkMetadataSize(metadata: unknown): void {
  if (metadata !== undefined && Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
    throw fieldError('metadata', `must be at most ${METADATA_MAX_BYTES} bytes as JSON`);
  }
}

export const DateTime = Type.String({
  format: 'date-time',
  description: 'ISO 8601 / RFC 3339 date-time.',
  examples: ['2026-12-31T23:59:59Z'],
});

/**
 * `T | null`, written as a JSON Schema type array (`"type": ["string", "null"]`) rather than anyOf:
 * OpenAPI 3.1 style, and fast-json-stringify serializes it without trying each branch.
 */
/**
 * One of a list of strings, as `anyOf` of `const` schemas (what `Type.Literal` gives), typed as
 * the list's union: the list is the one source, its schema and its type follow from it.
 */
export const OneOf = <const T extends readonly string[]>(values: T, options: Type.TSchemaOptions = {}) =>
  Type.Unsafe<T[number]>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      options,
    ),
  );

export const Nullable = <T extends Type.TSchema>(t: T) => {
  const type = (t as unknown as { type?: unknown }).type;
  if (typeof type !== 'string') return Type.Union([t, Type.Null()]);
  return Type.Unsafe<Type.Static<T> | null>({ ...t, type: [type, 'null'] });
};

/** The page-number query every provider list takes (they all page that way). */
export const pageQuery = (defaultPerPage: number) => ({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 1 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: defaultPerPage })),
});
