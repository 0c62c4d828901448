import type { CustomerListQuery } from '../../domain/customers.js';
import { ProviderError } from '../../domain/errors.js';
import type { Page, ProviderCustomer } from '../adapter.js';
import { badResponse } from '../http/provider-http.js';
import type { CoupontoolsClient, NotFoundCode } from './client.js';
import { makeRef, matchesUser, toCustomer } from './convert.js';
import { headerTotals, readUserList, type WireUser } from './wire.js';

/** Page size and page cap when walking users for a customer search. */
const WALK_PAGE = 100;
const WALK_MAX_PAGES = 50;

export interface UserFilter {
  email?: string;
  phone?: string;
  search?: string;
}
export interface UsersPage {
  users: WireUser[];
  total: number | null;
  hasMore: boolean;
}

const programPath = (id: string): string => `/loyalty/loyalty-cards/${encodeURIComponent(id)}`;

/**
 * One page of a program's users. `filter`, `pagination` and `include_voided` are sent as query
 * parameters in bracket notation (filter[email]=…, filter[phone]=…, pagination[page]=…,
 * pagination[per_page]=…, include_voided=true): how v4 takes them on a GET is undocumented.
 * A provider that ignores pagination (returns more than asked) is paged locally; the filter is
 * always applied again locally, and a provider that refuses the filter keys is asked without them.
 */
export async function usersPage(
  client: CoupontoolsClient,
  programId: string,
  page: number,
  perPage: number,
  filter: UserFilter,
  code: NotFoundCode,
): Promise<UsersPage> {
  const path = `${programPath(programId)}/stats`;
  const query: Record<string, string | number | boolean> = {
    include_voided: true,
    'pagination[page]': page,
    'pagination[per_page]': perPage,
  };
  // Only exact fields go to the provider; free-text search is done here (its filter key is unknown).
  const sent = { ...query };
  if (filter.email) sent['filter[email]'] = filter.email;
  if (filter.phone) sent['filter[phone]'] = filter.phone;
  let res: Awaited<ReturnType<CoupontoolsClient['send']>>;
  try {
    res = await client.send('GET', path, { query: sent, notFound: code });
  } catch (e) {
    // A provider that refuses these filter keys is asked again without them (filtered below).
    if (
      !(
        e instanceof ProviderError &&
        e.code === 'provider_rejected' &&
        Object.keys(sent).length > Object.keys(query).length
      )
    )
      throw e;
    res = await client.send('GET', path, { query, notFound: code });
  }
  const { body, headers } = res;
  const parsed = readUserList(body);
  if (!parsed) throw badResponse(client.what('GET', path), 'not a list of loyalty users', false);
  let { users, total, hasMore } = parsed;
  const h = headerTotals(headers);
  total ??= h.total;
  if (hasMore === null && h.pages !== null) hasMore = (h.page ?? page) < h.pages;
  if (users.length > perPage) {
    total = users.length;
    hasMore = page * perPage < users.length;
    users = users.slice((page - 1) * perPage, page * perPage);
  }
  hasMore ??= total !== null ? page * perPage < total : users.length === perPage;
  return { users: users.filter((u) => matchesUser(u, filter)), total, hasMore };
}

/**
 * Customers = users of every loyalty card: walks the programs in order, page by page, until one
 * more customer than the requested page needs is found, then pages locally. `total` is given only
 * when the walk saw everything.
 */
export async function walkCustomers(
  client: CoupontoolsClient,
  programIds: string[],
  q: CustomerListQuery,
): Promise<Page<ProviderCustomer>> {
  const page = q.page ?? 1;
  const perPage = q.per_page ?? 20;
  const filter: UserFilter = { email: q.email, phone: q.phone, search: q.search };
  const need = page * perPage + 1;
  const found: ProviderCustomer[] = [];
  let complete = true;
  for (const programId of programIds) {
    for (let n = 1; n <= WALK_MAX_PAGES; n++) {
      const r = await usersPage(client, programId, n, WALK_PAGE, filter, 'program_not_found');
      for (const u of r.users) {
        const ref = makeRef(programId, u.id);
        if (ref) found.push(toCustomer(ref, u));
      }
      if (!r.hasMore) break;
      if (found.length >= need || n === WALK_MAX_PAGES) {
        complete = false;
        break;
      }
    }
    if (found.length >= need) {
      complete = false;
      break;
    }
  }
  const start = (page - 1) * perPage;
  return {
    data: found.slice(start, start + perPage),
    meta: { page, per_page: perPage, total: complete ? found.length : null, has_more: found.length > start + perPage },
  };
}
