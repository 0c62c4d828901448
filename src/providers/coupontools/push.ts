import { ProviderError } from '../../domain/errors.js';
import type { ProviderNotification } from '../adapter.js';
import { badResponse } from '../http/provider-http.js';
import type { CoupontoolsClient } from './client.js';
import { refOrThrow, refused, wireId } from './convert.js';
import { isObject } from './wire.js';

/**
 * Push notifications: POST /loyalty/loyalty-cards/{id}/push-notifications {message,
 * recipient_stat_ids?}. A push goes to one loyalty card (program), so card references are
 * grouped by program (one push per program, with those users' ids); a program alone → one push
 * to all its users; nothing → one push per program of the connection.
 */
export async function sendPushes(
  client: CoupontoolsClient,
  input: { message: string; cardReferences?: string[]; programReference?: string },
  resolveProgram: (ref: string) => Promise<string>,
  allPrograms: () => Promise<string[]>,
): Promise<ProviderNotification> {
  const groups = new Map<string, string[] | null>();
  if (input.cardReferences && input.cardReferences.length > 0) {
    const only = input.programReference ? await resolveProgram(input.programReference) : null;
    for (const ref of input.cardReferences) {
      const r = refOrThrow(ref, 'card_not_found');
      if (only !== null && r.programId !== only) {
        throw refused(
          'validation_failed',
          `Card ${ref.slice(0, 60)} is not on program ${only}: give cards of that program only, or no program_id.`,
        );
      }
      const ids = groups.get(r.programId) ?? [];
      if (!ids.includes(r.userId)) ids.push(r.userId);
      groups.set(r.programId, ids);
    }
  } else if (input.programReference) {
    groups.set(await resolveProgram(input.programReference), null);
  } else {
    for (const id of await allPrograms()) groups.set(id, null);
  }
  if (groups.size === 0)
    throw refused('validation_failed', 'This Coupontools connection has no loyalty card to send a push to.');

  const ids: string[] = [];
  let recipients: number | null = 0;
  const done: string[] = [];
  for (const [programId, users] of groups) {
    const path = `/loyalty/loyalty-cards/${encodeURIComponent(programId)}/push-notifications`;
    const body: { message: string; recipient_stat_ids?: Array<number | string> } = { message: input.message };
    if (users) body.recipient_stat_ids = users.map(wireId);
    let res: unknown;
    try {
      res = await client.call('POST', path, { body, notFound: users ? 'card_not_found' : 'program_not_found' });
    } catch (e) {
      if (done.length > 0 && e instanceof ProviderError) {
        // Some pushes already went out: the notification as a whole is partly applied.
        throw new ProviderError(
          e.code,
          `${e.message} (pushes already sent for loyalty cards ${done.join(', ')})`,
          'unknown',
          e.extra,
        );
      }
      throw e;
    }
    if (res !== undefined && !isObject(res)) throw badResponse(client.what('POST', path), 'not a JSON object', true);
    done.push(programId);
    const o = isObject(res) ? (isObject(res.data) ? res.data : res) : {};
    const id = o.id ?? o.notification_id ?? o.push_id;
    if (typeof id === 'string' || typeof id === 'number') ids.push(String(id));
    const n = o.recipients ?? o.recipients_count ?? o.recipient_count ?? o.sent ?? o.sent_count;
    const count =
      typeof n === 'number' && Number.isInteger(n) && n >= 0
        ? n
        : Array.isArray(n)
          ? n.length
          : users
            ? users.length
            : null;
    recipients = recipients === null || count === null ? null : recipients + count;
  }
  return {
    id: ids.length > 0 ? ids.join(',') : null,
    message: input.message,
    recipients,
    status: 'sent',
    created_at: new Date().toISOString(),
  };
}
