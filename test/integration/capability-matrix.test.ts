import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * Every card type of every provider × every normalized card operation, through the HTTP API:
 * what a card declares it supports must not be refused as unsupported, and what it does not
 * support must be refused with 422 unsupported_operation, naming what it does support, with
 * nothing sent to the provider.
 */

const EUR = { amount: '10.00', currency: 'EUR' };
const OPERATIONS: Record<string, (card: string) => [string, string, unknown?]> = {
  award: (card) => ['POST', '/v1/points/award', { card_id: card, points: 1, reason: 'matrix' }],
  redeem: (card) => ['POST', '/v1/points/redeem', { card_id: card, points: 1, reason: 'matrix' }],
  adjust: (card) => ['POST', '/v1/points/adjust', { card_id: card, points: 1, reason: 'matrix' }],
  expire: (card) => ['POST', '/v1/points/expire', { card_id: card, points: 1 }],
  visit: (card) => ['POST', `/v1/cards/${card}/visits`, { visits: 1 }],
  purchase: (card) => ['POST', `/v1/cards/${card}/purchases`, { amount: EUR }],
  refund_purchase: (card) => [
    'POST',
    `/v1/cards/${card}/purchases/refund`,
    { amount: { amount: '0.01', currency: 'EUR' } },
  ],
  redeem_reward: (card) => ['POST', `/v1/cards/${card}/rewards/redeem`, {}],
  redeem_coupon: (card) => ['POST', `/v1/cards/${card}/coupon/redeem`, {}],
  rewards: (card) => ['GET', `/v1/cards/${card}/rewards`],
  balance: (card) => ['GET', `/v1/points/balance/${card}`],
  history: (card) => ['GET', `/v1/points/history/${card}`],
};

let sb: SandboxGateway;
beforeAll(async () => {
  sb = await startSandboxGateway();
});
afterAll(async () => sb?.close());

async function cardsByType(): Promise<Map<string, string>> {
  const { hl, ct, leal, lt, gw } = sb;
  const ids = [
    ...Object.values(hl.seed.cards as Record<string, string>).map((s) => `hl:${s}`),
    `ct:${ct.seed.stampCardId}.${ct.seed.userWithRewardId}`,
    `leal:${leal.seed.customers.withStamps.id}.${leal.seed.customers.withStamps.customerCardId}`,
    `lt:${lt.seed.cards.active.card_number}`,
  ];
  // Coupontools has no seeded user on its membership program: issue one.
  const issued = await gw.request('POST', '/v1/cards', {
    body: {
      connection: 'ct',
      program_id: `ct:${ct.seed.membershipCardId}`,
      customer: { first_name: 'Mia', email: 'mia@example.com' },
    },
  });
  expect(issued.status, issued.text).toBe(201);
  ids.push(issued.body.id);
  const byType = new Map<string, string>();
  for (const id of ids) {
    const card = await gw.request('GET', `/v1/cards/${id}`);
    expect(card.status, card.text).toBe(200);
    byType.set(`${card.body.connection}/${card.body.card_type}/${id}`, id);
  }
  return byType;
}

describe('capability matrix', () => {
  it('covers every card type each connection declares', async () => {
    const conns = (await sb.gw.request('GET', '/v1/connections')).body.data as {
      id: string;
      capabilities: { card_types?: { card_type: string }[] };
    }[];
    const covered = new Set([...(await cardsByType()).keys()].map((k) => k.split('/').slice(0, 2).join('/')));
    // Every provider connection of the sandbox declares card types (the built-in ledger has one kind of card and
    // lists none): an empty list would leave nothing to check.
    expect(conns.map((c) => c.id).sort()).toEqual(['hl', 'ct', 'leal', 'lt', 'ledger'].sort());
    for (const c of conns) {
      if (c.id !== 'ledger')
        expect(c.capabilities.card_types?.length ?? 0, `${c.id} declares no card types`).toBeGreaterThan(0);
      for (const t of c.capabilities.card_types ?? [])
        expect(covered, `${c.id}/${t.card_type}`).toContain(`${c.id}/${t.card_type}`);
    }
  });

  it(
    'every card type × operation: supported ones are not refused as unsupported; the others are, naming what is ' +
      'supported',
    async () => {
      const failures: string[] = [];
      for (const [label, card] of await cardsByType()) {
        const caps = (await sb.gw.request('GET', `/v1/cards/${card}`)).body.capabilities as {
          operations: string[];
          units: string[];
        };
        for (const [op, call] of Object.entries(OPERATIONS)) {
          const [method, path, body] = call(card);
          const before = sumCounters(sb);
          let res = await sb.gw.request(method, path, body === undefined ? {} : { body });
          // An adjustment may go one way only (a Highlight membership with limits only takes visits away).
          if (op === 'adjust' && supported(caps, op) && res.body?.code === 'unsupported_operation') {
            res = await sb.gw.request(method, path, { body: { ...(body as object), points: -1 } });
          }
          if (supported(caps, op)) {
            if (res.body?.code === 'unsupported_operation' || res.status >= 500)
              failures.push(`${label} ${op}: supported but got ${res.status} ${res.text}`);
          } else {
            if (res.status !== 422 || res.body?.code !== 'unsupported_operation')
              failures.push(`${label} ${op}: unsupported but got ${res.status} ${res.text}`);
            else if (!caps.operations.every((o) => res.body.detail.includes(o)))
              failures.push(`${label} ${op}: detail does not name what is supported: ${res.body.detail}`);
            if (sumCounters(sb) !== before)
              failures.push(`${label} ${op}: refused, yet the provider applied something`);
          }
        }
      }
      expect(failures).toEqual([]);
    },
  );

  it('a unit the card does not count in is refused, not converted', async () => {
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: `hl:${sb.hl.seed.cards.stamp}`, points: 5, unit: 'points', reason: 'wrong unit' },
    });
    expect(res.status, res.text).toBe(422);
    expect(res.body.code).toBe('unsupported_operation');
    expect(res.body.detail).toContain('stamps');
  });
});

const supported = (caps: { operations: string[] }, op: string) => caps.operations.includes(op);

function sumCounters(s: SandboxGateway): number {
  return [s.hl, s.ct, s.leal, s.lt].reduce((n, h) => n + h.sim.applied(), 0);
}
