import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditFinding } from '../../../domain/audits.js';
import { GatewayError } from '../../../domain/errors.js';
import type { TimelineEntry } from '../../../domain/timeline.js';
import type { Transaction } from '../../../domain/transactions.js';
import type { Gateway } from '../../../services/gateway.js';
import { type Html, html, query, time } from '../html.js';
import { csrfField, flashOf, page } from '../layout.js';
import { field, seeOther } from '../session.js';

const TXN_ID = /^txn_[0-9A-Z]{26}$/;
const STATUSES = ['needs_review', 'failed'] as const;
const PAGE_SIZE = 50;

type Query = Record<string, string | undefined>;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The review queue (needs_review and failed, by connection) and a transaction's page with its retry and resolve. */
export async function reviewPages(app: FastifyInstance, opts: { gateway: Gateway }) {
  const { review, timeline, audits, connections } = opts.gateway;
  const dispatched = () => connections.list().filter((c) => c.engine.dispatched);

  app.get('/', async (req, reply) => {
    const q = req.query as Query;
    const status = q.status === 'failed' ? 'failed' : 'needs_review';
    const known = dispatched().map((c) => c.id);
    const connection = q.connection && known.includes(q.connection) ? q.connection : undefined;
    const cursor = q.cursor && TXN_ID.test(q.cursor) ? q.cursor : undefined;
    const list = await review.list({ status, connection, limit: PAGE_SIZE, after: cursor });
    const tabs = STATUSES.map(
      (s) =>
        html`<a href="/console${query({ status: s, connection })}"${s === status ? html` aria-current="page"` : ''}>${s}</a>`,
    );
    const body = html`<nav class="tabs">${tabs}</nav>
<form method="get" action="/console" class="filter">
  <input type="hidden" name="status" value="${status}">
  <label for="connection">Connection</label>
  <select id="connection" name="connection">
    <option value="">all</option>
    ${known.map((id) => html`<option value="${id}"${id === connection ? html` selected` : ''}>${id}</option>`)}
  </select>
  <button type="submit">Filter</button>
</form>
${list.data.length === 0 ? html`<p class="empty">Nothing is ${status}${connection ? html` on ${connection}` : ''}.</p>` : transactionTable(list.data)}
${list.next ? html`<p><a class="next" href="/console${query({ status, connection, cursor: list.next })}">Next page →</a></p>` : ''}`;
    return reply
      .type('text/html; charset=utf-8')
      .send(page('Review queue', body, { session: req.consoleSession, flash: flashOf(q.done), current: 'review' }));
  });

  app.get('/transactions/:id', async (req, reply) => {
    const id = idOf(req);
    const t = await timeline.of(id);
    const txn = t.transaction;
    let findings: { audit: string; finding: AuditFinding }[] = [];
    if (txn.status === 'needs_review') {
      // Recent audits of its connection name it in a finding when the provider had applied it.
      const recent = await audits.list({ connection: txn.connection, limit: 20 });
      findings = recent.data.flatMap((a) =>
        a.findings.filter((f) => f.transaction_id === id).map((finding) => ({ audit: a.id, finding })),
      );
    }
    const s = req.consoleSession!;
    const body = html`${fields(txn)}
${txn.status === 'needs_review' || txn.status === 'failed' ? actions(txn, s, findings) : ''}
<h2>Timeline</h2>
${timelineList(t.entries)}
${t.events_truncated ? html`<p class="hint">Only the first ${t.events_scanned} events after it were searched.</p>` : ''}`;
    return reply
      .type('text/html; charset=utf-8')
      .send(page(`Transaction ${id}`, body, { session: s, flash: flashOf((req.query as Query).done) }));
  });

  app.post('/transactions/:id/retry', async (req, reply) => {
    const id = idOf(req);
    const note = bounded(field(req.body, 'note'), 500, 'note');
    await review.retry(id, req.consoleSession!.client, note ?? null, { respondAsync: true, waitMs: 0 });
    return seeOther(reply, `/console/transactions/${id}?done=retried`);
  });

  app.post('/transactions/:id/resolve', async (req, reply) => {
    const id = idOf(req);
    const outcome = field(req.body, 'outcome');
    if (outcome !== 'succeeded' && outcome !== 'failed') {
      throw new GatewayError('validation_failed', 'Choose an outcome: succeeded or failed.');
    }
    const balance = text(field(req.body, 'balance_after'));
    if (balance !== undefined && !/^-?\d{1,15}$/.test(balance)) {
      throw new GatewayError('validation_failed', 'The balance after must be a whole number.');
    }
    await review.resolve(id, req.consoleSession!.client, {
      outcome,
      note: bounded(field(req.body, 'note'), 500, 'note'),
      provider_reference: bounded(field(req.body, 'provider_reference'), 200, 'provider reference'),
      balance_after: balance === undefined ? undefined : Number(balance),
    });
    return seeOther(reply, `/console/transactions/${id}?done=resolved`);
  });
}

function idOf(req: FastifyRequest): string {
  const id = (req.params as { id: string }).id;
  if (!TXN_ID.test(id)) throw new GatewayError('transaction_not_found', `No transaction ${id}.`);
  return id;
}

function bounded(v: string | undefined, max: number, name: string): string | undefined {
  const t = text(v?.trim());
  if (t !== undefined && t.length > max) {
    throw new GatewayError('validation_failed', `The ${name} is longer than ${max} characters.`);
  }
  return t;
}

function transactionTable(rows: Transaction[]): Html {
  return html`<table>
<thead><tr><th>Transaction</th><th>Connection</th><th>Card</th><th>Type</th><th class="num">Points</th><th>Created</th><th>Error</th></tr></thead>
<tbody>
${rows.map(
  (t) => html`<tr>
  <td><a href="/console/transactions/${t.id}"><code>${t.id}</code></a></td>
  <td>${t.connection}</td><td><code>${t.card_id}</code></td><td>${t.type}</td><td class="num">${t.points}</td>
  <td>${time(t.created_at)}</td><td>${t.error ? html`<code>${t.error.code}</code> ${t.error.detail}` : ''}</td>
</tr>`,
)}
</tbody></table>`;
}

function fields(t: Transaction): Html {
  const rows: [string, Html | string | number | null][] = [
    ['Status', html`<span class="status status-${t.status}">${t.status}</span>`],
    ['Connection', t.connection],
    ['Card', html`<code>${t.card_id}</code>`],
    ['Type', t.type],
    ['Points', `${t.points} ${t.unit}`],
    ['Reason', t.reason],
    ['Reference', t.reference_id],
    ['Provider reference', t.provider_reference],
    ['Balance after', t.balance_after],
    ['Error', t.error ? html`<code>${t.error.code}</code> ${t.error.detail}` : null],
    ['Attempts', t.attempts ?? null],
    ['Created', time(t.created_at)],
    ['Completed', time(t.completed_at)],
  ];
  return html`<dl class="fields">${rows
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

function actions(
  t: Transaction,
  s: NonNullable<FastifyRequest['consoleSession']>,
  findings: { audit: string; finding: AuditFinding }[],
): Html {
  const evidence = findings.find((f) => f.finding.kind === 'applied_not_succeeded');
  const evidenceBlock = findings.length
    ? html`<section class="card evidence"><h2>Provider audit evidence</h2>
${findings.map(
  ({
    audit,
    finding: f,
  }) => html`<p><strong>${f.kind}</strong> (audit <code>${audit}</code>, finding ${f.id}): ${f.detail}</p>
<dl class="fields">${f.provider_reference ? html`<dt>Provider reference</dt><dd><code>${f.provider_reference}</code></dd>` : ''}${f.provider_at ? html`<dt>At the provider</dt><dd>${time(f.provider_at)}</dd>` : ''}</dl>`,
)}</section>`
    : '';
  const resolve =
    t.status === 'needs_review'
      ? html`<form method="post" action="/console/transactions/${t.id}/resolve" class="card">
  <h2>Resolve</h2>
  <p class="hint">After checking at the provider whether it applied this transaction.</p>
  ${csrfField(s)}
  <fieldset><legend>Outcome</legend>
    <label><input type="radio" name="outcome" value="succeeded"${evidence ? html` checked` : ''} required> succeeded (it was applied)</label>
    <label><input type="radio" name="outcome" value="failed"> failed (it was not)</label>
  </fieldset>
  <label for="provider_reference">Provider reference</label>
  <input id="provider_reference" name="provider_reference" maxlength="200" value="${evidence?.finding.provider_reference ?? ''}">
  <label for="balance_after">Balance after</label>
  <input id="balance_after" name="balance_after" inputmode="numeric" pattern="-?[0-9]+">
  <label for="resolve_note">Note</label>
  <input id="resolve_note" name="note" maxlength="500">
  <button type="submit">Resolve</button>
</form>`
      : '';
  return html`${evidenceBlock}<div class="actions">
<form method="post" action="/console/transactions/${t.id}/retry" class="card">
  <h2>Retry</h2>
  <p class="hint">Sends the same transaction again.${t.status === 'needs_review' ? ' Only if the provider did not apply it.' : ''}</p>
  ${csrfField(s)}
  <label for="retry_note">Note</label>
  <input id="retry_note" name="note" maxlength="500">
  <button type="submit">Retry</button>
</form>
${resolve}</div>`;
}

function timelineList(entries: TimelineEntry[]): Html {
  return html`<ol class="timeline">
${entries.map((e) => {
  const facts = [
    e.status ? html`<span class="status status-${e.status}">${e.status}</span>` : '',
    e.attempt ? html` attempt ${e.attempt}` : '',
    e.code ? html` <code>${e.code}</code>` : '',
    e.detail ? html` ${e.detail}` : '',
    e.provider_reference ? html` ref <code>${e.provider_reference}</code>` : '',
    e.balance_after !== null ? html` balance ${e.balance_after}` : '',
    e.by ? html` by <code>${e.by}</code>` : '',
    e.event_type ? html`<code>${e.event_type}</code> <code>${e.event_id}</code>` : '',
    e.deliveries.length
      ? html`<ul>${e.deliveries.map(
          (d) =>
            html`<li>webhook <code>${d.webhook_id}</code> attempt ${d.attempt}: ${d.outcome}${d.status_code ? html` (${d.status_code})` : ''}</li>`,
        )}</ul>`
      : '',
  ];
  return html`<li class="step step-${e.kind}"><time>${time(e.at)}</time> <strong>${e.kind}</strong> ${facts}</li>`;
})}
</ol>`;
}
