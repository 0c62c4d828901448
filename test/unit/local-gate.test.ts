import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../src/domain/errors.js';
import { LocalRequestGate } from '../../src/providers/http/local-gate.js';

// The in-process rate-limit gate: a request counts from acquire until one window after its release.
// The clock is vitest's fake one: the tests move time themselves, so a busy machine cannot make them
// pass or fail, and "when" is read off the clock the gate itself reads.

const WINDOW_MS = 200;

/** Settles to the ProviderError `p` rejects with; fails the test if it resolves. */
async function refusal(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** Tracks when (on the fake clock) an acquire resolved; null while it waits. */
function track(p: Promise<() => void>) {
  const t = { at: null as number | null, release: null as (() => void) | null };
  void p.then((release) => {
    t.at = Date.now();
    t.release = release;
  });
  return t;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LocalRequestGate', () => {
  it('lets N requests in at once; the N+1th waits until a window after the first release', async () => {
    const gate = new LocalRequestGate({ requests: 3, perSeconds: WINDOW_MS / 1000 });
    const releases = await Promise.all([1, 2, 3].map(() => gate.acquire('test')));
    expect(gate.held()).toBe(3);

    const fourth = track(gate.acquire('test'));
    // While all three are in flight, no slot frees, however long they take.
    await vi.advanceTimersByTimeAsync(10 * WINDOW_MS);
    expect(fourth.at).toBeNull();

    const releasedAt = Date.now();
    releases[0]!();
    await vi.advanceTimersByTimeAsync(WINDOW_MS - 1);
    expect(fourth.at).toBeNull(); // not one ms before the window has passed
    await vi.advanceTimersByTimeAsync(50);
    expect(fourth.at).not.toBeNull();
    expect(fourth.at! - releasedAt).toBeGreaterThanOrEqual(WINDOW_MS);
    expect(gate.held()).toBe(3); // the released one stops counting as the fourth starts
  });

  it('counts a released request for a full window after its release', async () => {
    const gate = new LocalRequestGate({ requests: 1, perSeconds: WINDOW_MS / 1000 });
    (await gate.acquire('test'))();
    expect(gate.held()).toBe(1);
    const second = track(gate.acquire('test'));
    await vi.advanceTimersByTimeAsync(WINDOW_MS - 1);
    expect(second.at).toBeNull();
    await vi.advanceTimersByTimeAsync(2);
    expect(second.at).not.toBeNull();
    second.release!();
    second.release!(); // a second call changes nothing
    expect(gate.held()).toBe(1);
    await vi.advanceTimersByTimeAsync(WINDOW_MS);
    expect(gate.held()).toBe(0);
  });

  it('block() holds every acquire until then, and only ever extends', async () => {
    const gate = new LocalRequestGate(null);
    const until = Date.now() + WINDOW_MS;
    await gate.block(until);
    await gate.block(until - 100); // a shorter block does not shorten it
    const held = track(gate.acquire('test'));
    await vi.advanceTimersByTimeAsync(WINDOW_MS - 1);
    expect(held.at).toBeNull();
    await vi.advanceTimersByTimeAsync(2);
    expect(held.at).toBeGreaterThanOrEqual(until);
    held.release!();
    // Without a limit, nothing else holds a request: five acquires resolve without the clock moving.
    const five = [1, 2, 3, 4, 5].map(() => track(gate.acquire('test')));
    await vi.advanceTimersByTimeAsync(0);
    expect(five.map((t) => t.at)).toEqual(Array(5).fill(Date.now()));
    expect(gate.held()).toBe(5);
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
    // Released half a second ago: the exact wait is known (1.5 s, rounded up).
    await vi.advanceTimersByTimeAsync(500);
    const released = await refusal(gate.acquire('test', 500));
    expect(released.extra.retryAfter).toBe('2');
    await vi.advanceTimersByTimeAsync(600);
    expect((await refusal(gate.acquire('test', 500))).extra.retryAfter).toBe('1');

    const blocked = new LocalRequestGate(null);
    await blocked.block(Date.now() + 5000);
    const b = await refusal(blocked.acquire('test', 100));
    expect(b).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
    expect(b.extra.retryAfter).toBe('5');
  });

  it('waits when the wait fits in maxWaitMs', async () => {
    const gate = new LocalRequestGate({ requests: 1, perSeconds: WINDOW_MS / 1000 });
    (await gate.acquire('test'))();
    const waiting = track(gate.acquire('test', 2000));
    await vi.advanceTimersByTimeAsync(WINDOW_MS + 1);
    expect(waiting.at).not.toBeNull();
    expect(gate.held()).toBe(1);
  });
});
