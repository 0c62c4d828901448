import type { Redis } from 'ioredis';
import { fieldError, GatewayError } from '../domain/errors.js';
import type { EventType } from '../domain/events.js';
import type { Webhook } from '../domain/webhooks.js';
import { ulid } from '../lib/ids.js';
import { isoTime } from '../lib/time.js';
import type { KeySpace } from '../redis/keys.js';
import { privateAddressOf } from './private-address.js';
import { newSecret } from './signing.js';

const PATCH = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local wh = cjson.decode(raw)
for k, v in pairs(cjson.decode(ARGV[2])) do
  if ARGV[3] ~= '1' or wh[k] == nil or wh[k] == cjson.null then wh[k] = v end
end
wh.updated_at = ARGV[4]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(wh))
return 1
`;

/** A subscription as kept: its secret, and the one it replaced while that one still signs (a day). */
export interface StoredWebhook extends Webhook {
  secret: string;
  previous_secret: { secret: string; until: number } | null;
}

/** How long a rotated-out secret still signs deliveries, beside the new one: receivers switch without a gap. */
export const PREVIOUS_SECRET_MS = 24 * 3_600_000;

/**
 * The webhook subscriptions, in one Redis hash (id -> JSON). A handful per gateway: every read
 * takes the whole hash; the delivery side keeps a copy for a second.
 */
export class Subscriptions {
  private cache: { at: number; list: StoredWebhook[] } | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    /** Receivers on loopback and private addresses (WEBHOOK_ALLOW_PRIVATE: the sandbox, tests). */
    private readonly allowPrivate: boolean,
  ) {}

  /** Refuses a URL that is not http(s), does not resolve, or resolves to a private address (unless allowed). */
  async checkUrl(url: string): Promise<void> {
    let host: string;
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      if (u.username || u.password) throw fieldError('url', 'must not carry credentials');
      host = u.hostname;
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw fieldError('url', 'must be an http or https URL');
    }
    if (this.allowPrivate) return;
    let bad: string | null;
    try {
      bad = await privateAddressOf(host);
    } catch {
      throw fieldError('url', `names a host that does not resolve (${host})`);
    }
    if (bad !== null) {
      throw fieldError(
        'url',
        `resolves to ${bad}, a loopback or private address; the gateway does not call its own network ` +
          '(WEBHOOK_ALLOW_PRIVATE=true allows it, for local receivers)',
      );
    }
  }

  /**
   * A new subscription. `id` chosen by the caller (an Idempotency-Key's claim): made once, whoever asks again with
   * it gets the same one.
   */
  async create(
    input: { url: string; events: (EventType | '*')[]; description?: string },
    id = `wh_${ulid()}`,
  ): Promise<StoredWebhook> {
    await this.checkUrl(input.url);
    const existing = await this.get(id);
    if (existing) return existing;
    const now = isoTime(Date.now());
    const wh: StoredWebhook = {
      id,
      url: input.url,
      events: input.events,
      description: input.description ?? null,
      disabled: false,
      disabled_reason: null,
      failing_since: null,
      created_at: now,
      updated_at: now,
      secret: newSecret(),
      previous_secret: null,
    };
    await this.save(wh);
    return wh;
  }

  async get(id: string): Promise<StoredWebhook | null> {
    if (!/^wh_[0-9A-Z]{26}$/.test(id)) return null;
    const raw = await this.redis.hget(this.keys.webhooks, id);
    return raw ? (JSON.parse(raw) as StoredWebhook) : null;
  }

  async list(): Promise<StoredWebhook[]> {
    const all = await this.redis.hvals(this.keys.webhooks);
    return all.map((r) => JSON.parse(r) as StoredWebhook).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** The list, at most `maxAgeMs` old (the delivery side asks often). */
  async listCached(maxAgeMs: number): Promise<StoredWebhook[]> {
    if (this.cache && Date.now() - this.cache.at < maxAgeMs) return this.cache.list;
    const list = await this.list();
    this.cache = { at: Date.now(), list };
    return list;
  }

  /** Applies `change` to the subscription as stored now; null when there is none. */
  async update(id: string, change: (wh: StoredWebhook) => void): Promise<StoredWebhook | null> {
    const wh = await this.get(id);
    if (!wh) return null;
    change(wh);
    wh.updated_at = isoTime(Date.now());
    await this.save(wh);
    return wh;
  }

  /**
   * Sets some fields in one step in Redis (the delivery worker's marks): an admin's change made meanwhile (a new
   * secret, a new URL) is kept. `onlyIfUnset`: each field only where it is null.
   */
  async patch(
    id: string,
    fields: Partial<Pick<StoredWebhook, 'failing_since' | 'disabled' | 'disabled_reason'>>,
    onlyIfUnset = false,
  ): Promise<void> {
    this.cache = null;
    await this.redis.eval(
      PATCH,
      1,
      this.keys.webhooks,
      id,
      JSON.stringify(fields),
      onlyIfUnset ? '1' : '0',
      isoTime(Date.now()),
    );
  }

  async rotate(id: string): Promise<StoredWebhook | null> {
    return this.update(id, (wh) => {
      wh.previous_secret = { secret: wh.secret, until: Date.now() + PREVIOUS_SECRET_MS };
      wh.secret = newSecret();
    });
  }

  async remove(id: string): Promise<boolean> {
    this.cache = null;
    return (await this.redis.hdel(this.keys.webhooks, id)) === 1;
  }

  private async save(wh: StoredWebhook): Promise<void> {
    this.cache = null;
    await this.redis.hset(this.keys.webhooks, wh.id, JSON.stringify(wh));
  }
}

/** The public view: never the secrets. */
export function webhookView(wh: StoredWebhook): Webhook {
  const { secret: _s, previous_secret: _p, ...view } = wh;
  return view;
}

/** Whether the subscription wants events of this type. */
export const wants = (wh: Webhook, type: string): boolean =>
  wh.events.includes('*') || wh.events.includes(type as EventType);
