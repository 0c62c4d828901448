import type { Card } from '../../domain/cards.js';
import type {
  CreateCustomerBody,
  CustomerListQuery,
  CustomerResource,
  PageMeta,
  UpdateCustomerBody,
} from '../../domain/customers.js';
import { GatewayError } from '../../domain/errors.js';
import { connectionOf, referenceOf, requireOnConnection } from '../../domain/ids.js';
import { scopeOf, type WriteRequest } from '../../idempotency/key.js';
import type { OnceResult } from '../../idempotency/once.js';
import type { Answer, RequestClaims } from '../../idempotency/request-claims.js';
import { ulid } from '../../lib/ids.js';
import type { CustomerFieldsInput } from '../../providers/adapter.js';
import type { KeySpace } from '../../redis/keys.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import { cardView, customerView } from '../connections/views.js';
import { providerCall, providerOf } from './provider-api.js';

/** Customers live at the provider: these translate to its customer (or card-user) API. */
export class CustomerService {
  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly requests: RequestClaims,
    private readonly keys: KeySpace,
  ) {}

  /** Creates a customer at the connection's provider, once per Idempotency-Key. */
  async create(body: CreateCustomerBody, req: WriteRequest): Promise<OnceResult<Answer<CustomerResource>>> {
    const conn = this.connections.get(body.connection);
    const create = providerCall(conn, 'createCustomer', 'customer creation');
    const view = providerOf(conn, 'customers');
    const { program_id, ...fields } = body;
    requireOnConnection(conn.id, '/program_id', program_id);
    return this.requests.run(scopeOf(this.keys, req), {
      newResource: () => `req_${ulid()}`,
      takeover: 'unknown',
      run: async () => {
        const c = await create({
          ...fields,
          ...(program_id !== undefined ? { programReference: referenceOf(program_id) } : {}),
        });
        return { kind: 'created' as const, body: customerView(view, c) };
      },
    });
  }

  /** Creates many customers in one provider call (Coupontools: each becomes a card of the program). */
  async bulkCreate(
    body: { connection: string; program_id: string; customers: CustomerFieldsInput[] },
    req: WriteRequest,
  ): Promise<OnceResult<Answer<{ created: number | null; cards: Card[] }>>> {
    const conn = this.connections.get(body.connection);
    const create = providerCall(conn, 'bulkCreateCustomers', 'bulk customer creation (create them one by one)');
    const view = providerOf(conn, 'customers');
    requireOnConnection(conn.id, '/program_id', body.program_id);
    return this.requests.run(scopeOf(this.keys, req), {
      newResource: () => `req_${ulid()}`,
      takeover: 'unknown',
      run: async () => {
        const res = await create(referenceOf(body.program_id), body.customers);
        return {
          kind: 'created' as const,
          body: { created: res.created, cards: res.cards.map((c) => cardView(view, c)) },
        };
      },
    });
  }

  async list(q: CustomerListQuery): Promise<{ data: CustomerResource[]; meta: PageMeta }> {
    const conn = this.connections.get(q.connection);
    const list = providerCall(conn, 'listCustomers', 'customer list');
    const page = await list({ ...q, page: q.page ?? 1, per_page: q.per_page ?? 20 });
    const view = providerOf(conn, 'customers');
    return { data: page.data.map((c) => customerView(view, c)), meta: page.meta };
  }

  async get(customerId: string): Promise<CustomerResource> {
    const conn = this.connections.get(connectionOf(customerId));
    const c = await providerCall(conn, 'getCustomer', 'customers')(referenceOf(customerId));
    if (!c) throw new GatewayError('customer_not_found', `No customer ${customerId}.`);
    return customerView(providerOf(conn, 'customers'), c);
  }

  async update(customerId: string, body: UpdateCustomerBody): Promise<CustomerResource> {
    const conn = this.connections.get(connectionOf(customerId));
    const c = await providerCall(conn, 'updateCustomer', 'customer update')(referenceOf(customerId), body);
    return customerView(providerOf(conn, 'customers'), c);
  }

  async delete(customerId: string): Promise<void> {
    const conn = this.connections.get(connectionOf(customerId));
    await providerCall(conn, 'deleteCustomer', 'customer deletion')(referenceOf(customerId));
  }
}
