/**
 * Writes openapi/openapi.json from the route schemas (`write`), or fails when the committed file
 * differs from what the code generates (`check`). Needs no Redis: the app is built, never started.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { buildApp } from '../src/api/app.js';
import { parseApiKeys } from '../src/config/api-keys.js';
import { DEFAULT_CONNECTIONS } from '../src/config/connections.js';
import { loadEnv } from '../src/config/env.js';

const FILE = new URL('../openapi/openapi.json', import.meta.url);

export async function generateOpenApi(): Promise<string> {
  const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
  const { app } = await buildApp({
    env: loadEnv({}),
    redis,
    connections: DEFAULT_CONNECTIONS,
    apiKeys: parseApiKeys('openapi_generator_only:read', 'API_KEYS'),
    logger: false,
    offline: true,
  });
  await app.ready();
  const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  redis.disconnect();
  return doc;
}

const mode = process.argv[2];
if (mode === 'write' || mode === 'check') {
  const doc = await generateOpenApi();
  if (mode === 'write') {
    mkdirSync(new URL('../openapi/', import.meta.url), { recursive: true });
    writeFileSync(FILE, doc);
    console.log('openapi/openapi.json written');
  } else {
    let current = '';
    try {
      current = readFileSync(FILE, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== doc) {
      console.error('openapi/openapi.json is stale: run `npm run openapi` and commit the result.');
      process.exit(1);
    }
    console.log('openapi/openapi.json is up to date');
  }
}
