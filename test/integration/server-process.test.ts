import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/embedded-redis.js';

/**
 * The real server, as a child process: `node --import tsx src/server.ts`, with its own embedded
 * redis-server under DATA_DIR. Every child (and every redis-server one of them started) is
 * killed in afterAll, whatever happened.
 */

const ROOT = resolve(import.meta.dirname, '../..');

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Child[] = [];
const dirs: string[] = [];

function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `lgw-server-${tag}-`));
  dirs.push(dir);
  return dir;
}

function startServer(env: Record<string, string>): Child {
  // Only what we pass: no API_KEYS, REDIS_URL... leaks in from the environment of the test run.
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d.toString()));
  proc.stderr!.on('data', (d) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => {
    proc.once('exit', (code, signal) => ok({ code, signal }));
  });
  const child = { proc, stdout: () => out, stderr: () => err, exited };
  children.push(child);
  return child;
}

const running = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function redisPid(dataDir: string): number | undefined {
  const file = join(dataDir, 'redis', 'redis.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isRedisServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
  } catch {
    return false;
  }
}

/** Waits until /healthz answers; fails at once with the child's stderr if it exits first. */
async function waitListening(child: Child, port: number, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running(child))
      throw new Error(`server exited (${child.proc.exitCode}) before listening: ${child.stderr()}${child.stdout()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.status === 200) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`server did not listen on ${port} within ${timeoutMs} ms: ${child.stderr()}`);
}

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await sleep(25);
}

async function stop(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 15_000);
  const res = await child.exited;
  clearTimeout(timer);
  return res;
}

/**
 * Runs a server that must refuse to start; returns how it ended. The SIGKILL only guards against a hang: five
 * start at once, and on a loaded 2-core machine loading them takes well over 15 s.
 */
async function runFailing(env: Record<string, string>) {
  const child = startServer({ PORT: String(await freePort()), DATA_DIR: tempDir('fail'), LOG_LEVEL: 'warn', ...env });
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 75_000);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  return { code, signal, stderr: child.stderr(), stdout: child.stdout() };
}

const api = (port: number, key: string | null) => async (method: string, path: string, body?: unknown) => {
  const headers: Record<string, string> = {};
  if (key !== null) headers['x-api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

afterAll(async () => {
  for (const c of children) if (running(c)) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => Promise.race([c.exited, sleep(5000)])));
  // A gateway killed hard leaves its redis-server behind: stop those too, by their pid.
  for (const dir of dirs) {
    const pid = redisPid(dir);
    if (pid !== undefined && alive(pid) && isRedisServer(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the server process', () => {
  it('prints a generated admin key once, runs its own redis-server, stops cleanly, keeps the points', async () => {
    const dataDir = tempDir('data');
    const port = await freePort();
    const env = { PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' };

    // First start: no API_KEYS, so a key is made, saved and printed.
    const first = startServer(env);
    await waitListening(first, port);
    const keyFile = join(dataDir, 'admin-api-key');
    await waitFor(() => first.stdout().includes('x-api-key'));
    expect(existsSync(keyFile)).toBe(true);
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(key).toMatch(/^[A-Za-z0-9_.~-]{8,256}$/);
    expect(first.stdout()).toContain(key);
    expect(first.stdout().match(/an admin key was generated/g)).toHaveLength(1);
    expect(first.stdout()).toContain(keyFile);

    const call = api(port, key);
    const conns = await call('GET', '/v1/connections');
    expect(conns.status).toBe(200);
    expect(conns.body.data).toEqual([expect.objectContaining({ id: 'ledger', provider: 'ledger' })]);
    expect((await api(port, null)('GET', '/v1/connections')).status).toBe(401);
    expect((await api(port, `${key}x`)('GET', '/v1/connections')).status).toBe(401);
    const ready = await api(port, null)('GET', '/readyz');
    expect(ready).toEqual({ status: 200, body: { status: 'ready' } });

    // Its own redis-server runs under DATA_DIR/redis.
    const pid = redisPid(dataDir);
    expect(pid).toBeDefined();
    expect(alive(pid!)).toBe(true);
    expect(isRedisServer(pid!)).toBe(true);

    const card = await call('POST', '/v1/cards', { external_reference: 'durable' });
    expect(card.status).toBe(201);
    const awarded = await call('POST', '/v1/points/award', {
      card_id: card.body.id,
      points: 42,
      reason: 'before restart',
      reference_id: 'r1',
    });
    expect(awarded.status).toBe(201);

    const end = await stop(first);
    expect(end).toEqual({ code: 0, signal: null });
    expect(alive(pid!)).toBe(false);
    expect(first.stderr()).toBe('');

    // Second start on the same DATA_DIR: the same key, not printed again; the points are still there.
    const second = startServer(env);
    await waitListening(second, port);
    await sleep(200);
    expect(second.stdout()).not.toContain(key);
    expect(second.stdout()).not.toMatch(/admin key was generated/);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(key);
    expect((await call('GET', '/v1/connections')).status).toBe(200);
    const balance = await call('GET', `/v1/points/balance/${card.body.id}`);
    expect(balance.status).toBe(200);
    expect(balance.body.available).toBe(42);
    expect((await call('GET', `/v1/transactions/${awarded.body.id}`)).body).toEqual(awarded.body);
    const again = await call('POST', '/v1/cards', { external_reference: 'durable' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(card.body.id);
    const replay = await call('POST', '/v1/points/award', {
      card_id: card.body.id,
      points: 42,
      reason: 'before restart',
      reference_id: 'r1',
    });
    expect(replay.body.id).toBe(awarded.body.id);
    expect((await call('GET', `/v1/points/balance/${card.body.id}`)).body.available).toBe(42);

    // The second start runs a redis-server of its own (the first one's was stopped with it).
    const pid2 = redisPid(dataDir);
    expect(pid2).toEqual(expect.any(Number));
    expect(pid2).not.toBe(pid);
    expect(alive(pid2!)).toBe(true);
    expect(isRedisServer(pid2!)).toBe(true);
    expect(await stop(second)).toEqual({ code: 0, signal: null });
    expect(alive(pid2!)).toBe(false);
  }, 120_000);

  it('does not keep a key it never printed when the first start fails', async () => {
    const dataDir = tempDir('unprinted');
    const port = await freePort();
    const failed = startServer({
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      REDIS_SERVER_BIN: '/nonexistent/redis-server',
    });
    expect((await failed.exited).code).not.toBe(0);
    expect(failed.stdout()).toBe('');

    const ok = startServer({ PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    await waitListening(ok, port);
    await waitFor(() => ok.stdout().includes('x-api-key'));
    const key = readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim();
    expect(ok.stdout()).toContain(key);
    expect((await api(port, key)('GET', '/v1/connections')).status).toBe(200);
    expect((await stop(ok)).code).toBe(0);
  }, 120_000);
});

describe('configuration errors', () => {
  it('exits non-zero with one line naming what is wrong', async () => {
    const files = tempDir('conf');
    const unknownProvider = join(files, 'unknown-provider.json');
    writeFileSync(unknownProvider, JSON.stringify({ connections: [{ id: 'x', provider: 'highlight', apiKey: 'k' }] }));
    const missingVar = join(files, 'missing-var.json');
    writeFileSync(
      missingVar,
      JSON.stringify({ connections: [{ id: 'ledger', provider: 'ledger', pointsExpiry: '${MISSING_VAR}' }] }),
    );

    const [port, provider, variable, apiKeys, redisBin] = await Promise.all([
      runFailing({ PORT: 'abc' }),
      runFailing({ CONNECTIONS_FILE: unknownProvider }),
      runFailing({ CONNECTIONS_FILE: missingVar }),
      runFailing({ API_KEYS: 'short:read' }),
      runFailing({ REDIS_SERVER_BIN: '/nonexistent/redis-server' }),
    ]);

    for (const r of [port, provider, variable, apiKeys, redisBin]) {
      expect(r.signal).toBeNull();
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.stdout).toBe('');
      // One line, no stack trace.
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    }
    expect(port.stderr).toMatch(/\bPORT\b/);
    expect(port.stderr).toContain('abc');
    expect(provider.stderr).toContain('connection "x"');
    expect(provider.stderr).toContain('setting "baseUrl" is required');
    expect(variable.stderr).toContain('MISSING_VAR');
    expect(apiKeys.stderr).toContain('API_KEYS');
    // A key is never echoed back, even a bad one.
    expect(apiKeys.stderr).not.toContain('short');
    expect(redisBin.stderr).toMatch(/redis-server/);
    expect(redisBin.stderr).toMatch(/install|REDIS_URL/);
    expect(redisBin.stderr).toMatch(/apt-get install -y redis-server|REDIS_URL/);
  }, 90_000);
});
