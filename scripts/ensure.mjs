// Installs what the gateway needs on a fresh machine: npm packages (npm ci) and, as root on
// Debian, redis-server (apt-get). Uses only Node's built-ins: it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (res.status !== 0) {
    console.error(`loyalty-gateway: \`${cmd} ${args.join(' ')}\` failed (exit ${res.status ?? res.signal})`);
    process.exit(res.status ?? 1);
  }
}

function onPath(bin) {
  if (bin.includes('/')) return existsSync(bin);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, bin)));
}

/** npm ci when node_modules is missing or older than package-lock.json. */
export function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.error('loyalty-gateway: installing npm packages (npm ci)...');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** redis-server on PATH, installed with apt-get when missing and we are root. */
export function ensureRedisServer() {
  const bin = process.env.REDIS_SERVER_BIN || 'redis-server';
  if (onPath(bin)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && onPath('apt-get')) {
    console.error('loyalty-gateway: redis-server is missing; installing it with apt-get...');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return;
  }
  console.error(
    'loyalty-gateway: redis-server is not on PATH: install it (sudo apt-get install -y redis-server) ' +
      'or set REDIS_URL to a Redis 6.2+ server.',
  );
  process.exit(1);
}

export { root, run };

/**
 * Chromium for the browser tests (test/browser), installed with apt-get when missing and we are root;
 * otherwise those tests are skipped with a line saying so (CHROMIUM_PATH names another binary).
 */
export function ensureChromium() {
  if (process.env.CHROMIUM_PATH || onPath('chromium') || onPath('chromium-browser')) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    console.error('loyalty-gateway: no Chromium found; the browser tests will be skipped (apt-get install chromium).');
    return;
  }
  console.error('loyalty-gateway: Chromium is missing; installing it with apt-get for the browser tests...');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-dejavu-core'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
