import type { CreateCustomerBody, CustomerListQuery, PageMeta, UpdateCustomerBody } from '../../domain/customers.js';
import { ProviderError } from '../../domain/errors.js';
import type { Unit } from '../../domain/units.js';
import type {
  IssueCardInput,
  NotifyInput,
  Page,
  ProviderCustomer,
  ProviderNotification,
  ProviderProgram,
} from '../adapter.js';
import { badResponse, type HttpResult, orNullIfMissing } from '../http/provider-http.js';
import type { HighlightClient } from './client.js';
import type { CardType } from './mapping.js';
import { REFERENCE, timeOf, toCustomer, toProgram } from './normalize.js';
import {
  isCard,
  isCustomer,
  isPush,
  isTemplate,
  itemOf,
  listOf,
  type WireCard,
  type WireCustomer,
  type WireMeta,
  type WirePush,
  type WireRewardTier,
  type WireTemplate,
} from './wire.js';

/**
 * Customers, programs (templates), card issue and pushes: the Highlight calls that are not
 * balance movements. The adapter class extends this one.
 */

export function pageMeta(page: number, perPage: number, got: number, meta: WireMeta | null): PageMeta {
  const total = meta?.totalItems ?? null;
  return { page, per_page: perPage, total, has_more: total !== null ? page * perPage < total : got >= perPage };
}

const PHONE = /^\+?[0-9 ()-]{4,32}$/;

export abstract class HighlightDirectory {
  constructor(protected readonly client: HighlightClient) {}

  protected abstract fetchCard(ref: string): Promise<{ card: WireCard; info: { type: CardType; templateId: string } }>;
  protected abstract cardInfo(ref: string): Promise<{ type: CardType; templateId: string }>;
  /** The unit a template's reward tiers cost in (a reward template's follows its configured mechanics). */
  protected abstract tierUnit(type: CardType, templateId: string): Unit;

  /** The path of a card or customer: a reference that cannot be Highlight's is not found, without a call. */
  protected pathOf(kind: 'cards' | 'customers', ref: string): string {
    if (!REFERENCE.test(ref)) {
      const [code, what] =
        kind === 'cards'
          ? (['card_not_found', 'a card serial'] as const)
          : (['customer_not_found', 'a customer id'] as const);
      throw new ProviderError(
        code,
        `Highlight (connection ${this.client.connection}): "${ref.slice(0, 60)}" is not ${what}.`,
        'no',
      );
    }
    return `/${kind}/${encodeURIComponent(ref)}`;
  }

  private customerPath(ref: string): string {
    return this.pathOf('customers', ref);
  }

  private customerOf(body: unknown, method: string, path: string): WireCustomer {
    const c = itemOf(body, isCustomer);
    if (!c) throw badResponse(this.client.what(method, path), 'no customer in data', method !== 'GET');
    return c;
  }

  /** Serials of a customer's cards (first 100). */
  private async cardsOf(customerId: string): Promise<string[]> {
    const res = await this.client.call('GET', '/cards', {
      query: { customerId, page: 1, itemsPerPage: 100 },
      notFound: 'customer_not_found',
    });
    const list = listOf(res.body, isCard);
    if (!list) throw badResponse(this.client.what('GET', '/cards'), 'no card list in data', false);
    return list.data.map((c) => c.id);
  }

  async listCustomers(q: CustomerListQuery): Promise<Page<ProviderCustomer>> {
    const page = q.page ?? 1;
    const perPage = q.per_page ?? 20;
    const empty = { data: [], meta: { page, per_page: perPage, total: 0, has_more: false } };
    if (q.external_reference !== undefined) {
      throw new ProviderError(
        'validation_failed',
        'Highlight cannot look customers up by external_reference; use email, phone or search.',
        'no',
      );
    }
    let email = q.email;
    let phone = q.phone;
    const s = q.search?.trim();
    const byEmail = !!s && s.includes('@');
    const byPhone = !!s && !byEmail && PHONE.test(s);
    if (byEmail) email ??= s;
    if (byPhone) phone ??= s;
    if (!s || byEmail || byPhone) {
      const found = await this.customerPage({ email, phone, page, itemsPerPage: perPage });
      if (!s || byEmail || found.data.length > 0) return found;
    }
    // Highlight searches customers by email and phone only: anything else is tried as a card serial.
    if (!REFERENCE.test(s) || page > 1) return empty;
    try {
      const { card } = await this.fetchCard(s);
      const owner = card.customerId ?? card.customer?.id;
      if (owner === undefined || owner === null) return empty;
      const c = await this.getCustomer(String(owner));
      return c ? { data: [c], meta: { page, per_page: perPage, total: 1, has_more: false } } : empty;
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'card_not_found') return empty;
      throw err;
    }
  }

  private async customerPage(query: Record<string, string | number | undefined>): Promise<Page<ProviderCustomer>> {
    const res = await this.client.call('GET', '/customers', { query, notFound: 'customer_not_found' });
    const list = listOf(res.body, isCustomer);
    if (!list) throw badResponse(this.client.what('GET', '/customers'), 'no customer list in data', false);
    const page = Number(query.page);
    const perPage = Number(query.itemsPerPage);
    return {
      data: list.data.map((c) => toCustomer(c, [])),
      meta: pageMeta(page, perPage, list.data.length, list.meta),
    };
  }

  async getCustomer(reference: string): Promise<ProviderCustomer | null> {
    return orNullIfMissing('customer_not_found', async () => {
      const path = this.customerPath(reference);
      const res = await this.client.call('GET', path, { notFound: 'customer_not_found' });
      const c = this.customerOf(res.body, 'GET', path);
      return toCustomer(c, await this.cardsOf(String(c.id)));
    });
  }

  async createCustomer(body: CreateCustomerBody & { programReference?: string }): Promise<ProviderCustomer> {
    if (!body.first_name)
      throw new ProviderError('validation_failed', 'Highlight requires first_name to create a customer.', 'no');
    if (body.metadata !== undefined) throw noMetadata();
    const res = await this.client.call('POST', '/customers', {
      body: customerFields(body, body.external_reference),
      notFound: 'customer_not_found',
      conflict: 'customer_exists',
    });
    const c = this.customerOf(res.body, 'POST', '/customers');
    const cards: string[] = [];
    if (body.programReference) {
      try {
        const card = await this.issue({
          customerReference: String(c.id),
          programReference: body.programReference,
          customer: null,
          externalReference: null,
        });
        cards.push(card.id);
      } catch (err) {
        if (err instanceof ProviderError)
          throw new ProviderError(
            err.code,
            `${err.message} (customer ${String(c.id)} was created without a card)`,
            err.applied,
            err.extra,
          );
        throw err;
      }
    }
    return toCustomer(c, cards);
  }

  async updateCustomer(reference: string, body: UpdateCustomerBody): Promise<ProviderCustomer> {
    if (body.metadata !== undefined) throw noMetadata();
    const path = this.customerPath(reference);
    const res = await this.client.call('PATCH', path, {
      body: customerFields(body, undefined),
      notFound: 'customer_not_found',
      conflict: 'customer_exists',
    });
    const c = this.customerOf(res.body, 'PATCH', path);
    return toCustomer(c, await this.cardsOf(String(c.id)));
  }

  async deleteCustomer(reference: string): Promise<void> {
    await this.client.call('DELETE', this.customerPath(reference), { notFound: 'customer_not_found' });
  }

  /** POST /cards {customerId, templateId}; a new customer first when only personal data is given. */
  protected async issue(input: IssueCardInput): Promise<WireCard> {
    const templateId = input.programReference;
    if (!templateId || !/^[0-9]{1,15}$/.test(templateId)) {
      throw new ProviderError(
        templateId ? 'program_not_found' : 'validation_failed',
        'Highlight issues a card on a template: program_id (a numeric template id) is required.',
        'no',
      );
    }
    let customerId = input.customerReference;
    if (!customerId) {
      if (!input.customer?.first_name)
        throw new ProviderError(
          'validation_failed',
          'Highlight issues a card to a customer: give customer_id, or customer with at least first_name.',
          'no',
        );
      customerId = await this.findOrCreate(input.customer, input.externalReference);
    }
    const body = { customerId, templateId: Number(templateId) };
    let res: HttpResult;
    try {
      res = await this.client.call('POST', '/cards', { body, notFound: 'customer_not_found' });
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      // A 404 names the customer or the template: say which when the provider's message does.
      if (err.code === 'customer_not_found' && /template/i.test(err.message))
        throw new ProviderError('program_not_found', err.message, 'no');
      if (err.code === 'duplicate_at_provider') {
        const existing = await this.client.call('GET', '/cards', {
          query: { customerId, templateId, page: 1, itemsPerPage: 1 },
          notFound: 'customer_not_found',
        });
        const found = listOf(existing.body, isCard)?.data[0];
        if (found) return found;
      }
      throw err;
    }
    const card = itemOf(res.body, isCard);
    if (!card) throw badResponse(this.client.what('POST', '/cards'), 'no card in data', true);
    return card;
  }

  /** A new customer's id; on 409 the existing one with the same email, then phone. */
  private async findOrCreate(
    customer: NonNullable<IssueCardInput['customer']>,
    externalReference: string | null,
  ): Promise<string> {
    try {
      const res = await this.client.call('POST', '/customers', {
        body: customerFields(customer, externalReference ?? undefined),
        notFound: 'customer_not_found',
        conflict: 'customer_exists',
      });
      return String(this.customerOf(res.body, 'POST', '/customers').id);
    } catch (err) {
      if (!(err instanceof ProviderError) || err.code !== 'customer_exists') throw err;
      for (const query of [{ email: customer.email }, { phone: customer.phone }]) {
        if (!Object.values(query)[0]) continue;
        const found = await this.customerPage({ ...query, page: 1, itemsPerPage: 1 });
        if (found.data[0]) return found.data[0].reference;
      }
      throw err;
    }
  }

  async listPrograms(q: { page: number; perPage: number }): Promise<Page<ProviderProgram>> {
    const list = await this.templatePage(q.page, q.perPage);
    // A template of a type this adapter does not know is left out.
    const data = list.data.flatMap((t) => toProgram(t, (type, id) => this.tierUnit(type, id)) ?? []);
    return { data, meta: pageMeta(q.page, q.perPage, list.data.length, list.meta) };
  }

  private async templatePage(
    page: number,
    itemsPerPage: number,
  ): Promise<{ data: WireTemplate[]; meta: WireMeta | null }> {
    const res = await this.client.call('GET', '/templates', {
      query: { page, itemsPerPage },
      notFound: 'program_not_found',
    });
    const list = listOf(res.body, isTemplate);
    if (!list) throw badResponse(this.client.what('GET', '/templates'), 'no template list in data', false);
    return list;
  }

  /** GET /templates/{id}, validated. */
  private async template(reference: string): Promise<WireTemplate> {
    const path = `/templates/${reference}`;
    const res = await this.client.call('GET', path, { notFound: 'program_not_found' });
    const t = itemOf(res.body, isTemplate);
    if (!t) throw badResponse(this.client.what('GET', path), 'no template in data', false);
    return t;
  }

  /** Every reward tier of a template (a card's `availableRewardTiers` may hold only those it can pay for now). */
  protected async templateTiers(templateId: string): Promise<WireRewardTier[]> {
    if (!/^[0-9]{1,15}$/.test(templateId)) return [];
    return (await this.template(templateId)).rewardTiers ?? [];
  }

  async getProgram(reference: string): Promise<ProviderProgram | null> {
    if (!/^[0-9]{1,15}$/.test(reference)) return null;
    const path = `/templates/${reference}`;
    return orNullIfMissing('program_not_found', async () => {
      const t = await this.template(reference);
      const p = toProgram(t, (type, id) => this.tierUnit(type, id));
      if (!p)
        throw badResponse(this.client.what('GET', path), `unknown template type ${JSON.stringify(t.type)}`, false);
      return p;
    });
  }

  /** GET /pushes: the pushes sent so far, newest as Highlight orders them. */
  async listNotifications(q: { page: number; perPage: number }): Promise<Page<ProviderNotification>> {
    const res = await this.client.call('GET', '/pushes', {
      query: { page: q.page, itemsPerPage: q.perPage },
      notFound: 'notification_not_found',
    });
    const list = listOf(res.body, isPush);
    if (!list) throw badResponse(this.client.what('GET', '/pushes'), 'no push list in data', false);
    return { data: list.data.map(pushOf), meta: pageMeta(q.page, q.perPage, list.data.length, list.meta) };
  }

  /** GET /pushes/{id}. */
  async getNotification(id: string): Promise<ProviderNotification | null> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return null;
    return orNullIfMissing('notification_not_found', async () => {
      const res = await this.client.call('GET', `/pushes/${encodeURIComponent(id)}`, {
        notFound: 'notification_not_found',
      });
      const push = itemOf(res.body, isPush);
      if (!push) throw badResponse(this.client.what('GET', '/pushes/{id}'), 'no push in data', false);
      return pushOf(push);
    });
  }

  /**
   * POST /pushes {message, templateId, cardId?, scheduledAt?}: one push per card; a program is
   * one push with templateId only; the whole connection is one push per template.
   */
  async notify(input: NotifyInput): Promise<ProviderNotification> {
    const bodies: Record<string, unknown>[] = [];
    const extra = input.scheduledAt ? { scheduledAt: input.scheduledAt } : {};
    if (input.cardReferences?.length) {
      // Every card is resolved before the first push goes out, so an unknown card sends nothing.
      for (const ref of input.cardReferences)
        bodies.push({
          message: input.message,
          templateId: Number((await this.cardInfo(ref)).templateId),
          cardId: ref,
          ...extra,
        });
    } else if (input.programReference) {
      if (!/^[0-9]{1,15}$/.test(input.programReference))
        throw new ProviderError(
          'program_not_found',
          `Highlight has no template "${input.programReference.slice(0, 60)}".`,
          'no',
        );
      bodies.push({ message: input.message, templateId: Number(input.programReference), ...extra });
    } else {
      for (let page = 1; page <= 50; page++) {
        const list = await this.templatePage(page, 100);
        for (const t of list.data) bodies.push({ message: input.message, templateId: Number(t.id), ...extra });
        if (!pageMeta(page, 100, list.data.length, list.meta).has_more) break;
      }
    }
    const pushes: WirePush[] = [];
    for (const body of bodies) {
      try {
        const res = await this.client.call('POST', '/pushes', {
          body,
          notFound: body.cardId ? 'card_not_found' : 'program_not_found',
        });
        const push = itemOf(res.body, isPush);
        if (!push) throw badResponse(this.client.what('POST', '/pushes'), 'no push in data', true);
        pushes.push(push);
      } catch (err) {
        if (pushes.length === 0 || !(err instanceof ProviderError)) throw err;
        const sent = pushes.map((p) => String(p.id)).join(', ');
        throw new ProviderError(
          err.code,
          `${err.message} (${pushes.length} of ${bodies.length} pushes were already sent: ${sent})`,
          'unknown',
          err.extra,
        );
      }
    }
    const statuses = new Set(pushes.map((p) => p.status ?? ''));
    const [only] = statuses;
    const sentAmounts = pushes.map((p) => p.sentAmount);
    const first = pushes[0];
    return {
      id: pushes.length ? pushes.map((p) => String(p.id)).join(',') : null,
      message: input.message,
      recipients: input.cardReferences?.length
        ? input.cardReferences.length
        : sentAmounts.length && sentAmounts.every((n) => typeof n === 'number')
          ? sentAmounts.reduce<number>((a, n) => a + (n ?? 0), 0)
          : null,
      status: statuses.size === 1 && only ? only : input.scheduledAt ? 'scheduled' : 'sent',
      created_at: new Date(timeOf(first?.createdAt) ?? Date.now()).toISOString(),
    };
  }
}

/** Highlight customers have no place for free-form data: refused rather than dropped. */
function noMetadata(): ProviderError {
  return new ProviderError(
    'validation_failed',
    'Highlight customers keep no metadata; send the customer without it.',
    'no',
    { errors: [{ field: '/metadata', message: 'is not supported by Highlight' }] },
  );
}

function pushOf(p: WirePush): ProviderNotification {
  return {
    id: String(p.id),
    message: p.message ?? '',
    recipients: typeof p.sentAmount === 'number' ? p.sentAmount : null,
    status: p.status ?? (p.scheduledAt ? 'scheduled' : 'sent'),
    created_at: new Date(timeOf(p.createdAt) ?? 0).toISOString(),
  };
}

/** Gateway customer fields → Highlight's (metadata has no place at Highlight and is not sent). */
function customerFields(
  b: { first_name?: string; last_name?: string; email?: string; phone?: string; birthday?: string },
  externalUserId: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (b.first_name !== undefined) out.firstName = b.first_name;
  if (b.last_name !== undefined) out.surname = b.last_name;
  if (b.email !== undefined) out.email = b.email;
  if (b.phone !== undefined) out.phone = b.phone;
  if (b.birthday !== undefined) out.dateOfBirth = b.birthday;
  if (externalUserId !== undefined) out.externalUserId = externalUserId;
  return out;
}
