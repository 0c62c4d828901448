import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * A provider that fails in the middle of a bulk: one item meets a 5xx, another a timeout (after
 * the provider applied it). Through the HTTP API against the Leal simulator, a real HTTP server.
 *
 * What the product defines (src/services/bulk/bulk-service.ts, src/dispatch/transaction-job.ts):
 * a bulk with provider items runs as a job (202 + Location /v1/bulk/{id}); each item is its own
 * transaction, so a failing item never sinks the others. A 5xx or a timeout on a write leaves the
 * outcome unknown; Leal offers no way to check it (reconcile 'none'), so the item is kept as
 * needs_review with its error, and is never sent again.
 */

let sb: SandboxGateway;
beforeAll(async () => {
  // A short provider timeout keeps the timed-out item's wait small.
  sb = await startSandboxGateway({ timeoutMs: 500 });
});
afterAll(async () => sb?.close());

interface CustomerCard {
  id: number;
  customer_id: number;
  stamps_count: number;
}
interface LedgerRow {
  customer_card_id: number;
  event: string;
  stamps: number;
}
interface JobResult {
  index: number;
  status: number;
  state: string;
  replayed: boolean;
  transaction?: { id: string; status: string; points: number; error: { code: string; detail: string } | null };
  error?: { code: string };
}

/** A new customer with a stamp card, made at Leal directly (as a shop's existing customer would be). */
async function lealCustomer(name: string): Promise<{ card: string; cardId: number }> {
  const { accountId, cardId } = sb.leal.seed as { accountId: number; cardId: number };
  const res = await fetch(`${sb.leal.url}/accounts/${accountId}/customers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sb.leal.credentials.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      customer: { first_name: name, email: `${name.replace(/\W/g, '').toLowerCase()}@example.com` },
      card_id: cardId,
    }),
  });
  const body = (await res.json()) as { id: number; customer_cards: CustomerCard[] };
  expect(res.status, JSON.stringify(body)).toBe(201);
  const cc = body.customer_cards[0]!;
  return { card: `leal:${body.id}.${cc.id}`, cardId: cc.id };
}

/** What Leal holds: its stamp ledger and its customer cards (the simulator's control endpoint). */
async function lealState(): Promise<{ ledger: LedgerRow[]; customer_cards: CustomerCard[] }> {
  const res = await fetch(new URL('/_sandbox/state', sb.leal.url));
  return (await res.json()) as { ledger: LedgerRow[]; customer_cards: CustomerCard[] };
}

async function settled(id: string) {
  let view = (await sb.gw.request('GET', `/v1/bulk/${id}`)).body;
  // Bounded: a bulk that never settles fails the expectation below instead of hanging.
  for (let i = 0; i < 300 && view.status !== 'completed'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    view = (await sb.gw.request('GET', `/v1/bulk/${id}`)).body;
  }
  return view;
}

describe('a provider failing in the middle of a bulk', () => {
  it('keeps the 5xx and the timed-out items as needs_review, applies the others once, and a retry sends nothing', async () => {
    // One card per item, so each item's stamps are told apart at the provider and faults can aim at one item.
    const cards: { card: string; cardId: number }[] = [];
    for (let i = 0; i < 6; i++) cards.push(await lealCustomer(`Bulk ${i}`));
    const FIVE_XX = 2;
    const TIMEOUT = 4;
    const stampPath = (i: number) => `^POST /accounts/\\d+/customers/\\d+/customer_cards/${cards[i]!.cardId}/stamp$`;
    sb.leal.sim.inject({ kind: 'status', status: 502, match: stampPath(FIVE_XX) });
    // Applied, then the answer is lost: the worst case (the provider did it; the gateway cannot know).
    sb.leal.sim.inject({ kind: 'timeout', applied: true, ms: 5000, match: stampPath(TIMEOUT) });

    // Item i awards i + 1 stamps to card i.
    const items = cards.map((c, i) => ({ type: 'award', card_id: c.card, points: i + 1, reason: `bulk item ${i}` }));
    const before = sb.leal.sim.counters()['customer_cards.stamp'] ?? 0;
    const first = await sb.gw.request('POST', '/v1/points/bulk', {
      body: { transactions: items },
      headers: { 'idempotency-key': 'bulk-faults-1' },
    });
    expect(first.status, first.text).toBe(202);
    expect(first.headers.get('location')).toBe(`/v1/bulk/${first.body.id}`);
    expect(first.body).toMatchObject({ total: 6 });

    const done = await settled(first.body.id);
    expect(done).toMatchObject({
      id: first.body.id,
      status: 'completed',
      total: 6,
      submitted: 6,
      succeeded: 4,
      failed: 0,
      needs_review: 2,
      pending: 0,
    });
    const results = done.results as JobResult[];
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => r.state)).toEqual([
      'succeeded',
      'succeeded',
      'needs_review',
      'succeeded',
      'needs_review',
      'succeeded',
    ]);
    // Each item is its own transaction; the others were not held back by the failures.
    const ids = results.map((r) => r.transaction?.id);
    expect(new Set(ids).size).toBe(6);
    for (const i of [0, 1, 3, 5]) {
      expect(results[i], `item ${i}`).toMatchObject({
        status: 201,
        transaction: { status: 'succeeded', points: i + 1, error: null },
      });
    }
    // The failed items name what happened, on their transaction (kept for an admin's review).
    expect(results[FIVE_XX]!.transaction).toMatchObject({
      status: 'needs_review',
      error: { code: 'provider_unavailable', detail: expect.stringContaining('HTTP 502') },
    });
    expect(results[TIMEOUT]!.transaction).toMatchObject({
      status: 'needs_review',
      error: { code: 'provider_timeout', detail: expect.stringContaining('no answer within') },
    });
    // Each shows the status a request of its own would have answered once its transaction was final.
    expect([results[FIVE_XX]!.status, results[TIMEOUT]!.status]).toEqual([503, 504]);
    for (const i of [FIVE_XX, TIMEOUT]) {
      const txn = await sb.gw.request('GET', `/v1/transactions/${ids[i]}`);
      expect(txn.body, `item ${i}`).toMatchObject({ id: ids[i], status: 'needs_review' });
    }

    // At Leal: every item that got through applied exactly once (the timed-out one too: it was applied,
    // its answer lost); the 5xx one not at all.
    const state = await lealState();
    const stampsOf = (i: number) =>
      state.ledger.filter((row) => row.customer_card_id === cards[i]!.cardId && row.event === 'stamp.earned');
    for (let i = 0; i < 6; i++) {
      const rows = stampsOf(i);
      if (i === FIVE_XX) expect(rows, `item ${i}`).toEqual([]);
      else
        expect(
          rows.map((r) => r.stamps),
          `item ${i}`,
        ).toEqual([i + 1]);
    }
    expect(sb.leal.sim.counters()['customer_cards.stamp']).toBe(before + 5);

    // The same bulk again, same Idempotency-Key: the same bulk, answered as it stands; nothing reaches Leal.
    const requestsBefore = sb.leal.sim.stats().requests;
    const again = await sb.gw.request('POST', '/v1/points/bulk', {
      body: { transactions: items },
      headers: { 'idempotency-key': 'bulk-faults-1' },
    });
    expect(again.status, again.text).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body).toMatchObject({ status: 'completed', succeeded: 4, needs_review: 2, failed: 0, pending: 0 });
    expect((again.body.results as JobResult[]).map((r) => r.transaction?.id)).toEqual(ids);
    const reread = await settled(first.body.id);
    expect(reread.results).toEqual(done.results);
    expect(sb.leal.sim.stats().requests).toBe(requestsBefore);
    expect(sb.leal.sim.counters()['customer_cards.stamp']).toBe(before + 5);
  });
});
