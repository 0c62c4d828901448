import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type EmbeddedRedis, startEmbeddedRedis } from '../../src/redis/embedded-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let server: EmbeddedRedis | undefined;
let dir: string | undefined;

/** One real redis-server for the whole run, on a free loopback port (never 6379), thrown away after. */
export async function setup(project: TestProject) {
  dir = mkdtempSync(join(tmpdir(), 'lgw-test-redis-'));
  server = await startEmbeddedRedis({ dir, appendonly: false });
  project.provide('redisUrl', server.url);
}

export async function teardown() {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
