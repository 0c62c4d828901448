import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConnections, parseShops } from '../../src/config/connections.js';

const example = JSON.parse(readFileSync(new URL('../../connections.example.json', import.meta.url), 'utf8'));
const env = new Proxy({}, { get: () => 'placeholder-value' }) as NodeJS.ProcessEnv;

describe('shops in the connections file', () => {
  it('reads the example file, secrets from the environment', () => {
    const connections = parseConnections(example, env);
    const [shop] = parseShops(example, connections, { SHOPIFY_WEBHOOK_SECRET: 'shpss_from_env' });
    expect(shop).toMatchObject({ id: 'webshop', platform: 'shopify', secret: 'shpss_from_env', connection: 'ledger' });
  });

  it('names the shop and the setting at fault', () => {
    const connections = parseConnections(example, env);
    const shop = example.shops[0];
    const bad = (over: Record<string, unknown>) => () =>
      parseShops({ shops: [{ ...shop, secret: 'a-long-secret', ...over }] }, connections, {});
    expect(bad({ platform: 'magento' })).toThrow(/shop "webshop": setting "platform"/);
    expect(bad({ connection: 'nope' })).toThrow(/shop "webshop": setting "connection" names no configured connection/);
    expect(bad({ earn: { pointsPerUnit: 0, basis: 'total', rounding: 'floor' } })).toThrow(
      /setting "earn.pointsPerUnit"/,
    );
    expect(bad({ pendingDays: 0 })).toThrow(/setting "pendingDays"/);
    expect(() => parseShops({ shops: [shop] }, connections, {})).toThrow(/SHOPIFY_WEBHOOK_SECRET is not set/);
    expect(() =>
      parseShops(
        {
          shops: [
            { ...shop, secret: 's3cret-s3cret' },
            { ...shop, secret: 's3cret-s3cret' },
          ],
        },
        connections,
        {},
      ),
    ).toThrow(/id is used by an earlier shop/);
    expect(parseShops({ connections: [] }, connections, {})).toEqual([]);
  });
});
