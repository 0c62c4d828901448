import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseIdempotencyKey, type WriteRequest } from '../idempotency/key.js';
import type { OnceResult } from '../idempotency/once.js';
import type { Answer } from '../idempotency/request-claims.js';
import type { CallContext, TransactionOutcome } from '../services/points/engine.js';
import { clientOf } from './auth.js';

/**
 * What the services need of a request (who asks, its Idempotency-Key, its fingerprint), and how
 * their answers become HTTP: the statuses and headers of writes are decided here.
 */

/** RFC 7240 Prefer: `respond-async`, and `wait=<seconds>`. Unknown preferences are ignored, as the RFC says. */
export function preferOf(header: string | string[] | undefined): { respondAsync: boolean; waitMs?: number } {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  let respondAsync = false;
  let waitMs: number | undefined;
  for (const part of text.split(/[,;]/)) {
    const [name, value] = part
      .trim()
      .toLowerCase()
      .split('=')
      .map((x) => x.trim().replace(/^"|"$/g, ''));
    if (name === 'respond-async') respondAsync = true;
    else if (name === 'wait' && value !== undefined && /^[0-9]{1,6}$/.test(value)) waitMs = Number(value) * 1000;
  }
  return { respondAsync, waitMs };
}

/** A request's path as its fingerprint takes it: decoded, without a trailing slash (the same route either way). */
function fingerprintPath(url: string): string {
  const raw = (url.split('?')[0] ?? url).replace(/(.)\/+$/, '$1');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Who asks, with which Idempotency-Key, and with what (method, path, body: the key's fingerprint). */
export function writeRequest(req: FastifyRequest): WriteRequest {
  return {
    clientId: clientOf(req).id,
    idempotencyKey: parseIdempotencyKey(req.headers['idempotency-key']),
    method: req.method,
    path: fingerprintPath(req.url),
    body: req.body,
  };
}

/** A transaction request's context: the write request and its Prefer header. */
export function callContext(req: FastifyRequest): CallContext {
  return { ...writeRequest(req), ...preferOf(req.headers.prefer) };
}

/**
 * A transaction's answer: 201 applied, 202 queued or running (poll its Location); `doneStatus` 200 for an admin's
 * retry.
 */
export function sendOutcome(reply: FastifyReply, outcome: TransactionOutcome, doneStatus = 201): FastifyReply {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  reply.header('location', `/v1/transactions/${outcome.transaction.id}`);
  if (outcome.state === 'accepted') {
    reply.header('retry-after', '1');
    if (outcome.asyncPreferred) reply.header('preference-applied', 'respond-async');
  }
  return reply.code(outcome.state === 'done' ? doneStatus : 202).send(outcome.transaction);
}

const ANSWER_STATUS: Record<Answer['kind'], number> = { created: 201, ok: 200, existing: 200, accepted: 202 };

/**
 * An idempotent write's answer: its kind's status (created 201; an existing one 200, said to be
 * a replay), Idempotent-Replayed on a replay, and the Location of what it made.
 */
export function sendAnswer<T>(reply: FastifyReply, result: OnceResult<Answer<T>>, location?: (body: T) => string) {
  const { answer } = result;
  if (result.replayed || answer.kind === 'existing') reply.header('idempotent-replayed', 'true');
  if (location) reply.header('location', location(answer.body));
  return reply.code(ANSWER_STATUS[answer.kind]).send(answer.body);
}
