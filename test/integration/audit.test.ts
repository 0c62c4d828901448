import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/lib/time.js';
import { settled } from '../helpers/dispatch.js';
import { expectProblem, KEYS, startGateway } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * Provider audits against the simulators, with faults injected: a transaction Highlight applied
 * whose answer and lookups were lost (needs_review here), one Highlight lost afterwards (its
 * operation gone), stamps given at Leal outside the gateway. The audit finds each, reports them as
 * an event and in the metrics, changes nothing by itself, and a confirmed finding settles the
 * needs_review transaction.
 */

let sb: SandboxGateway;
let started: number;
beforeAll(async () => {
  sb = await startSandboxGateway({
    timeoutMs: 500,
    env: { DISPATCH_ATTEMPTS: '2', DISPATCH_BACKOFF_MS: '50', RECONCILE_DEADLINE_HOURS: '0.001' },
  });
  started = Date.now() - 1000;
});
afterAll(async () => sb?.close());

const award = async (card: string, points: number, key: string) => {
  const res = await sb.gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points, reason: 'Order' },
    headers: { 'idempotency-key': key },
  });
  const id = (res.body.id ?? res.body.transaction_id) as string;
  expect(id, JSON.stringify(res.body)).toMatch(/^txn_/);
  const [rec] = await settled(sb.gw, [id], 30_000);
  return rec!;
};

/** Starts an audit and polls it until it is no longer running. */
async function audit(body: Record<string, unknown>) {
  const res = await sb.gw.request('POST', '/v1/audits', { body, key: KEYS.admin });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.headers.get('location')).toBe(`/v1/audits/${res.body.id}`);
  expect(res.body.status).toBe('running');
  for (let i = 0; i < 300; i++) {
    const got = await sb.gw.request('GET', `/v1/audits/${res.body.id}`, { key: KEYS.admin });
    expect(got.status).toBe(200);
    if (got.body.status !== 'running') return got.body;
    await sleep(100);
  }
  throw new Error('the audit did not finish');
}

describe('provider audit: Highlight, matched by the [lgw:txn] of its operations', () => {
  let card: string;
  let inReview: string;
  let lost: string;
  let auditId: string;

  beforeAll(async () => {
    card = `hl:${sb.hl.seed.cards.cashback}`;
    // Two that are fine.
    await award(card, 2, 'hl-ok-1');
    await award(card, 3, 'hl-ok-2');
    // Applied by Highlight, but the answer is lost and so is every lookup of it: needs_review here.
    sb.hl.sim.inject({ kind: 'timeout', applied: true, ms: 2000, match: 'add-point', times: 1 });
    sb.hl.sim.inject({ kind: 'status', status: 503, match: '^GET .*/operations', times: 1e9 });
    const r = await award(card, 7, 'hl-review');
    expect(r.status).toBe('needs_review');
    inReview = r.id;
    sb.hl.sim.clearFaults();
    // Succeeded here, then lost at Highlight (a restore from an older backup).
    lost = (await award(card, 4, 'hl-lost')).id;
    const forgot = await fetch(new URL('/_sandbox/forget', sb.hl.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ txn_id: lost }),
    });
    expect(await forgot.json()).toEqual({ removed: 1 });
  }, 60_000);

  it('finds both ways what differs, and only that', async () => {
    const a = await audit({ connection: 'hl', from: new Date(started).toISOString() });
    auditId = a.id;
    expect(a).toMatchObject({
      status: 'completed',
      connection: 'hl',
      provider: 'highlight',
      method: 'provider_record',
      trigger: 'api',
      requested_by: expect.any(String),
      error: null,
      truncated: false,
      summary: { applied_not_succeeded: 1, missing_at_provider: 1 },
    });
    expect(a.checked).toMatchObject({ transactions: 4, cards: 1, in_flight: 0 });
    expect(a.checked.provider_operations).toBeGreaterThanOrEqual(3);
    expect(a.findings).toHaveLength(2);
    const applied = a.findings.find((f: { kind: string }) => f.kind === 'applied_not_succeeded');
    expect(applied).toMatchObject({
      transaction_id: inReview,
      status_here: 'needs_review',
      card_id: card,
      provider_reference: expect.any(String),
      provider_at: expect.any(String),
      confirmable: true,
      confirmed: null,
    });
    const missing = a.findings.find((f: { kind: string }) => f.kind === 'missing_at_provider');
    expect(missing).toMatchObject({ transaction_id: lost, status_here: 'succeeded', confirmable: false });
    // It changed nothing by itself.
    const txn = await sb.gw.request('GET', `/v1/transactions/${inReview}`);
    expect(txn.body.status).toBe('needs_review');
  });

  it('reports them as an event and in the metrics', async () => {
    const events = await sb.gw.request('GET', '/v1/events?type=audit.drift_found', { key: KEYS.admin });
    expect(events.status).toBe(200);
    const ev = events.body.data.find((e: { data: { audit_id: string } }) => e.data.audit_id === auditId);
    expect(ev).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      type: 'audit.drift_found',
      data: { connection: 'hl', findings: 2, summary: { applied_not_succeeded: 1, missing_at_provider: 1 } },
    });
    const metrics = await sb.gw.request('GET', '/metrics', { key: KEYS.admin });
    expect(metrics.text).toContain('lgw_audit_findings_total{connection="hl",kind="missing_at_provider"} 1');
    expect(metrics.text).toContain('lgw_audit_findings_total{connection="hl",kind="applied_not_succeeded"} 1');
    expect(metrics.text).toMatch(/lgw_audit_last_findings\{connection="hl"\} 2/);
    expect(metrics.text).toMatch(/lgw_audits_total\{connection="hl",outcome="drift_found"\} \d/);
  });

  it('a confirmed finding settles the needs_review transaction, with the evidence; once', async () => {
    const a = (await sb.gw.request('GET', `/v1/audits/${auditId}`, { key: KEYS.admin })).body;
    const applied = a.findings.find((f: { kind: string }) => f.kind === 'applied_not_succeeded');
    const missing = a.findings.find((f: { kind: string }) => f.kind === 'missing_at_provider');
    const path = (f: { id: string }) => `/v1/audits/${auditId}/findings/${f.id}/confirm`;

    expectProblem(await sb.gw.request('POST', path(applied), { body: {}, key: KEYS.write }), 403, 'forbidden');
    const ok = await sb.gw.request('POST', path(applied), { body: { note: 'seen in the dashboard' }, key: KEYS.admin });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({
      id: inReview,
      status: 'succeeded',
      provider_reference: applied.provider_reference,
    });
    const txn = await sb.gw.request('GET', `/v1/transactions/${inReview}`, { key: KEYS.admin });
    expect(txn.body.audit.at(-1)).toMatchObject({ action: 'resolve', from: 'needs_review', to: 'succeeded' });
    expect(txn.body.audit.at(-1).note).toContain(auditId);
    expect(txn.body.audit.at(-1).note).toContain('seen in the dashboard');

    expectProblem(await sb.gw.request('POST', path(applied), { key: KEYS.admin }), 409, 'finding_not_confirmable');
    expectProblem(await sb.gw.request('POST', path(missing), { key: KEYS.admin }), 409, 'finding_not_confirmable');
    expectProblem(
      await sb.gw.request('POST', `/v1/audits/${auditId}/findings/f99/confirm`, { key: KEYS.admin }),
      404,
      'finding_not_found',
    );
    const after = (await sb.gw.request('GET', `/v1/audits/${auditId}`, { key: KEYS.admin })).body;
    expect(after.findings.find((f: { id: string }) => f.id === applied.id).confirmed).toMatchObject({
      transaction_status: 'succeeded',
    });

    // Audited again: the confirmed one matches now; the lost one is still missing.
    const again = await audit({ connection: 'hl', from: new Date(started).toISOString() });
    expect(again.summary).toEqual({ missing_at_provider: 1 });
  });

  it('lists audits newest first, per connection', async () => {
    const list = await sb.gw.request('GET', '/v1/audits?connection=hl&limit=1', { key: KEYS.admin });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    expect(list.body.next_cursor).toEqual(list.body.data[0].id);
    const next = await sb.gw.request('GET', `/v1/audits?connection=hl&limit=5&cursor=${list.body.next_cursor}`, {
      key: KEYS.admin,
    });
    expect(next.body.data.map((a: { id: string }) => a.id)).toContain(auditId);
  });
});

describe('provider audit: Loyalty.lt, matched by order id', () => {
  it('a clean audit: every transaction found there once, nothing else', async () => {
    const card = `lt:${sb.lt.seed.cards.empty.card_number}`;
    const from = new Date().toISOString();
    await award(card, 5, 'lt-1');
    await award(card, 6, 'lt-2');
    const a = await audit({ connection: 'lt', from });
    expect(a).toMatchObject({ status: 'completed', method: 'provider_record', findings: [], summary: {} });
    expect(a.checked).toMatchObject({ transactions: 2, cards: 1 });
    expect(a.checked.provider_operations).toBeGreaterThanOrEqual(2);
  });
});

describe('provider audit: Leal keeps no record to match, so balances are compared', () => {
  it("finds stamps given outside the gateway as drift from the gateway's last write", async () => {
    const { accountId } = sb.leal.seed as { accountId: number };
    const c = sb.leal.seed.customers.fresh as { id: number; customerCardId: number };
    const card = `leal:${c.id}.${c.customerCardId}`;
    const from = new Date().toISOString();
    const last = await award(card, 2, 'leal-1');
    expect(last.balance_after).not.toBeNull();

    const clean = await audit({ connection: 'leal', from });
    expect(clean).toMatchObject({ status: 'completed', method: 'balance_drift', findings: [] });

    // A point of sale stamps the card at Leal directly.
    const res = await fetch(
      `${sb.leal.url}/accounts/${accountId}/customers/${c.id}/customer_cards/${c.customerCardId}/stamp`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${sb.leal.credentials.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ stamps: 3 }),
      },
    );
    expect(res.status).toBeLessThan(300);
    const a = await audit({ connection: 'leal', from });
    expect(a.summary).toEqual({ balance_drift: 1 });
    expect(a.findings[0]).toMatchObject({
      kind: 'balance_drift',
      card_id: card,
      transaction_id: last.id,
      unit: 'stamps',
      expected: last.balance_after,
      actual: last.balance_after! + 3,
      confirmable: false,
    });
  });
});

describe('refusals', () => {
  it('only admins; the built-in ledger, unknown connections, bad windows and unknown audits are refused', async () => {
    expectProblem(
      await sb.gw.request('POST', '/v1/audits', { body: { connection: 'hl' }, key: KEYS.write }),
      403,
      'forbidden',
    );
    expectProblem(await sb.gw.request('GET', '/v1/events', { key: KEYS.read }), 403, 'forbidden');
    const ledger = await sb.gw.request('POST', '/v1/audits', { body: { connection: 'ledger' }, key: KEYS.admin });
    expectProblem(ledger, 400, 'validation_failed');
    expect(ledger.body.errors[0].field).toBe('/connection');
    expectProblem(
      await sb.gw.request('POST', '/v1/audits', { body: { connection: 'nope' }, key: KEYS.admin }),
      404,
      'unknown_connection',
    );
    const window = await sb.gw.request('POST', '/v1/audits', {
      body: { connection: 'hl', from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      key: KEYS.admin,
    });
    expectProblem(window, 400, 'validation_failed');
    expect(window.body.errors[0].field).toBe('/from');
    expectProblem(
      await sb.gw.request('GET', '/v1/audits/aud_01JD3X7B2C4D6E8F0G2H4J6K8M', { key: KEYS.admin }),
      404,
      'audit_not_found',
    );
    expectProblem(await sb.gw.request('GET', '/v1/events?after=nope', { key: KEYS.admin }), 400, 'invalid_cursor');
  });
});

describe('the schedule', () => {
  it('audits every provider connection once per interval, in one process of several', async () => {
    const prefix = `aud${Date.now().toString(36)}`;
    const env = { AUDIT_INTERVAL_SECONDS: '1', AUDIT_LAG_SECONDS: '0' };
    const connections = [
      { id: 'ledger', provider: 'ledger' },
      { id: 'hl', provider: 'highlight', baseUrl: sb.hl.url, ...sb.hl.credentials, ...sb.hl.settings },
    ];
    const [a, b] = await Promise.all([
      startGateway({ prefix, env, connections }),
      startGateway({ prefix, env, connections }),
    ]);
    try {
      // The ticks of both run every second; each window is audited once, by one of them.
      let list: { id: string; trigger: string; connection: string; from: string }[] = [];
      for (let i = 0; i < 100 && list.length < 2; i++) {
        await sleep(100);
        list = (await a.request('GET', '/v1/audits', { key: KEYS.admin })).body.data;
      }
      expect(list.length).toBeGreaterThanOrEqual(2);
      expect(list.every((x) => x.trigger === 'schedule' && x.connection === 'hl')).toBe(true);
      const windows = list.map((x) => x.from);
      expect(new Set(windows).size).toBe(windows.length);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
