/**
 * `npm run sandbox`: the gateway with every provider simulated, so that all of it can be tried
 * from curl or /docs without a provider account. Starts the four simulators on local ports,
 * writes a connections file pointing at them (credentials through ${VAR} placeholders, as a real
 * deployment would), and starts the gateway with it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createCoupontoolsSandbox } from './coupontools/simulator.js';
import { type DemoStorefront, startDemoStorefront } from './demo/storefront.js';
import type { Simulator } from './harness.js';
import { createHighlightSandbox } from './highlight/simulator.js';
import { createLealSandbox } from './leal/simulator.js';
import { createLoyaltyltSandbox } from './loyaltylt/simulator.js';

interface Sandbox {
  sim: Simulator;
  credentials: Record<string, string>;
  settings: Record<string, unknown>;
  seed: Record<string, unknown>;
}

/** Each simulator with the rate limit it enforces, which its connection is told to stay under. */
const SIMULATORS: {
  id: string;
  provider: string;
  port: number;
  rateLimit: { requests: number; perSeconds: number };
  make: () => Sandbox;
}[] = [
  {
    id: 'hl',
    provider: 'highlight',
    port: 3101,
    rateLimit: { requests: 10, perSeconds: 1 },
    make: createHighlightSandbox,
  },
  {
    id: 'ct',
    provider: 'coupontools',
    port: 3102,
    rateLimit: { requests: 10, perSeconds: 1 },
    make: createCoupontoolsSandbox,
  },
  { id: 'leal', provider: 'leal', port: 3103, rateLimit: { requests: 20, perSeconds: 1 }, make: createLealSandbox },
  {
    id: 'lt',
    provider: 'loyaltylt',
    port: 3104,
    rateLimit: { requests: 300, perSeconds: 60 },
    make: createLoyaltyltSandbox,
  },
];

async function startOn(sim: Simulator, port: number): Promise<string> {
  try {
    return await sim.start(port);
  } catch {
    return sim.start(0);
  }
}

const TRY = [
  'ledger:…                 POST /v1/cards {} issues one on the built-in ledger',
  'hl:100000-000-001        Highlight stamp card (3 stamps, 1 reward); -002 stamp (visit mechanics), -003 cashback,',
  '                         -004 multipass, -005 coupon, -006 discount, -007 gift, -008/-009 membership, -010/-011 ' +
    'reward',
  'ct:1001.50001            Coupontools stamp card user with 2 stamps and reward 90001',
  'leal:301.501             Leal customer 301, card 501: 12 stamps (reward 71 "Free coffee" costs 10)',
  'lt:100-000-101           Loyalty.lt card with 500 points',
];

// The sandbox never touches a real gateway's data, whatever .env says: its own directory, its own
// embedded Redis (or SANDBOX_REDIS_URL, one server) and key prefix (DATA_DIR, REDIS_URL, REDIS_CLUSTER and
// REDIS_KEY_PREFIX from .env are ignored).
const dataDir = resolve(process.env.SANDBOX_DATA_DIR ?? '.data/sandbox');
mkdirSync(dataDir, { recursive: true });
// A Redis of the sandbox's own may be named (SANDBOX_REDIS_URL: a container has no redis-server binary).
if (process.env.SANDBOX_REDIS_URL) process.env.REDIS_URL = process.env.SANDBOX_REDIS_URL;
else delete process.env.REDIS_URL;
delete process.env.REDIS_CLUSTER;
// The simulators start from their seed every time, so the sandbox's ledger starts empty too
// (an old transaction would name provider state that no longer exists). Its admin key is kept.
rmSync(join(dataDir, 'redis'), { recursive: true, force: true });
const connections: Record<string, unknown>[] = [{ id: 'ledger', provider: 'ledger', pointsExpiry: { days: 365 } }];
const started: { id: string; provider: string; url: string; seed: Record<string, unknown> }[] = [];
for (const s of SIMULATORS) {
  const sb = s.make();
  const url = await startOn(sb.sim, Number(process.env[`SANDBOX_${s.id.toUpperCase()}_PORT`] ?? s.port));
  const conn: Record<string, unknown> = {
    id: s.id,
    provider: s.provider,
    baseUrl: url,
    timeoutMs: 5000,
    rateLimit: s.rateLimit,
    ...sb.settings,
  };
  for (const [name, value] of Object.entries(sb.credentials)) {
    const envName = `SANDBOX_${s.id.toUpperCase()}_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    process.env[envName] = value;
    conn[name] = `\${${envName}}`;
  }
  connections.push(conn);
  started.push({ id: s.id, provider: s.provider, url, seed: sb.seed });
}
writeFileSync(
  join(dataDir, 'sandbox-seed.json'),
  `${JSON.stringify(Object.fromEntries(started.map((s) => [s.id, s.seed])), null, 2)}\n`,
);

// The demo storefront (/demo): the loyalty widget on a shop page of its own origin, and a tiny shop backend that
// signs customer tokens and captures holds. Its backend calls the gateway with a key of the sandbox's: the admin key
// the gateway keeps in the data folder, or, when API_KEYS or API_KEYS_FILE configure the keys, one more key added
// to them for this run.
const gatewayUrl = `http://127.0.0.1:${process.env.PORT ?? 3000}`;
process.env.SANDBOX_DEMO_TOKEN_SECRET = randomBytes(24).toString('base64url');
let demoKey: () => string = () => readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim();
if (process.env.API_KEYS || process.env.API_KEYS_FILE) {
  const key = `sandbox_demo_${randomBytes(12).toString('hex')}`;
  const own = process.env.API_KEYS || readFileSync(process.env.API_KEYS_FILE!, 'utf8');
  process.env.API_KEYS = `${own}\n${key}:read+write`;
  delete process.env.API_KEYS_FILE;
  demoKey = () => key;
}
const demoOptions = {
  gatewayUrl,
  apiKey: () => demoKey(),
  shopId: 'demo',
  publishableKey: 'pk_demo_sandbox',
  kid: 'demo-1',
  tokenSecret: process.env.SANDBOX_DEMO_TOKEN_SECRET,
};
let demo: DemoStorefront;
try {
  demo = await startDemoStorefront({ ...demoOptions, port: Number(process.env.SANDBOX_DEMO_PORT ?? 3100) });
} catch {
  demo = await startDemoStorefront({ ...demoOptions, port: 0 });
}
const demoPort = new URL(demo.url).port;

// A demo Shopify shop on the built-in ledger (enroll: a new customer gets a card at the first order), and a
// signed test order for it, so that the order webhook can be tried with one curl.
const SHOP_SECRET = 'sandbox_shopify_secret_0001';
process.env.SANDBOX_SHOP_SECRET = SHOP_SECRET;
const shops = [
  {
    id: 'demo',
    platform: 'shopify',
    secret: `\${SANDBOX_SHOP_SECRET}`,
    connection: 'ledger',
    currency: 'EUR',
    earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
    enroll: true,
    publishableKey: demoOptions.publishableKey,
    allowedOrigins: [`http://localhost:${demoPort}`, `http://127.0.0.1:${demoPort}`],
    tokenSecrets: [{ kid: demoOptions.kid, secret: `\${SANDBOX_DEMO_TOKEN_SECRET}` }],
  },
];
const demoOrder = JSON.stringify({
  id: 5001,
  name: '#5001',
  currency: 'EUR',
  subtotal_price: '42.90',
  total_price: '49.90',
  email: 'ada@example.com',
  customer: { id: 7001, email: 'ada@example.com' },
});
const demoOrderFile = join(dataDir, 'demo-order.json');
writeFileSync(demoOrderFile, demoOrder);
const demoSignature = createHmac('sha256', SHOP_SECRET).update(demoOrder).digest('base64');

const file = join(dataDir, 'sandbox-connections.json');
writeFileSync(file, `${JSON.stringify({ connections, shops }, null, 2)}\n`);

process.env.CONNECTIONS_FILE = file;
process.env.DATA_DIR = dataDir;
process.env.REDIS_KEY_PREFIX = 'sandbox';
// Webhook receivers you try the sandbox with run on this machine: local addresses are allowed here.
process.env.WEBHOOK_ALLOW_PRIVATE ??= 'true';

process.stdout.write(
  `\n  Sandbox: every provider simulated. Connections file: ${file}\n` +
    started
      .map(
        (s) =>
          `    ${s.id.padEnd(5)} ${s.provider.padEnd(12)} ${s.url}   (faults, counters: ` +
          `${new URL('/_sandbox/counters', s.url).href})`,
      )
      .join('\n') +
    `\n\n  Cards to try (ids are "<connection>:<reference>"; every seeded id: ` +
    `${join(dataDir, 'sandbox-seed.json')}):\n` +
    TRY.map((t) => `    ${t}`).join('\n') +
    '\n\n  A demo Shopify shop, "demo" (secret sandbox_shopify_secret_0001): send it a signed paid order, then read it\n' +
    `    curl -s localhost:\${PORT:-3000}/v1/hooks/shopify/demo -H 'content-type: application/json' \\\n` +
    `      -H 'x-shopify-topic: orders/paid' -H 'x-shopify-webhook-id: demo-1' \\\n` +
    `      -H 'x-shopify-hmac-sha256: ${demoSignature}' --data-binary @${demoOrderFile}\n` +
    `    curl -s localhost:\${PORT:-3000}/v1/orders/demo:5001 -H "x-api-key: $KEY"\n\n` +
    `  The demo storefront: the loyalty widget on a product page, a cart and a checkout (docs/storefront.md):\n` +
    `    ${demo.url}/demo\n\n`,
);

await import('../server.js');
