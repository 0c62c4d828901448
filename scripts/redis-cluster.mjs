// `node scripts/redis-cluster.mjs <command> [args...]`: starts a throw-away Redis Cluster of three masters on free
// loopback ports (never 6379), runs <command> with TEST_REDIS_CLUSTER set to the nodes' URLs
// (redis://127.0.0.1:P1,redis://127.0.0.1:P2,redis://127.0.0.1:P3), then stops the servers and removes their
// directory, whatever happened (also on Ctrl-C or SIGTERM), and exits with the command's code.
// `npm run test:cluster` runs the ledger, idempotency and dispatch tests this way.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MASTERS = 3;
const command = process.argv.slice(2);
if (command[0] === '--') command.shift();
if (command.length === 0) {
  process.stderr.write('usage: node scripts/redis-cluster.mjs <command> [args...]\n');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => process.stderr.write(`redis-cluster: ${line}\n`);

/** Whether `port` can be bound on loopback now. */
function bindable(port) {
  return new Promise((ok) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => ok(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
  });
}

/**
 * A free port P whose cluster bus port (P + 10000) is free too: both are drawn from 20000-29999, under the
 * usual ephemeral range, and away from 6379 and its bus port 16379.
 */
async function freeClusterPort(taken) {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (taken.has(port)) continue;
    if ((await bindable(port)) && (await bindable(port + 10000))) return port;
  }
  throw new Error('no free port pair (P, P+10000) found in 20000-29999');
}

function cli(port, ...args) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
}

const dir = mkdtempSync(join(tmpdir(), 'lgw-redis-cluster-'));
/** @type {{ port: number, proc: import('node:child_process').ChildProcess, log: string }[]} */
const servers = [];
let child = null;
let cleaning = null;

/** Stops the servers (SIGTERM, then SIGKILL after 5 s) and removes their directory. Idempotent. */
function cleanup() {
  cleaning ??= (async () => {
    await Promise.all(
      servers.map(
        ({ proc }) =>
          new Promise((ok) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return ok();
            proc.once('exit', () => ok());
            proc.kill('SIGTERM');
            setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    say(`${signal}: stopping`);
    // The command hears it too (same process group on a terminal); tell it anyway, then clean up.
    child?.kill(signal);
    void cleanup().then(() => process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal] ?? 0)));
  });
}

async function startCluster() {
  const taken = new Set();
  for (let i = 0; i < MASTERS; i++) {
    const port = await freeClusterPort(taken);
    taken.add(port);
    const log = join(dir, `redis-${port}.log`);
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '5000',
        '--dir',
        dir,
        '--appendonly',
        'no',
        '--save',
        '',
        // As the gateway needs of any Redis: never evict (docs/redis.md).
        '--maxmemory-policy',
        'noeviction',
        '--logfile',
        log,
        '--daemonize',
        'no',
      ],
      { stdio: 'ignore' },
    );
    proc.once('error', (err) => say(`redis-server on ${port}: ${err.message}`));
    servers.push({ port, proc, log });
  }
  const deadline = Date.now() + 15_000;
  for (const { port, proc, log } of servers) {
    while (cli(port, 'ping').stdout?.trim() !== 'PONG') {
      if (proc.exitCode !== null || Date.now() > deadline) {
        let tail = '';
        try {
          tail = readFileSync(log, 'utf8').slice(-2000);
        } catch {}
        throw new Error(`redis-server on port ${port} did not start (is redis-server installed?)\n${tail}`);
      }
      await sleep(50);
    }
  }
  const nodes = servers.map(({ port }) => `127.0.0.1:${port}`);
  const created = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'],
    {
      encoding: 'utf8',
    },
  );
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
  // Every node must see the whole cluster (all slots assigned, state ok) before a client asks it for the slots.
  for (const { port } of servers) {
    for (;;) {
      const info = cli(port, 'cluster', 'info').stdout ?? '';
      if (info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${MASTERS}`)) break;
      if (Date.now() > deadline + 30_000) throw new Error(`cluster not ok on port ${port}:\n${info}`);
      await sleep(100);
    }
  }
  return servers.map(({ port }) => `redis://127.0.0.1:${port}`).join(',');
}

let code = 1;
try {
  const urls = await startCluster();
  say(`${MASTERS} masters up (${urls}); running: ${command.join(' ')}`);
  child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, TEST_REDIS_CLUSTER: urls },
  });
  code = await new Promise((ok) => {
    child.once('error', (err) => {
      say(`${command[0]}: ${err.message}`);
      ok(127);
    });
    child.once('exit', (c, signal) => ok(c ?? (signal ? 1 : 0)));
  });
} catch (err) {
  say(err instanceof Error ? err.message : String(err));
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
