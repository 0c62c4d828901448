import { GatewayError } from '../domain/errors.js';
import { sha256 } from '../lib/hash.js';

/**
 * History cursors are opaque to clients: base64url of the last entry's id and a digest of the
 * card and filters they were made for, so a cursor cannot be replayed against another query.
 */
export function encodeCursor(lastId: string, cardId: string, filters: object): string {
  const f = sha256(cardId + JSON.stringify(filters)).slice(0, 16);
  return Buffer.from(JSON.stringify({ v: 1, id: lastId, f })).toString('base64url');
}

export function decodeCursor(cursor: string, cardId: string, filters: object): string {
  let parsed: { v?: unknown; id?: unknown; f?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw new GatewayError(
      'invalid_cursor',
      'The cursor is not one this gateway made; pass next_cursor back unchanged.',
    );
  }
  if (
    parsed?.v !== 1 ||
    typeof parsed.id !== 'string' ||
    !/^(txn_[0-9A-Z]{26}|[0-9]{15}\|[A-Za-z0-9_.:~@+=!$*()-]{1,250})$/.test(parsed.id)
  ) {
    throw new GatewayError(
      'invalid_cursor',
      'The cursor is not one this gateway made; pass next_cursor back unchanged.',
    );
  }
  if (parsed.f !== sha256(cardId + JSON.stringify(filters)).slice(0, 16)) {
    throw new GatewayError(
      'invalid_cursor',
      'The cursor was made for another card or other filters; use it with the same query.',
    );
  }
  return parsed.id;
}
