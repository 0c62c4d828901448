import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/domain/errors.js';
import { LocalRequestGate } from '../../src/providers/http/local-gate.js';

// The in-process rate-limit gate: a request counts from acquire until one window after its release.
// Windows are short (200 ms); the time checks only say "not before", never "within".

const WINDOW_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function refusal(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('LocalRequestGate', () => {
  it('lets N requests in at once; the N+1th waits until a window after the first release', async () => {
    const gate = new LocalRequestGate({ requests: 3, perSeconds: WINDOW_MS / 1000 });
    const releases = await Promise.all([1, 2, 3].map(() => gate.acquire('test')));
    expect(gate.held()).toBe(3);

    let fourthAt = 0;
    const fourth = gate.acquire('test').then((release) => {
      fourthAt = Date.now();
      return release;
    });
    // While all three are in flight, no slot frees, however long they take.
    await sleep(WINDOW_MS + 100);
    expect(fourthAt).toBe(0);

    const releasedAt = Date.now();
    releases[0]!();
    (await fourth)();
    expect(fourthAt - releasedAt).toBeGreaterThanOrEqual(WINDOW_MS - 5);
    releases[1]!();
    releases[2]!();
  });

  it('counts a released request for a full window after its release', async () => {
    const gate = new LocalRequestGate({ requests: 1, perSeconds: WINDOW_MS / 1000 });
    (await gate.acquire('test'))();
    const releasedAt = Date.now();
    const release = await gate.acquire('test');
    expect(Date.now() - releasedAt).toBeGreaterThanOrEqual(WINDOW_MS - 5);
    release();
    release(); // a second call changes nothing
    expect(gate.held()).toBe(1);
  });

  it('block() holds every acquire until then, and only ever extends', async () => {
    const gate = new LocalRequestGate(null);
    const until = Date.now() + WINDOW_MS;
    await gate.block(until);
    await gate.block(until - 100); // a shorter block does not shorten it
    const release = await gate.acquire('test');
    expect(Date.now()).toBeGreaterThanOrEqual(until - 5);
    release();
    // Without a limit, nothing else holds a request.
    const t0 = Date.now();
    await Promise.all([1, 2, 3, 4, 5].map(() => gate.acquire('test')));
    expect(Date.now() - t0).toBeLessThan(WINDOW_MS);
  });

  it('refuses, applied no with retry-after, when the wait would pass maxWaitMs', async () => {
    const gate = new LocalRequestGate({ requests: 1, perSeconds: 2 });
    const release = await gate.acquire('test');
    // In flight: the wait is at least the 2 s window.
    const inFlight = await refusal(gate.acquire('Highlight (connection hl) GET /cards/1', 500));
    expect(inFlight).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
    expect(inFlight.extra.retryAfter).toBe('2');
    expect(inFlight.message).toContain('Highlight (connection hl) GET /cards/1');
    release();
    // Released: the exact wait is known (about 2 s).
    const released = await refusal(gate.acquire('test', 500));
    expect(Number(released.extra.retryAfter)).toBeGreaterThanOrEqual(1);

    const blocked = new LocalRequestGate(null);
    await blocked.block(Date.now() + 5000);
    const b = await refusal(blocked.acquire('test', 100));
    expect(b).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
    expect(b.extra.retryAfter).toBe('5');
  });

  it('waits when the wait fits in maxWaitMs', async () => {
    const gate = new LocalRequestGate({ requests: 1, perSeconds: WINDOW_MS / 1000 });
    (await gate.acquire('test'))();
    const release = await gate.acquire('test', 2000);
    release();
  });
});
