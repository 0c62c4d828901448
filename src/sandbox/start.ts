/**
 * `npm run sandbox`: the gateway with every provider simulated, so that all of it can be tried
 * from curl or /docs without a provider account. Starts the four simulators on local ports,
 * writes a connections file pointing at them (credentials through ${VAR} placeholders, as a real
 * deployment would), and starts the gateway with it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Simulator } from './harness.js';
import { createCoupontoolsSandbox } from './coupontools/simulator.js';
import { createHighlightSandbox } from './highlight/simulator.js';
import { createLealSandbox } from './leal/simulator.js';
import { createLoyaltyltSandbox } from './loyaltylt/simulator.js';

interface Sandbox {
  sim: Simulator;
  credentials: Record<string, string>;
  settings: Record<string, unknown>;
  seed: Record<string, unknown>;
}

const SIMULATORS: { id: string; provider: string; port: number; make: () => Sandbox }[] = [
  { id: 'hl', provider: 'highlight', port: 3101, make: createHighlightSandbox },
  { id: 'ct', provider: 'coupontools', port: 3102, make: createCoupontoolsSandbox },
  { id: 'leal', provider: 'leal', port: 3103, make: createLealSandbox },
  { id: 'lt', provider: 'loyaltylt', port: 3104, make: createLoyaltyltSandbox },
];

async function startOn(sim: Simulator, port: number): Promise<string> {
  try {
    return await sim.start(port);
  } catch {
    return sim.start(0);
  }
}

const dataDir = resolve(process.env.DATA_DIR ?? '.data/sandbox');
mkdirSync(dataDir, { recursive: true });
const connections: Record<string, unknown>[] = [{ id: 'ledger', provider: 'ledger', pointsExpiry: { days: 365 } }];
const started: { id: string; provider: string; url: string; seed: Record<string, unknown> }[] = [];
for (const s of SIMULATORS) {
  const sb = s.make();
  const url = await startOn(sb.sim, Number(process.env[`SANDBOX_${s.id.toUpperCase()}_PORT`] ?? s.port));
  const conn: Record<string, unknown> = { id: s.id, provider: s.provider, baseUrl: url, timeoutMs: 5000, ...sb.settings };
  for (const [name, value] of Object.entries(sb.credentials)) {
    const envName = `SANDBOX_${s.id.toUpperCase()}_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    process.env[envName] = value;
    conn[name] = `\${${envName}}`;
  }
  connections.push(conn);
  started.push({ id: s.id, provider: s.provider, url, seed: sb.seed });
}
const file = join(dataDir, 'sandbox-connections.json');
writeFileSync(file, `${JSON.stringify({ connections }, null, 2)}\n`);

process.env.CONNECTIONS_FILE = file;
process.env.DATA_DIR = dataDir;
process.env.REDIS_KEY_PREFIX ??= 'sandbox';

process.stdout.write(
  `\n  Sandbox: every provider simulated. Connections file: ${file}\n` +
    started.map((s) => `    ${s.id.padEnd(5)} ${s.provider.padEnd(12)} ${s.url}   (faults, counters: ${new URL('/_sandbox/counters', s.url).href})`).join('\n') +
    `\n\n  Seeded objects (card ids are "<connection>:<reference>"; see README "Sandbox"):\n` +
    started.map((s) => `    ${s.id}: ${JSON.stringify(s.seed)}`).join('\n') +
    '\n\n',
);

await import('../server.js');
