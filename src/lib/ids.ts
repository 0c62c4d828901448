import { randomFillSync } from 'node:crypto';

// Crockford base32, as in ULID: ids sort lexicographically in creation order,
// which the card history indexes rely on (keyset pagination on time + id).
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

// Random bytes drawn from a pool: one system call per 256 ids instead of one per id.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function freshRandom(): number[] {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = new Array<number>(16);
  for (let i = 0; i < 16; i++) out[i] = (pool[poolOffset + i] as number) & 31;
  poolOffset += 16;
  return out;
}

/** Increments the random part so ids made in the same millisecond still sort in order. */
function increment(digits: number[]): number[] {
  const next = digits.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    if ((next[i] as number) < 31) {
      next[i] = (next[i] as number) + 1;
      return next;
    }
    next[i] = 0;
  }
  return freshRandom();
}

/** A monotonic ULID (26 characters). */
export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = freshRandom();
  }
  return encodeTime(Math.max(now, lastTime)) + lastRandom.map((d) => ALPHABET[d]).join('');
}

/** The millisecond timestamp a ULID was made at. */
export function ulidTime(id: string): number {
  let ms = 0;
  for (const ch of id.slice(0, 10)) ms = ms * 32 + ALPHABET.indexOf(ch);
  return ms;
}

/** The smallest ULID of a given millisecond: a lexicographic bound for time ranges. */
export function ulidLowerBound(ms: number): string {
  return encodeTime(ms) + '0'.repeat(16);
}

export function ulidUpperBound(ms: number): string {
  return encodeTime(ms) + 'Z'.repeat(16);
}

export const newCardRef = (): string => `c_${ulid()}`;
