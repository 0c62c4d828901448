// `npm test`: installs what the tests need (npm packages; redis-server and Chromium as root), then runs the
// whole vitest suite against a real redis-server the suite starts on a free port.
import { spawnSync } from 'node:child_process';
import { ensureChromium, ensureNodeModules, ensureRedisServer, root } from './ensure.mjs';

ensureNodeModules();
ensureRedisServer();
ensureChromium();
const res = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exit(res.status ?? 1);
