import type { CardTypeCapabilities } from '../../domain/capabilities.js';
import type { CreateCustomerBody, CustomerListQuery, UpdateCustomerBody } from '../../domain/customers.js';
import { GatewayError, ProviderError } from '../../domain/errors.js';
import type { EarnedReward } from '../../domain/programs.js';
import type {
  IssueCardInput,
  ListCardsInput,
  Movement,
  MoveResult,
  NotifyInput,
  Page,
  ProviderAdapter,
  ProviderBalance,
  ProviderCard,
  ProviderCustomer,
  ProviderNotification,
  ProviderProgram,
} from '../adapter.js';
import { badResponse, orNullIfMissing } from '../http/provider-http.js';
import type { RequestGate } from '../http/request-gate.js';
import { CoupontoolsClient, type NotFoundCode } from './client.js';
import {
  afterOf,
  cleanUserFields,
  emptyUser,
  makeRef,
  parseRef,
  refOrThrow,
  refused,
  toCard,
  toCustomer,
  toProgram,
  toRewards,
  type UserFields,
  userBody,
  wireId,
} from './convert.js';
import { capabilitiesOf, checkMovement } from './mapping.js';
import { sendPushes } from './push.js';
import type { CoupontoolsSettings } from './settings.js';
import { usersPage, walkCustomers } from './users.js';
import {
  isObject,
  readProgram,
  readProgramList,
  readUser,
  readUserList,
  type WireProgram,
  type WireUser,
} from './wire.js';

/** How long the program list (id → type) is kept before it is read again. */
const PROGRAM_TTL_MS = 300_000;

const LOYALTY = '/loyalty/loyalty-cards';
const enc = encodeURIComponent;
const programPath = (id: string): string => `${LOYALTY}/${enc(id)}`;
const userPath = (p: string, u: string): string => `${programPath(p)}/stats/${enc(u)}`;

export interface BulkCreateResult {
  /** How many users the provider says it created (the number of cards read back when it does not say). */
  created: number | null;
  cards: ProviderCard[];
}

export class CoupontoolsAdapter implements ProviderAdapter {
  private readonly client: CoupontoolsClient;
  private cache: { at: number; list: WireProgram[] } | null = null;
  /** Users seen to exist: their capabilities need no second read (each read spends the provider's rate limit). */
  private readonly knownUsers = new Set<string>();

  constructor(conn: CoupontoolsSettings, gate: RequestGate) {
    this.client = new CoupontoolsClient(conn, gate);
  }

  // ------------------------------------------------------------ programs

  private async programList(force = false): Promise<WireProgram[]> {
    if (!force && this.cache && Date.now() - this.cache.at < PROGRAM_TTL_MS) return this.cache.list;
    const body = await this.client.call('GET', LOYALTY, { notFound: 'program_not_found' });
    const list = readProgramList(body);
    if (!list)
      throw badResponse(this.client.what('GET', LOYALTY), 'not a list of loyalty cards with id and type', false);
    this.cache = { at: Date.now(), list };
    return list;
  }

  /** A program by id (or by its short code), re-reading the list once on a miss. */
  private async findProgram(ref: string): Promise<WireProgram | null> {
    const find = (l: WireProgram[]) => l.find((p) => p.id === ref) ?? l.find((p) => p.code === ref) ?? null;
    return find(await this.programList()) ?? find(await this.programList(true));
  }

  private async program(ref: string, code: NotFoundCode): Promise<WireProgram> {
    const p = await this.findProgram(ref);
    if (!p) throw refused(code, `Coupontools has no loyalty card (program) ${ref.slice(0, 60)} on this connection.`);
    return p;
  }

  async listPrograms(q: { page: number; perPage: number }): Promise<Page<ProviderProgram>> {
    const list = await this.programList(true);
    const start = (q.page - 1) * q.perPage;
    return {
      data: list.slice(start, start + q.perPage).map(toProgram),
      meta: { page: q.page, per_page: q.perPage, total: list.length, has_more: start + q.perPage < list.length },
    };
  }

  async getProgram(reference: string): Promise<ProviderProgram | null> {
    const p = await this.findProgram(reference);
    return p ? toProgram(p) : null;
  }

  async copyProgram(reference: string, name: string | undefined): Promise<ProviderProgram> {
    const p = await this.program(reference, 'program_not_found');
    const path = `${programPath(p.id)}/copy`;
    const body = await this.client.call('POST', path, {
      body: name === undefined ? {} : { name },
      notFound: 'program_not_found',
    });
    this.cache = null;
    const copy = readProgram(body);
    if (!copy) throw badResponse(this.client.what('POST', path), 'not a loyalty card with id and type', true);
    return toProgram(copy);
  }

  // ------------------------------------------------------------ users

  private async getUser(programId: string, userId: string, code: NotFoundCode): Promise<WireUser> {
    const path = userPath(programId, userId);
    const body = await this.client.call('GET', path, { notFound: code });
    const u = readUser(body);
    if (!u)
      throw badResponse(this.client.what('GET', path), 'not a loyalty user with an id and readable counters', false);
    return u;
  }

  /** The user, or null when the provider says not found. */
  private async maybeUser(ref: string, code: NotFoundCode): Promise<{ programId: string; user: WireUser } | null> {
    const r = parseRef(ref);
    if (!r) return null;
    const user = await orNullIfMissing(code, () => this.getUser(r.programId, r.userId, code));
    return user && { programId: r.programId, user };
  }

  private card(programId: string, type: string, u: WireUser, what: string, write: boolean): ProviderCard {
    const ref = makeRef(programId, u.id);
    if (!ref) throw badResponse(what, 'the user id cannot form a card reference', write);
    return toCard(ref, programId, type, u);
  }

  private async typeOf(programId: string): Promise<string> {
    return (await this.findProgram(programId))?.type ?? 'unknown';
  }

  async listCards(q: ListCardsInput): Promise<Page<ProviderCard>> {
    if (q.customerReference) {
      // A Coupontools customer is the user of one card: its reference is the card's.
      const card = await this.getCard(q.customerReference);
      const hit = card && (!q.programReference || card.programReference === q.programReference) ? [card] : [];
      return {
        data: q.page === 1 ? hit : [],
        meta: { page: q.page, per_page: q.perPage, total: hit.length, has_more: false },
      };
    }
    if (!q.programReference) {
      throw refused('validation_failed', 'Coupontools lists cards per loyalty card: give program_id (or customer_id).');
    }
    const p = await this.program(q.programReference, 'program_not_found');
    const r = await usersPage(this.client, p.id, q.page, q.perPage, {}, 'program_not_found');
    const what = this.client.what('GET', `${programPath(p.id)}/stats`);
    return {
      data: r.users.map((u) => this.card(p.id, p.type, u, what, false)),
      meta: { page: q.page, per_page: q.perPage, total: r.total, has_more: r.hasMore },
    };
  }

  async getCard(reference: string): Promise<ProviderCard | null> {
    const found = await this.maybeUser(reference, 'card_not_found');
    if (!found) return null;
    return toCard(reference, found.programId, await this.typeOf(found.programId), found.user);
  }

  async cardCapabilities(reference: string): Promise<CardTypeCapabilities> {
    const r = refOrThrow(reference, 'card_not_found');
    const p = await this.program(r.programId, 'card_not_found');
    if (!this.knownUsers.has(reference)) {
      await this.getUser(r.programId, r.userId, 'card_not_found');
      if (this.knownUsers.size >= 10_000) this.knownUsers.delete(this.knownUsers.values().next().value!);
      this.knownUsers.add(reference);
    }
    return capabilitiesOf(p.type);
  }

  /** POST …/stats with user fields; the answer must name the new user's id. */
  private async createUser(
    programRef: string,
    fields: UserFields,
    duplicate: 'customer_exists' | 'duplicate_at_provider',
  ): Promise<{ program: WireProgram; user: WireUser; what: string }> {
    const program = await this.program(programRef, 'program_not_found');
    const path = `${programPath(program.id)}/stats`;
    const body = await this.client.call('POST', path, { body: fields, notFound: 'program_not_found', duplicate });
    const what = this.client.what('POST', path);
    const user = readUser(body);
    if (!user) throw badResponse(what, 'the created user has no readable id', true);
    return { program, user, what };
  }

  /** The program to enrol in: the one given, else the connection's only program. */
  private async programFor(ref: string | null | undefined): Promise<string> {
    if (ref) return ref;
    const list = await this.programList();
    if (list.length === 1) return list[0]!.id;
    throw refused('validation_failed', 'On Coupontools a customer is the user of one loyalty card: give program_id.', {
      errors: [{ field: '/program_id', message: 'is required for Coupontools' }],
    });
  }

  async issueCard(input: IssueCardInput): Promise<ProviderCard> {
    let fields = userBody(input.customer ?? {});
    if (input.customerReference) {
      // Issuing to an existing customer (a user of another card): copy their personal data.
      const r = refOrThrow(input.customerReference, 'customer_not_found');
      const from = await this.getUser(r.programId, r.userId, 'customer_not_found');
      fields = {
        ...userBody({ first_name: from.firstName, last_name: from.lastName, email: from.email, phone: from.phone }),
        ...fields,
      };
    }
    const { program, user, what } = await this.createUser(
      await this.programFor(input.programReference),
      fields,
      'customer_exists',
    );
    return this.card(program.id, program.type, user, what, true);
  }

  /** Extra (not in ProviderAdapter): POST …/stats/bulk with `{"users": [...]}`. */
  async bulkCreateUsers(programRef: string, users: Array<Record<string, unknown>>): Promise<BulkCreateResult> {
    if (users.length === 0) throw refused('validation_failed', 'bulkCreateUsers needs at least one user.');
    const program = await this.program(programRef, 'program_not_found');
    const path = `${programPath(program.id)}/stats/bulk`;
    const body = await this.client.call('POST', path, {
      body: { users: users.map(cleanUserFields) },
      notFound: 'program_not_found',
      duplicate: 'customer_exists',
    });
    const what = this.client.what('POST', path);
    const list = readUserList(body);
    if (list)
      return {
        created: list.users.length,
        cards: list.users.map((u) => this.card(program.id, program.type, u, what, true)),
      };
    if (body === undefined || isObject(body)) {
      const n = isObject(body) ? (body.created ?? body.count ?? body.created_count) : undefined;
      return { created: typeof n === 'number' && Number.isInteger(n) ? n : null, cards: [] };
    }
    throw badResponse(what, 'neither a list of users nor an object', true);
  }

  /** The interface's name for bulk user creation: a customer on Coupontools is a user of one loyalty card. */
  async bulkCreateCustomers(
    programReference: string,
    customers: Array<Record<string, unknown>>,
  ): Promise<BulkCreateResult> {
    const i = customers.findIndex((c) => c.birthday !== undefined);
    if (i !== -1) {
      throw new GatewayError(
        'validation_failed',
        'Coupontools users have no birthday; send the customers without it.',
        {
          errors: [{ field: `/customers/${i}/birthday`, message: 'is not supported by Coupontools' }],
        },
      );
    }
    return this.bulkCreateUsers(programReference, customers);
  }

  async deleteCard(reference: string): Promise<void> {
    await this.deleteUser(reference, 'card_not_found');
  }

  async deleteCustomer(reference: string): Promise<void> {
    await this.deleteUser(reference, 'customer_not_found');
  }

  private async deleteUser(reference: string, code: 'card_not_found' | 'customer_not_found'): Promise<void> {
    const r = refOrThrow(reference, code);
    await this.client.call('DELETE', userPath(r.programId, r.userId), { notFound: code });
    this.knownUsers.delete(reference);
  }

  async voidCard(reference: string): Promise<ProviderCard> {
    const r = refOrThrow(reference, 'card_not_found');
    const path = `${userPath(r.programId, r.userId)}/void`;
    const body = await this.client.call('PUT', path, { notFound: 'card_not_found' });
    const type = await this.typeOf(r.programId);
    const u = readUser(body) ?? (await this.maybeUser(reference, 'card_not_found'))?.user ?? null;
    const ref = makeRef(r.programId, r.userId)!;
    const card = u ? toCard(ref, r.programId, type, u) : toCard(ref, r.programId, type, emptyUser(r.userId));
    // The void succeeded: the card is voided whatever the (unknown) body shape says.
    return {
      ...card,
      reference: ref,
      customerReference: ref,
      status: 'voided',
      providerStatus: card.providerStatus ?? 'voided',
    };
  }

  // ------------------------------------------------------------ customers (= users)

  async getCustomer(reference: string): Promise<ProviderCustomer | null> {
    const found = await this.maybeUser(reference, 'customer_not_found');
    return found ? toCustomer(reference, found.user) : null;
  }

  async createCustomer(body: CreateCustomerBody & { programReference?: string }): Promise<ProviderCustomer> {
    const fields = userBody(body);
    const fromId = body.program_id?.includes(':')
      ? body.program_id.slice(body.program_id.indexOf(':') + 1)
      : body.program_id;
    const { program, user, what } = await this.createUser(
      await this.programFor(body.programReference ?? fromId),
      fields,
      'customer_exists',
    );
    const ref = makeRef(program.id, user.id);
    if (!ref) throw badResponse(what, 'the user id cannot form a customer reference', true);
    return toCustomer(ref, user);
  }

  /** POST …/stats/{userId} with user fields only (never `amount`: the same path adds stamps). */
  async updateCustomer(reference: string, body: UpdateCustomerBody): Promise<ProviderCustomer> {
    const r = refOrThrow(reference, 'customer_not_found');
    const fields = userBody(body);
    if (Object.keys(fields).length === 0)
      throw refused('validation_failed', 'Nothing to update: give first_name, last_name, email or phone.');
    const res = await this.client.call('POST', userPath(r.programId, r.userId), {
      body: fields,
      notFound: 'customer_not_found',
      duplicate: 'customer_exists',
    });
    const u = readUser(res) ?? (await this.getUser(r.programId, r.userId, 'customer_not_found'));
    return toCustomer(reference, u);
  }

  /** Customers are users of every loyalty card; walked program by program (see users.ts). */
  async listCustomers(q: CustomerListQuery): Promise<Page<ProviderCustomer>> {
    if (q.external_reference)
      throw refused(
        'validation_failed',
        'Coupontools keeps no external reference: search by email, phone or search instead.',
      );
    return walkCustomers(
      this.client,
      (await this.programList(true)).map((p) => p.id),
      q,
    );
  }

  // ------------------------------------------------------------ balance, rewards, moves

  async balance(reference: string): Promise<ProviderBalance> {
    const r = refOrThrow(reference, 'card_not_found');
    const caps = capabilitiesOf(await this.typeOf(r.programId));
    const u = await this.getUser(r.programId, r.userId, 'card_not_found');
    const units: ProviderBalance['units'] = {};
    if (caps.units.includes('stamps')) {
      if (u.stamps === null)
        throw badResponse(
          this.client.what('GET', userPath(r.programId, r.userId)),
          'the user has no stamp count',
          false,
        );
      units.stamps = u.stamps;
    }
    if (u.rewardsCount !== null) units.rewards = u.rewardsCount;
    return { nativeUnit: caps.nativeUnit, units, totalEarned: u.totalEarned, totalRedeemed: u.totalRedeemed };
  }

  async rewards(reference: string): Promise<EarnedReward[]> {
    const r = refOrThrow(reference, 'card_not_found');
    return toRewards(await this.getUser(r.programId, r.userId, 'card_not_found'));
  }

  async move(reference: string, m: Movement): Promise<MoveResult> {
    const r = refOrThrow(reference, 'card_not_found');
    const p = await this.program(r.programId, 'card_not_found');
    checkMovement(capabilitiesOf(p.type), m);
    const path = userPath(r.programId, r.userId);
    if (m.operation === 'award') {
      // Only {amount}: the same POST with user fields is "update user". No free-text field exists for the txn id.
      const body = await this.client.call('POST', path, { body: { amount: m.quantity }, notFound: 'card_not_found' });
      return { balanceAfter: afterOf(body, 'stamps', this.client.what('POST', path)), providerReference: null };
    }
    if (m.money !== null) {
      throw new GatewayError(
        'validation_failed',
        'Coupontools keeps no value for a used reward: send the redemption without value.',
        { errors: [{ field: '/value', message: 'is not supported by Coupontools' }] },
      );
    }
    return this.useReward(r.programId, r.userId, m);
  }

  /** PUT …/rewards {reward_ids: [id]}, after checking the reward against the user's list when the user has one. */
  private async useReward(programId: string, userId: string, m: Movement): Promise<MoveResult> {
    const rewardId = m.rewardId!;
    const before = await this.getUser(programId, userId, 'card_not_found');
    const holds =
      `The card holds ${before.stamps ?? 'an unknown number of'} stamps and ` +
      `${before.rewardsCount ?? 'an unknown number of'} available rewards.`;
    const known = before.rewards?.find((x) => x.id === rewardId) ?? null;
    if (before.rewards && !known)
      throw refused('reward_not_found', `The card has no reward ${rewardId.slice(0, 60)}. ${holds}`);
    if (known && known.status !== 'available')
      throw refused('reward_not_available', `Reward ${known.id} was already used. ${holds}`);
    const path = `${userPath(programId, userId)}/rewards`;
    try {
      const body = await this.client.call('PUT', path, {
        body: { reward_ids: [known?.rawId ?? wireId(rewardId)] },
        notFound: 'card_not_found',
        reward: true,
      });
      return {
        balanceAfter: afterOf(body, m.unit === 'stamps' ? 'stamps' : 'rewards', this.client.what('PUT', path)),
        providerReference: null,
      };
    } catch (e) {
      if (e instanceof ProviderError && (e.code === 'insufficient_points' || e.code === 'reward_not_available')) {
        throw new ProviderError(e.code, `${e.message} ${holds}`, e.applied, e.extra);
      }
      throw e;
    }
  }

  // ------------------------------------------------------------ push

  async notify(input: NotifyInput): Promise<ProviderNotification> {
    if (input.scheduledAt)
      throw refused(
        'unsupported_operation',
        'Coupontools sends push notifications at once: scheduled_at is not supported.',
      );
    return sendPushes(
      this.client,
      input,
      async (ref) => (await this.program(ref, 'program_not_found')).id,
      async () => (await this.programList(true)).map((p) => p.id),
    );
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
