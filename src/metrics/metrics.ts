import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The gateway's Prometheus metrics (GET /metrics). One registry per app, never prom-client's
 * global one: several gateways in one process (the tests) must not share series. Every layer may
 * import this module (it imports nothing of the gateway's); the layers that count something are
 * handed the one Metrics object (app.ts makes it, services/gateway.ts passes it down).
 *
 * Labels are kept to small sets: route patterns (never raw URLs), connection ids, adapter method
 * names, error codes, statuses. No label ever holds a key, a token or a card id.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly collectors: Array<() => Promise<void>> = [];

  readonly httpRequests = new Counter({
    name: 'lgw_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'lgw_http_request_duration_seconds',
    help: 'HTTP request latency (until the response was sent), by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly idempotentReplays = new Counter({
    name: 'lgw_idempotent_replays_total',
    help: 'Requests answered with an earlier answer (Idempotent-Replayed: true), by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });
  readonly providerCalls = new Counter({
    name: 'lgw_provider_calls_total',
    help: 'Provider calls made by this process, by connection, operation (adapter method) and outcome (ok or error code).',
    labelNames: ['connection', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly providerDuration = new Histogram({
    name: 'lgw_provider_call_duration_seconds',
    help: 'Provider call latency (rate-gate waits included), by connection, operation and outcome.',
    labelNames: ['connection', 'operation', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly providerRateLimited = new Counter({
    name: 'lgw_provider_rate_limited_total',
    help: 'Rate-limit answers (HTTP 429) received from a provider, by connection.',
    labelNames: ['connection'] as const,
    registers: [this.registry],
  });
  readonly gateWaits = new Counter({
    name: 'lgw_rate_gate_waits_total',
    help: "Times a request waited at its connection's rate-limit gate before it was sent.",
    labelNames: ['connection'] as const,
    registers: [this.registry],
  });
  readonly gateWaitSeconds = new Histogram({
    name: 'lgw_rate_gate_wait_seconds',
    help: 'How long requests that waited at the rate-limit gate waited, by connection and outcome (sent, refused).',
    labelNames: ['connection', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly queueJobs = new Gauge({
    name: 'lgw_queue_jobs',
    help: "Jobs in a connection's queue (shared by every process on the Redis), by state: waiting, active, delayed, prioritized.",
    labelNames: ['connection', 'state'] as const,
    registers: [this.registry],
  });
  readonly queueOldestWaiting = new Gauge({
    name: 'lgw_queue_oldest_waiting_age_seconds',
    help: "Age of the oldest job waiting in a connection's queue (0 when none waits).",
    labelNames: ['connection'] as const,
    registers: [this.registry],
  });
  readonly transactions = new Gauge({
    name: 'lgw_transactions',
    help: "Dispatched (provider) transactions in the store's status index, by status.",
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly transactionsSettled = new Counter({
    name: 'lgw_transactions_settled_total',
    help: 'Dispatched transactions this process settled, by connection and final status.',
    labelNames: ['connection', 'status'] as const,
    registers: [this.registry],
  });
  readonly reconciliations = new Counter({
    name: 'lgw_reconciliations_total',
    help:
      'Transactions found processing (outcome unknown) and reconciled, by connection and outcome: applied, ' +
      'not_applied (sent again), resend (the provider dedupes), unverifiable or lookup_failed (needs_review).',
    labelNames: ['connection', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly audits = new Counter({
    name: 'lgw_audits_total',
    help: 'Provider audits this process ran, by connection and outcome (clean, drift_found, failed).',
    labelNames: ['connection', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly auditFindings = new Counter({
    name: 'lgw_audit_findings_total',
    help: 'Differences provider audits found, by connection and kind (missing_at_provider, applied_twice, ...).',
    labelNames: ['connection', 'kind'] as const,
    registers: [this.registry],
  });
  readonly auditLastFindings = new Gauge({
    name: 'lgw_audit_last_findings',
    help: 'Findings of the last audit of a connection this process finished (0: it found none). Alert on > 0.',
    labelNames: ['connection'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'lgw_webhook_deliveries_total',
    help: 'Webhook delivery attempts this process made, by outcome (delivered: a 2xx; failed: anything else).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Process metrics (CPU, memory, handles, GC) and event-loop lag (nodejs_eventloop_lag_*), on this registry only.
    collectDefaultMetrics({ register: this.registry });
  }

  /** Adds a function run before each scrape (gauges read from Redis or BullMQ). */
  onScrape(collect: () => Promise<void>): void {
    this.collectors.push(collect);
  }

  /** The exposition text; a collector that fails leaves its gauges as they were (the scrape still answers). */
  async scrape(): Promise<string> {
    await Promise.allSettled(this.collectors.map((c) => c()));
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
