import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256 } from '../../src/lib/hash.js';
import { keySpace } from '../../src/redis/keys.js';
import type { BuiltinConnection } from '../../src/services/connections/builtin-connection.js';
import { award, expectProblem, historyOf, issueCard, KEYS, type Res, type TestGateway } from '../helpers/gateway.js';
import { type SandboxGateway, type SandboxHandle, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * Idempotency-Key and reference_id, through the API only: no test writes Redis state. One gateway
 * with the four provider simulators (the built-in ledger is one of its connections) for the whole file.
 */

/**
 * How long a duplicate waits for the request that holds its key (IDEMPOTENCY_WAIT_MS). The slow and quick
 * writes below sit well clear of it on both sides, so a loaded machine cannot turn one into the other.
 */
const WAIT_MS = 2000;

let sb: SandboxGateway;
let gw: TestGateway;
beforeAll(async () => {
  // The providers' timeout is above SLOW_MS: a slow write is slow, not timed out.
  sb = await startSandboxGateway({ env: { IDEMPOTENCY_WAIT_MS: String(WAIT_MS) }, timeoutMs: 8000 });
  gw = sb.gw;
});
afterAll(async () => {
  await Promise.allSettled(inFlight.values());
  await sb?.close();
});

const historyLength = async (card: string) =>
  (await gw.request('GET', `/v1/points/history/${card}?limit=100`)).body.data.length as number;

describe('Idempotency-Key', () => {
  it('replays the stored response for the same key and body, bare or quoted', async () => {
    const card = await issueCard(gw);
    const body = { card_id: card, points: 10, reason: 'order' };
    const first = await gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': '"k-1"' } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    // Key order in the body does not matter: the fingerprint is over canonical JSON.
    const reordered = await gw.request('POST', '/v1/points/award', {
      rawBody: JSON.stringify({ reason: 'order', points: 10, card_id: card }),
      headers: { 'idempotency-key': 'k-1', 'content-type': 'application/json' },
    });
    expect(reordered.body).toEqual(first.body);
    expect(await historyLength(card)).toBe(1);
  });

  it('refuses the same key with another body (422) and on another route', async () => {
    const card = await issueCard(gw);
    await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 10, reason: 'a' },
      headers: { 'idempotency-key': 'k-2' },
    });
    const other = await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 11, reason: 'a' },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    const route = await gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: 10, reason: 'a' },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(route.body.code).toBe('idempotency_key_reused');
    expect(await historyLength(card)).toBe(1);
  });

  it('100 concurrent identical requests make one entry and 100 identical answers', async () => {
    const card = await issueCard(gw);
    const body = { card_id: card, points: 3, reason: 'burst' };
    const all = await Promise.all(
      Array.from({ length: 100 }, () =>
        gw.request('POST', '/v1/points/award', { body, headers: { 'idempotency-key': 'burst-1' } }),
      ),
    );
    expect(new Set(all.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    expect(all.filter((r) => r.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    expect(await historyLength(card)).toBe(1);
    expect((await gw.request('GET', `/v1/points/balance/${card}`)).body.available).toBe(3);
  });

  it('100 concurrent identical requests without a key but with a reference_id make one entry', async () => {
    const card = await issueCard(gw);
    const body = { card_id: card, points: 4, reason: 'burst', reference_id: 'order-77' };
    const all = await Promise.all(Array.from({ length: 100 }, () => gw.request('POST', '/v1/points/award', { body })));
    expect(new Set(all.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    expect(await historyLength(card)).toBe(1);
  });

  it('100 concurrent redeems racing for the same points: exactly as many succeed as the balance allows', async () => {
    const card = await issueCard(gw);
    await award(gw, card, 50);
    const all = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        gw.request('POST', '/v1/points/redeem', {
          body: { card_id: card, points: 1, reason: 'race', reference_id: `r-${i}` },
        }),
      ),
    );
    expect(all.filter((r) => r.status === 201)).toHaveLength(50);
    expect(all.filter((r) => r.body.code === 'insufficient_points')).toHaveLength(50);
    expect((await gw.request('GET', `/v1/points/balance/${card}`)).body.available).toBe(0);
  });

  it('reference_id is the natural key: a second award with it returns the first transaction', async () => {
    const card = await issueCard(gw);
    const first = await award(gw, card, 10, { reference_id: 'order-9' });
    const second = await award(gw, card, 999, { reference_id: 'order-9' });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    // Same reference on another type is another transaction.
    const redeem = await gw.request('POST', '/v1/points/redeem', {
      body: { card_id: card, points: 1, reason: 'x', reference_id: 'order-9' },
    });
    expect(redeem.body.id).not.toBe(first.body.id);
    // A new key with an already used reference_id still never awards twice.
    const keyed = await award(gw, card, 10, { reference_id: 'order-9' }).then(() =>
      gw.request('POST', '/v1/points/award', {
        body: { card_id: card, points: 10, reason: 'test award', reference_id: 'order-9' },
        headers: { 'idempotency-key': 'fresh-key' },
      }),
    );
    expect(keyed.body.id).toBe(first.body.id);
    expect((await gw.request('GET', `/v1/points/balance/${card}`)).body.available).toBe(9);
  });

  it('a refused request keeps no claim: the same key succeeds once the cause is fixed', async () => {
    const card = await issueCard(gw);
    const body = { card_id: card, points: 20, reason: 'later' };
    const refused = await gw.request('POST', '/v1/points/redeem', { body, headers: { 'idempotency-key': 'k-retry' } });
    expect(refused.body.code).toBe('insufficient_points');
    await award(gw, card, 20);
    const ok = await gw.request('POST', '/v1/points/redeem', { body, headers: { 'idempotency-key': 'k-retry' } });
    expect(ok.status).toBe(201);
    expect(ok.body.balance_after).toBe(0);
  });

  it('keeps keys for IDEMPOTENCY_TTL_HOURS', async () => {
    const card = await issueCard(gw);
    await gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 1, reason: 'ttl' },
      headers: { 'idempotency-key': 'k-ttl' },
    });
    const keys = keySpace(gw.prefix);
    const ttl = await gw.redis.pttl(keys.idempotency(`key_${sha256(KEYS.admin).slice(0, 12)}`, sha256('k-ttl')));
    expect(ttl).toBeGreaterThan(23 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3_600_000);
  });
});

describe('text that is not Unicode', () => {
  it('refuses lone surrogates with 400, never 500', async () => {
    const card = await issueCard(gw);
    for (const raw of [
      `{"card_id":"${card}","points":1,"reason":"a\\ud800b"}`,
      `{"card_id":"${card}","points":1,"reason":"ok","metadata":{"k\\udc00":"v"}}`,
      `{"card_id":"${card}","points":1,"reason":"ok","metadata":{"k":["\\udfff"]}}`,
    ]) {
      const res = await gw.request('POST', '/v1/points/award', {
        rawBody: raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    // A proper surrogate pair (an emoji) is fine.
    const ok = await gw.request('POST', '/v1/points/award', {
      rawBody: `{"card_id":"${card}","points":1,"reason":"\\ud83c\\udf89 party"}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.reason).toBe('🎉 party');
    expect(await historyLength(card)).toBe(1);
  });
});

// ---- a real in-flight duplicate, on every idempotent route family ----

/**
 * Two identical requests with the same Idempotency-Key, sent together, while the write of the one that
 * claims the key is slow. Whichever claims first is "the first"; the other is the duplicate, and it
 * arrives while the first is in flight. A first write of SLOW_MS outlasts the duplicate's wait (it gives
 * up: 409 idempotency_in_flight); one of QUICK_MS does not (the duplicate answers what the first
 * answered). Either way, the same request again afterwards is the replay, and the write was done once.
 *
 * The write is made slow where it happens: an injected latency at the provider simulator the route
 * calls. Where the request calls no provider (the built-in ledger; a bulk job, whose request only records
 * and queues it), the gateway's own step inside the claim is delayed instead (the ledger's apply, its card
 * issue, the bulk's recording). Each family runs its slow case, then its quick one; families run
 * concurrently (each on operations of its own, so the simulators' counters tell them apart).
 */

/** A first write that takes this long outlasts the duplicate's wait (WAIT_MS)... */
const SLOW_MS = 4500;
/** ...and one that takes this long does not. */
const QUICK_MS = 150;
type Pace = 'slow' | 'quick';
const paceMs = (pace: Pace) => (pace === 'slow' ? SLOW_MS : QUICK_MS);

type Body = Record<string, any>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Wraps the gateway's `obj[name]`: the first call whose arguments `matches` runs `first` before it (a delay;
 * or a throw, and the call is not made). Returns how many matching calls were made: how often the gateway
 * did that write.
 */
function interceptFirst(
  obj: object,
  name: string,
  matches: (...args: any[]) => boolean,
  first: () => Promise<void>,
): () => number {
  const target = obj as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = target[name]!.bind(obj);
  let calls = 0;
  target[name] = async (...args: unknown[]) => {
    if (matches(...args) && ++calls === 1) await first();
    return original(...args);
  };
  return () => calls;
}

/** The first matching call of the gateway's `obj[name]` waits `ms` first. */
const delayNext = (obj: object, name: string, ms: number, matches: (...args: any[]) => boolean) =>
  interceptFirst(obj, name, matches, () => sleep(ms));

/** How often a simulator applied an operation, counted from now. */
function counter(h: SandboxHandle, op: string): () => number {
  const before = h.sim.counters()[op] ?? 0;
  return () => (h.sim.counters()[op] ?? 0) - before;
}

const builtin = () => gw.gateway.connections.get('ledger') as unknown as BuiltinConnection;
const replayed = (r: Res) => r.headers.get('idempotent-replayed') === 'true';

/** What a case sends, and how it is judged. */
interface Arranged {
  path: string;
  body: Body;
  /** The status of the write's answer, and of its replays. */
  status: number;
  /** Writes done for the key (at the provider, or on the ledger), given the first's answer. */
  writes(first: Res): Promise<number>;
  /** How many writes one request makes (default 1). */
  perRequest?: number;
  /** Asserts two answers are the same answer; default: the same body. */
  same?(a: Res, b: Res): void;
  /** Whether replays say so with Idempotent-Replayed: true (default true). */
  replayHeader?: boolean;
  /** Judges the two answers and returns the first's (default: by the family's kind). */
  judge?(pace: Pace, one: Res, two: Res): Res;
}

interface Family {
  name: string;
  /**
   * claim: the duplicate waits up to IDEMPOTENCY_WAIT_MS for the first, then answers 409 idempotency_in_flight.
   * transaction: a transaction at a provider is claimed as queued, and a duplicate waits for that transaction
   * (up to DISPATCH_WAIT_MS), however long IDEMPOTENCY_WAIT_MS is.
   * items: a bulk on the built-in ledger, each item idempotent on its own ("<key>#<index>").
   */
  kind: 'claim' | 'transaction' | 'items';
  arrange(pace: Pace, key: string): Promise<Arranged>;
}

/** The next call of a simulator's API matching `match` ("METHOD /path") takes `ms`. */
const slowAt = (h: SandboxHandle, match: string, ms: number) => h.sim.inject({ kind: 'latency', ms, match });

/** A transaction at a provider: the provider saw it once, and the operation once. */
function atProvider(h: SandboxHandle, op: string): Arranged['writes'] {
  const writes = counter(h, op);
  return async (first) => {
    expect(h.sim.appliedByTxn()[first.body.id]).toBe(1);
    return writes();
  };
}

const FAMILIES: Family[] = [
  {
    name: 'points: award on the built-in ledger',
    kind: 'claim',
    async arrange(pace) {
      const card = await issueCard(gw);
      delayNext(builtin().ledger, 'apply', paceMs(pace), (txn) => txn.card_id === card);
      return {
        path: '/v1/points/award',
        body: { card_id: card, points: 5, reason: 'in flight' },
        status: 201,
        writes: async () => historyLength(card),
      };
    },
  },
  {
    name: 'points: award at a provider (Highlight)',
    kind: 'transaction',
    async arrange(pace) {
      const serial = sb.hl.seed.cards.stamp;
      slowAt(sb.hl, `^POST /cards/${serial}/`, paceMs(pace));
      return {
        path: '/v1/points/award',
        body: { card_id: `hl:${serial}`, points: 2, reason: 'in flight' },
        status: 201,
        writes: atProvider(sb.hl, 'cards.add-stamp'),
      };
    },
  },
  {
    name: 'points: redeem at a provider (Highlight)',
    kind: 'transaction',
    async arrange(pace) {
      const serial = sb.hl.seed.cards.stampVisit;
      slowAt(sb.hl, `^POST /cards/${serial}/`, paceMs(pace));
      return {
        path: '/v1/points/redeem',
        body: { card_id: `hl:${serial}`, points: 1, reason: 'in flight' },
        status: 201,
        writes: atProvider(sb.hl, 'cards.subtract-stamp'),
      };
    },
  },
  {
    name: 'cards: issue at a provider (Highlight)',
    kind: 'claim',
    async arrange(pace) {
      slowAt(sb.hl, '^POST /cards$', paceMs(pace));
      // The customer holds no card yet; a card of each template is a new card.
      const template = pace === 'slow' ? sb.hl.seed.templates.stamp : sb.hl.seed.templates.cashback;
      const writes = counter(sb.hl, 'cards.create');
      return {
        path: '/v1/cards',
        body: { connection: 'hl', program_id: `hl:${template}`, customer_id: `hl:${sb.hl.seed.customers.second}` },
        status: 201,
        writes: async () => writes(),
      };
    },
  },
  {
    name: 'cards: issue on the built-in ledger',
    kind: 'claim',
    async arrange(pace, key) {
      const issued = delayNext(builtin().ownCards, 'issue', paceMs(pace), (_id, body) => body.metadata?.case === key);
      return {
        path: '/v1/cards',
        body: { metadata: { case: key } },
        status: 201,
        writes: async () => issued(),
      };
    },
  },
  {
    name: 'customers: create at a provider (Highlight)',
    kind: 'claim',
    async arrange(pace, key) {
      slowAt(sb.hl, '^POST /customers$', paceMs(pace));
      const writes = counter(sb.hl, 'customers.create');
      return {
        path: '/v1/customers',
        body: { connection: 'hl', first_name: 'Ida', last_name: 'Flight', email: `${key}@example.com` },
        status: 201,
        writes: async () => writes(),
      };
    },
  },
  {
    name: 'customers: bulk create at a provider (Coupontools)',
    kind: 'claim',
    async arrange(pace, key) {
      slowAt(sb.ct, '/stats/bulk$', paceMs(pace));
      const writes = counter(sb.ct, 'bulk_create_users');
      return {
        path: '/v1/customers/bulk',
        body: {
          connection: 'ct',
          program_id: `ct:${sb.ct.seed.stampCardId}`,
          customers: [{ first_name: 'Bo', email: `${key}@example.com` }, { first_name: 'Cy' }],
        },
        status: 201,
        writes: async () => writes(),
      };
    },
  },
  {
    name: 'notifications: push at a provider (Highlight)',
    kind: 'claim',
    async arrange(pace) {
      slowAt(sb.hl, '^POST /pushes$', paceMs(pace));
      const writes = counter(sb.hl, 'pushes.create');
      return {
        path: '/v1/notifications',
        body: { connection: 'hl', program_id: `hl:${sb.hl.seed.templates.stamp}`, message: 'Only once' },
        status: 201,
        writes: async () => writes(),
      };
    },
  },
  {
    name: 'programs: copy at a provider (Coupontools)',
    kind: 'claim',
    async arrange(pace) {
      slowAt(sb.ct, '/copy$', paceMs(pace));
      const writes = counter(sb.ct, 'copy_loyalty_card');
      return {
        path: `/v1/programs/ct:${sb.ct.seed.stampCardId}/copy`,
        body: { name: 'Copied once' },
        status: 201,
        writes: async () => writes(),
      };
    },
  },
  {
    name: 'bulk: a job, items at a provider (202)',
    kind: 'claim',
    async arrange(pace, key) {
      // The request records the bulk and queues its job, calling no provider: that step is the slow one.
      delayNext(gw.gateway.bulk, 'record', paceMs(pace), (_id, _items, req) => req.idempotencyKey === key);
      const card = `hl:${sb.hl.seed.cards.gift}`;
      const writes = counter(sb.hl, 'cards.add-point');
      return {
        path: '/v1/points/bulk',
        body: {
          transactions: [
            { type: 'award', card_id: card, points: 3, reason: 'bulk 1' },
            { type: 'award', card_id: card, points: 4, reason: 'bulk 2' },
          ],
        },
        status: 202,
        // The answer is the bulk's progress as it stands: answers name the same bulk.
        same: (a, b) => expect(b.body.id).toBe(a.body.id),
        // A bulk job's answer does not say whether it was replayed.
        replayHeader: false,
        perRequest: 2,
        writes: async (first) => {
          const done = await completedBulk(first.body.id);
          for (const r of done.results as Body[]) expect(sb.hl.sim.appliedByTxn()[r.transaction.id]).toBe(1);
          return writes();
        },
      };
    },
  },
  {
    name: 'bulk: items on the built-in ledger (answered in the request)',
    kind: 'items',
    async arrange(pace) {
      const card = await issueCard(gw);
      // The first item's apply is slow: a duplicate meets it in flight.
      delayNext(builtin().ledger, 'apply', paceMs(pace), (txn) => txn.card_id === card);
      const ids = (r: Res) => (r.body.results as Body[]).map((x) => x.transaction?.id ?? null);
      return {
        path: '/v1/points/bulk',
        body: {
          transactions: [
            { type: 'award', card_id: card, points: 3, reason: 'bulk 1' },
            { type: 'award', card_id: card, points: 4, reason: 'bulk 2' },
          ],
        },
        status: 200,
        same: (a, b) => expect(ids(b)).toEqual(ids(a)),
        replayHeader: false,
        perRequest: 2,
        writes: async () => historyLength(card),
        judge(p, one, two) {
          for (const r of [one, two]) expect(r.status, r.text).toBe(200);
          if (p === 'quick') {
            // The duplicate waited for the first item and went on with the first: the same transactions.
            for (const r of [one, two]) expect(r.body).toMatchObject({ succeeded: 2, failed: 0 });
            expect(ids(two)).toEqual(ids(one));
            return one.body.results[0].replayed ? two : one;
          }
          // Each item is idempotent on its own: the duplicate gave up on the item in flight, and the items
          // after it are applied once, by whichever request came to them first.
          const gaveUp = (r: Res) => r.body.results[0].error?.code === 'idempotency_in_flight';
          const [first, dup] = gaveUp(one) ? [two, one] : [one, two];
          expect(dup.body.results[0], dup.text).toMatchObject({
            status: 409,
            error: { code: 'idempotency_in_flight' },
          });
          expect(dup.body).toMatchObject({ succeeded: 1, failed: 1 });
          expect(first.body).toMatchObject({ succeeded: 2, failed: 0 });
          expect(ids(dup)[1]).toBe(ids(first)[1]);
          return first;
        },
      };
    },
  },
];

/** Waits for a bulk job to finish (its items are applied by workers after the 202), and returns it. */
async function completedBulk(id: string): Promise<Body> {
  for (let i = 0; i < 200; i++) {
    const res = await gw.request('GET', `/v1/bulk/${id}`);
    expect(res.status, res.text).toBe(200);
    if (res.body.status === 'completed') {
      expect(res.body).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
      return res.body;
    }
    await sleep(50);
  }
  throw new Error(`bulk ${id} did not complete`);
}

async function runCase(family: Family, index: number, pace: Pace): Promise<void> {
  const key = `in-flight-${index}-${pace}`;
  const a = await family.arrange(pace, key);
  const same = a.same ?? ((x: Res, y: Res) => expect(y.body).toEqual(x.body));
  const replayHeader = a.replayHeader ?? true;
  const send = () => gw.request('POST', a.path, { body: a.body, headers: { 'idempotency-key': key } });

  // Sent together: one claims the key and is slow at its write; the other comes while it is in flight.
  const [one, two] = await Promise.all([send(), send()]);
  let first: Res;
  if (a.judge) first = a.judge(pace, one, two);
  else if (pace === 'slow' && family.kind === 'claim') {
    // The duplicate waited IDEMPOTENCY_WAIT_MS, then gave up, saying when to try again.
    const [ok, dup] = one.status === 409 ? [two, one] : [one, two];
    expect(ok.status, ok.text).toBe(a.status);
    expectProblem(dup, 409, 'idempotency_in_flight');
    expect(dup.headers.get('retry-after')).toBe('1');
    first = ok;
  } else {
    // The duplicate waited for the first, and answers what the first answered, as a replay.
    expect(one.status, one.text).toBe(a.status);
    expect(two.status, two.text).toBe(a.status);
    same(one, two);
    if (replayHeader) expect([one, two].filter(replayed)).toHaveLength(1);
    first = replayed(one) ? two : one;
  }
  expect(replayed(first)).toBe(false);

  // Once the first is done, the same request again is its replay...
  const again = await send();
  expect(again.status, again.text).toBe(a.status);
  same(first, again);
  if (replayHeader) expect(replayed(again)).toBe(true);
  // ...and the write was done once.
  expect(await a.writes(first)).toBe(a.perRequest ?? 1);
}

/**
 * A request that claims its key and then stops before its write (as a process that died there): the key
 * stays held until the claim's lease (30 s) runs out; then a retry takes the claim over and does the write.
 * The lease is made to run out by moving the gateway's clock (Date.now) past it, once `before` are done.
 */
async function stoppedClaimer(before: Promise<void>[]): Promise<void> {
  const card = await issueCard(gw);
  const body = { card_id: card, points: 7, reason: 'crash' };
  const headers = { 'idempotency-key': 'k-crash' };
  // The first request claims the key; then the ledger's apply fails (a failure that is no refusal).
  interceptFirst(
    builtin().ledger,
    'apply',
    (txn) => txn.card_id === card,
    async () => {
      throw new Error('the process stopped here');
    },
  );
  const stopped = await gw.request('POST', '/v1/points/award', { body, headers });
  expect(stopped.status, stopped.text).toBe(500);

  // Within its lease, the key is held: a retry waits IDEMPOTENCY_WAIT_MS, then gives up.
  const held = await gw.request('POST', '/v1/points/award', { body, headers });
  expectProblem(held, 409, 'idempotency_in_flight');
  expect(held.headers.get('retry-after')).toBe('1');
  expect(await historyLength(card)).toBe(0);

  // Once the lease has run out, a retry takes the claim over and applies the transaction, once.
  await Promise.allSettled(before); // the clock moves for the whole process: nothing else may run then
  const now = Date.now.bind(Date);
  const clock = vi.spyOn(Date, 'now').mockImplementation(() => now() + 31_000);
  let resumed: Res;
  try {
    resumed = await gw.request('POST', '/v1/points/award', { body, headers });
  } finally {
    clock.mockRestore();
  }
  expect(resumed.status, resumed.text).toBe(201);
  expect(resumed.body).toMatchObject({ card_id: card, status: 'succeeded', points: 7, balance_after: 7 });
  // It finished an earlier request's work, and says so.
  expect(resumed.headers.get('idempotent-replayed')).toBe('true');
  const again = await gw.request('POST', '/v1/points/award', { body, headers });
  expect(again.status).toBe(201);
  expect(again.body).toEqual(resumed.body);
  expect((await historyOf(gw, card)).map((e) => e.id)).toEqual([resumed.body.id]);
  expect((await gw.request('GET', `/v1/points/balance/${card}`)).body.available).toBe(7);
}

/**
 * Starts every family's slow case, then its quick one, and the stopped claimer; all side by side, on their
 * own (the quick cases count on the first finishing well within WAIT_MS, which a burst of other tests'
 * requests in this process could delay).
 */
function startInFlightCases(): Map<string, Promise<void>> {
  const cases = new Map<string, Promise<void>>();
  FAMILIES.forEach((f, i) => {
    const slow = runCase(f, i, 'slow');
    const quick = slow.catch(() => undefined).then(() => runCase(f, i, 'quick'));
    cases.set(`${f.name}/slow`, slow);
    cases.set(`${f.name}/quick`, quick);
  });
  cases.set('stopped', stoppedClaimer([...cases.values()]));
  // Each is awaited by its test; until then, a failure is not an unhandled rejection.
  for (const p of cases.values()) p.catch(() => undefined);
  return cases;
}

let inFlight = new Map<string, Promise<void>>();

describe('while the first request with an Idempotency-Key is in flight', () => {
  beforeAll(() => {
    inFlight = startInFlightCases();
  });

  describe('a duplicate', () => {
    for (const f of FAMILIES) {
      const slow =
        f.kind === 'claim'
          ? 'gives up after IDEMPOTENCY_WAIT_MS: 409 idempotency_in_flight with Retry-After; then the replay'
          : f.kind === 'transaction'
            ? 'waits for the transaction, even past IDEMPOTENCY_WAIT_MS; then the replay'
            : 'gives up on the item in flight (409 in its result), applying no item twice; then the replay';
      it(`${f.name}: ${slow}`, () => inFlight.get(`${f.name}/slow`));
      it(`${f.name}: waits for the first and answers what it answered; then the replay`, () =>
        inFlight.get(`${f.name}/quick`));
    }
  });

  it('a request that stopped after claiming its key holds it until its lease runs out; then a retry finishes its work, exactly once', () =>
    inFlight.get('stopped'));
});
