import type { FastifyReply, FastifyRequest } from 'fastify';
import { fingerprint, parseIdempotencyKey } from '../ledger/idempotency.js';
import type { TransactionLedger } from '../ledger/transaction-ledger.js';
import { ulid } from '../lib/ids.js';
import { clientOf } from './auth.js';
import { ApiError } from './errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a request that creates something at a provider (a customer, a card, a push) at most once
 * per Idempotency-Key: a retry replays the first answer. Without a key, it simply runs.
 * A failure releases the key, so a retry runs again (providers refuse before they create).
 */
export async function idempotentRequest<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  ledger: TransactionLedger,
  opts: { inFlightWaitMs: number; path: string },
  run: () => Promise<{ status: number; body: T; location?: string }>,
): Promise<FastifyReply> {
  const key = parseIdempotencyKey(req.headers['idempotency-key']);
  let idem: { key: string; fingerprint: string } | undefined;
  let resource = '';
  if (key !== undefined) {
    idem = { key: ledger.idempotencyKey(clientOf(req).id, key), fingerprint: fingerprint(req.method, opts.path, req.body ?? {}) };
    const deadline = Date.now() + opts.inFlightWaitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
      const claim = await ledger.claimRequest(idem, `req_${ulid()}`);
      if (claim.kind === 'claimed' || claim.kind === 'takeover') resource = claim.resource;
      if (claim.kind === 'mismatch') throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request; use a new key for a new request.');
      if (claim.kind === 'replay') {
        reply.header('idempotent-replayed', 'true');
        return reply.code(claim.status).send(JSON.parse(claim.body));
      }
      if (claim.kind === 'claimed' || claim.kind === 'takeover') break;
      if (Date.now() >= deadline) throw new ApiError('idempotency_in_flight', 'A request with this Idempotency-Key is still being processed; retry in a moment.', { headers: { 'retry-after': '1' } });
      await sleep(pause);
    }
  }
  let out: Awaited<ReturnType<typeof run>>;
  try {
    out = await run();
  } catch (err) {
    if (idem) await ledger.releaseRequest(idem.key, resource);
    throw err;
  }
  if (idem) await ledger.complete(idem.key, resource, out.status, out.body);
  if (out.location) reply.header('location', out.location);
  return reply.code(out.status).send(out.body);
}
