import type { Redis } from 'ioredis';
import type { Balance } from '../domain/transactions.js';
import type { KeySpace } from '../redis/keys.js';

/**
 * A short-lived cache of provider balances, shared by every gateway process. Every write the
 * gateway makes to a card bumps the card's epoch, and a cached balance counts only while its
 * epoch is the card's: a read that was on its way during a write cannot put an old value back.
 */
export class BalanceCache {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {}

  /**
   * The cached balance, if a read left one since the card's last write; else the epoch to store the next read under.
   */
  async get(cardId: string): Promise<{ hit: Balance } | { epoch: string }> {
    const [cached, current] = await this.redis.mget(this.keys.balanceCache(cardId), this.keys.balanceEpoch(cardId));
    const epoch = current ?? '0';
    if (cached) {
      const sep = cached.indexOf('|');
      if (cached.slice(0, sep) === epoch) return { hit: JSON.parse(cached.slice(sep + 1)) as Balance };
    }
    return { epoch };
  }

  async put(cardId: string, epoch: string, balance: Balance, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.balanceCache(cardId), `${epoch}|${JSON.stringify(balance)}`, 'PX', ttlMs);
  }

  /** A write to the card: whatever is cached, or being read now, no longer counts. */
  async invalidate(cardId: string): Promise<void> {
    const epoch = this.keys.balanceEpoch(cardId);
    await this.redis.multi().incr(epoch).pexpire(epoch, 86_400_000).exec();
  }
}
