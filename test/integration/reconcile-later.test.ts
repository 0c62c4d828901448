import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * An unknown outcome at a provider whose records can be searched (Highlight's /operations): the lookup waits, as a
 * delayed job, until the request sent can no longer be running there, and a lookup that fails is tried again later
 * with a growing backoff, using no attempt and no worker slot meanwhile, until RECONCILE_DEADLINE_HOURS. Only then
 * does it go to needs_review. Through the HTTP API against the real simulator.
 */

const WRITE = '^POST ';
const LOOKUP = '^GET .*/operations';

let sb: SandboxGateway | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

const award = (gw: TestGateway, card: string, ref: string) =>
  gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points: 1, reason: 'reconcile', reference_id: ref },
    headers: { prefer: 'respond-async' },
  });

/** The transaction once it is final (polls the API). */
async function final(gw: TestGateway, id: string, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const t = (await gw.request('GET', `/v1/transactions/${id}`)).body;
    if (t.status !== 'queued' && t.status !== 'processing') return t;
    if (Date.now() > until) throw new Error(`${id} still ${t.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('an unknown outcome at a provider that can be searched', () => {
  it('lookups that fail are tried again later, past DISPATCH_ATTEMPTS: it settles succeeded, applied once', async () => {
    // One try per job: before, the first failed lookup was the last try and the transaction went to needs_review.
    sb = await startSandboxGateway({ timeoutMs: 400, env: { DISPATCH_ATTEMPTS: '1' } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.request('GET', `/v1/points/balance/${card}`); // the card's type, read once
    sb.hl.sim.reset();
    sb.hl.sim.inject({ kind: 'timeout', applied: true, ms: 2000, match: WRITE });
    sb.hl.sim.inject({ kind: 'status', status: 503, times: 3, match: LOOKUP });
    const res = await award(sb.gw, card, 'lost-answer-1');
    expect(res.status).toBe(202);
    const t = await final(sb.gw, res.body.id);
    expect(t).toMatchObject({ status: 'succeeded', error: null });
    expect(sb.hl.sim.appliedByTxn()[res.body.id]).toBe(1);
    // The three failed lookups, then the one that found it.
    expect(sb.hl.sim.stats().requests).toBeGreaterThanOrEqual(5);
  }, 90_000);

  it('a transaction waiting for its lookup holds no worker slot: another one on the connection goes first', async () => {
    sb = await startSandboxGateway({ timeoutMs: 400, env: { DISPATCH_CONCURRENCY: '1' } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.request('GET', `/v1/points/balance/${card}`);
    sb.hl.sim.reset();
    sb.hl.sim.inject({ kind: 'timeout', applied: true, ms: 2000, match: WRITE });
    const first = await award(sb.gw, card, 'waits-for-lookup');
    // Its request times out after 400 ms; its lookup is due 2 x 400 ms + 1 s after it was sent.
    for (let i = 0; i < 100 && (sb.hl.sim.counters()['cards.add-stamp'] ?? 0) === 0; i++) await sleep(20);
    await sleep(600);
    const second = await award(sb.gw, card, 'goes-first');
    const t2 = await final(sb.gw, second.body.id, 10_000);
    expect(t2.status).toBe('succeeded');
    // The only worker slot ran the second while the first waited in the delayed set.
    expect((await sb.gw.request('GET', `/v1/transactions/${first.body.id}`)).body.status).toBe('processing');
    expect(await final(sb.gw, first.body.id)).toMatchObject({ status: 'succeeded' });
    expect(sb.hl.sim.appliedByTxn()[first.body.id]).toBe(1);
  }, 90_000);

  it('past RECONCILE_DEADLINE_HOURS with the records still unreadable: needs_review, saying why', async () => {
    // 0.001 h = 3.6 s from its creation.
    sb = await startSandboxGateway({ timeoutMs: 400, env: { RECONCILE_DEADLINE_HOURS: '0.001' } });
    const card = `hl:${sb.hl.seed.cards.stamp}`;
    await sb.gw.request('GET', `/v1/points/balance/${card}`);
    sb.hl.sim.reset();
    sb.hl.sim.inject({ kind: 'timeout', applied: true, ms: 2000, match: WRITE });
    sb.hl.sim.inject({ kind: 'status', status: 503, times: 1e9, match: LOOKUP });
    const res = await award(sb.gw, card, 'never-readable');
    const t = await final(sb.gw, res.body.id);
    expect(t.status).toBe('needs_review');
    expect(t.error.detail).toContain('RECONCILE_DEADLINE_HOURS');
    expect(Date.parse(t.completed_at) - Date.parse(t.created_at)).toBeGreaterThanOrEqual(3600);
    expect(sb.hl.sim.appliedByTxn()[res.body.id]).toBe(1);
  }, 90_000);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
