import type { SimRequest, SimResponse } from '../harness.js';
import type { Account, Customer, CustomerCard, LealStore } from './state.js';
import { type FieldErrors, parseId } from './validate.js';

/** Leal's error bodies and the lookups every nested route starts with. */

export const fail = (status: number, error: string, errors?: FieldErrors): SimResponse => ({
  status,
  body: errors ? { error, errors } : { error },
});

export const invalid = (errors: FieldErrors): SimResponse => fail(422, 'Validation failed', errors);

/** A body that is not JSON: Rails answers 400 before any controller runs. */
export function badJson(req: SimRequest): SimResponse | null {
  if (req.rawBody.trim() !== '' && req.body === undefined) return fail(400, 'Malformed JSON in request body');
  return null;
}

type Found<T> = { ok: true; value: T } | { ok: false; res: SimResponse };

export function findAccount(store: LealStore, params: Record<string, string>): Found<Account> {
  const id = parseId(params.account_id);
  const account = id === null ? undefined : store.accounts.get(id);
  return account ? { ok: true, value: account } : { ok: false, res: fail(404, 'Account not found') };
}

export function findCustomer(store: LealStore, account: Account, raw: string | undefined): Found<Customer> {
  const id = parseId(raw);
  const c = id === null ? undefined : store.customers.get(id);
  return c && c.account_id === account.id
    ? { ok: true, value: c }
    : { ok: false, res: fail(404, 'Customer not found') };
}

export function findCustomerCard(store: LealStore, customer: Customer, raw: string | undefined): Found<CustomerCard> {
  const id = parseId(raw);
  const cc = id === null ? undefined : store.customerCards.get(id);
  return cc && cc.customer_id === customer.id
    ? { ok: true, value: cc }
    : { ok: false, res: fail(404, 'Customer card not found') };
}

/** Account + customer (+ customer card) from the path, or the first 404. */
export function resolve(
  store: LealStore,
  params: Record<string, string>,
  withCard: true,
): Found<{ account: Account; customer: Customer; card: CustomerCard }>;
export function resolve(
  store: LealStore,
  params: Record<string, string>,
  withCard: false,
): Found<{ account: Account; customer: Customer }>;
export function resolve(
  store: LealStore,
  params: Record<string, string>,
  withCard: boolean,
): Found<{ account: Account; customer: Customer; card?: CustomerCard }> {
  const a = findAccount(store, params);
  if (!a.ok) return a;
  const c = findCustomer(store, a.value, params.customer_id);
  if (!c.ok) return c;
  if (!withCard) return { ok: true, value: { account: a.value, customer: c.value } };
  const cc = findCustomerCard(store, c.value, params.id);
  if (!cc.ok) return cc;
  return { ok: true, value: { account: a.value, customer: c.value, card: cc.value } };
}
