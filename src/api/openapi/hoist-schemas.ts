/**
 * Moves every schema that carries a `title` into #/components/schemas and refers to it by $ref,
 * so that the OpenAPI document (and the clients generated from it) has named types.
 */
export function hoistTitledSchemas(doc: Record<string, unknown>): Record<string, unknown> {
  doc.components ??= {};
  const components = doc.components as Record<string, unknown>;
  components.schemas ??= {};
  const schemas = components.schemas as Record<string, unknown>;

  const visit = (node: unknown, inComponent: string | null): unknown => {
    if (Array.isArray(node)) return node.map((n) => visit(n, inComponent));
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    const title =
      typeof obj.title === 'string' && (obj.type !== undefined || obj.anyOf !== undefined) ? obj.title : null;
    if (title !== null && title !== inComponent) {
      const { description, ...rest } = obj;
      if (!(title in schemas)) {
        schemas[title] = {}; // reserve first: recursive schemas stop here
        schemas[title] = visit({ ...rest, ...(typeof description === 'string' ? { description } : {}) }, title);
      }
      // A route's own description ("The new card.") stays beside the $ref.
      return typeof description === 'string' && description !== (schemas[title] as Record<string, unknown>).description
        ? { $ref: `#/components/schemas/${title}`, description }
        : { $ref: `#/components/schemas/${title}` };
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, visit(v, null)]));
  };

  doc.paths = visit(doc.paths, null);
  return doc;
}
