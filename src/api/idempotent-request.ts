import { statusOf } from './problem.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fingerprint, parseIdempotencyKey } from '../idempotency/key.js';
import type { TransactionStore } from '../store/transaction-store.js';
import { ulid } from '../lib/ids.js';
import { clientOf } from './auth.js';
import { GatewayError } from '../domain/errors.js';
import { problemOf, toGatewayError } from './problem.js';
import { ProviderError } from '../domain/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a request that creates something at a provider (a customer, a card, a push) at most once
 * per Idempotency-Key: a retry replays the first answer. Without a key, it simply runs.
 * A refusal releases the key, so a retry runs again; a failure that may have created something is kept.
 */
export async function idempotentRequest<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  ledger: TransactionStore,
  opts: { inFlightWaitMs: number; path: string },
  run: () => Promise<{ status: number; body: T; location?: string }>,
): Promise<FastifyReply> {
  const key = parseIdempotencyKey(req.headers['idempotency-key']);
  let idem: { key: string; fingerprint: string } | undefined;
  let resource = '';
  if (key !== undefined) {
    idem = {
      key: ledger.idempotencyKey(clientOf(req).id, key),
      fingerprint: fingerprint(req.method, opts.path, req.body ?? {}),
    };
    const deadline = Date.now() + opts.inFlightWaitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
      const claim = await ledger.claimRequest(idem, `req_${ulid()}`);
      if (claim.kind === 'claimed' || claim.kind === 'takeover') resource = claim.resource;
      if (claim.kind === 'takeover') {
        // The first attempt stopped (or is still waiting on the provider) without an answer: it may
        // have created the thing, so running again could create it twice. Keep that as the answer.
        const err = new ProviderError(
          'provider_timeout',
          'An earlier attempt with this Idempotency-Key did not finish; it may have been applied at the provider, so it is not run again. Check at the provider, then use a new key.',
          'unknown',
        );
        await ledger.complete(idem.key, resource, statusOf(err.code), problemOf(err, req));
        throw err;
      }
      if (claim.kind === 'mismatch')
        throw new GatewayError(
          'idempotency_key_reused',
          'This Idempotency-Key was already used with a different request; use a new key for a new request.',
        );
      if (claim.kind === 'replay') {
        reply.header('idempotent-replayed', 'true');
        if (claim.status >= 400) reply.type('application/problem+json');
        return reply.code(claim.status).send(JSON.parse(claim.body));
      }
      if (claim.kind === 'claimed') break;
      if (Date.now() >= deadline)
        throw new GatewayError(
          'idempotency_in_flight',
          'A request with this Idempotency-Key is still being processed; retry in a moment.',
          { retryAfter: '1' },
        );
      await sleep(pause);
    }
  }
  let out: Awaited<ReturnType<typeof run>>;
  try {
    out = await run();
  } catch (err) {
    if (idem) {
      // A refusal made before anything was created frees the key for a retry; a failure that may
      // have created something at the provider is kept as the key's answer, so a retry replays it.
      const definite = err instanceof ProviderError ? err.applied === 'no' : err instanceof GatewayError;
      if (definite) await ledger.releaseRequest(idem.key, resource);
      else {
        const e = toGatewayError(err as Error);
        await ledger.complete(idem.key, resource, statusOf(e.code), problemOf(e, req));
      }
    }
    throw err;
  }
  if (idem) await ledger.complete(idem.key, resource, out.status, out.body);
  if (out.location) reply.header('location', out.location);
  return reply.code(out.status).send(out.body);
}
