import { connectionOf } from '../providers/external-provider.js';
import { ApiError } from './errors.js';

/**
 * Refuses an id (card, customer, program) of another connection than the one the request names:
 * `field` is the JSON pointer of the id in the request, e.g. "/program_id" or "/card_ids/2".
 */
export function requireOnConnection(connection: string, field: string, id: string | undefined): void {
  if (id === undefined || connectionOf(id) === connection) return;
  throw new ApiError(
    'validation_failed',
    `${field.slice(1).replace(/\//g, '.')} (${id}) is not on connection ${connection}.`,
    {
      errors: [{ field, message: 'belongs to another connection' }],
    },
  );
}
