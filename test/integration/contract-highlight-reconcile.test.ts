import { Agent, createServer, request } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../src/domain/errors.js';
import type { Movement, ProviderAdapter } from '../../src/providers/adapter.js';
import { highlight } from '../../src/providers/highlight/index.js';
import type { HighlightSettings as HighlightConnection } from '../../src/providers/highlight/settings.js';
import { createHighlightSandbox } from '../../src/sandbox/highlight/simulator.js';

// Highlight's reconcile 'lookup': findApplied finds a movement by the [lgw:<txnId>] of its comment.

type Sandbox = ReturnType<typeof createHighlightSandbox>;
let sb: Sandbox;
let url: string;
let adapter: ProviderAdapter;

const cashback = () => (sb.seed as unknown as { cards: { cashback: string } }).cards.cashback;
const conn = (over: Partial<HighlightConnection> = {}): HighlightConnection =>
  ({
    id: 'hl',
    provider: 'highlight',
    baseUrl: url,
    timeoutMs: 2000,
    rateLimit: { requests: 10_000, perSeconds: 1 },
    ...sb.credentials,
    ...sb.settings,
    ...over,
  }) as HighlightConnection;
const sim = () =>
  sb.sim as unknown as {
    inject(f: { kind: string; applied?: boolean; match?: string }): void;
    setRateLimit(r: { requests: number; perSeconds: number }): void;
    reset(): void;
  };

let n = 0;
const txnId = () => `txn_01ARZ3NDEKTSV4RRFFQ69G${String(n++).padStart(4, '0')}`;
const mv = (over: Partial<Movement>): Movement => ({
  operation: 'award',
  unit: 'points',
  quantity: 1,
  money: null,
  rewardId: null,
  txnId: txnId(),
  reason: 'Order 1001',
  referenceId: null,
  staff: null,
  dedupKey: 'k1',
  notify: true,
  ...over,
});

beforeAll(async () => {
  sb = createHighlightSandbox();
  url = await sb.sim.start(0);
});
afterAll(async () => {
  keepAlive.destroy();
  await sb.sim.stop();
});
beforeEach(() => {
  sim().reset();
  sim().setRateLimit({ requests: 100_000, perSeconds: 1 });
  adapter = highlight.create(conn());
});
afterEach(async () => adapter.close());

describe('Highlight reconcile', () => {
  it('declares lookup', () => {
    expect(highlight.reconcile({} as Movement)).toBe('lookup');
    expect(adapter.findApplied).toBeTypeOf('function');
  });

  it('finds a movement whose answer was lost, with the balance after it and the operation id', async () => {
    const since = Date.now();
    const m = mv({ quantity: 5 });
    await adapter.cardCapabilities(cashback());
    // Applied, then the connection dropped: the answer is lost (as after a timeout, without waiting one out).
    sim().inject({ kind: 'drop', applied: true, match: 'add-point' });
    const err = await adapter.move(cashback(), m).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ applied: 'unknown' });
    expect(sb.sim.appliedByTxn()[m.txnId]).toBe(1);

    const found = await adapter.findApplied!(cashback(), m, since);
    expect(found).toMatchObject({ balanceAfter: 45, providerReference: expect.any(String) });
    // Another movement was not applied.
    expect(await adapter.findApplied!(cashback(), mv({}), since)).toBeNull();
  });

  it('finds it on a busy card, past the first page of operations', async () => {
    const since = Date.now();
    const target = mv({ quantity: 2 });
    const applied = await adapter.move(cashback(), target);
    for (let i = 0; i < 130; i += 65)
      await Promise.all(Array.from({ length: 65 }, () => adapter.move(cashback(), mv({}))));
    const found = await adapter.findApplied!(cashback(), target, since);
    expect(found).toMatchObject({ balanceAfter: applied.balanceAfter, providerReference: expect.any(String) });
  });

  it('reports a cashback purchase with its effect, as move does', async () => {
    const since = Date.now();
    const m = mv({
      operation: 'purchase',
      unit: 'amount',
      quantity: 0,
      money: { decimal: '10.50', minor: 1050, currency: 'EUR' },
    });
    const moved = await adapter.move(cashback(), m);
    const found = await adapter.findApplied!(cashback(), m, since);
    expect(found).toMatchObject({ effect: moved.effect, providerReference: expect.any(String) });
    expect(found?.balanceAfter === null || found?.balanceAfter === moved.balanceAfter).toBe(true);
  });

  it('reads an oldest-first listing from its last pages, and stops at operations older than sinceMs', async () => {
    // Highlight does not document the order of /operations: here a Highlight that lists them oldest
    // first (the simulator behind a front that reverses its listing, over HTTP) holds 300 operations
    // from hours ago, then the target, whose answer was lost (the connection dropped after Highlight
    // applied it), then 20 more: 321 operations, four pages of 100, the target at the top of page 4.
    // Read as if newest first, the walk would stop after page 1, older than sinceMs: it must read
    // the last pages instead.
    const front = await oldestFirstHighlight(url);
    const via = highlight.create(conn({ baseUrl: front.url }));
    try {
      await hoursAgo(4, (i) =>
        Promise.all(Array.from({ length: 75 }, (_, k) => addPoint(url, `Earlier ${i}.${k} [lgw:${txnId()}]`))),
      );
      await via.cardCapabilities(cashback());
      const since = Date.now();
      const target = mv({ quantity: 3 });
      sim().inject({ kind: 'drop', applied: true, match: 'add-point' });
      const err = await via.move(cashback(), target).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ applied: 'unknown' });
      await Promise.all(Array.from({ length: 20 }, (_, k) => addPoint(url, `Later ${k} [lgw:${txnId()}]`)));
      // Highlight applied it exactly once; the lookup finds that operation, with the balance it left.
      expect(sb.sim.appliedByTxn()[target.txnId]).toBe(1);
      const op = operations().find((o) => o.comment?.includes(`[lgw:${target.txnId}]`))!;
      expect(await via.findApplied!(cashback(), target, since)).toEqual({
        balanceAfter: op.balance,
        providerReference: String(op.id),
      });

      // Not there: null, and the walk back stops at the first page older than sinceMs − 5 min
      // (it does not read the listing to its oldest page).
      front.served.length = 0;
      expect(await via.findApplied!(cashback(), mv({}), since)).toBeNull();
      expect(front.served).toContain(3);
      expect(front.served).not.toContain(2);
    } finally {
      await via.close();
      await front.close();
    }
  });
});

/** The simulator's operation log (its live state, read in this process). */
const operations = () =>
  (sb.sim.options.state!() as { operations: { id: number; balance: number | null; comment: string | null }[] })
    .operations;

/** Keeps its connections whatever the (faked) date does: node:http, not fetch (whose timers read Date). */
const keepAlive = new Agent({ keepAlive: true });

/** One add-point of 1 on the cashback card, straight to the simulator (not through an adapter). */
function addPoint(base: string, comment: string): Promise<void> {
  const body = JSON.stringify({ points: 1, comment });
  return new Promise((ok, fail) => {
    const req = request(
      `${base}/cards/${cashback()}/add-point`,
      {
        method: 'POST',
        agent: keepAlive,
        headers: { 'x-api-key': (sb.credentials as { apiKey: string }).apiKey, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? ok() : fail(new Error(`add-point: ${res.statusCode}`))));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** Runs `n` steps with the clock (Date only) set three hours back, a quarter of an hour further at each step. */
async function hoursAgo(n: number, step: (i: number) => Promise<unknown>): Promise<void> {
  const start = Date.now() - 3 * 3_600_000;
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    for (let i = 0; i < n; i++) {
      vi.setSystemTime(start + i * 900_000);
      await step(i);
    }
  } finally {
    vi.useRealTimers();
  }
}

/**
 * Highlight listing /operations oldest first: a real HTTP server in front of the simulator that
 * passes every request through unchanged, except GET /operations, which it answers from the
 * simulator's own listing for the same query (read in full, newest first), reversed and paged
 * the same way. `served` lists the listing pages it answered, in order.
 */
async function oldestFirstHighlight(
  target: string,
): Promise<{ url: string; served: number[]; close(): Promise<void> }> {
  const served: number[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const u = new URL(req.url ?? '/', 'http://front');
      const path = u.pathname.replace(/^\/api\/v2/, '');
      const headers: Record<string, string> = { 'x-api-key': String(req.headers['x-api-key'] ?? '') };
      if (body) headers['content-type'] = 'application/json';
      if (req.method === 'GET' && path === '/operations') {
        const page = Number(u.searchParams.get('page') ?? '1');
        const per = Number(u.searchParams.get('itemsPerPage') ?? '20');
        served.push(page);
        const all: unknown[] = [];
        let envelope: { data: unknown[]; meta: { totalItems: number } } | undefined;
        for (let p = 1; !envelope || all.length < envelope.meta.totalItems; p++) {
          const q = new URLSearchParams(u.searchParams);
          q.set('page', String(p));
          q.set('itemsPerPage', '100');
          const r = await fetch(`${target}/operations?${q}`, { headers });
          if (r.status !== 200) throw new Error(`operations: ${r.status}`);
          envelope = (await r.json()) as typeof envelope;
          if (envelope!.data.length === 0) break;
          all.push(...envelope!.data);
        }
        all.reverse();
        const data = all.slice((page - 1) * per, page * per);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ ...envelope, data, meta: { currentPage: page, itemsPerPage: per, totalItems: all.length } }),
        );
        return;
      }
      const r = await fetch(`${target}${path}${u.search}`, { method: req.method, headers, body });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await r.arrayBuffer()));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/api/v2`,
    served,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
