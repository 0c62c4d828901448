import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
afterAll(async () => sb.sim.stop());
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
    const quick = highlight.create(conn({ timeoutMs: 300 }));
    await quick.cardCapabilities(cashback());
    sim().inject({ kind: 'timeout', applied: true, match: 'add-point' });
    const err = await quick.move(cashback(), m).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ applied: 'unknown' });
    await quick.close();

    const found = await adapter.findApplied!(cashback(), m, since);
    expect(found).toMatchObject({ balanceAfter: 45, providerReference: expect.any(String) });
    // Another movement was not applied.
    expect(await adapter.findApplied!(cashback(), mv({}), since)).toBeNull();
  });

  it('finds it on a busy card, past the first page of operations', async () => {
    const since = Date.now();
    const target = mv({ quantity: 2 });
    const applied = await adapter.move(cashback(), target);
    for (let i = 0; i < 130; i++) await adapter.move(cashback(), mv({}));
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
    // Highlight does not document the order: an oldest-first /operations (350 operations, the target
    // 120th from the end, ten seconds apart) is served here in place of the simulator's newest-first one.
    const now = Date.now();
    const target = mv({ quantity: 3 });
    const ops = Array.from({ length: 350 }, (_, i) => ({
      id: 1000 + i,
      eventId: 5,
      amount: 1,
      balance: 41 + i,
      createdAt: new Date(now - (350 - i) * 10_000).toISOString(),
      comment: i === 230 ? `Order [lgw:${target.txnId}]` : `Other [lgw:${txnId()}]`,
    }));
    const client = (
      adapter as unknown as {
        client: { call: (m: string, p: string, o: { query?: Record<string, unknown> }) => Promise<unknown> };
      }
    ).client;
    const real = client.call.bind(client);
    const pages: number[] = [];
    client.call = async (method, path, o) => {
      if (path !== '/operations') return real(method, path, o);
      const page = Number(o.query?.page);
      const per = Number(o.query?.itemsPerPage);
      pages.push(page);
      const data = ops.slice((page - 1) * per, page * per);
      return {
        status: 200,
        headers: {},
        body: { data, meta: { currentPage: page, itemsPerPage: per, totalItems: ops.length } },
        invalidJson: false,
        text: '',
      };
    };
    const found = await adapter.findApplied!(cashback(), target, now - 300_000);
    expect(found).toEqual({ balanceAfter: 271, providerReference: '1230' });
    expect(pages).toEqual([1, 4, 3]);
    // Not there: the walk back stops at the page whose operations are all older than sinceMs − 5 min.
    pages.length = 0;
    expect(await adapter.findApplied!(cashback(), mv({}), now - 100_000)).toBeNull();
    expect(pages).toEqual([1, 4, 3]);
  });
});
