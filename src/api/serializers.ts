import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type Serialize = (data: unknown) => string;
type Factory = (
  externalSchemas: unknown,
  serializerOpts: unknown,
) => (route: { schema: unknown; method: string; url: string; httpStatus: string }) => Serialize;

/** Compiled serializers by what they serialize, for every app this process builds. */
const compiled = new Map<string, Serialize>();

/** The schema as far as serializing goes: documentation keywords (a string description, examples) left out. */
const shapeOf = (schema: unknown): string =>
  JSON.stringify(schema, (k, v) =>
    (k === 'description' && typeof v === 'string') || (k === 'examples' && Array.isArray(v)) ? undefined : v,
  );

/**
 * Fastify's response serializer compiler (fast-json-stringify), compiling each distinct response shape once.
 * Fastify compiles one serializer per route and status (about 680 here, most of them the same problem+json
 * schema), about 3 ms each: 2 s of every start, and of every gateway a test starts.
 */
export function memoSerializers(): Factory {
  const build = (SerializerSelector as unknown as () => Factory)();
  return (externalSchemas, serializerOpts) => {
    const compile = build(externalSchemas, serializerOpts);
    const scope = JSON.stringify([externalSchemas ?? null, serializerOpts ?? null]);
    return (route) => {
      const key = `${scope}\n${shapeOf(route.schema)}`;
      let serialize = compiled.get(key);
      if (!serialize) {
        serialize = compile(route);
        compiled.set(key, serialize);
      }
      return serialize;
    };
  };
}
