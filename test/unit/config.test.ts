import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApiKeys, parseApiKeys } from '../../src/config/api-keys.js';
import { loadConnections, parseConnections, publicSettings } from '../../src/config/connections.js';
import { ConfigError, loadEnv } from '../../src/config/env.js';
import { clusterSeeds } from '../../src/redis/client.js';

describe('environment', () => {
  it('applies the documented defaults', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      IDEMPOTENCY_TTL_HOURS: 24,
      REDIS_KEY_PREFIX: 'lgw',
      DATA_DIR: '.data',
    });
    expect(env.REDIS_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT: must be an integer/],
    [{ PORT: '70000' }, /^PORT: /],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ IDEMPOTENCY_TTL_HOURS: '-1' }, /^IDEMPOTENCY_TTL_HOURS: /],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL: /],
    [{ CLIENT_RATE_LIMIT: 'lots' }, /^CLIENT_RATE_LIMIT: /],
    [{ API_KEYS: 'abcdefgh:read', API_KEYS_FILE: '/x' }, /^API_KEYS_FILE: /],
    [{ REDIS_CLUSTER: 'maybe' }, /^REDIS_CLUSTER: must be true or false/],
    [{ REDIS_CLUSTER: 'true' }, /^REDIS_CLUSTER: needs REDIS_URL/],
    [{ REDIS_URL: 'redis://a:7000,redis://b:7001' }, /^REDIS_URL: lists several servers; set REDIS_CLUSTER=true/],
    [{ REDIS_URL: 'redis://a:7000,http://b:7001', REDIS_CLUSTER: 'true' }, /^REDIS_URL: /],
    [{ REDIS_URL: 'redis://a:7000,', REDIS_CLUSTER: 'true' }, /^REDIS_URL: /],
  ])('stops on %j with a message naming the variable', (vars, message) => {
    expect(() => loadEnv(vars)).toThrowError(message);
  });

  it('reads REDIS_CLUSTER as a boolean and then takes seed nodes, comma-separated, in REDIS_URL', () => {
    expect(loadEnv({}).REDIS_CLUSTER).toBe(false);
    expect(loadEnv({ REDIS_URL: 'redis://h:6379', REDIS_CLUSTER: 'false' }).REDIS_CLUSTER).toBe(false);
    expect(loadEnv({ REDIS_URL: 'redis://h:6379', REDIS_CLUSTER: ' 0 ' }).REDIS_CLUSTER).toBe(false);
    const env = loadEnv({ REDIS_URL: 'redis://:pw@h1:7000, rediss://h2:7001', REDIS_CLUSTER: 'TRUE' });
    expect(env).toMatchObject({ REDIS_CLUSTER: true, REDIS_URL: 'redis://:pw@h1:7000, rediss://h2:7001' });
    expect(loadEnv({ REDIS_URL: 'redis://h1:7000', REDIS_CLUSTER: 'yes' }).REDIS_CLUSTER).toBe(true);
    // The seeds as the Cluster connection takes them: hosts and ports, and the credentials and TLS for every node.
    expect(clusterSeeds(env.REDIS_URL!)).toEqual({
      nodes: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 7001 },
      ],
      auth: { password: 'pw', tls: {} },
    });
    expect(clusterSeeds('redis://u%40x:p%2Cw@[::1]:7000')).toEqual({
      nodes: [{ host: '::1', port: 7000 }],
      auth: { username: 'u@x', password: 'p,w' },
    });
  });

  it.each([
    [{ REDIS_URL: 'redis://u:s3cret@a:7000,redis://u:s3cret@b:7001' }],
    [{ REDIS_URL: 'redis://u:s3cret@a:7000,ftp://u:s3cret@b', REDIS_CLUSTER: 'true' }],
  ])('never echoes a list of node URLs either (%#)', (vars) => {
    const err = (() => {
      try {
        loadEnv(vars);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toMatch(/^REDIS_URL: /);
    expect(err!.message).not.toContain('s3cret');
  });

  it('never echoes a REDIS_URL, which may hold a password', () => {
    // The refusal is taken outside any try, so a loadEnv that accepts the URL fails the test.
    const err = (() => {
      try {
        loadEnv({ REDIS_URL: 'ftp://user:s3cret@host' });
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toMatch(/^REDIS_URL: /);
    expect(err!.message).not.toContain('s3cret');
    expect(err!.message).not.toContain('user:');
  });
});

describe('connections file', () => {
  it('defaults to one built-in ledger', () => {
    expect(loadConnections(undefined)).toEqual([{ id: 'ledger', provider: 'ledger' }]);
  });

  it('fills ${VAR} placeholders from the environment and validates settings', () => {
    const conns = parseConnections(
      {
        connections: [
          { id: 'main', provider: 'ledger', pointsExpiry: { days: 365 }, tiers: [{ name: '${TIER}', minPoints: 100 }] },
        ],
      },
      { TIER: 'Gold' },
    );
    expect(conns[0]).toEqual({
      id: 'main',
      provider: 'ledger',
      pointsExpiry: { days: 365 },
      tiers: [{ name: 'Gold', minPoints: 100 }],
    });
    expect(publicSettings(conns[0]!)).toEqual({
      pointsExpiry: { days: 365 },
      tiers: [{ name: 'Gold', minPoints: 100 }],
    });
  });

  it.each([
    [
      [{ id: 'hs', provider: 'hubspot' }],
      new RegExp(
        'connection "hs": provider "hubspot" is not supported by this build ' +
          String.raw`\(known: ledger, highlight, coupontools, leal, loyaltylt\)`,
      ),
    ],
    [[{ id: 'hl', provider: 'highlight', apiKey: 'k' }], /connection "hl": setting "baseUrl" is required/],
    [
      [{ id: 'hl', provider: 'highlight', baseUrl: 'ftp://x', apiKey: 'k' }],
      /connection "hl": setting "baseUrl" must match/,
    ],
    [
      [
        {
          id: 'hl',
          provider: 'highlight',
          baseUrl: 'https://x',
          apiKey: 'k',
          rateLimit: { requests: 0, perSeconds: 1 },
        },
      ],
      /connection "hl": setting "rateLimit.requests"/,
    ],
    [
      [
        {
          id: 'hl',
          provider: 'highlight',
          baseUrl: 'https://x',
          apiKey: 'k',
          templates: { '1': { mechanics: 'laps' } },
        },
      ],
      /connection "hl": setting "templates.1.mechanics"/,
    ],
    [
      [{ id: 'ct', provider: 'coupontools', baseUrl: 'https://x', apiKey: 'k' }],
      /connection "ct": setting "apiSecret" is required/,
    ],
    [
      [{ id: 'le', provider: 'leal', baseUrl: 'https://x', token: 't' }],
      /connection "le": setting "accountId" is required/,
    ],
    [
      [{ id: 'le', provider: 'leal', baseUrl: 'https://x', token: 't', accountId: 1, currency: 'JPY' }],
      /connection "le": setting "currency" JPY does not have 2 decimal places/,
    ],
    [
      [{ id: 'le', provider: 'leal', baseUrl: 'https://x', token: 't', accountId: 1, timeoutMs: 60000 }],
      /connection "le": setting "timeoutMs"/,
    ],
    [
      [{ id: 'lt', provider: 'loyaltylt', baseUrl: 'https://x', apiKey: 'k', apiSecret: 's', locale: 'de' }],
      /connection "lt": setting "locale"/,
    ],
    [[{ id: 'x', provider: 'ledger', pointsExpiry: { days: 0 } }], /connection "x": setting "pointsExpiry/],
    [[{ id: 'x', provider: 'ledger', colour: 'red' }], /connection "x": setting "colour" is not a known field/],
    [[{ id: 'Bad Id', provider: 'ledger' }], /setting "id"/],
    [
      [
        { id: 'a', provider: 'ledger' },
        { id: 'a', provider: 'ledger' },
      ],
      /connection "a": id is used by an earlier connection/,
    ],
    [
      [{ id: 'a', provider: 'ledger', tiers: [{ name: '${NOPE}', minPoints: 1 }] }],
      /environment variable NOPE is not set/,
    ],
    [[], /non-empty array/],
  ])('stops on %j with a message naming the connection and setting', (list, message) => {
    expect(() => parseConnections({ connections: list }, {})).toThrowError(message);
  });

  it('reports unreadable and non-JSON files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-conn-'));
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadConnections(join(dir, 'bad.json'))).toThrowError(/not valid JSON/);
    expect(() => loadConnections(join(dir, 'missing.json'))).toThrowError(/cannot read .*ENOENT/);
  });
});

describe('API keys', () => {
  it('parses keys with scopes; admin implies read and write', () => {
    const table = parseApiKeys('k_live_abc1:read+write, k_admin_xyz1:admin', 'API_KEYS');
    const scopes = [...table.values()].map((c) => [...c.scopes].sort());
    expect(scopes).toEqual([
      ['read', 'write'],
      ['admin', 'read', 'write'],
    ]);
    for (const c of table.values()) expect(c.id).toMatch(/^key_[0-9a-f]{12}$/);
  });

  it.each([
    ['short:read', /entry 1: key must be/],
    ['longenough1:owner', /entry 1: scope "owner"/],
    ['longenough1:read,longenough1:write', /entry 2: the same key appears twice/],
    ['', /holds no key/],
  ])('refuses %j without echoing the key', (text, message) => {
    try {
      parseApiKeys(text, 'API_KEYS');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('longenough1');
    }
  });

  it('generates one admin key on first start, then reuses it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lgw-keys-'));
    const first = loadApiKeys({ dataDir });
    expect(first.generated?.key).toMatch(/^lgw_[A-Za-z0-9]{20,}$/);
    expect(readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim()).toBe(first.generated?.key);
    const second = loadApiKeys({ dataDir });
    expect(second.generated).toBeUndefined();
    expect([...second.table.keys()]).toEqual([...first.table.keys()]);
  });
});

describe('connections file that is not JSON', () => {
  it('says where, without quoting the text (it may hold a secret)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lgw-')), 'c.json');
    writeFileSync(file, '{"connections": [{"id": "hl", "apiKey": sk_live_SECRET_1234}]}');
    let message = '';
    try {
      loadConnections(file, {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/is not valid JSON/);
    expect(message).not.toContain('SECRET');
  });
});
