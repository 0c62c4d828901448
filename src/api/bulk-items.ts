import { type ErrorCode, GatewayError } from '../domain/errors.js';
import { fieldErrors, strictAjv } from '../lib/schema-check.js';
import type { BulkItem, BulkProgress, ItemResult } from '../services/bulk/bulk-service.js';
import type { TransactionInput } from '../services/points/engine.js';
import { statusOf, validationError } from './problem.js';
import { BulkAdjust, BulkAward, BulkRedeem, type BulkView } from './schemas/points.js';

const ajv = strictAjv();
const validators = { award: ajv.compile(BulkAward), redeem: ajv.compile(BulkRedeem), adjust: ajv.compile(BulkAdjust) };

/** Checks one bulk item; throws its error (the index names the field). */
function checkItem(item: unknown, index: number, admin: boolean): TransactionInput {
  const type = (item as { type?: unknown } | null)?.type;
  const validate = typeof type === 'string' ? validators[type as keyof typeof validators] : undefined;
  if (!validate) {
    throw new GatewayError('validation_failed', `Item ${index}: type must be one of award, redeem, adjust.`, {
      errors: [{ field: `/transactions/${index}/type`, message: 'must be one of: award, redeem, adjust' }],
    });
  }
  if (!validate(item)) throw validationError(fieldErrors(validate.errors, `/transactions/${index}`), 'body');
  if (type === 'adjust' && !admin) throw new GatewayError('forbidden', 'Adjust items need the "admin" scope.');
  return item as TransactionInput;
}

/** Bulk requests at the edge: their items checked on the way in, their results given HTTP statuses on the way out. */

/**
 * The items of a bulk request, each checked on its own (the route's schema leaves them
 * unchecked): the transaction it asks for, or why it is refused, so that a bad item never sinks
 * the others.
 */
export function checkBulkItems(items: unknown[], admin: boolean): BulkItem[] {
  return items.map((item, index) => {
    try {
      return { input: checkItem(item, index, admin) };
    } catch (err) {
      const e = err as GatewayError;
      return { error: { code: e.code, detail: e.message, ...(e.extra.errors ? { errors: e.extra.errors } : {}) } };
    }
  });
}

const OUTCOME_STATUS = { done: 201, accepted: 202 } as const;

/** The HTTP status an item would have had on its own (a result stored by an earlier version kept its status). */
function itemStatus(r: Pick<ItemResult, 'outcome' | 'error'>): number {
  const legacy = (r as { status?: unknown }).status;
  if (r.outcome === undefined && typeof legacy === 'number') return legacy;
  return r.outcome === 'error' ? statusOf(r.error?.code ?? 'internal_error') : OUTCOME_STATUS[r.outcome];
}

/** One item's result in a bulk answer (BulkResult). */
export function bulkResultView(r: ItemResult) {
  return {
    index: r.index,
    status: itemStatus(r),
    replayed: r.replayed,
    ...(r.transaction ? { transaction: r.transaction } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/**
 * A bulk job as GET /v1/bulk/{id} shows it (BulkJob): each item's status follows its transaction once that is
 * final: 201 when it succeeded, its error's status when it failed or needs review (as a request of its own
 * that waited for it would have answered); until then what the item was answered when it was queued (202).
 */
export function bulkJobView(p: BulkProgress): BulkView {
  return {
    ...p,
    results: p.results.map((r) => {
      const t = r.transaction;
      const status =
        t?.status === 'succeeded'
          ? 201
          : (((t?.status === 'failed' || t?.status === 'needs_review') && t.error
              ? statusOf(t.error.code as ErrorCode)
              : undefined) ?? itemStatus(r));
      return { ...bulkResultView(r), status, state: r.state };
    }),
  };
}
