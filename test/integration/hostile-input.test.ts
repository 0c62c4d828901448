import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/embedded-redis.js';
import { expectProblem, KEYS, type Res, startGateway, type TestGateway } from '../helpers/gateway.js';
import { asRes, rawRequest } from '../helpers/raw-http.js';

/**
 * What an outside test of hostile input found: deep JSON, keys in the URL, invalid UTF-8 and foreign charsets,
 * bodies shorter than their Content-Length, and errors of Node's HTTP parser. Every answer is problem+json.
 */

let gw: TestGateway;
const REQUEST_TIMEOUT_MS = 1000;

beforeAll(async () => {
  gw = await startGateway({ env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
});
afterAll(async () => {
  await gw?.close();
});

/** Writes bytes on a fresh connection and reads until the gateway closes it. */
const raw = (chunks: (string | Buffer)[], giveUpMs?: number) => rawRequest(gw.url, chunks, giveUpMs);

describe('deeply nested JSON', () => {
  for (const depth of [3700, 10_000]) {
    it(`refuses a body nested ${depth} deep with 400, never a 500`, async () => {
      const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const res = await gw.request('POST', '/v1/cards', {
        rawBody: `{"metadata":${nested}}`,
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.detail).toMatch(/nested/);
      const arrays = await gw.request('POST', '/v1/cards', {
        rawBody: `${'['.repeat(depth)}${']'.repeat(depth)}`,
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(arrays, 400, 'validation_failed');
    });
  }

  it('takes brackets inside strings as text, not nesting', async () => {
    const res = await gw.request('POST', '/v1/cards', { body: { external_reference: '[[[[{{{{'.repeat(12) } });
    expect(res.status, res.text).toBe(201);
  });
});

describe('secrets in the query string', () => {
  it('refuses an API key in the query string, pointing to X-Api-Key, and never logs it', async () => {
    for (const name of ['api_key', 'apikey', 'API_KEY', 'x-api-key']) {
      const before = gw.logs.length;
      const res = await gw.request('GET', `/v1/programs?${name}=${KEYS.admin}`, { key: null });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.detail).toMatch(/X-Api-Key/);
      expect(gw.logs.slice(before).join('')).not.toContain(KEYS.admin);
    }
  });

  it('redacts secret-looking query parameters in the request log line', async () => {
    const before = gw.logs.length;
    const res = await gw.request(
      'GET',
      '/v1/nowhere?token=tok_s3cret&password=pw_s3cret&access_token=at_s3cret&signature=sig_s3cret&page=2',
    );
    expectProblem(res, 404, 'not_found');
    const lines = gw.logs.slice(before).join('');
    for (const secret of ['tok_s3cret', 'pw_s3cret', 'at_s3cret', 'sig_s3cret']) expect(lines).not.toContain(secret);
    expect(lines).toContain('token=[redacted]');
    expect(lines).toContain('page=2');
  });
});

describe('encodings', () => {
  async function post(body: Buffer, contentType: string) {
    const res = await fetch(`${gw.url}/v1/cards`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-api-key': KEYS.admin },
      body,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: JSON.parse(text) } as Res;
  }

  it('refuses invalid UTF-8 with 400 invalid_encoding, storing nothing', async () => {
    const body = Buffer.concat([
      Buffer.from('{"external_reference":"bad-'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}'),
    ]);
    const res = await post(body, 'application/json');
    expectProblem(res, 400, 'invalid_encoding');
  });

  it('refuses a declared charset other than UTF-8 with 415', async () => {
    const body = Buffer.from('{"external_reference":"caf\xe9"}', 'latin1');
    for (const type of ['application/json; charset=latin1', 'application/json; charset=iso-8859-1']) {
      expectProblem(await post(body, type), 415, 'unsupported_media_type');
    }
  });

  it('takes UTF-8, declared or not', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json']) {
      const res = await post(Buffer.from(JSON.stringify({ external_reference: `café ${type}` })), type);
      expect(res.status, res.text).toBe(201);
    }
  });
});

describe('timeouts', () => {
  it('answers 408 and closes a connection whose body is shorter than its Content-Length', async () => {
    const res = await raw(
      [
        `POST /v1/cards HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEYS.admin}\r\ncontent-type: application/json\r\n` +
          'content-length: 100\r\n\r\n{"external',
      ],
      // Given up on (status 0, not closed) if the gateway holds the connection well past its timeout.
      REQUEST_TIMEOUT_MS + 4000,
    );
    expect(res.closed).toBe(true);
    expectProblem(asRes(res), 408, 'request_timeout');
  });

  it('answers 408 to headers that never end', async () => {
    const res = await raw(['GET /v1/programs HTTP/1.1\r\nHost: x\r\nx-slow: 1\r\n'], REQUEST_TIMEOUT_MS + 4000);
    expect(res.closed).toBe(true);
    expectProblem(asRes(res), 408, 'request_timeout');
  });
});

describe("errors of Node's HTTP parser", () => {
  it('answers a malformed request line with problem+json', async () => {
    const res = await raw(['GARBAGE\r\n\r\n']);
    expectProblem(asRes(res), 400, 'malformed_request');
  });

  it('answers headers that are too large with 431 problem+json', async () => {
    const res = await raw([`GET /v1/programs HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expectProblem(asRes(res), 431, 'headers_too_large');
  });

  it('answers bad chunked encoding with problem+json', async () => {
    const res = await raw([
      `POST /v1/cards HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEYS.admin}\r\ncontent-type: application/json\r\n` +
        'transfer-encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n',
    ]);
    expectProblem(asRes(res), 400, 'malformed_request');
  });
});

describe('npm start and signals', () => {
  /** True while something accepts connections on the port. */
  const listening = (port: number) =>
    new Promise<boolean>((ok) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        ok(true);
      });
      s.on('error', () => ok(false));
    });

  /** Every process under `root`, children before grandchildren. */
  function descendants(root: number): number[] {
    const rows = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
    const found: number[] = [];
    const queue = [root];
    while (queue.length > 0) {
      const parent = queue.shift()!;
      for (const [pid, ppid] of rows) {
        if (ppid === parent) {
          found.push(pid);
          queue.push(pid);
        }
      }
    }
    return found;
  }

  it('stops the gateway and its embedded redis-server when the npm process gets SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-npm-start-'));
    const port = await freePort();
    const npm = spawn('npm', ['start'], {
      cwd: resolve(import.meta.dirname, '../..'),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? dir,
        PORT: String(port),
        DATA_DIR: dir,
        API_KEYS: `${KEYS.admin}:admin`,
        SHUTDOWN_GRACE_MS: '500',
        EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout!.on('data', (d) => (out += d.toString()));
    npm.stderr!.on('data', (d) => (out += d.toString()));
    let redisPort = 0;
    let tree: number[] = [];
    try {
      const until = Date.now() + 60_000;
      while (!/loyalty-gateway listening/.test(out)) {
        if (Date.now() > until || npm.exitCode !== null) throw new Error(`npm start did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      redisPort = Number(/"port":(\d+)[^\n]*started embedded redis-server/.exec(out)?.[1] ?? 0);
      expect(redisPort).toBeGreaterThan(0);
      expect(await listening(port)).toBe(true);
      tree = descendants(npm.pid!);
      npm.kill('SIGTERM');
      const stopBy = Date.now() + 15_000;
      while ((await listening(port)) || (await listening(redisPort))) {
        if (Date.now() > stopBy) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await listening(port), 'the gateway still answers after SIGTERM to npm').toBe(false);
      expect(await listening(redisPort), 'its redis-server still runs after SIGTERM to npm').toBe(false);
    } finally {
      npm.kill('SIGKILL');
      // Whatever SIGTERM left running (before the fix: start.mjs, the gateway and its redis-server) is stopped here.
      for (const pid of tree.reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 100_000);
});

describe('the log', () => {
  it('has no error line for any of the hostile requests above (none was a 5xx)', () => {
    expect(gw.logs.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});
