// `npm start` (and `npm run sandbox`): the one command that gives a gateway on http://localhost:3000.
// Installs npm packages and (as root, when REDIS_URL is unset) redis-server if missing,
// reads .env when there is one, then runs the gateway; signals are passed on to it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureNodeModules, ensureRedisServer, root } from './ensure.mjs';

ensureNodeModules();
const envFile = join(root, '.env');
const fromFile =
  existsSync(envFile) && /^\s*REDIS_URL\s*=\s*\S/m.test((await import('node:fs')).readFileSync(envFile, 'utf8'));
if (!process.env.REDIS_URL && !fromFile) ensureRedisServer();

// `--entry <file>` runs another entry point (npm run sandbox: src/sandbox/start.ts).
const rest = process.argv.slice(2);
const at = rest.indexOf('--entry');
const entry = at === -1 ? 'src/server.ts' : rest.splice(at, 2)[1];
const args = [...(existsSync(envFile) ? [`--env-file=${envFile}`] : []), '--import', 'tsx', join(root, entry), ...rest];
const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
process.on('SIGHUP', () => child.kill('SIGTERM'));
// `npm start` runs this script through `sh -c`; npm passes its SIGTERM to that shell, and a shell that does not
// exec its command (dash, /bin/sh on Debian and Ubuntu) just dies of it: the signal never reaches this process, which
// would keep the gateway running as an orphan. So losing the parent counts as a SIGTERM too.
const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(orphaned);
    child.kill('SIGTERM');
  }
}, 250);
orphaned.unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
