import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { loadApiKeys } from './config/api-keys.js';
import { loadConnections } from './config/connections.js';
import { ConfigError, loadEnv } from './config/env.js';
import { startExpirySchedule } from './expiry/expiry-schedule.js';
import { createLogger } from './logger.js';
import { createRedis } from './redis/client.js';
import { RedisBinaryMissingError, startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded-redis.js';
import { keySpace } from './redis/keys.js';

/** Stops the process with one line that says what to fix. */
function fail(message: string): never {
  process.stderr.write(`loyalty-gateway: ${message}\n`);
  process.exit(1);
}

/** The scripts use ZADD LT and ZRANGE BYLEX REV: Redis 6.2 or later. */
async function checkRedisVersion(redis: Redis): Promise<void> {
  const info = await redis.info('server');
  const version = /redis_version:(\d+)\.(\d+)/.exec(info);
  const [major, minor] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0)];
  if (major < 6 || (major === 6 && minor < 2)) fail(`Redis ${major}.${minor} is too old: the gateway needs Redis 6.2 or later.`);
}

async function main(): Promise<void> {
  let env, connections, keys;
  try {
    env = loadEnv();
    connections = loadConnections(env.CONNECTIONS_FILE);
    keys = loadApiKeys({ apiKeys: env.API_KEYS, apiKeysFile: env.API_KEYS_FILE, dataDir: env.DATA_DIR });
  } catch (err) {
    if (err instanceof ConfigError) fail(`configuration error: ${err.message}`);
    throw err;
  }
  const log = createLogger(env.LOG_LEVEL);

  let embedded: EmbeddedRedis | undefined;
  let url = env.REDIS_URL;
  if (url === undefined) {
    try {
      embedded = await startEmbeddedRedis({ bin: env.REDIS_SERVER_BIN, dir: join(env.DATA_DIR, 'redis'), appendfsync: env.REDIS_APPENDFSYNC });
    } catch (err) {
      if (err instanceof RedisBinaryMissingError) fail(err.message);
      throw err;
    }
    url = embedded.url;
    log.info({ port: embedded.port, dir: join(env.DATA_DIR, 'redis'), appendfsync: env.REDIS_APPENDFSYNC }, 'started embedded redis-server');
  }

  const redis = createRedis(url);
  try {
    await redis.ping();
    await checkRedisVersion(redis);
  } catch (err) {
    await embedded?.stop();
    fail(`cannot use Redis${env.REDIS_URL ? ' at REDIS_URL' : ''}: ${(err as Error).message}`);
  }

  const { app, providers } = await buildApp({ env, redis, connections, apiKeys: keys.table, logger: log });
  const expiry = startExpirySchedule({ redis, keys: keySpace(env.REDIS_KEY_PREFIX), providers, intervalMs: env.EXPIRY_SWEEP_INTERVAL_SECONDS * 1000, log });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: no new requests, finishing the ones in flight');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    await app.close();
    await expiry.stop();
    await redis.quit().catch(() => undefined);
    await embedded?.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await app.listen({ port: env.PORT, host: env.HOST });
  } catch (err) {
    await embedded?.stop();
    fail(`cannot listen on ${env.HOST}:${env.PORT}: ${(err as Error).message}`);
  }
  const address = `http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}:${env.PORT}`;
  log.info({ connections: connections.map((c) => `${c.id} (${c.provider})`) }, `loyalty-gateway listening on ${address}; API docs at ${address}/docs`);
  if (keys.generated) {
    // Printed once, on the start that made it; later starts read it from the file.
    process.stdout.write(
      `\n  No API key was configured, so an admin key was generated and saved to ${keys.generated.file}:\n\n` +
        `    ${keys.generated.key}\n\n` +
        `  Use it as:  curl -H 'x-api-key: ${keys.generated.key}' ${address}/v1/connections\n` +
        `  Set API_KEYS (e.g. "k_live_abc:read+write,k_admin_xyz:admin") to configure your own keys.\n\n`,
    );
  }
}

main().catch((err: unknown) => fail(`failed to start: ${(err as Error).stack ?? String(err)}`));
