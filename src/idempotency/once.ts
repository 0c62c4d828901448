import { GatewayError, ProviderError } from '../domain/errors.js';
import { sleep } from '../lib/time.js';
import { asGatewayError } from '../redis/errors.js';

/**
 * The one idempotency flow every idempotent write goes through (points, cards, customers, bulk,
 * and whatever the gateway adds): claim the key, wait while another request holds it, replay
 * what it answered, do the write once, keep or release the claim after it, and take over from a
 * request that stopped halfway (its lease ran out). Where the claim lives and what an answer is
 * are the caller's (IdempotentWrite); the order of things, and what each outcome means, are here.
 */

/**
 * One attempt at the claim of a key (or of a reference_id). `R` is what the write works on: an id
 * chosen before the claim (a card, a bulk), or the claimed transaction record itself.
 */
export type Claim<A, R = string> =
  /** This request owns the claim: do the write. */
  | { kind: 'claimed'; resource: R }
  /** The request that held it stopped (its lease ran out) without an answer. */
  | { kind: 'takeover'; resource: R }
  /** Done before: its answer. */
  | { kind: 'replay'; answer: A }
  /** Another request holds it and is still within its lease. */
  | { kind: 'in_flight' }
  /** The key was used with another request. */
  | { kind: 'mismatch' };

export interface IdempotentWrite<A, R = string> {
  /** One atomic attempt at the claim. */
  claim(): Promise<Claim<A, R>>;
  /**
   * Does the write for the claimed resource (claimed now, or taken over). Null: the claim was
   * lost meanwhile (another request settled it), so claim again.
   */
  run(resource: R): Promise<A | null>;
  /**
   * What a takeover means. 'resume': running the write again is safe (it is idempotent by its
   * resource id). 'unknown': the first attempt may have done it at a provider, and the provider
   * cannot be asked: the claim keeps provider_timeout as its answer, and nothing is sent again.
   */
  takeover: 'resume' | 'unknown';
  /** Keeps the answer for replays (left out where the write records it itself, atomically). */
  complete?(resource: R, answer: A): Promise<void>;
  /**
   * After the write failed. `definite`: nothing was done (a refusal), so the claim is given up and
   * a retry runs afresh; else it may have been done, and the error is kept as the answer.
   */
  fail?(resource: R, error: GatewayError, definite: boolean): Promise<void>;
  /** What names the write, for messages: an Idempotency-Key (default), or a reference_id. */
  naming?: 'key' | 'reference';
}

export interface OnceResult<A> {
  answer: A;
  /** The answer of an earlier request with the same key. */
  replayed: boolean;
  /** This request finished what an earlier one started. */
  resumed: boolean;
}

/** Runs `write` once per claim: see IdempotentWrite. Waits at most `waitMs` for a request holding it. */
export async function once<A, R = string>(write: IdempotentWrite<A, R>, waitMs: number): Promise<OnceResult<A>> {
  const deadline = Date.now() + waitMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
    const c = await write.claim();
    if (c.kind === 'mismatch') {
      throw new GatewayError(
        'idempotency_key_reused',
        'This Idempotency-Key was already used with a different request; use a new key for a new request.',
      );
    }
    if (c.kind === 'replay') return { answer: c.answer, replayed: true, resumed: false };
    if (c.kind === 'takeover' && write.takeover === 'unknown') {
      const err = new ProviderError(
        'provider_timeout',
        'An earlier attempt with this Idempotency-Key did not finish; it may have been applied at the provider, so ' +
          'it is not run again. Check at the provider, then use a new key.',
        'unknown',
      );
      await write.fail?.(c.resource, err, false);
      throw err;
    }
    if (c.kind === 'claimed' || c.kind === 'takeover') {
      const answer = await attempt(write, c.resource);
      if (answer !== null) return { answer, replayed: false, resumed: c.kind === 'takeover' };
    }
    // Held by another request (or just released by it): look again shortly.
    if (Date.now() >= deadline) throw inFlight(write.naming ?? 'key');
    await sleep(pause);
  }
}

async function attempt<A, R>(write: IdempotentWrite<A, R>, resource: R): Promise<A | null> {
  let answer: A | null;
  try {
    answer = await write.run(resource);
  } catch (err) {
    if (write.fail) {
      // A refusal made before anything was done frees the claim; a failure that may have done it is kept.
      const definite = err instanceof ProviderError ? err.applied === 'no' : err instanceof GatewayError;
      const failing = write.fail(resource, asGatewayError(err), definite);
      // Redis away: recording the failure would wait out a second command timeout before the 503, which does not
      // depend on it. It goes on by itself (a claim it could not release waits out its lease, as after a crash).
      if (asGatewayError(err).code === 'service_unavailable') failing.catch(() => undefined);
      else await failing;
    }
    throw err;
  }
  if (answer !== null) await write.complete?.(resource, answer);
  return answer;
}

function inFlight(naming: 'key' | 'reference'): GatewayError {
  return new GatewayError(
    'idempotency_in_flight',
    naming === 'key'
      ? 'A request with this Idempotency-Key is still being processed; retry in a moment to get its result.'
      : 'A transaction with this reference_id is still being processed; retry in a moment to get its result.',
    { retryAfter: '1' },
  );
}
