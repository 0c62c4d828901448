import type { PageMeta } from '../../domain/customers.js';
import { GatewayError } from '../../domain/errors.js';
import { connectionOf, referenceOf, requireOnConnection } from '../../domain/ids.js';
import type { Notification, Program } from '../../domain/programs.js';
import { scopeOf, type WriteRequest } from '../../idempotency/key.js';
import type { OnceResult } from '../../idempotency/once.js';
import type { Answer, RequestClaims } from '../../idempotency/request-claims.js';
import { ulid } from '../../lib/ids.js';
import type { KeySpace } from '../../redis/keys.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import { programView } from '../connections/views.js';
import { providerCall, providerOf } from './provider-api.js';

/** Programs (Highlight card templates, Coupontools loyalty cards, Leal cards) and push notifications to cards. */
export class ProgramService {
  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly requests: RequestClaims,
    private readonly keys: KeySpace,
  ) {}

  async list(q: {
    connection: string;
    page?: number;
    per_page?: number;
  }): Promise<{ data: Program[]; meta: PageMeta }> {
    const conn = this.connections.get(q.connection);
    const page = await providerCall(
      conn,
      'listPrograms',
      'program list',
    )({ page: q.page ?? 1, perPage: q.per_page ?? 50 });
    const view = providerOf(conn, 'programs');
    return { data: page.data.map((p) => programView(view, p)), meta: page.meta };
  }

  async get(programId: string): Promise<Program> {
    const conn = this.connections.get(connectionOf(programId));
    const p = await providerCall(conn, 'getProgram', 'programs')(referenceOf(programId));
    if (!p) throw new GatewayError('program_not_found', `No program ${programId}.`);
    return programView(providerOf(conn, 'programs'), p);
  }

  /** Copies a program at its provider (Coupontools), once per Idempotency-Key. */
  async copy(programId: string, name: string | undefined, req: WriteRequest): Promise<OnceResult<Answer<Program>>> {
    const conn = this.connections.get(connectionOf(programId));
    const copy = providerCall(conn, 'copyProgram', 'program copying');
    const view = providerOf(conn, 'programs');
    return this.requests.run(scopeOf(this.keys, req), {
      newResource: () => `req_${ulid()}`,
      takeover: 'unknown',
      run: async () => ({
        kind: 'created' as const,
        body: programView(view, await copy(referenceOf(programId), name)),
      }),
    });
  }

  async notifications(q: { connection: string; page?: number; per_page?: number }) {
    const conn = this.connections.get(q.connection);
    const list = providerCall(conn, 'listNotifications', 'push notification list');
    const page = await list({ page: q.page ?? 1, perPage: q.per_page ?? 20 });
    return { data: page.data.map((n) => ({ ...n, connection: conn.id })), meta: page.meta };
  }

  async notification(connection: string, id: string): Promise<Notification> {
    const conn = this.connections.get(connection);
    const n = await providerCall(conn, 'getNotification', 'push notifications')(id);
    if (!n) throw new GatewayError('notification_not_found', `No push ${id} on ${connection}.`);
    return { ...n, connection: conn.id };
  }

  /** Sends a push to some cards, a program, or (neither) every card of the connection; once per Idempotency-Key. */
  async notify(
    body: { connection: string; message: string; card_ids?: string[]; program_id?: string; scheduled_at?: string },
    req: WriteRequest,
  ): Promise<OnceResult<Answer<Notification>>> {
    const { connection, message, card_ids, program_id, scheduled_at } = body;
    const conn = this.connections.get(connection);
    const notify = providerCall(conn, 'notify', 'push notifications');
    for (const [i, id] of (card_ids ?? []).entries()) requireOnConnection(connection, `/card_ids/${i}`, id);
    requireOnConnection(connection, '/program_id', program_id);
    if (program_id !== undefined && card_ids !== undefined) {
      throw new GatewayError(
        'validation_failed',
        'Send card_ids or program_id, not both: a push goes to some cards, or to a whole program.',
        { errors: [{ field: '/program_id', message: 'must not be sent with card_ids' }] },
      );
    }
    if (scheduled_at !== undefined && Date.parse(scheduled_at) <= Date.now()) {
      throw new GatewayError('validation_failed', 'scheduled_at must be in the future (leave it out to send now).', {
        errors: [{ field: '/scheduled_at', message: 'must be in the future' }],
      });
    }
    return this.requests.run(scopeOf(this.keys, req), {
      newResource: () => `req_${ulid()}`,
      takeover: 'unknown',
      run: async () => {
        const n = await notify({
          message,
          ...(card_ids ? { cardReferences: card_ids.map(referenceOf) } : {}),
          ...(program_id !== undefined ? { programReference: referenceOf(program_id) } : {}),
          ...(scheduled_at !== undefined ? { scheduledAt: scheduled_at } : {}),
        });
        return { kind: 'created' as const, body: { ...n, connection } };
      },
    });
  }
}
