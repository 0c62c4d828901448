import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { KeySpace } from '../../redis/keys.js';

/** A signed-in admin of the console: the API key's id (never the key) and the session's CSRF token. */
export interface ConsoleSession {
  /** The API key's id (`key_...`): what the console's admin actions are recorded under. */
  client: string;
  csrf: string;
  createdAt: number;
}

/** How long a session lasts from sign-in (no sliding renewal: sign in again after it). */
export const SESSION_TTL_MS = 8 * 3_600_000;

const digest = (id: string) => createHash('sha256').update(id).digest('hex');
const token = () => randomBytes(32).toString('base64url');

/**
 * Console sessions in Redis, under the digest of their id: what Redis holds cannot be replayed as a cookie. One
 * round trip per request (HGETALL); a session ends at its TTL or at sign-out.
 */
export class ConsoleSessions {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {}

  /** A new session for the client: its id (the cookie's value) and the session. */
  async create(client: string, now = Date.now()): Promise<{ id: string; session: ConsoleSession }> {
    const id = token();
    const session: ConsoleSession = { client, csrf: token(), createdAt: now };
    await this.redis.set(this.keys.consoleSession(digest(id)), JSON.stringify(session), 'PX', this.ttlMs);
    return { id, session };
  }

  async get(id: string | undefined): Promise<ConsoleSession | null> {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const raw = await this.redis.get(this.keys.consoleSession(digest(id)));
    return raw ? (JSON.parse(raw) as ConsoleSession) : null;
  }

  async delete(id: string | undefined): Promise<void> {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return;
    await this.redis.del(this.keys.consoleSession(digest(id)));
  }
}
