import { GatewayError } from './errors.js';

/**
 * Every gateway id of something that lives on a connection (a card, a customer, a program) is
 * `<connection id>:<the provider's own reference>`.
 */

/** The part of a gateway id after `<connection>:`. */
export const referenceOf = (id: string): string => id.slice(id.indexOf(':') + 1);

/** The `<connection>` part of a gateway id ('' when there is none). */
export const connectionOf = (id: string): string => (id.includes(':') ? id.slice(0, id.indexOf(':')) : '');

/** The gateway id of a provider's reference on a connection. */
export const gatewayId = (connection: string, reference: string): string => `${connection}:${reference}`;

/**
 * Refuses an id (card, customer, program) of another connection than the one the request names:
 * `field` is the JSON pointer of the id in the request, e.g. "/program_id" or "/card_ids/2".
 */
export function requireOnConnection(connection: string, field: string, id: string | undefined): void {
  if (id === undefined || connectionOf(id) === connection) return;
  throw new GatewayError(
    'validation_failed',
    `${field.slice(1).replace(/\//g, '.')} (${id}) is not on connection ${connection}.`,
    {
      errors: [{ field, message: 'belongs to another connection' }],
    },
  );
}
