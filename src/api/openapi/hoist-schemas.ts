/**
 * Moves every schema that carries a `title` into #/components/schemas and refers to it by $ref,
 * so that the OpenAPI document (and the clients generated from it) has named types.
 *
 * A nullable use of a titled schema (`Nullable(CustomerSchema)`: `type: ['object', 'null']`) refers to the
 * component, which is never nullable itself, as `anyOf: [{$ref}, {type: 'null'}]`: a request body that takes
 * a Money never takes null because a response somewhere may answer null. Two different schemas under one
 * title are an error, not a silent merge.
 */
export function hoistTitledSchemas(doc: Record<string, unknown>): Record<string, unknown> {
  doc.components ??= {};
  const components = doc.components as Record<string, unknown>;
  components.schemas ??= {};
  const schemas = components.schemas as Record<string, unknown>;
  /** What each hoisted title was made from, to compare later uses with. */
  const shapes = new Map<string, string>();

  const visit = (node: unknown, inComponent: string | null): unknown => {
    if (Array.isArray(node)) return node.map((n) => visit(n, inComponent));
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    const title =
      typeof obj.title === 'string' && (obj.type !== undefined || obj.anyOf !== undefined) ? obj.title : null;
    if (title !== null && title !== inComponent) {
      const { description, ...rest } = obj;
      const nullable = Array.isArray(rest.type) && rest.type.includes('null');
      if (nullable) {
        const types = (rest.type as unknown[]).filter((t) => t !== 'null');
        rest.type = types.length === 1 ? types[0] : types;
      }
      const shape = shapeOf(rest);
      if (!(title in schemas)) {
        shapes.set(title, shape);
        schemas[title] = {}; // reserve first: recursive schemas stop here
        schemas[title] = visit({ ...rest, ...(typeof description === 'string' ? { description } : {}) }, title);
      } else if (shapes.has(title) && shapes.get(title) !== shape) {
        throw new Error(`Two different schemas are titled ${title}: give one another title.`);
      }
      const ref = { $ref: `#/components/schemas/${title}` };
      // A route's own description ("The new card.") stays beside the $ref.
      const own =
        typeof description === 'string' && description !== (schemas[title] as Record<string, unknown>).description
          ? { description }
          : {};
      return nullable ? { anyOf: [ref, { type: 'null' }], ...own } : { ...ref, ...own };
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, visit(v, null)]));
  };

  doc.paths = visit(doc.paths, null);
  return doc;
}

/** A schema as far as its meaning goes: documentation (descriptions, examples) left out. */
const shapeOf = (schema: unknown): string =>
  JSON.stringify(schema, (k, v) =>
    (k === 'description' && typeof v === 'string') || k === 'examples' || k === 'example' ? undefined : v,
  );
