import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../domain/errors.js';
import { GATEWAY_ID_PATTERN } from '../../../domain/fields.js';
import type { Order } from '../../../domain/shops.js';
import type { Gateway } from '../../../services/gateway.js';
import { type Html, html, query, time } from '../html.js';
import { csrfField, flashOf, page } from '../layout.js';
import { field, seeOther } from '../session.js';

const PAGE_SIZE = 50;
const CARD_ID = new RegExp(GATEWAY_ID_PATTERN);
type Session = NonNullable<import('fastify').FastifyRequest['consoleSession']>;

/** Shops' unmatched orders (no card for their customer): link the customer to a card, then replay the order. */
export async function orderPages(app: FastifyInstance, opts: { gateway: Gateway }) {
  const { orders } = opts.gateway;

  app.get('/orders', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const s = req.consoleSession!;
    const shops = [...orders.shops.keys()];
    const sections: Html[] = [];
    for (const shopId of shops) {
      const before = shopId === q.shop && q.cursor && /^\d{1,16}$/.test(q.cursor) ? q.cursor : undefined;
      const list = await orders.list({ shopId, status: 'unmatched', limit: PAGE_SIZE, before });
      sections.push(html`<section>
<h2>Shop <code>${shopId}</code></h2>
${list.data.length === 0 ? html`<p class="empty">No unmatched orders.</p>` : orderTable(list.data, s)}
${list.next ? html`<p><a class="next" href="/console/orders${query({ shop: shopId, cursor: list.next })}">Older →</a></p>` : ''}
</section>`);
    }
    const body = shops.length
      ? html`${sections}`
      : html`<p class="empty">No shop is configured (the connections file's <code>shops</code>).</p>`;
    return reply
      .type('text/html; charset=utf-8')
      .send(page('Unmatched orders', body, { session: s, flash: flashOf(q.done), current: 'orders' }));
  });

  app.post('/orders/link', async (req, reply) => {
    const shopId = field(req.body, 'shop_id') ?? '';
    const card = (field(req.body, 'card_id') ?? '').trim();
    if (!CARD_ID.test(card)) {
      throw new GatewayError('validation_failed', 'The card id is not one: <connection>:<reference>, e.g. hl:1234.');
    }
    const customer = field(req.body, 'shop_customer_id') || undefined;
    const email = field(req.body, 'email') || undefined;
    await orders.link({ shop_id: shopId, shop_customer_id: customer, email, card_id: card });
    return seeOther(reply, '/console/orders?done=linked');
  });

  app.post('/orders/replay', async (req, reply) => {
    const id = field(req.body, 'id') ?? '';
    if (id.length > 200 || !id.includes(':')) throw new GatewayError('order_not_found', `No order ${id}.`);
    await orders.replay(id);
    return seeOther(reply, '/console/orders?done=replayed');
  });
}

function orderTable(rows: Order[], s: Session): Html {
  return html`<table>
<thead><tr><th>Order</th><th>Customer</th><th class="num">Amount</th><th>Why</th><th>Created</th><th>Link to a card</th><th></th></tr></thead>
<tbody>
${rows.map(
  (o) => html`<tr>
  <td><code>${o.id}</code>${o.name ? html` ${o.name}` : ''}</td>
  <td>${o.customer.shop_customer_id ? html`<code>${o.customer.shop_customer_id}</code> ` : ''}${o.customer.email ?? ''}</td>
  <td class="num">${o.basis_amount ?? ''} ${o.currency ?? ''}</td>
  <td>${o.reason ?? ''}</td>
  <td>${time(o.created_at)}</td>
  <td>${
    o.customer.shop_customer_id || o.customer.email
      ? html`<form method="post" action="/console/orders/link" class="inline">
    ${csrfField(s)}
    <input type="hidden" name="shop_id" value="${o.shop_id}">
    ${o.customer.shop_customer_id ? html`<input type="hidden" name="shop_customer_id" value="${o.customer.shop_customer_id}">` : ''}
    ${o.customer.email ? html`<input type="hidden" name="email" value="${o.customer.email}">` : ''}
    <input name="card_id" placeholder="card id" aria-label="Card id for order ${o.id}" required maxlength="240">
    <button type="submit">Link</button>
  </form>`
      : html`<span class="hint">no customer on the order</span>`
  }</td>
  <td><form method="post" action="/console/orders/replay" class="inline">
    ${csrfField(s)}
    <input type="hidden" name="id" value="${o.id}">
    <button type="submit">Replay</button>
  </form></td>
</tr>`,
)}
</tbody></table>`;
}
