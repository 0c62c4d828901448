import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

let sb: SandboxGateway;
beforeAll(async () => {
  sb = await startSandboxGateway();
});
afterAll(async () => sb?.close());

describe('notifications', () => {
  it('sends a push to a program, lists it and shows it (Highlight /pushes)', async () => {
    const sent = await sb.gw.request('POST', '/v1/notifications', {
      body: { connection: 'hl', program_id: `hl:${sb.hl.seed.templates.stamp}`, message: 'Double stamps this weekend' },
      headers: { 'idempotency-key': 'push-1' },
    });
    expect(sent.status, sent.text).toBe(201);
    expect(sent.body).toMatchObject({ connection: 'hl', message: 'Double stamps this weekend' });
    // A retry with the same key replays and sends nothing more.
    const again = await sb.gw.request('POST', '/v1/notifications', {
      body: { connection: 'hl', program_id: `hl:${sb.hl.seed.templates.stamp}`, message: 'Double stamps this weekend' },
      headers: { 'idempotency-key': 'push-1' },
    });
    expect(again.body).toEqual(sent.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(sb.hl.sim.counters()['pushes.create']).toBe(1);

    const list = await sb.gw.request('GET', '/v1/notifications?connection=hl');
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((n: { id: string }) => n.id)).toContain(sent.body.id);
    const one = await sb.gw.request('GET', `/v1/notifications/hl/${sent.body.id}`);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({ id: sent.body.id, message: 'Double stamps this weekend', connection: 'hl' });
    expectProblem(await sb.gw.request('GET', '/v1/notifications/hl/999999'), 404, 'notification_not_found');
  });

  it('refuses a push on a provider without pushes, and on the built-in ledger', async () => {
    expectProblem(
      await sb.gw.request('POST', '/v1/notifications', { body: { connection: 'leal', message: 'Hi' } }),
      422,
      'unsupported_operation',
    );
    expectProblem(
      await sb.gw.request('POST', '/v1/notifications', { body: { connection: 'ledger', message: 'Hi' } }),
      422,
      'unsupported_operation',
    );
    expectProblem(await sb.gw.request('GET', '/v1/notifications?connection=ct'), 422, 'unsupported_operation');
  });

  it('refuses card ids of another connection', async () => {
    const res = await sb.gw.request('POST', '/v1/notifications', {
      body: { connection: 'hl', message: 'Hi', card_ids: ['ct:1001.50001'] },
    });
    expectProblem(res, 400, 'validation_failed');
    expect(res.body.errors[0].field).toBe('/card_ids/0');
  });
});

describe('bulk customers (Coupontools users)', () => {
  it('creates users on a program in one provider call; each is a card', async () => {
    const res = await sb.gw.request('POST', '/v1/customers/bulk', {
      body: {
        connection: 'ct',
        program_id: `ct:${sb.ct.seed.stampCardId}`,
        customers: [{ first_name: 'Ada', email: 'ada@example.com' }, { first_name: 'Alan' }],
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(sb.ct.sim.counters().bulk_create_users).toBe(1);
    expect(res.body.cards).toHaveLength(2);
    const card = await sb.gw.request('GET', `/v1/cards/${res.body.cards[0].id}`);
    expect(card.status, card.text).toBe(200);
    expect(card.body).toMatchObject({ card_type: 'stamp', customer: { first_name: 'Ada' } });
  });

  it('is refused where the provider has no bulk creation', async () => {
    expectProblem(
      await sb.gw.request('POST', '/v1/customers/bulk', {
        body: { connection: 'hl', program_id: 'hl:101', customers: [{ first_name: 'A' }] },
      }),
      422,
      'unsupported_operation',
    );
  });
});
