import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type EmbeddedRedis, startEmbeddedRedis } from '../../src/redis/embedded-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The suite's Redis: one URL, or the seed nodes of a Redis Cluster (comma-separated) when redisCluster. */
    redisUrl: string;
    redisCluster: boolean;
  }
}

let server: EmbeddedRedis | undefined;
let dir: string | undefined;

/**
 * One real redis-server for the whole run, on a free loopback port (never 6379), thrown away after. Or, with
 * TEST_REDIS_CLUSTER set (seed node URLs, comma-separated: scripts/redis-cluster.mjs sets it), that Redis
 * Cluster: the helpers then make cluster connections and gateways with REDIS_CLUSTER=true.
 */
export async function setup(project: TestProject) {
  const cluster = process.env.TEST_REDIS_CLUSTER?.trim();
  if (cluster) {
    project.provide('redisUrl', cluster);
    project.provide('redisCluster', true);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'lgw-test-redis-'));
  server = await startEmbeddedRedis({ dir, appendonly: false });
  project.provide('redisUrl', server.url);
  project.provide('redisCluster', false);
}

export async function teardown() {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
