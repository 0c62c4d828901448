import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Audit, AuditFinding } from '../../domain/audits.js';
import { fieldError, GatewayError } from '../../domain/errors.js';
import { referenceOf } from '../../domain/ids.js';
import { TRANSACTION_STATUSES, type Transaction } from '../../domain/transactions.js';
import type { EventLog } from '../../events/event-log.js';
import { ulid } from '../../lib/ids.js';
import { isoTime } from '../../lib/time.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { ProviderAdapter, ProviderHistoryEntry } from '../../providers/adapter.js';
import type { KeySpace } from '../../redis/keys.js';
import type { TransactionRecord } from '../../store/transaction-record.js';
import type { TransactionStore } from '../../store/transaction-store.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import type { TransactionReview } from '../points/transaction-review.js';
import { balanceDrift, matchProviderRecord, type NewFinding } from './compare.js';

/** How long an audit and its findings are kept. */
const AUDIT_TTL_MS = 90 * 86_400_000;
/** The most cards one audit reads at the provider (each is a read against the connection's quota). */
export const AUDIT_MAX_CARDS = 500;
/** The most of the card's operations read per card, and how far past the window they are looked for. */
const HISTORY_LIMIT = 1000;
const HISTORY_MARGIN_BEFORE_MS = 5 * 60_000;
const HISTORY_MARGIN_AFTER_MS = 15 * 60_000;
/** The longest window one audit covers. */
export const AUDIT_MAX_WINDOW_MS = 31 * 86_400_000;
/** The most transactions one audit reads (then: truncated). */
const AUDIT_MAX_TRANSACTIONS = 20_000;
/** The card's latest transactions a balance-drift audit reads to know what the gateway's last write left. */
const DRIFT_RECENT = 50;

/** Stored with a running audit: the process running it (an audit whose process is gone reads as failed). */
type StoredAudit = Audit & { owner: string };

/**
 * Provider audits: on demand (POST /v1/audits) and on a schedule (audit-schedule.ts), one
 * connection over one window. It reads the gateway's transactions of the window and, per card they
 * touched, the provider's record (or its balance), and reports what differs. It never corrects
 * anything by itself; an admin may confirm a finding that settles a needs_review transaction.
 * Findings are counted in the metrics and reported as an `audit.drift_found` event.
 */
export class AuditService {
  constructor(
    private readonly deps: {
      redis: Redis;
      keys: KeySpace;
      store: TransactionStore;
      connections: ConnectionRegistry;
      review: TransactionReview;
      events: EventLog;
      log: FastifyBaseLogger;
      metrics?: Metrics;
      /** This process: its id, and whether a process of that id still beats (see src/idempotency/instance.ts). */
      instance: { id: string; alive(id: string): Promise<boolean> };
    },
  ) {}

  /**
   * Starts an audit and answers it as it begins (status running); it goes on in this process.
   * `done` settles when it has finished (the schedule and the tests wait on it).
   */
  async start(q: {
    connection: string;
    fromMs?: number;
    toMs?: number;
    trigger: 'api' | 'schedule';
    by: string | null;
  }): Promise<{ audit: Audit; done: Promise<Audit> }> {
    const { adapter, provider } = this.auditable(q.connection);
    const now = Date.now();
    const toMs = q.toMs ?? now;
    const fromMs = q.fromMs ?? toMs - 86_400_000;
    if (fromMs >= toMs) throw fieldError('from', 'must be before to');
    if (toMs - fromMs > AUDIT_MAX_WINDOW_MS) throw fieldError('from', 'must be at most 31 days before to');
    const audit: StoredAudit = {
      id: `aud_${ulid(now)}`,
      connection: q.connection,
      provider,
      method: adapter.history ? 'provider_record' : 'balance_drift',
      status: 'running',
      trigger: q.trigger,
      requested_by: q.by,
      from: isoTime(fromMs),
      to: isoTime(toMs),
      started_at: isoTime(now),
      finished_at: null,
      checked: { transactions: 0, cards: 0, provider_operations: 0, in_flight: 0 },
      summary: {},
      findings: [],
      truncated: false,
      error: null,
      owner: this.deps.instance.id,
    };
    await this.save(audit);
    await this.deps.redis.zadd(this.deps.keys.auditRuns, 0, audit.id);
    const done = this.run(audit, adapter, fromMs, toMs);
    return { audit: publicView(audit), done };
  }

  async get(id: string): Promise<Audit | null> {
    const stored = await this.load(id);
    if (!stored) return null;
    if (stored.status === 'running' && !(await this.deps.instance.alive(stored.owner))) {
      return publicView({
        ...stored,
        status: 'failed',
        error: {
          code: 'audit_abandoned',
          detail: 'The gateway process running this audit stopped before it finished.',
        },
      });
    }
    return publicView(stored);
  }

  /** Audits, newest first, of one connection or all; `before` is the last id of the previous page. */
  async list(q: {
    connection?: string;
    limit: number;
    before?: string;
  }): Promise<{ data: Audit[]; next: string | null }> {
    const data: Audit[] = [];
    let before = q.before;
    for (let rounds = 0; rounds < 20 && data.length < q.limit; rounds++) {
      const ids = (await this.deps.redis.zrange(
        this.deps.keys.auditRuns,
        before ? `(${before}` : '+',
        '-',
        'BYLEX',
        'REV',
        'LIMIT',
        0,
        q.limit,
      )) as string[];
      if (ids.length === 0) return { data, next: null };
      for (const id of ids) {
        before = id;
        const a = await this.get(id);
        if (!a) {
          // Expired: its index entry goes too.
          await this.deps.redis.zrem(this.deps.keys.auditRuns, id);
          continue;
        }
        if (q.connection !== undefined && a.connection !== q.connection) continue;
        data.push(a);
        if (data.length === q.limit) break;
      }
      if (ids.length < q.limit && data.length < q.limit) return { data, next: null };
    }
    return { data, next: data.length === q.limit ? (before ?? null) : null };
  }

  /**
   * An admin confirms a finding: a needs_review transaction the provider applied becomes succeeded,
   * its audit entry naming the audit, the finding and the provider's operation.
   */
  async confirm(auditId: string, findingId: string, by: string, note: string | null): Promise<Transaction> {
    const audit = await this.load(auditId);
    if (!audit) throw new GatewayError('audit_not_found', `No audit ${auditId}.`);
    const finding = audit.findings.find((f) => f.id === findingId);
    if (!finding) throw new GatewayError('finding_not_found', `Audit ${auditId} has no finding ${findingId}.`);
    if (!finding.confirmable || finding.transaction_id === null) {
      throw new GatewayError(
        'finding_not_confirmable',
        `Finding ${findingId} (${finding.kind}) settles nothing: only an applied_not_succeeded finding on a ` +
          'needs_review transaction is confirmed.',
      );
    }
    if (finding.confirmed) {
      throw new GatewayError(
        'finding_not_confirmable',
        `Finding ${findingId} was confirmed by ${finding.confirmed.by} at ${finding.confirmed.at}.`,
      );
    }
    const rec = await this.deps.store.get(finding.transaction_id);
    let txn: Transaction;
    try {
      txn = await this.deps.review.resolve(finding.transaction_id, by, {
        outcome: 'succeeded',
        provider_reference: finding.provider_reference ?? undefined,
        balance_after: finding.actual !== null && rec?.unit === finding.unit ? finding.actual : undefined,
        note:
          `Confirmed from audit ${auditId}, finding ${findingId}: the provider applied it as operation ` +
          `${finding.provider_reference} at ${finding.provider_at}.${note ? ` ${note}` : ''}`,
      });
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'transaction_not_retryable') {
        throw new GatewayError(
          'finding_not_confirmable',
          `Transaction ${finding.transaction_id} is no longer needs_review: ${err.message}`,
        );
      }
      throw err;
    }
    finding.confirmed = { by, at: isoTime(Date.now()), transaction_status: txn.status };
    await this.save(audit);
    return txn;
  }

  /** The connection's adapter (calls pass its rate limit); the built-in ledger has no provider to audit. */
  private auditable(connection: string): { adapter: ProviderAdapter; provider: string } {
    const conn = this.deps.connections.get(connection);
    if (!conn.provider) {
      throw new GatewayError(
        'validation_failed',
        `Connection ${connection} is the built-in ledger: its transactions are its record, there is no provider to ` +
          'audit.',
        { errors: [{ field: '/connection', message: 'must be a provider connection' }] },
      );
    }
    return { adapter: conn.provider.api, provider: conn.config.provider };
  }

  private async run(audit: StoredAudit, adapter: ProviderAdapter, fromMs: number, toMs: number): Promise<Audit> {
    const { log, metrics } = this.deps;
    try {
      const { judged, inFlight, truncated } = await this.transactionsOf(audit.connection, fromMs, toMs);
      const byCard = new Map<string, TransactionRecord[]>();
      for (const r of judged) byCard.set(r.card_id, [...(byCard.get(r.card_id) ?? []), r]);
      for (const r of inFlight) if (!byCard.has(r.card_id)) byCard.set(r.card_id, []);
      const cards = [...byCard.keys()].slice(0, AUDIT_MAX_CARDS);
      audit.truncated = truncated || byCard.size > cards.length;
      audit.checked = {
        transactions: judged.length,
        cards: cards.length,
        provider_operations: 0,
        in_flight: inFlight.length,
      };

      const found: NewFinding[] = [];
      for (const cardId of cards) {
        const records = byCard.get(cardId)!;
        if (adapter.history) {
          const entries = await this.historyOf(adapter, cardId, fromMs, toMs);
          audit.checked.provider_operations += entries.length;
          const elsewhere = await this.recordsOf(entries, new Set(records.map((r) => r.id)));
          found.push(...matchProviderRecord(cardId, records, entries, elsewhere));
        } else {
          // A write on its way may be applied at the provider already: the balance is judged once it has settled.
          if (inFlight.some((r) => r.card_id === cardId)) continue;
          const balance = await adapter.balance(referenceOf(cardId));
          const recent = await this.deps.store.getMany(await this.deps.store.idsOfCard(cardId, DRIFT_RECENT));
          if (recent.some((r) => r.status === 'queued' || r.status === 'processing')) continue;
          const drift = balanceDrift(cardId, recent, balance);
          if (drift) found.push(drift);
        }
      }
      audit.findings = found.map((f, i) => ({ ...f, id: `f${i + 1}`, confirmed: null }) satisfies AuditFinding);
      for (const f of audit.findings) audit.summary[f.kind] = (audit.summary[f.kind] ?? 0) + 1;
      audit.status = 'completed';
    } catch (err) {
      audit.status = 'failed';
      const e = err as Error;
      audit.error = {
        code: err instanceof GatewayError ? err.code : 'internal_error',
        detail: err instanceof GatewayError ? e.message : 'The audit stopped on an unexpected error (see the log).',
      };
      log.error({ err, audit: audit.id, connection: audit.connection }, 'provider audit failed');
    }
    audit.finished_at = isoTime(Date.now());
    await this.save(audit).catch((err: Error) => log.error({ err, audit: audit.id }, 'could not save an audit'));
    const outcome = audit.status === 'failed' ? 'failed' : audit.findings.length > 0 ? 'drift_found' : 'clean';
    metrics?.audits.inc({ connection: audit.connection, outcome });
    if (audit.status === 'completed') {
      metrics?.auditLastFindings.set({ connection: audit.connection }, audit.findings.length);
      for (const f of audit.findings) metrics?.auditFindings.inc({ connection: audit.connection, kind: f.kind });
    }
    if (outcome === 'drift_found') {
      log.warn(
        { audit: audit.id, connection: audit.connection, summary: audit.summary },
        'provider audit found differences',
      );
      await this.deps.events
        .record('audit.drift_found', {
          audit_id: audit.id,
          connection: audit.connection,
          from: audit.from,
          to: audit.to,
          summary: audit.summary,
          findings: audit.findings.length,
        })
        .catch((err: Error) => log.error({ err, audit: audit.id }, 'could not record an audit event'));
    } else if (outcome === 'clean') {
      log.info({ audit: audit.id, connection: audit.connection, checked: audit.checked }, 'provider audit clean');
    }
    return publicView(audit);
  }

  /**
   * The connection's transactions created in the window: those judged (succeeded, needs_review,
   * failed) and those still on their way (queued, processing), which are only counted.
   */
  private async transactionsOf(
    connection: string,
    fromMs: number,
    toMs: number,
  ): Promise<{ judged: TransactionRecord[]; inFlight: TransactionRecord[]; truncated: boolean }> {
    const judged: TransactionRecord[] = [];
    const inFlight: TransactionRecord[] = [];
    for (const status of TRANSACTION_STATUSES) {
      let after: string | undefined;
      for (;;) {
        // Bounded: a long window on a busy connection is audited in part (truncated), never read whole into memory.
        if (judged.length + inFlight.length >= AUDIT_MAX_TRANSACTIONS) return { judged, inFlight, truncated: true };
        const page = await this.deps.store.listCreatedBetween(status, fromMs, toMs, { limit: 500, after });
        for (const r of page) {
          if (r.connection !== connection) continue;
          (status === 'queued' || status === 'processing' ? inFlight : judged).push(r);
        }
        if (page.length < 500) break;
        after = page[page.length - 1]!.id;
      }
    }
    return { judged, inFlight, truncated: false };
  }

  /** The card's operations at the provider around the window; a card the provider no longer has has none. */
  private async historyOf(
    adapter: ProviderAdapter,
    cardId: string,
    fromMs: number,
    toMs: number,
  ): Promise<ProviderHistoryEntry[]> {
    try {
      return await adapter.history!(referenceOf(cardId), {
        limit: HISTORY_LIMIT,
        fromMs: fromMs - HISTORY_MARGIN_BEFORE_MS,
        toMs: toMs + HISTORY_MARGIN_AFTER_MS,
      });
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'card_not_found') return [];
      throw err;
    }
  }

  /** The gateway's records of the transaction ids found at the provider outside the window (null: none). */
  private async recordsOf(
    entries: ProviderHistoryEntry[],
    known: Set<string>,
  ): Promise<Map<string, TransactionRecord | null>> {
    const ids = [...new Set(entries.flatMap((e) => (e.txnId && !known.has(e.txnId) ? [e.txnId] : [])))];
    const out = new Map<string, TransactionRecord | null>();
    const records = await this.deps.store.getMany(ids);
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const id of ids) out.set(id, byId.get(id) ?? null);
    return out;
  }

  private async save(audit: StoredAudit): Promise<void> {
    await this.deps.redis.set(this.deps.keys.auditRun(audit.id), JSON.stringify(audit), 'PX', AUDIT_TTL_MS);
  }

  private async load(id: string): Promise<StoredAudit | null> {
    if (!/^aud_[0-9A-Z]{26}$/.test(id)) return null;
    const raw = await this.deps.redis.get(this.deps.keys.auditRun(id));
    return raw ? (JSON.parse(raw) as StoredAudit) : null;
  }
}

function publicView(a: StoredAudit): Audit {
  const { owner: _owner, ...rest } = a;
  return structuredClone(rest);
}
