import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { sleep } from '../lib/time.js';

/**
 * A private redis-server child process: the gateway's default store when REDIS_URL is unset,
 * and the test suite's store. Binds loopback only, on a free port.
 */
export interface EmbeddedRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedRedisOptions {
  bin?: string;
  /** Folder for the AOF files and the pid file. */
  dir: string;
  /** Append-only file on (the store's and the built-in ledger's durability) or off (throw-away test servers). */
  appendonly?: boolean;
  appendfsync?: 'always' | 'everysec';
}

export class RedisBinaryMissingError extends Error {
  override name = 'RedisBinaryMissingError';
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

/** Whether a redis-server on this loopback port answers PING (straight over TCP, no client). */
export function ping(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    const done = (v: boolean) => {
      sock.destroy();
      ok(v);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** A redis-server left running by a gateway that was killed would share our AOF: stop it first. */
async function stopOrphan(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not running
  }
  if (!cmdline.includes('redis-server')) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

export async function startEmbeddedRedis(opts: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  await stopOrphan(pidFile);
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--pidfile',
    pidFile,
    '--daemonize',
    'no',
    '--save',
    '',
    '--appendonly',
    opts.appendonly === false ? 'no' : 'yes',
    '--appendfsync',
    opts.appendfsync ?? 'everysec',
    // BullMQ, the store and the built-in ledger all need every key kept: never evict.
    '--maxmemory-policy',
    'noeviction',
    '--loglevel',
    'warning',
    '--logfile',
    '',
  ];
  // Its own process group: a terminal's Ctrl-C (or a signal to the whole group) reaches the gateway
  // only, which finishes its requests and jobs and then stops this Redis, last.
  const child: ChildProcess = spawn(opts.bin ?? 'redis-server', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d) => (output = (output + d.toString()).slice(-4000)));

  const exited = new Promise<NodeJS.ErrnoException | number | null>((ok) => {
    child.once('error', (err) => ok(err));
    child.once('exit', (code) => ok(code));
  });

  const deadline = Date.now() + 15000;
  for (;;) {
    const early = await Promise.race([exited, sleep(25).then(() => undefined)]);
    if (early !== undefined) {
      if (early instanceof Error && early.code === 'ENOENT') {
        throw new RedisBinaryMissingError(
          `redis-server was not found on PATH: install it (as root: apt-get install -y redis-server) or set ` +
            `REDIS_URL to a Redis 6.2+ server`,
        );
      }
      throw new Error(`redis-server exited before it was ready (${String(early)}): ${output.trim()}`);
    }
    if (await ping(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on port ${port} within 15 s: ${output.trim()}`);
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop() {
      // SIGTERM makes redis flush the AOF before it exits.
      stopping ??= new Promise<void>((ok) => {
        if (child.exitCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10000).unref();
      });
      return stopping;
    },
  };
}
