import type { CreateCustomerBody, CustomerListQuery, UpdateCustomerBody } from '../../domain/customers.js';
import { GatewayError, ProviderError } from '../../domain/errors.js';
import type { Page, ProviderCard, ProviderCustomer } from '../adapter.js';
import { badResponse, orNullIfMissing, type Query } from '../http/provider-http.js';
import type { LealClient } from './client.js';
import { customerOf, EXTERNAL_SOURCE, parseId } from './mapping.js';
import { readCustomer, readCustomerList, type WireCustomer } from './wire.js';

/**
 * Leal customers: list/search, exact lookup by external reference, create (optionally enrolling
 * in a card template), get, update. Leal has no customer delete endpoint.
 */

type Fields = NonNullable<ProviderCard['customer']> & { metadata?: Record<string, unknown> };

/** The `customer` object Leal takes on create and update. */
export function customerBody(fields: Fields, externalReference: string | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['first_name', 'last_name', 'email', 'phone', 'birthday', 'metadata'] as const) {
    if (fields[k] !== undefined) out[k] = fields[k];
  }
  if (externalReference) out.external_references = [{ source: EXTERNAL_SOURCE, external_id: externalReference }];
  return out;
}

/** Leal requires first_name and at least one of email or phone to create a customer. */
export function requireNewCustomerFields(fields: Fields | null | undefined, what: string): void {
  if (!fields?.first_name || (!fields.email && !fields.phone)) {
    throw new GatewayError(
      'validation_failed',
      `${what}: Leal needs the customer's first_name and an email or a phone to create a customer.`,
    );
  }
}

const digits = (s: string): string => s.replace(/[^0-9]/g, '');

export class LealCustomers {
  constructor(
    private readonly client: LealClient,
    private readonly notifyCustomers: boolean | undefined,
  ) {}

  /** POST /customers; `cardId` enrols the customer in that card template. */
  async create(
    fields: Fields,
    externalReference: string | null | undefined,
    cardId: string | null,
  ): Promise<WireCustomer> {
    const body: Record<string, unknown> = { customer: customerBody(fields, externalReference) };
    if (cardId !== null) {
      body.card_id = Number(cardId);
      // Card links (email/SMS) only when the connection asks for customer notifications explicitly: Leal's own default
      // is not to send them.
      if (this.notifyCustomers === true) body.send_card_links = true;
    }
    const res = await this.client.call('POST', '/customers', {
      body,
      notFound: 'program_not_found',
      duplicate: 'customer_exists',
    });
    const c = readCustomer(res);
    if (!c) throw badResponse(this.client.what('POST', '/customers'), 'not a customer', true);
    return c;
  }

  /** The customer holding our external reference, or null. */
  async byExternalReference(externalReference: string): Promise<WireCustomer | null> {
    const query = { source: EXTERNAL_SOURCE, external_id: externalReference };
    const res = await this.client.call('GET', '/customers', { query, notFound: 'customer_not_found' });
    const list = readCustomerList(res);
    if (!list) throw badResponse(this.client.what('GET', '/customers'), 'not a customer list', false);
    // Matched here too: a store that ignored the filter must not hand back someone else.
    return (
      list.customers.find((c) =>
        c.external_references.some((r) => r.source === EXTERNAL_SOURCE && r.external_id === externalReference),
      ) ?? null
    );
  }

  async fetch(reference: string): Promise<WireCustomer> {
    const id = parseId(reference);
    if (id === null)
      throw new ProviderError('customer_not_found', `Leal customer "${reference}" is not a Leal customer id.`, 'no');
    const res = await this.client.call('GET', `/customers/${id}`, { notFound: 'customer_not_found' });
    const c = readCustomer(res);
    if (!c) throw badResponse(this.client.what('GET', `/customers/${id}`), 'not a customer', false);
    return c;
  }

  /**
   * GET /customers. `external_reference` is an exact lookup (source + external_id); `email` and
   * `phone` go through Leal's `search` and are then matched exactly here; `search` is Leal's own
   * search, used only when no exact key is given.
   */
  async list(q: CustomerListQuery): Promise<Page<ProviderCustomer>> {
    const page = q.page ?? 1;
    const perPage = q.per_page ?? 20;
    const query: Query = { page, items: perPage };
    if (q.external_reference) {
      query.source = EXTERNAL_SOURCE;
      query.external_id = q.external_reference;
    } else {
      query.search = q.email ?? q.phone ?? q.search;
    }
    const res = await this.client.call('GET', '/customers', { query, notFound: 'customer_not_found' });
    const list = readCustomerList(res);
    if (!list) throw badResponse(this.client.what('GET', '/customers'), 'not a customer list', false);
    const email = q.email?.toLowerCase();
    const phone = q.phone ? digits(q.phone) : undefined;
    const xref = q.external_reference;
    const filtered = list.customers.filter(
      (c) =>
        (xref === undefined ||
          c.external_references.some((r) => r.source === EXTERNAL_SOURCE && r.external_id === xref)) &&
        (email === undefined || c.email?.toLowerCase() === email) &&
        (phone === undefined || (c.phone !== null && digits(c.phone) === phone)),
    );
    const exact = filtered.length === list.customers.length;
    const p = list.pagination;
    return {
      data: filtered.map(customerOf),
      meta: {
        page,
        per_page: perPage,
        total: exact && p ? p.count : null,
        has_more: p ? p.page < p.pages : list.customers.length >= perPage,
      },
    };
  }

  async get(reference: string): Promise<ProviderCustomer | null> {
    if (parseId(reference) === null) return null;
    return orNullIfMissing('customer_not_found', async () => customerOf(await this.fetch(reference)));
  }

  async createCustomer(body: CreateCustomerBody & { programReference?: string }): Promise<ProviderCustomer> {
    const { connection: _c, external_reference, program_id, programReference, ...fields } = body;
    requireNewCustomerFields(fields, 'Leal create customer');
    // The route passes programReference; a bare gateway program_id ("<connection>:<id>") is accepted too.
    const program =
      programReference ?? (program_id !== undefined ? program_id.slice(program_id.indexOf(':') + 1) : undefined);
    let cardId: string | null = null;
    if (program !== undefined) {
      cardId = parseId(program);
      if (cardId === null)
        throw new ProviderError('program_not_found', `Leal card template "${program}" is not a Leal card id.`, 'no');
    }
    return customerOf(await this.create(fields, external_reference, cardId));
  }

  /** PATCH /customers/{id} {customer}: metadata is shallow-merged by Leal. */
  async update(reference: string, body: UpdateCustomerBody): Promise<ProviderCustomer> {
    const id = parseId(reference);
    if (id === null)
      throw new ProviderError('customer_not_found', `Leal customer "${reference}" is not a Leal customer id.`, 'no');
    const path = `/customers/${id}`;
    const res = await this.client.call('PATCH', path, {
      body: { customer: customerBody(body, null) },
      notFound: 'customer_not_found',
      duplicate: 'customer_exists',
    });
    const c = readCustomer(res);
    if (!c) throw badResponse(this.client.what('PATCH', path), 'not a customer', true);
    return customerOf(c);
  }
}
