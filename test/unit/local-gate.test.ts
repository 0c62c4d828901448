import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../src/domain/errors.js';
import { LocalRequestGate } from '../../src/providers/http/local-gate.js';

// The in-process rate-limit gate: a request counts from its sending for one window plus the margin,
// whenever its answer comes.
// The clock is vitest's fake one: the tests move time themselves, so a busy machine cannot make them
// pass or fail, and "when" is read off the clock the gate itself reads.

const WINDOW_MS = 200;
const MARGIN_MS = 30;

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
function track(p: Promise<void>) {
  const t = { at: null as number | null };
  void p.then(() => {
    t.at = Date.now();
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
  it('lets N requests in at once; the N+1th waits one window plus the margin after the first was sent', async () => {
    const gate = new LocalRequestGate({ requests: 3, perSeconds: WINDOW_MS / 1000, marginMs: MARGIN_MS });
    const sentAt = Date.now();
    await Promise.all([1, 2, 3].map(() => gate.acquire('test')));
    expect(gate.held()).toBe(3);

    const fourth = track(gate.acquire('test'));
    await vi.advanceTimersByTimeAsync(WINDOW_MS + MARGIN_MS - 1);
    expect(fourth.at).toBeNull(); // not one ms before the window and the margin have passed
    await vi.advanceTimersByTimeAsync(5);
    expect(fourth.at).not.toBeNull();
    expect(fourth.at! - sentAt).toBeGreaterThanOrEqual(WINDOW_MS + MARGIN_MS);
    // The three stop counting together; the fourth counts on.
    expect(gate.held()).toBe(1);
  });

  it('counts a request for its window whatever its answer: a slow answer costs no quota', async () => {
    const gate = new LocalRequestGate({ requests: 2, perSeconds: WINDOW_MS / 1000 });
    // Requests sent 100 ms apart, their answers never awaited: a slot frees a window plus the default
    // margin (50 ms) after each sending.
    await gate.acquire('test');
    await vi.advanceTimersByTimeAsync(100);
    await gate.acquire('test');
    const third = track(gate.acquire('test'));
    await vi.advanceTimersByTimeAsync(WINDOW_MS + 50 - 100 - 1);
    expect(third.at).toBeNull();
    await vi.advanceTimersByTimeAsync(5);
    expect(third.at).not.toBeNull();
    expect(gate.held()).toBe(2);
    await vi.advanceTimersByTimeAsync(WINDOW_MS + 50);
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
    // Without a limit, nothing else holds a request: five acquires resolve without the clock moving.
    const five = [1, 2, 3, 4, 5].map(() => track(gate.acquire('test')));
    await vi.advanceTimersByTimeAsync(0);
    expect(five.map((t) => t.at)).toEqual(Array(5).fill(Date.now()));
  });

  it('refuses, applied no with retry-after, when the wait would pass maxWaitMs', async () => {
    const gate = new LocalRequestGate({ requests: 1, perSeconds: 2, marginMs: 0 });
    await gate.acquire('test');
    const first = await refusal(gate.acquire('Highlight (connection hl) GET /cards/1', 500));
    expect(first).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
    expect(first.extra.retryAfter).toBe('2');
    expect(first.message).toContain('Highlight (connection hl) GET /cards/1');
    await vi.advanceTimersByTimeAsync(1100);
    expect((await refusal(gate.acquire('test', 500))).extra.retryAfter).toBe('1');

    const blocked = new LocalRequestGate(null);
    await blocked.block(Date.now() + 5000);
    const b = await refusal(blocked.acquire('test', 100));
    expect(b).toMatchObject({ code: 'provider_rate_limited', applied: 'no' });
    expect(b.extra.retryAfter).toBe('5');
  });

  it('waits when the wait fits in maxWaitMs', async () => {
    const gate = new LocalRequestGate({ requests: 1, perSeconds: WINDOW_MS / 1000 });
    await gate.acquire('test');
    const waiting = track(gate.acquire('test', 2000));
    await vi.advanceTimersByTimeAsync(WINDOW_MS + 60);
    expect(waiting.at).not.toBeNull();
    expect(gate.held()).toBe(1);
  });
});
