import { ApiError, type ErrorCode } from '../api/errors.js';

/**
 * A provider call that failed. `applied` says whether the provider may have applied it:
 *  - 'no': it certainly did not (a 4xx refusal, a 429, a connection that was never made), so the
 *    gateway releases the transaction's claim and a retry is safe;
 *  - 'unknown': it may have (a timeout after the request was sent, a dropped connection, a 5xx, a
 *    2xx body the gateway cannot read), so the transaction is kept as `needs_review` and never
 *    re-sent automatically: only a reconciliation against the provider's records may settle it.
 */
export class ProviderError extends ApiError {
  override name = 'ProviderError';
  constructor(
    code: ErrorCode,
    detail: string,
    readonly applied: 'no' | 'unknown',
    extra: ConstructorParameters<typeof ApiError>[2] = {},
  ) {
    super(code, detail, extra);
  }
}
