import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as Verifier } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/lib/time.js';
import { expectProblem, issueCard, KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Events out: subscriptions, deliveries signed as Standard Webhooks specifies (checked with the
 * reference implementation, `standardwebhooks`, not with our code), retries with the same
 * webhook-id, a receiver that hangs or keeps failing, secret rotation, redelivery, private URLs.
 */

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver: records every delivery; `answer` decides each status (null: never answer). */
class Receiver {
  readonly got: Received[] = [];
  answer: (n: number) => number | null = () => 200;
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const status = this.answer(this.got.length);
        if (status === null) return; // hangs
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((ok) => this.server?.close(ok));
  }

  /** Waits for `n` deliveries in all (at most ~15 s). */
  async waitFor(n: number): Promise<Received[]> {
    for (let i = 0; i < 150 && this.got.length < n; i++) await sleep(100);
    expect(this.got.length, 'deliveries received').toBeGreaterThanOrEqual(n);
    return this.got;
  }

  events(): { id: string; type: string; data: Record<string, unknown> }[] {
    return this.got.map((g) => JSON.parse(g.body));
  }
}

const verify = (secret: string, r: Received) =>
  new Verifier(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

let gw: TestGateway;
let card: string;
const receivers: Receiver[] = [];
const receiver = async () => {
  const r = await new Receiver().start();
  receivers.push(r);
  return r;
};

beforeAll(async () => {
  gw = await startGateway({
    env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,1,1', WEBHOOK_TIMEOUT_MS: '500' },
  });
  card = await issueCard(gw);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all(receivers.map((r) => r.stop()));
});

const subscribe = async (url: string, events: string[] = ['*'], g = gw) => {
  const res = await g.request('POST', '/v1/webhooks', { body: { url, events }, key: KEYS.admin });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; secret: string };
};
const award = async (points = 5, key?: string) => {
  const res = await gw.request('POST', '/v1/points/award', {
    body: { card_id: card, points, reason: 'Order' },
    headers: key ? { 'idempotency-key': key } : {},
  });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string };
};

describe('webhook deliveries', () => {
  it('delivers a transaction event, signed (verified with standardwebhooks), and shows it in /v1/events', async () => {
    const rx = await receiver();
    const sub = await subscribe(rx.url, ['transaction.succeeded']);
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    expect(sub).toMatchObject({ url: rx.url, events: ['transaction.succeeded'], disabled: false });
    const seen = await gw.request('GET', `/v1/webhooks/${sub.id}`, { key: KEYS.admin });
    expect(seen.body.secret).toBeUndefined();
    expect(JSON.stringify((await gw.request('GET', '/v1/webhooks', { key: KEYS.admin })).body)).not.toContain(
      sub.secret,
    );

    const txn = await award(7, 'wh-first');
    const [got] = await rx.waitFor(1);
    const verified = verify(sub.secret, got!) as { id: string; type: string; data: { id: string } };
    expect(verified).toMatchObject({
      type: 'transaction.succeeded',
      data: { id: txn.id, points: 7, status: 'succeeded' },
    });
    expect(got!.headers['webhook-id']).toBe(verified.id);
    expect(got!.headers['content-type']).toBe('application/json');
    // Tampered with: the reference implementation refuses it.
    expect(() => verify(sub.secret, { ...got!, body: got!.body.replace('"points":7', '"points":8') })).toThrow();

    // A replay of the same request is no new event.
    await award(7, 'wh-first');
    const events = await gw.request('GET', '/v1/events?type=transaction.succeeded', { key: KEYS.admin });
    expect(events.body.data.filter((e: { data: { id: string } }) => e.data.id === txn.id)).toHaveLength(1);
    const attempts = await gw.request('GET', `/v1/webhooks/${sub.id}/deliveries`, { key: KEYS.admin });
    expect(attempts.body.data[0]).toMatchObject({
      event_id: verified.id,
      attempt: 1,
      status_code: 200,
      outcome: 'delivered',
    });
    await gw.request('DELETE', `/v1/webhooks/${sub.id}`, { key: KEYS.admin });
  });

  it('retries a failing receiver with the same webhook-id until it answers 2xx', async () => {
    const rx = await receiver();
    rx.answer = (n) => (n <= 2 ? 500 : 204);
    const sub = await subscribe(rx.url);
    await award(3);
    const got = await rx.waitFor(3);
    expect(new Set(got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    for (const g of got) verify(sub.secret, g);
    let attempts: { attempt: number; outcome: string; status_code: number; next_attempt_at: string | null }[] = [];
    for (let i = 0; i < 50 && attempts.length < 3; i++) {
      attempts = (await gw.request('GET', `/v1/webhooks/${sub.id}/deliveries`, { key: KEYS.admin })).body.data;
      if (attempts.length < 3) await sleep(100);
    }
    expect(attempts.map((a) => [a.attempt, a.outcome, a.status_code])).toEqual([
      [3, 'delivered', 204],
      [2, 'retrying', 500],
      [1, 'retrying', 500],
    ]);
    expect(attempts[1]!.next_attempt_at).not.toBeNull();
    const after = await gw.request('GET', `/v1/webhooks/${sub.id}`, { key: KEYS.admin });
    expect(after.body).toMatchObject({ disabled: false, failing_since: null });
    await gw.request('DELETE', `/v1/webhooks/${sub.id}`, { key: KEYS.admin });
  });

  it('a receiver that hangs: the transaction is answered anyway, the attempt times out and is retried', async () => {
    const rx = await receiver();
    rx.answer = (n) => (n === 1 ? null : 200);
    const sub = await subscribe(rx.url);
    await award(2);
    const got = await rx.waitFor(2);
    expect(got[0]!.headers['webhook-id']).toBe(got[1]!.headers['webhook-id']);
    let attempts: { outcome: string; error: string | null; status_code: number | null }[] = [];
    for (let i = 0; i < 50 && attempts.length < 2; i++) {
      attempts = (await gw.request('GET', `/v1/webhooks/${sub.id}/deliveries`, { key: KEYS.admin })).body.data;
      if (attempts.length < 2) await sleep(100);
    }
    expect(attempts[1]).toMatchObject({ outcome: 'retrying', status_code: null, error: 'no answer within 500 ms' });
    expect(attempts[0]).toMatchObject({ outcome: 'delivered', status_code: 200 });
    await gw.request('DELETE', `/v1/webhooks/${sub.id}`, { key: KEYS.admin });
  });

  it('only the types subscribed to; a reversal is transaction.reversed; a disabled subscription gets nothing', async () => {
    const rx = await receiver();
    const sub = await subscribe(rx.url, ['transaction.reversed']);
    const off = await receiver();
    const disabled = await subscribe(off.url);
    const patched = await gw.request('PATCH', `/v1/webhooks/${disabled.id}`, {
      body: { disabled: true },
      key: KEYS.admin,
    });
    expect(patched.body).toMatchObject({ disabled: true, disabled_reason: 'Disabled by an admin.' });

    const txn = await award(10);
    const rev = await gw.request('POST', `/v1/transactions/${txn.id}/reverse`, { body: { points: 4 } });
    expect(rev.status, rev.text).toBe(201);
    const [got] = await rx.waitFor(1);
    expect(verify(sub.secret, got!)).toMatchObject({
      type: 'transaction.reversed',
      data: { id: txn.id, reversal_id: rev.body.id, reversed_points: 4 },
    });
    await sleep(600);
    expect(rx.got).toHaveLength(1);
    expect(off.got).toHaveLength(0);
    await gw.request('DELETE', `/v1/webhooks/${sub.id}`, { key: KEYS.admin });
    await gw.request('DELETE', `/v1/webhooks/${disabled.id}`, { key: KEYS.admin });
  });

  it('cards issued and blocked are events too', async () => {
    const rx = await receiver();
    const sub = await subscribe(rx.url, ['card.issued', 'card.blocked']);
    const c = await issueCard(gw);
    const blocked = await gw.request('PATCH', `/v1/cards/${c}`, { body: { status: 'blocked' }, key: KEYS.admin });
    expect(blocked.status, blocked.text).toBe(200);
    const got = await rx.waitFor(2);
    // Deliveries are not ordered: by type.
    const events = got
      .map((g) => verify(sub.secret, g) as { type: string })
      .sort((x, y) => x.type.localeCompare(y.type));
    expect(events).toMatchObject([
      { type: 'card.blocked', data: { id: c, status: 'blocked' } },
      { type: 'card.issued', data: { id: c } },
    ]);
    await gw.request('DELETE', `/v1/webhooks/${sub.id}`, { key: KEYS.admin });
  });

  it('a rotated secret: both sign for a while; redelivery sends the same webhook-id again', async () => {
    const rx = await receiver();
    const sub = await subscribe(rx.url, ['transaction.succeeded']);
    const rotated = await gw.request('POST', `/v1/webhooks/${sub.id}/rotate-secret`, { key: KEYS.admin });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(sub.secret);
    await award(1);
    const [got] = await rx.waitFor(1);
    expect(String(got!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    const event = verify(rotated.body.secret, got!) as { id: string };
    verify(sub.secret, got!);

    const again = await gw.request('POST', `/v1/events/${event.id}/redeliver`, { key: KEYS.admin });
    expect(again.status, again.text).toBe(202);
    expect(again.body).toEqual({ event_id: event.id, webhook_ids: [sub.id] });
    const both = await rx.waitFor(2);
    expect(both[1]!.headers['webhook-id']).toBe(event.id);
    expectProblem(
      await gw.request('POST', '/v1/events/evt_01JD3X7B2C4D6E8F0G2H4J6K8M/redeliver', { key: KEYS.admin }),
      404,
      'event_not_found',
    );
    await gw.request('DELETE', `/v1/webhooks/${sub.id}`, { key: KEYS.admin });
  });

  it('a subscription failing past WEBHOOK_DISABLE_AFTER_HOURS is disabled, with the reason', async () => {
    const g = await startGateway({
      env: {
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_SCHEDULE_SECONDS: '1,1,1,1,1',
        WEBHOOK_DISABLE_AFTER_HOURS: '0.0004',
      },
    });
    try {
      const rx = await receiver();
      rx.answer = () => 503;
      const sub = await subscribe(rx.url, ['*'], g);
      const c = await issueCard(g);
      const res = await g.request('POST', '/v1/points/award', { body: { card_id: c, points: 1, reason: 'x' } });
      expect(res.status).toBe(201);
      let wh: { disabled: boolean; disabled_reason: string | null } = { disabled: false, disabled_reason: null };
      for (let i = 0; i < 100 && !wh.disabled; i++) {
        await sleep(100);
        wh = (await g.request('GET', `/v1/webhooks/${sub.id}`, { key: KEYS.admin })).body;
      }
      expect(wh.disabled).toBe(true);
      expect(wh.disabled_reason).toMatch(/^Every delivery failed since .* \(the last: the receiver answered 503\)\.$/);
      const attempts = (await g.request('GET', `/v1/webhooks/${sub.id}/deliveries`, { key: KEYS.admin })).body.data;
      expect(attempts[0].outcome).toBe('failed');
    } finally {
      await g.close();
    }
  });
});

describe('webhook URLs', () => {
  it('refuses loopback, private and unresolvable addresses unless WEBHOOK_ALLOW_PRIVATE', async () => {
    const strict = await startGateway();
    try {
      for (const url of [
        'http://127.0.0.1:9/hook',
        'http://localhost/hook',
        'http://10.1.2.3/hook',
        'http://192.168.1.10/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]/hook',
        'http://[::ffff:127.0.0.1]/hook',
        'http://[64:ff9b::a9fe:a9fe]/latest/meta-data',
        'http://no-such-host.invalid/hook',
      ]) {
        const res = await strict.request('POST', '/v1/webhooks', { body: { url, events: ['*'] }, key: KEYS.admin });
        expectProblem(res, 400, 'validation_failed');
        expect(res.body.errors[0].field, url).toBe('/url');
      }
      expectProblem(
        await strict.request('POST', '/v1/webhooks', {
          body: { url: 'ftp://example.com/x', events: ['*'] },
          key: KEYS.admin,
        }),
        400,
        'validation_failed',
      );
      expectProblem(
        await strict.request('POST', '/v1/webhooks', {
          body: { url: 'https://example.com/x', events: ['*'] },
          key: KEYS.write,
        }),
        403,
        'forbidden',
      );
      expect((await strict.request('GET', '/v1/webhooks', { key: KEYS.admin })).body.data).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});

describe('subscribing', () => {
  it('is once per Idempotency-Key: a retried request answers the same subscription and secret', async () => {
    const rx = await receiver();
    const ask = () =>
      gw.request('POST', '/v1/webhooks', {
        body: { url: rx.url, events: ['*'] },
        key: KEYS.admin,
        headers: { 'idempotency-key': 'subscribe-once' },
      });
    const [a, b] = [await ask(), await ask()];
    expect(a.status, a.text).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    const all = (await gw.request('GET', '/v1/webhooks', { key: KEYS.admin })).body.data as { url: string }[];
    expect(all.filter((w) => w.url === rx.url)).toHaveLength(1);
    await gw.request('DELETE', `/v1/webhooks/${a.body.id}`, { key: KEYS.admin });
  });
});
