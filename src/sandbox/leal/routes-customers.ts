import type { SimRequest, SimResponse, Simulator } from '../harness.js';
import { badJson, fail, findAccount, findCustomer, invalid } from './http.js';
import { type Account, type CardTemplate, type Customer, emailKey, type LealStore, phoneKey } from './state.js';
import {
  addError,
  type CustomerFields,
  type FieldErrors,
  isObject,
  parseFlag,
  parseInteger,
  validateCustomer,
} from './validate.js';
import { customerView } from './views.js';

/** /accounts/:account_id/customers — search, create (upsert by external reference), show, update. */

const DEFAULT_ITEMS = 20;
const MAX_ITEMS = 100;

export function registerCustomerRoutes(sim: Simulator, store: LealStore): void {
  const base = '/accounts/:account_id/customers';

  sim.route('GET', base, (req, params) => {
    const a = findAccount(store, params);
    if (!a.ok) return a.res;
    const errors: FieldErrors = {};
    const page = pageParam(req, 'page', 1, errors);
    const items = Math.min(MAX_ITEMS, pageParam(req, 'items', DEFAULT_ITEMS, errors));
    if (Object.keys(errors).length > 0) return invalid(errors);

    const search = req.query.get('search')?.trim().toLowerCase() ?? '';
    const source = req.query.get('source');
    const externalId = req.query.get('external_id');
    const found = [...store.customers.values()]
      .filter((c) => c.account_id === a.value.id)
      .filter(
        (c) =>
          (source === null && externalId === null) ||
          c.external_references.some(
            (r) => (source === null || r.source === source) && (externalId === null || r.external_id === externalId),
          ),
      )
      .filter((c) => search === '' || matchesSearch(store, c, search))
      .sort((x, y) => x.id - y.id);
    const pages = Math.max(1, Math.ceil(found.length / items));
    const slice = found.slice((page - 1) * items, page * items);
    return {
      status: 200,
      body: {
        customers: slice.map((c) => customerView(store, c)),
        pagination: { count: found.length, items, page, pages },
      },
    };
  });

  sim.route('POST', base, (req, params) => {
    const a = findAccount(store, params);
    if (!a.ok) return a.res;
    const bad = badJson(req);
    if (bad) return bad;
    const body = isObject(req.body) ? req.body : {};
    if (!isObject(body.customer)) return invalid({ customer: ['is missing'] });
    const { fields, errors } = validateCustomer(body.customer, 'create');

    let cardId: number | null = null;
    if (body.card_id !== undefined && body.card_id !== null && body.card_id !== '') {
      cardId = parseInteger(body.card_id);
      if (cardId === null) addError(errors, 'card_id', 'must be a number');
    }
    const sendLinks = parseFlag(body.send_card_links);
    if (sendLinks === null) addError(errors, 'send_card_links', 'must be one of: true, false, 1, 0');
    if (Object.keys(errors).length > 0) return invalid(errors);

    let template: CardTemplate | undefined;
    if (cardId !== null) {
      template = store.cards.get(cardId);
      if (!template || template.account_id !== a.value.id) return fail(404, 'Card not found');
    }

    // Upsert: a known (source, external_id) returns that customer unchanged ("safe to call twice").
    const existing = findByReference(store, a.value, fields.external_references ?? []);
    if (existing) {
      if (template && !store.cardsOfCustomer(existing.id).some((cc) => cc.card_id === template.id)) {
        store.enrol(existing, template);
        sim.count('customer_cards.create');
        if (sendLinks) store.notifications.card_links_sent += 1;
      }
      return { status: 200, body: customerView(store, existing) };
    }

    const taken = uniquenessErrors(store, a.value, fields, null);
    if (taken) return invalid(taken);

    const now = new Date().toISOString();
    const customer: Customer = {
      id: store.nextId('customer'),
      account_id: a.value.id,
      first_name: fields.first_name ?? '',
      last_name: fields.last_name ?? null,
      email: fields.email ?? null,
      phone: fields.phone ?? null,
      birthday: fields.birthday ?? null,
      metadata: fields.metadata ?? {},
      external_references: fields.external_references ?? [],
      created_at: now,
      updated_at: now,
    };
    store.customers.set(customer.id, customer);
    sim.count('customers.create');
    if (template) {
      store.enrol(customer, template);
      sim.count('customer_cards.create');
      if (sendLinks) store.notifications.card_links_sent += 1;
    }
    return { status: 201, body: customerView(store, customer) };
  });

  sim.route('GET', `${base}/:id`, (_req, params) => {
    const a = findAccount(store, params);
    if (!a.ok) return a.res;
    const c = findCustomer(store, a.value, params.id);
    return c.ok ? { status: 200, body: customerView(store, c.value) } : c.res;
  });

  sim.route('PATCH', `${base}/:id`, (req, params) => update(sim, store, req, params));
  // Rails routes PUT to the same action.
  sim.route('PUT', `${base}/:id`, (req, params) => update(sim, store, req, params));
}

function update(sim: Simulator, store: LealStore, req: SimRequest, params: Record<string, string>): SimResponse {
  const a = findAccount(store, params);
  if (!a.ok) return a.res;
  const c = findCustomer(store, a.value, params.id);
  if (!c.ok) return c.res;
  const bad = badJson(req);
  if (bad) return bad;
  const body = isObject(req.body) ? req.body : {};
  if (!isObject(body.customer)) return invalid({ customer: ['is missing'] });
  const { fields, errors } = validateCustomer(body.customer, 'update');
  if (Object.keys(errors).length > 0) return invalid(errors);

  const customer = c.value;
  const email = fields.email !== undefined ? fields.email : customer.email;
  const phone = fields.phone !== undefined ? fields.phone : customer.phone;
  if (!email && !phone) return invalid({ base: ['email or phone must be present'] });
  const taken = uniquenessErrors(store, a.value, { ...fields, email, phone }, customer.id);
  if (taken) return invalid(taken);

  // New external references are added to the customer's list; a reference held by another customer is refused above.
  const refs = [...customer.external_references];
  for (const r of fields.external_references ?? []) {
    if (!refs.some((x) => x.source === r.source && x.external_id === r.external_id)) refs.push(r);
  }
  Object.assign(customer, {
    ...(fields.first_name !== undefined ? { first_name: fields.first_name } : {}),
    ...(fields.last_name !== undefined ? { last_name: fields.last_name } : {}),
    ...(fields.birthday !== undefined ? { birthday: fields.birthday } : {}),
    ...(fields.metadata !== undefined ? { metadata: fields.metadata } : {}),
    email,
    phone,
    external_references: refs,
    updated_at: new Date().toISOString(),
  });
  sim.count('customers.update');
  return { status: 200, body: customerView(store, customer) };
}

function pageParam(req: SimRequest, key: string, fallback: number, errors: FieldErrors): number {
  const raw = req.query.get(key);
  if (raw === null || raw === '') return fallback;
  const n = parseInteger(raw);
  if (n === null || n < 1) {
    addError(errors, key, 'must be an integer greater than 0');
    return fallback;
  }
  return n;
}

function matchesSearch(store: LealStore, c: Customer, q: string): boolean {
  const name = `${c.first_name} ${c.last_name ?? ''}`.toLowerCase();
  if (name.includes(q) || (c.email ?? '').toLowerCase().includes(q)) return true;
  // Only a phone-like query (digits and + ( ) . - spaces) searches phones, so "POS-0001" does not.
  const digits = q.replace(/\D/g, '');
  if (/^[+0-9 ().-]+$/.test(q) && digits.length >= 3 && (phoneKey(c.phone) ?? '').includes(digits)) return true;
  if (c.external_references.some((r) => r.external_id.toLowerCase() === q)) return true;
  return store.cardsOfCustomer(c.id).some((cc) => cc.uuid.toLowerCase() === q);
}

function findByReference(
  store: LealStore,
  account: Account,
  refs: { source: string; external_id: string }[],
): Customer | undefined {
  if (refs.length === 0) return undefined;
  return [...store.customers.values()]
    .sort((x, y) => x.id - y.id)
    .find(
      (c) =>
        c.account_id === account.id &&
        c.external_references.some((r) => refs.some((q) => q.source === r.source && q.external_id === r.external_id)),
    );
}

/** Email and phone are unique per store; so is each (source, external_id). */
function uniquenessErrors(
  store: LealStore,
  account: Account,
  f: CustomerFields,
  selfId: number | null,
): FieldErrors | null {
  const errors: FieldErrors = {};
  const others = [...store.customers.values()].filter((c) => c.account_id === account.id && c.id !== selfId);
  const email = emailKey(f.email ?? null);
  const phone = phoneKey(f.phone ?? null);
  if (email && others.some((c) => emailKey(c.email) === email)) addError(errors, 'email', 'has already been taken');
  if (phone && others.some((c) => phoneKey(c.phone) === phone)) addError(errors, 'phone', 'has already been taken');
  for (const r of f.external_references ?? []) {
    if (
      others.some((c) => c.external_references.some((x) => x.source === r.source && x.external_id === r.external_id))
    ) {
      addError(errors, 'external_references', `${r.source}/${r.external_id} has already been taken`);
    }
  }
  return Object.keys(errors).length > 0 ? errors : null;
}
