import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { award, expectProblem, issueCard, KEYS, type Res, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Whatever a client sends, the gateway answers with a problem (never a 5xx) and writes nothing.
 * Every test in the "barrage" block checks that the gateway's Redis keys are byte-for-byte unchanged.
 */

let gw: TestGateway;
let card: string;
let seedTxn: string;
/** Every response seen in this file: none may be a 5xx. */
const seen: Res[] = [];

beforeAll(async () => {
  gw = await startGateway();
  card = await issueCard(gw, { external_reference: 'malformed-seed' });
  const seed = await award(gw, card, 100, { reference_id: 'seed' });
  expect(seed.status).toBe(201);
  seedTxn = seed.body.id;
});
afterAll(async () => {
  for (const r of seen) expect(r.status, r.text).toBeLessThan(500);
  await gw?.close();
});

async function send(
  method: string,
  path: string,
  opts: Parameters<TestGateway['request']>[2] = {},
  g: TestGateway = gw,
): Promise<Res> {
  const res = await g.request(method, path, opts);
  seen.push(res);
  return res;
}

/** Every key under the gateway's prefix, with its DUMP: any write shows as a difference. */
async function snapshot(g: TestGateway = gw): Promise<Record<string, string>> {
  const keys: string[] = [];
  for await (const batch of g.redis.scanStream({ match: `{${g.prefix}}:*`, count: 1000 }))
    keys.push(...(batch as string[]));
  const out: Record<string, string> = {};
  for (const k of keys.sort()) out[k] = (await g.redis.dumpBuffer(k))?.toString('hex') ?? '(gone)';
  return out;
}

interface Target {
  name: string;
  path: () => string;
  /** A valid body: the barrage changes one thing in it. */
  valid: () => Record<string, unknown>;
  /** Fields that must be present. */
  required: string[];
  /** Which of the shared fields the body has. */
  fields: {
    points?: 'positive' | 'signed';
    card_id?: boolean;
    reason?: boolean;
    reference_id?: boolean;
    staff?: boolean;
    metadata?: boolean;
  };
}

const TARGETS: Target[] = [
  {
    name: 'award',
    path: () => '/v1/points/award',
    valid: () => ({ card_id: card, points: 5, reason: 'r' }),
    required: ['card_id', 'points', 'reason'],
    fields: { points: 'positive', card_id: true, reason: true, reference_id: true, staff: true, metadata: true },
  },
  {
    name: 'redeem',
    path: () => '/v1/points/redeem',
    valid: () => ({ card_id: card, points: 5, reason: 'r' }),
    required: ['card_id', 'points', 'reason'],
    fields: { points: 'positive', card_id: true, reason: true, reference_id: true, staff: true, metadata: true },
  },
  {
    name: 'adjust',
    path: () => '/v1/points/adjust',
    valid: () => ({ card_id: card, points: 5, reason: 'r' }),
    required: ['card_id', 'points', 'reason'],
    fields: { points: 'signed', card_id: true, reason: true, reference_id: true, staff: true, metadata: true },
  },
  {
    name: 'expire',
    path: () => '/v1/points/expire',
    valid: () => ({ card_id: card, points: 5 }),
    required: ['card_id'],
    fields: { points: 'positive', card_id: true, reason: true, staff: true },
  },
  {
    name: 'reverse',
    path: () => `/v1/transactions/${seedTxn}/reverse`,
    valid: () => ({ points: 5, reason: 'r' }),
    required: [],
    fields: { points: 'positive', reason: true, reference_id: true, staff: true },
  },
  {
    // Field-level checks on bulk run on one award item: it answers 200 with that item failed.
    name: 'bulk',
    path: () => '/v1/points/bulk',
    valid: () => ({ card_id: card, points: 5, reason: 'r' }),
    required: ['card_id', 'points', 'reason'],
    fields: { points: 'positive', card_id: true, reason: true, reference_id: true, staff: true, metadata: true },
  },
  {
    name: 'cards',
    path: () => '/v1/cards',
    valid: () => ({ external_reference: 'never-issued', customer: { first_name: 'Ada' } }),
    required: [],
    fields: { metadata: true },
  },
];

interface Refusal {
  status: number;
  code: string;
  errors: { field: string; message: string }[];
}

/** Sends a body to a target; for bulk, as its only item. Returns the refusal (asserting it is one). */
async function refuse(t: Target, body: unknown): Promise<Refusal> {
  if (t.name === 'bulk') {
    const res = await send('POST', t.path(), { body: { transactions: [{ type: 'award', ...(body as object) }] } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ succeeded: 0, failed: 1 });
    const item = res.body.results[0];
    expect(item.transaction).toBeUndefined();
    expect(item.replayed).toBe(false);
    expect(item.status).toBeGreaterThanOrEqual(400);
    expect(item.status).toBeLessThan(500);
    return {
      status: item.status,
      code: item.error.code,
      errors: (item.error.errors ?? []).map((e: { field: string; message: string }) => ({
        ...e,
        field: e.field.replace(/^\/transactions\/0/, ''),
      })),
    };
  }
  const res = await send('POST', t.path(), { body });
  expect(res.status, res.text).toBeGreaterThanOrEqual(400);
  expectProblem(res, res.status, res.body.code);
  return { status: res.status, code: res.body.code, errors: res.body.errors ?? [] };
}

async function expectFieldRefused(t: Target, body: unknown, field: string, code = 'validation_failed') {
  const r = await refuse(t, body);
  expect(r, `${t.name} ${JSON.stringify(body).slice(0, 200)}`).toMatchObject({ status: 400, code });
  expect(r.errors.map((e) => e.field)).toContain(field);
}

describe('barrage: nothing is written', () => {
  let before: Record<string, string>;
  beforeEach(async () => {
    before = await snapshot();
  });
  afterEach(async () => {
    expect(await snapshot()).toEqual(before);
  });

  describe.each(TARGETS.map((t) => [t.name, t] as const))('%s', (_name, t) => {
    it('refuses a body that is not JSON with invalid_json', async () => {
      for (const raw of ['{', '{"a":', '{"card_id": "x",}', "{'a': 1}", 'nul', '{"a":1}}', '\u0000']) {
        const res = await send('POST', t.path(), { rawBody: raw, headers: { 'content-type': 'application/json' } });
        expectProblem(res, 400, 'invalid_json');
      }
    });

    it('refuses JSON that is not an object with validation_failed on the body', async () => {
      for (const raw of ['null', '[]', '"str"', '1', 'true', '[{"card_id":"x"}]']) {
        const res = await send('POST', t.path(), { rawBody: raw, headers: { 'content-type': 'application/json' } });
        expectProblem(res, 400, 'validation_failed');
        expect(res.body.errors).toEqual([expect.objectContaining({ field: '/' })]);
      }
    });

    it('refuses __proto__ and constructor.prototype keys, and pollutes nothing', async () => {
      const valid = t.name === 'bulk' ? { transactions: [{ type: 'award', ...t.valid() }] } : t.valid();
      const inner = JSON.stringify(valid).slice(1, -1);
      for (const raw of [
        `{"__proto__":{"x":1},${inner}}`,
        `{${inner},"__proto__":{"polluted":true}}`,
        `{"constructor":{"prototype":{"x":1}},${inner}}`,
      ]) {
        const res = await send('POST', t.path(), { rawBody: raw, headers: { 'content-type': 'application/json' } });
        expectProblem(res, 400, 'invalid_json');
      }
      // The gateway runs in this process: a polluted prototype would show here.
      expect(({} as Record<string, unknown>).x).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('refuses an empty body sent as JSON', async () => {
      const res = await send('POST', t.path(), { rawBody: '', headers: { 'content-type': 'application/json' } });
      expectProblem(res, 400, 'invalid_json');
    });

    it('refuses other content types with 415 unsupported_media_type', async () => {
      const json = JSON.stringify(t.name === 'bulk' ? { transactions: [{ type: 'award', ...t.valid() }] } : t.valid());
      for (const type of [
        'text/plain',
        'text/plain; charset=utf-8',
        'application/x-www-form-urlencoded',
        'application/xml',
        'multipart/form-data; boundary=x',
      ]) {
        const res = await send('POST', t.path(), { rawBody: json, headers: { 'content-type': type } });
        expectProblem(res, 415, 'unsupported_media_type');
      }
    });

    it('refuses an unknown field, naming it', async () => {
      if (t.name === 'bulk') {
        const res = await send('POST', t.path(), {
          body: { transactions: [{ type: 'award', ...t.valid() }], bogus: 1 },
        });
        expectProblem(res, 400, 'validation_failed');
        expect(res.body.errors).toContainEqual(expect.objectContaining({ field: '/bogus' }));
      }
      await expectFieldRefused(t, { ...t.valid(), bogus: 1 }, '/bogus');
      await expectFieldRefused(t, { ...t.valid(), Points: 1 }, '/Points');
    });

    if (t.required.length > 0)
      it('lists every missing required field', async () => {
        const r = await refuse(t, {});
        expect(r).toMatchObject({ status: 400, code: 'validation_failed' });
        expect(r.errors.map((e) => e.field).sort()).toEqual(t.required.map((f) => `/${f}`).sort());
        for (const missing of t.required) {
          const body = t.valid();
          delete body[missing];
          const one = await refuse(t, body);
          expect(one.code).toBe(missing === 'points' ? 'invalid_points_amount' : 'validation_failed');
          expect(one.errors.map((e) => e.field)).toEqual([`/${missing}`]);
        }
      });

    if (t.fields.points !== undefined)
      it('refuses points of the wrong type with invalid_points_amount', async () => {
        for (const points of ['10', '', true, false, null, [], [10], {}, { value: 10 }]) {
          await expectFieldRefused(t, { ...t.valid(), points }, '/points', 'invalid_points_amount');
        }
      });

    if (t.fields.points !== undefined)
      it('refuses zero, negative, fractional and enormous points with invalid_points_amount', async () => {
        const values =
          t.fields.points === 'signed'
            ? [
                0,
                1.5,
                -1.5,
                0.0001,
                1e300,
                -1e300,
                2 ** 53,
                -(2 ** 53),
                1_000_000_001,
                -1_000_000_001,
                Number.MAX_SAFE_INTEGER,
              ]
            : [0, -1, -100, 1.5, 0.0001, 1e300, -1e300, 2 ** 53, 1_000_000_001, Number.MAX_SAFE_INTEGER];
        for (const points of values) {
          const r = await refuse(t, { ...t.valid(), points });
          expect(r, String(points)).toMatchObject({ status: 400, code: 'invalid_points_amount' });
          expect(r.errors.length).toBeGreaterThan(0);
          expect(r.errors.map((e) => e.field)).toEqual(r.errors.map(() => '/points'));
        }
        if (t.name !== 'bulk') {
          // Numbers JSON.stringify cannot write: 1e400 parses to Infinity, -0 to -0.
          for (const literal of ['1e400', '-1e400', '-0', '1.0000000001', '1E3000']) {
            const body = `${JSON.stringify({ ...t.valid(), points: undefined }).slice(0, -1)},"points":${literal}}`;
            const res = await send('POST', t.path(), {
              rawBody: body,
              headers: { 'content-type': 'application/json' },
            });
            expectProblem(res, 400, 'invalid_points_amount');
          }
        }
      });

    it('refuses other fields of the wrong type, naming the field', async () => {
      const cases: [string, unknown][] = [];
      if (t.fields.card_id) cases.push(['card_id', 12], ['card_id', null], ['card_id', ['ledger:x']]);
      if (t.fields.reason) cases.push(['reason', 5], ['reason', null], ['reason', { text: 'x' }], ['reason', '']);
      if (t.fields.reference_id) cases.push(['reference_id', 7], ['reference_id', null], ['reference_id', '']);
      if (t.fields.staff) cases.push(['staff', []], ['staff', false]);
      if (t.fields.metadata) cases.push(['metadata', 'x'], ['metadata', [1, 2]], ['metadata', null], ['metadata', 3]);
      if (t.name === 'cards') {
        cases.push(
          ['customer', 'ada'],
          ['customer', []],
          ['external_reference', 42],
          ['connection', 1],
          ['connection', 'Not Valid'],
        );
      }
      if (t.name === 'award' || t.name === 'adjust')
        cases.push(['expires_at', 'tomorrow'], ['expires_at', 1_900_000_000_000]);
      if (t.name === 'expire') cases.push(['before', 'yesterday'], ['before', 0]);
      for (const [field, value] of cases) await expectFieldRefused(t, { ...t.valid(), [field]: value }, `/${field}`);
    });

    if (t.fields.metadata)
      it('refuses metadata over 1 KB on /metadata', async () => {
        for (const metadata of [
          { blob: 'x'.repeat(1100) },
          Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, 'v'.repeat(30)])),
          { emoji: '😀'.repeat(300) },
        ]) {
          await expectFieldRefused(t, { ...t.valid(), metadata }, '/metadata');
        }
        await expectFieldRefused(
          t,
          { ...t.valid(), metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 1])) },
          '/metadata',
        );
      });

    if (t.fields.reference_id)
      it('refuses control characters in reference_id', async () => {
        for (const ref of ['a\u0000b', 'line\nbreak', 'tab\there', '\r', 'esc\u001b[31m', 'del\u007f', '\u0001']) {
          await expectFieldRefused(t, { ...t.valid(), reference_id: ref }, '/reference_id');
        }
      });

    it('refuses strings that are too long, naming the field', async () => {
      const cases: [string, unknown][] = [];
      if (t.fields.reason) cases.push(['reason', 'r'.repeat(501)], ['reason', 'r'.repeat(100_000)]);
      if (t.fields.reference_id) cases.push(['reference_id', 'x'.repeat(129)]);
      if (t.fields.staff) cases.push(['staff', 's'.repeat(129)]);
      if (t.name === 'cards') {
        cases.push(['external_reference', 'e'.repeat(129)], ['connection', 'c'.repeat(33)]);
      }
      for (const [field, value] of cases) await expectFieldRefused(t, { ...t.valid(), [field]: value }, `/${field}`);
      if (t.name === 'cards') {
        await expectFieldRefused(t, { customer: { first_name: 'f'.repeat(101) } }, '/customer/first_name');
        await expectFieldRefused(t, { customer: { email: `${'a'.repeat(250)}@example.com` } }, '/customer/email');
      }
    });

    if (t.fields.card_id)
      it('refuses a malformed card_id', async () => {
        for (const id of [
          'nocolon',
          'ledger:c x',
          ' ledger:c_1',
          'ledger:c_1 ',
          'ledger:',
          ':c_1',
          'LEDGER:c_1',
          'ledger:c_1\n',
          'led ger:c_1',
          'ledger:c/1',
          'ledger:c_é',
          `ledger:${'a'.repeat(293)}`,
          'x'.repeat(300),
          '',
        ]) {
          await expectFieldRefused(t, { ...t.valid(), card_id: id }, '/card_id');
        }
      });
  });

  describe('cards', () => {
    const cards = TARGETS.find((t) => t.name === 'cards')!;
    it('refuses a bad customer, naming the field', async () => {
      await expectFieldRefused(cards, { customer: { email: 'not-an-email' } }, '/customer/email');
      await expectFieldRefused(cards, { customer: { phone: 'call me' } }, '/customer/phone');
      await expectFieldRefused(cards, { customer: { birthday: '31/12/1990' } }, '/customer/birthday');
      await expectFieldRefused(cards, { customer: { nickname: 'x' } }, '/customer/nickname');
      await expectFieldRefused(cards, { external_reference: 'a\nb' }, '/external_reference');
      await expectFieldRefused(cards, { external_reference: '' }, '/external_reference');
    });
  });

  describe('bulk, as a whole', () => {
    it('refuses a bad transactions list', async () => {
      for (const body of [
        {},
        { transactions: [] },
        { transactions: {} },
        { transactions: 'x' },
        { transactions: null },
      ]) {
        const res = await send('POST', '/v1/points/bulk', { body });
        expectProblem(res, 400, 'validation_failed');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['/transactions']);
      }
    });

    it('refuses every malformed item on its own, with succeeded 0', async () => {
      const items = [
        null,
        1,
        'x',
        [],
        {},
        { type: 'reverse', card_id: card, points: 1, reason: 'r' },
        { type: 'award', card_id: card, points: '1', reason: 'r' },
      ];
      const res = await send('POST', '/v1/points/bulk', { body: { transactions: items } });
      expect(res.status).toBe(200);
      expect(res.body.succeeded).toBe(0);
      expect(res.body.failed).toBe(items.length);
      expect(res.body.results.map((r: { index: number }) => r.index)).toEqual(items.map((_, i) => i));
      expect(res.body.results.map((r: { error: { code: string } }) => r.error.code)).toEqual([
        ...Array(6).fill('validation_failed'),
        'invalid_points_amount',
      ]);
    });
  });

  describe('reverse path', () => {
    it('refuses a transaction id that is too long', async () => {
      const res = await send('POST', `/v1/transactions/${'t'.repeat(65)}/reverse`, { body: {} });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field: '/id' }));
    });
  });

  describe('Idempotency-Key header', () => {
    const awardBody = () => ({ card_id: card, points: 1, reason: 'idem' });
    it('refuses empty, too long and non-printable keys', async () => {
      for (const key of ['', '   ', '""', 'k'.repeat(256), `"${'k'.repeat(256)}"`, 'a\tb', 'café']) {
        for (const t of ['/v1/points/award', '/v1/points/bulk', '/v1/cards']) {
          const body =
            t === '/v1/points/bulk'
              ? { transactions: [{ type: 'award', ...awardBody() }] }
              : t === '/v1/cards'
                ? {}
                : awardBody();
          const res = await send('POST', t, { body, headers: { 'idempotency-key': key } });
          expectProblem(res, 400, 'invalid_idempotency_key');
        }
      }
    });
  });

  it('left the card as it was', async () => {
    const hist = await send('GET', `/v1/points/history/${card}`);
    expect(hist.body.data.map((t: { id: string }) => t.id)).toEqual([seedTxn]);
    const seed = await send('GET', `/v1/transactions/${seedTxn}`);
    expect(seed.body).toMatchObject({ reversed_points: 0, points: 100 });
  });
});

describe('accepted input', () => {
  it('takes a 255-character Idempotency-Key and replays on it', async () => {
    const c = await issueCard(gw);
    const key = 'k'.repeat(255);
    const first = await send('POST', '/v1/points/award', {
      body: { card_id: c, points: 3, reason: 'r' },
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    const again = await send('POST', '/v1/points/award', {
      body: { card_id: c, points: 3, reason: 'r' },
      headers: { 'idempotency-key': `"${key}"` },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await send('GET', `/v1/points/balance/${c}`)).body.available).toBe(3);
  });

  it('keeps unicode in reason and reference_id exactly, without normalizing it', async () => {
    const c = await issueCard(gw);
    const values = [
      { reason: 'Bonus 🎉👍🏽 for the family 👨‍👩‍👧‍👦', reference_id: 'order-🎉-1' },
      { reason: 'שלום עולם — مرحبا بالعالم', reference_id: 'הזמנה-٤٢' },
      {
        reason: 'Cafe\u0301 vs Café; Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319',
        reference_id: 'cafe\u0301',
      },
      { reason: 'NFC', reference_id: 'caf\u00e9' },
      { reason: '\u202eevil override\u202c and zero\u200bwidth\ufeff', reference_id: '\u202e\u0644\u0627 a\u200db' },
      { reason: '漢字かなカナ한국어 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎', reference_id: '𠜎-𝔘' },
    ];
    const ids: string[] = [];
    for (const v of values) {
      const res = await award(gw, c, 1, v);
      seen.push(res);
      expect(res.status, res.text).toBe(201);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
      expect(res.body.reason).toBe(v.reason);
      expect(res.body.reference_id).toBe(v.reference_id);
      const got = await send('GET', `/v1/transactions/${res.body.id}`);
      expect(got.body.reason).toBe(v.reason);
      expect(got.body.reference_id).toBe(v.reference_id);
      const byRef = await send('GET', `/v1/points/history/${c}?reference_id=${encodeURIComponent(v.reference_id)}`);
      expect(byRef.status).toBe(200);
      expect(byRef.body.data.map((t: { id: string }) => t.id)).toEqual([res.body.id]);
      ids.push(res.body.id);
    }
    // 'cafe\u0301' and 'caf\u00e9' are different references: two transactions.
    expect(new Set(ids).size).toBe(values.length);
    // The same reference again is the same transaction, however it looks.
    for (const v of values) {
      const again = await award(gw, c, 1, v);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    }
    expect((await send('GET', `/v1/points/balance/${c}`)).body.available).toBe(values.length);
  });

  it('takes unicode in a card external_reference and metadata up to 1 KB', async () => {
    const metadata = { note: 'é'.repeat(400), tag: '🎉' };
    expect(Buffer.byteLength(JSON.stringify(metadata))).toBeLessThanOrEqual(1024);
    const res = await send('POST', '/v1/cards', { body: { external_reference: 'клиент-🎉-\u05d0', metadata } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ external_reference: 'клиент-🎉-\u05d0', metadata });
    const a = await award(gw, res.body.id, 1, { metadata });
    expect(a.status, a.text).toBe(201);
    expect(a.body.metadata).toEqual(metadata);
  });
});

describe('body size', () => {
  let small: TestGateway;
  beforeAll(async () => {
    small = await startGateway({ env: { BODY_LIMIT_BYTES: '2048' } });
  });
  afterAll(async () => small?.close());

  it('answers 413 payload_too_large above BODY_LIMIT_BYTES on every POST, writing nothing', async () => {
    const c = await issueCard(small);
    const txn = (await award(small, c, 10)).body.id as string;
    const before = await snapshot(small);
    const big = 'x'.repeat(3000);
    const bodies: [string, unknown][] = [
      ['/v1/points/award', { card_id: c, points: 1, reason: big }],
      ['/v1/points/redeem', { card_id: c, points: 1, reason: big }],
      ['/v1/points/adjust', { card_id: c, points: 1, reason: big }],
      ['/v1/points/expire', { card_id: c, reason: big }],
      [
        '/v1/points/bulk',
        {
          transactions: Array.from({ length: 40 }, () => ({
            type: 'award',
            card_id: c,
            points: 1,
            reason: 'bulk item padding',
          })),
        },
      ],
      ['/v1/cards', { external_reference: big }],
      [`/v1/transactions/${txn}/reverse`, { reason: big }],
    ];
    for (const [path, body] of bodies) {
      expect(JSON.stringify(body).length).toBeGreaterThan(2048);
      const res = await send('POST', path, { body }, small);
      expectProblem(res, 413, 'payload_too_large');
    }
    // Also when the size is not announced up front (chunked).
    const chunks = [JSON.stringify({ card_id: c, points: 1, reason: big })];
    const stream = new ReadableStream({
      pull(ctrl) {
        const next = chunks.shift();
        if (next === undefined) ctrl.close();
        else ctrl.enqueue(new TextEncoder().encode(next));
      },
    });
    const res = await fetch(`${small.url}/v1/points/award`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { code: string }).code).toBe('payload_too_large');
    expect(await snapshot(small)).toEqual(before);

    // Just under the limit is fine.
    const ok = await send(
      'POST',
      '/v1/points/award',
      { body: { card_id: c, points: 1, reason: 'y'.repeat(400), metadata: { pad: 'p'.repeat(900) } } },
      small,
    );
    expect(ok.status, ok.text).toBe(201);
  });
});
