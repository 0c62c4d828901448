import { vi } from 'vitest';

export interface TestClock {
  /** Moves "now" forward by `ms` (never back). */
  advance(ms: number): void;
  /** Moves "now" forward to `ms` milliseconds past an ISO time (no move if it has passed already). */
  advancePast(iso: string, ms?: number): void;
  /** Moves "now" forward to `ms` milliseconds before an ISO time; throws if that time has passed. */
  advanceTo(iso: string, msBefore: number): void;
  /** Puts the real Date.now back. */
  restore(): void;
}

/**
 * A clock the test controls, for a gateway started in this process (startGateway): everything in the
 * gateway that needs "now" (the built-in ledger's expiry, its sweep, transaction times and ids) reads
 * Date.now(), so this replaces Date.now with the real time plus an offset the test moves forward.
 * Time keeps running (nothing waits on a frozen clock), and never steps back. `new Date()` without
 * an argument is left alone: nothing on the ledger's path uses it.
 *
 * Only for tests that run one after another: moving the clock moves it for every request in flight.
 */
export function controlledClock(): TestClock {
  const realNow = Date.now.bind(Date);
  let offset = 0;
  const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
  const advance = (ms: number) => {
    if (!(ms >= 0)) throw new Error(`the test clock only moves forward (asked: ${ms} ms)`);
    offset += ms;
  };
  return {
    advance,
    advancePast(iso, ms = 1) {
      advance(Math.max(0, Date.parse(iso) + ms - Date.now()));
    },
    advanceTo(iso, msBefore) {
      const target = Date.parse(iso) - msBefore;
      if (target < Date.now()) throw new Error(`the test clock is already past ${msBefore} ms before ${iso}`);
      advance(target - Date.now());
    },
    restore() {
      spy.mockRestore();
    },
  };
}
