import type { TransactionRecord } from '../../src/store/transaction-record.js';
import type { TestGateway } from './gateway.js';

const TERMINAL = new Set(['succeeded', 'failed', 'needs_review']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every transaction is succeeded, failed or needs_review (read from the ledger); returns them. */
export async function settled(gw: TestGateway, ids: string[], timeoutMs = 90_000): Promise<TransactionRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const recs = await gw.store.getMany(ids);
    if (recs.length === ids.length && recs.every((r) => TERMINAL.has(r.status))) return recs;
    if (Date.now() > deadline) {
      const open = recs.filter((r) => !TERMINAL.has(r.status)).map((r) => `${r.id}:${r.status}`);
      throw new Error(
        `not settled after ${timeoutMs} ms: ${open.slice(0, 5).join(', ')} (${open.length} open, ` +
          `${ids.length - recs.length} missing)`,
      );
    }
    await sleep(200);
  }
}
