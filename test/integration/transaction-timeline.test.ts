import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/lib/time.js';
import { settled } from '../helpers/dispatch.js';
import { expectProblem, issueCard, KEYS } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * GET /v1/transactions/{id}/timeline against the simulators: the steps the store's scripts record as a transaction
 * moves (sent, the provider's answer or error, an admin's action), merged with its claim and the events about it
 * with their webhook deliveries; the trail's cap and expiry.
 */

let sb: SandboxGateway;
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  sb = await startSandboxGateway({
    timeoutMs: 800,
    env: { WEBHOOK_ALLOW_PRIVATE: 'true', DISPATCH_BACKOFF_MS: '50' },
  });
  const sub = await sb.gw.request('POST', '/v1/webhooks', {
    body: { url: receiverUrl, events: ['transaction.succeeded'] },
  });
  expect(sub.status, sub.text).toBe(201);
}, 30_000);
afterAll(async () => {
  await sb?.close();
  await new Promise((r) => receiver?.close(r));
});

const hlCard = () => `hl:${sb.hl.seed.cards.cashback}`;

async function timeline(id: string) {
  const res = await sb.gw.request('GET', `/v1/transactions/${id}/timeline`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

describe('GET /v1/transactions/{id}/timeline', () => {
  it("a transaction at a provider: its claim, the send, the provider's answer, its event and the delivery", async () => {
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: hlCard(), points: 5, reason: 'Order' },
      headers: { 'idempotency-key': 'timeline-ok-1' },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.id as string;
    let t = await timeline(id);
    // The delivery comes a moment later (the hand-over waits a few seconds for late events).
    for (let i = 0; i < 100 && !t.entries.some((e: { deliveries: unknown[] }) => e.deliveries.length > 0); i++) {
      await sleep(100);
      t = await timeline(id);
    }
    expect(t.transaction).toMatchObject({ id, status: 'succeeded' });
    expect(t.entries.map((e: { kind: string }) => e.kind)).toEqual(['claimed', 'sent', 'answered', 'event']);
    const [claimed, sent, answered, event] = t.entries;
    expect(claimed).toMatchObject({ status: 'queued', by: expect.stringMatching(/^key_/) });
    expect(sent).toMatchObject({ status: 'processing', attempt: 1, code: null });
    expect(answered).toMatchObject({
      status: 'succeeded',
      attempt: 1,
      provider_reference: res.body.provider_reference,
      balance_after: res.body.balance_after,
    });
    expect(event).toMatchObject({ event_type: 'transaction.succeeded', event_id: expect.stringMatching(/^evt_/) });
    expect(event.deliveries).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'delivered', status_code: 204, webhook_id: expect.any(String) }),
    ]);
    expect(t.events_truncated).toBe(false);
    expect(t.events_scanned).toBeGreaterThanOrEqual(1);
  });

  it("a refusal then an admin's retry: failed with the error, retry by the admin, the second send answered", async () => {
    sb.hl.sim.inject({ kind: 'status', status: 400, match: 'add-point', times: 1 });
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: hlCard(), points: 1, reason: 'Order' },
    });
    const id = (res.body.transaction_id ?? res.body.id) as string;
    const [rec] = await settled(sb.gw, [id], 10_000);
    expect(rec!.status).toBe('failed');
    const retried = await sb.gw.request('POST', `/v1/transactions/${id}/retry`, { body: { note: 'fixed' } });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body.status).toBe('succeeded');
    const t = await timeline(id);
    const steps = t.entries.filter((e: { kind: string }) => e.kind !== 'event');
    expect(steps.map((e: { kind: string }) => e.kind)).toEqual([
      'claimed',
      'sent',
      'failed',
      'retry',
      'sent',
      'answered',
    ]);
    expect(steps[2]).toMatchObject({ status: 'failed', code: expect.any(String), detail: expect.any(String) });
    expect(steps[3]).toMatchObject({ status: 'queued', by: expect.stringMatching(/^key_/), detail: 'fixed' });
    expect(steps[4]).toMatchObject({ attempt: 2 });
    // The admin action is shown once (from the trail), not again from the audit list.
    expect(t.entries.filter((e: { kind: string }) => e.kind === 'admin')).toEqual([]);
    expect(t.entries.some((e: { event_type: string }) => e.event_type === 'transaction.failed')).toBe(true);
  });

  it("a 429: requeued with the provider's error, then sent again", async () => {
    sb.hl.sim.inject({ kind: 'status', status: 429, match: 'add-point', times: 1 });
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: hlCard(), points: 1, reason: 'x' },
    });
    const id = (res.body.transaction_id ?? res.body.id) as string;
    await settled(sb.gw, [id], 15_000);
    const kinds = (await timeline(id)).entries.map((e: { kind: string }) => e.kind);
    expect(kinds.slice(0, 4)).toEqual(['claimed', 'sent', 'requeued', 'sent']);
  });

  it('a transaction on the built-in ledger: its claim and its completion', async () => {
    const card = await issueCard(sb.gw, { connection: 'ledger' });
    const res = await sb.gw.request('POST', '/v1/points/award', { body: { card_id: card, points: 9, reason: 'x' } });
    expect(res.status, res.text).toBe(201);
    const t = await timeline(res.body.id);
    expect(t.entries.slice(0, 2)).toEqual([
      expect.objectContaining({ kind: 'claimed', status: 'processing' }),
      expect.objectContaining({ kind: 'completed', status: 'succeeded', balance_after: res.body.balance_after }),
    ]);
  });

  it('404 for a transaction that does not exist; admin only', async () => {
    expectProblem(
      await sb.gw.request('GET', '/v1/transactions/txn_00000000000000000000000000/timeline'),
      404,
      'transaction_not_found',
    );
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: hlCard(), points: 1, reason: 'x' },
    });
    expectProblem(
      await sb.gw.request('GET', `/v1/transactions/${res.body.id}/timeline`, { key: KEYS.write }),
      403,
      'forbidden',
    );
  });
});

describe('the trail', () => {
  it('keeps the last 50 steps, under the hash tag, expiring with its transaction', async () => {
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: hlCard(), points: 1, reason: 'x' },
    });
    const id = res.body.id as string;
    const { store, redis } = sb.gw;
    const keys = sb.gw.gateway.keys;
    expect(keys.trail(id)).toBe(`{${sb.gw.prefix}}:txn:${id}:trail`);
    // A transaction record that expires (none does today): its trail gets the same expiry on its next step.
    await redis.pexpire(keys.txn(id), 600_000);
    let status: 'succeeded' | 'queued' = 'succeeded';
    for (let i = 0; i < 60; i++) {
      const to: 'succeeded' | 'queued' = status === 'succeeded' ? 'queued' : 'succeeded';
      const moved = await store.transition({ id, status }, to);
      expect(moved.ok).toBe(true);
      status = to;
    }
    const trail = await store.trailOf(id);
    expect(trail).toHaveLength(50);
    expect(trail.at(-1)).toMatchObject({ status });
    expect(trail[0]).not.toMatchObject({ step: 'sent' });
    const ttl = await redis.pttl(keys.trail(id));
    expect(ttl).toBeGreaterThan(500_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
  });
});
