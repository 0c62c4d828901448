import { createCoupontoolsSandbox } from '../../src/sandbox/coupontools/simulator.js';
import type { Simulator } from '../../src/sandbox/harness.js';
import { createHighlightSandbox } from '../../src/sandbox/highlight/simulator.js';
import { createLealSandbox } from '../../src/sandbox/leal/simulator.js';
import { createLoyaltyltSandbox } from '../../src/sandbox/loyaltylt/simulator.js';
import { startGateway, type TestGateway } from './gateway.js';

export interface SandboxHandle {
  sim: Simulator;
  credentials: Record<string, string>;
  settings: Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  seed: Record<string, any>;
  url: string;
}

export interface SandboxGateway {
  gw: TestGateway;
  hl: SandboxHandle;
  ct: SandboxHandle;
  leal: SandboxHandle;
  lt: SandboxHandle;
  close(): Promise<void>;
}

/**
 * The rate limit's margin (rateLimit.marginMs) in tests that count a simulator's sliding windows. A request counts
 * from the moment it takes its slot for one window plus the margin, which must cover how much the delay until the
 * provider reads it varies. Here the simulator shares its event loop with the gateway (and, on two cores, the CPU
 * with another test file): a request taken at a stall can be read a hundred ms late, which a real provider's
 * separate machine never adds. 250 ms covers that here; the production default is 50 ms.
 */
export const TEST_RATE_MARGIN_MS = 250;

/**
 * A gateway on real HTTP with the four provider simulators, each a real HTTP server, as
 * `npm run sandbox` has them: connections hl, ct, leal, lt, plus the built-in ledger.
 */
export async function startSandboxGateway(
  opts: {
    env?: Record<string, string>;
    timeoutMs?: number;
    rateLimit?: { requests: number; perSeconds: number };
    /** The gateway's limit per connection (default: the simulators' own). */
    gatewayRateLimit?: { requests: number; perSeconds: number };
    /** Balance cache per connection (default 0: tests that change a card at the provider read it back at once). */
    balanceCacheMs?: number;
  } = {},
): Promise<SandboxGateway> {
  const rateLimit = opts.rateLimit ?? { requests: 10_000, perSeconds: 1 };
  const make = async (sb: Omit<SandboxHandle, 'url'>): Promise<SandboxHandle> => ({
    ...sb,
    url: await sb.sim.start(0),
  });
  const [hl, ct, leal, lt] = await Promise.all([
    make(createHighlightSandbox({ rateLimit })),
    make(createCoupontoolsSandbox({ rateLimit })),
    make(createLealSandbox({ rateLimit })),
    make(createLoyaltyltSandbox({ rateLimit })),
  ]);
  const timeoutMs = opts.timeoutMs ?? 3000;
  const conn = (id: string, provider: string, s: SandboxHandle) => ({
    id,
    provider,
    baseUrl: s.url,
    timeoutMs,
    rateLimit: { marginMs: TEST_RATE_MARGIN_MS, ...(opts.gatewayRateLimit ?? rateLimit) },
    balanceCacheMs: opts.balanceCacheMs ?? 0,
    ...s.credentials,
    ...s.settings,
  });
  const gw = await startGateway({
    env: opts.env,
    connections: [
      { id: 'ledger', provider: 'ledger' },
      conn('hl', 'highlight', hl),
      conn('ct', 'coupontools', ct),
      conn('leal', 'leal', leal),
      conn('lt', 'loyaltylt', lt),
    ],
  });
  return {
    gw,
    hl,
    ct,
    leal,
    lt,
    async close() {
      await gw.close();
      await Promise.all([hl.sim.stop(), ct.sim.stop(), leal.sim.stop(), lt.sim.stop()]);
    },
  };
}
