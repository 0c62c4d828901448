import type { Redis } from 'ioredis';
import { type ErrorExtra, GatewayError, isErrorCode } from '../domain/errors.js';
import { defineScript, runScript } from '../redis/scripts.js';
import type { IdempotencyScope } from '../store/transaction-store.js';
import { type Claim, type IdempotentWrite, type OnceResult, once } from './once.js';

/**
 * Idempotency-Keys of requests that are not points transactions (issuing a card, creating a
 * customer, a push, a bulk): the claim and its answer live in the key's record, scripts in ./lua.
 * A transaction's key is claimed together with the transaction instead (src/store).
 */

/** What such a request answered. The edge turns the kind into a status; an error is kept as the error. */
export type Answer<T = unknown> = { kind: 'created' | 'ok' | 'existing' | 'accepted'; body: T };

/** An answer as kept in the record: its kind, and its body (or the error). */
type Stored = Answer | { kind: 'error'; error: { code: string; detail: string; extra: ErrorExtra } };

export interface RequestWrite<T> {
  /** The id of what the request makes, chosen before it is made: a takeover makes the same one. */
  newResource(): string;
  run(resource: string): Promise<Answer<T>>;
  /**
   * 'resume': running it again is safe (the gateway's own card, a bulk: idempotent by the resource
   * id). 'unknown': it makes something at a provider, which may have happened though the call
   * failed: such a failure (and a takeover) is kept as the answer instead of running again.
   */
  takeover: 'resume' | 'unknown';
}

export class RequestClaims {
  constructor(
    private readonly redis: Redis,
    private readonly options: {
      leaseMs: number;
      ttlMs: number;
      waitMs: number;
      /** This process (the owner a claim records) and the prefix of heartbeat keys: see instance.ts. */
      owner: { id: string; heartbeatPrefix: string };
    },
  ) {
    const base = import.meta.url;
    defineScript(redis, 'lgwClaimRequest', base, 'claim-request-1.lua', 1);
    defineScript(redis, 'lgwCompleteRequest', base, 'complete-request-1.lua', 1);
    defineScript(redis, 'lgwReleaseRequest', base, 'release-request-1.lua', 1);
  }

  /** Runs `write` once per Idempotency-Key (without a key, simply runs it): see once.ts. */
  async run<T>(scope: IdempotencyScope | undefined, write: RequestWrite<T>): Promise<OnceResult<Answer<T>>> {
    if (scope === undefined) {
      return { answer: await write.run(write.newResource()), replayed: false, resumed: false };
    }
    const flow: IdempotentWrite<Answer<T>> = {
      takeover: write.takeover,
      claim: () => this.claim<T>(scope, write.newResource()),
      run: (resource) => write.run(resource),
      complete: (resource, answer) => this.store(scope, resource, answer),
      fail: async (resource, error, definite) => {
        // A refusal did nothing: the key runs afresh. A failure that may have done it at a provider is the
        // key's answer. Any other failure keeps the claim: once its lease runs out, a retry takes over and
        // makes the same resource (what the gateway makes itself is idempotent by its id).
        if (definite) await this.release(scope, resource);
        else if (write.takeover === 'unknown')
          await this.store(scope, resource, { kind: 'error', error: errorOf(error) });
      },
    };
    return once(flow, this.options.waitMs);
  }

  private async claim<T>(scope: IdempotencyScope, resource: string): Promise<Claim<Answer<T>>> {
    const res = await runScript<string[]>(
      this.redis,
      'lgwClaimRequest',
      [scope.key],
      [
        scope.fingerprint,
        resource,
        Date.now(),
        this.options.leaseMs,
        Math.round(this.options.ttlMs),
        this.options.owner.id,
        this.options.owner.heartbeatPrefix,
      ],
    );
    switch (res[0]) {
      case 'claimed':
      case 'takeover':
        return { kind: res[0], resource: res[1] as string };
      case 'replay':
        return { kind: 'replay', answer: replayOf(res[1] as string, res[2] as string) as Answer<T> };
      case 'in_flight':
        return { kind: 'in_flight' };
      default:
        return { kind: 'mismatch' };
    }
  }

  private async store(scope: IdempotencyScope, resource: string, answer: Stored): Promise<void> {
    const body = answer.kind === 'error' ? answer.error : answer.body;
    await runScript(this.redis, 'lgwCompleteRequest', [scope.key], [resource, answer.kind, JSON.stringify(body)]);
  }

  /** Gives up a claim after a refusal, so that a retry of the key runs again. */
  private async release(scope: IdempotencyScope, resource: string): Promise<void> {
    await runScript(this.redis, 'lgwReleaseRequest', [scope.key], [resource]);
  }
}

/** An error as the key's answer. Not when to try again: a replay gives the same answer, whenever it comes. */
function errorOf(err: GatewayError): { code: string; detail: string; extra: ErrorExtra } {
  const { retryAfter: _retryAfter, ...extra } = err.extra;
  return { code: err.code, detail: err.message, extra };
}

/**
 * A stored answer, given again. A stored error is thrown again, marked as replayed. Records kept
 * by earlier versions hold an HTTP status and the response body; they read the same way.
 */
function replayOf(kind: string, json: string): Answer {
  const body = JSON.parse(json) as unknown;
  const legacy = /^\d{3}$/.test(kind) ? Number(kind) : null;
  if (kind === 'error' || (legacy !== null && legacy >= 400)) {
    const e = (body ?? {}) as Record<string, unknown>;
    const code = typeof e.code === 'string' && isErrorCode(e.code) ? e.code : 'internal_error';
    const detail = typeof e.detail === 'string' ? e.detail : '';
    let extra = (e.extra ?? {}) as ErrorExtra;
    if (legacy !== null) {
      const { type: _t, title: _ti, status: _s, code: _c, detail: _d, instance: _i, request_id: _r, ...rest } = e;
      extra = rest as ErrorExtra;
    }
    const err = new GatewayError(code, detail, extra);
    err.replayed = true;
    throw err;
  }
  if (legacy !== null) return { kind: legacy === 201 ? 'created' : legacy === 202 ? 'accepted' : 'ok', body };
  return { kind: kind as Answer['kind'], body };
}
