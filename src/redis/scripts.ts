import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * Loads a Lua script that lives beside the calling module. The file name ends in the number of
 * keys it takes when that number is fixed (`claim-transaction-5.lua`); `prepend` adds shared
 * functions. ioredis runs it with EVALSHA and falls back to EVAL when Redis has not seen it.
 */
export function defineScript(
  redis: Redis,
  name: string,
  baseUrl: string,
  file: string,
  numberOfKeys: number,
  prepend: string[] = [],
): void {
  if ((redis as unknown as Record<string, unknown>)[name] !== undefined) return;
  const read = (f: string) => readFileSync(new URL(`./lua/${f}`, baseUrl), 'utf8');
  const lua = [...prepend.map(read), read(file)].join('\n');
  redis.defineCommand(name, { numberOfKeys, lua });
}

/** Calls a script defined with defineScript. */
export function runScript<T = unknown>(
  redis: Redis,
  name: string,
  keys: string[],
  args: (string | number)[],
): Promise<T> {
  const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<T>>)[name];
  if (fn === undefined) throw new Error(`Lua script ${name} is not defined on this connection`);
  return fn.call(redis, ...keys, ...args);
}
