/**
 * The Coupontools v4 loyalty endpoints (paths relative to basePath "/v4"). Every handler validates
 * fully before changing anything, so a refused request applies nothing and counts nothing.
 */
import type { SimRequest, SimResponse, Simulator } from '../harness.js';
import {
  type CoupontoolsState,
  type Program,
  programBody,
  USER_FIELDS,
  type User,
  type UserData,
  userBody,
} from './state.js';
import {
  badJson,
  cardNotFound,
  ERR,
  failed,
  invalid,
  isObject,
  isUserField,
  missing,
  parseUserData,
  toId,
  unknownParam,
  userNotFound,
} from './wire.js';

const CARDS = '/loyalty/loyalty-cards';
const MAX_BULK = 100;
const MAX_STAMPS = 1000;
const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 25;
const MAX_MESSAGE = 255;
const FILTER_KEYS = new Set<string>([
  'email',
  'phone',
  'first_name',
  'last_name',
  'city',
  'zip',
  ...USER_FIELDS.filter((f) => f.startsWith('custom_')),
]);

type Found<T> = { ok: T } | { error: SimResponse };

export function registerRoutes(sim: Simulator, st: CoupontoolsState): void {
  const program = (raw: string | undefined): Found<Program> => {
    const id = toId(raw);
    const p = id === null ? undefined : st.program(id);
    return p ? { ok: p } : { error: cardNotFound() };
  };
  const programAndUser = (params: Record<string, string>): Found<{ p: Program; u: User }> => {
    const p = program(params.cardId);
    if ('error' in p) return p;
    const uid = toId(params.userId);
    const u = uid === null ? undefined : st.user(p.ok.id, uid);
    return u ? { ok: { p: p.ok, u } } : { error: userNotFound() };
  };
  /** Parsed JSON object body; an absent body counts as {}. */
  const objectBody = (req: SimRequest): Found<Record<string, unknown>> => {
    const bad = badJson(req.rawBody, req.body);
    if (bad) return { error: bad };
    if (req.body === undefined) return { ok: {} };
    return isObject(req.body)
      ? { ok: req.body }
      : { error: failed(400, ERR.invalidJson, 'Request body must be a JSON object') };
  };
  const ok = (body: unknown, status = 200): SimResponse => ({ status, body });

  sim.route('GET', CARDS, () => ok([...st.programs.values()].sort((a, b) => a.id - b.id).map(programBody)));

  sim.route('POST', `${CARDS}/:cardId/copy`, (req, params) => {
    const p = program(params.cardId);
    if ('error' in p) return p.error;
    const b = objectBody(req);
    if ('error' in b) return b.error;
    for (const k of Object.keys(b.ok)) if (k !== 'name') return unknownParam(k);
    let name: string | undefined;
    if (b.ok.name !== undefined && b.ok.name !== null) {
      if (typeof b.ok.name !== 'string' || b.ok.name.trim() === '') return invalid('name must be a non-empty string');
      if (b.ok.name.trim().length > 50) return invalid('name may have at most 50 characters');
      name = b.ok.name.trim();
    }
    const copy = st.copyProgram(p.ok, name);
    sim.count('copy_loyalty_card');
    return ok(programBody(copy), 201);
  });

  sim.route('GET', `${CARDS}/:cardId/stats`, (req, params) => {
    const p = program(params.cardId);
    if ('error' in p) return p.error;
    const filter: [string, string][] = [];
    let page = 1;
    let perPage = DEFAULT_PER_PAGE;
    let includeVoided = false;
    for (const [k, v] of req.query) {
      const f = /^filter\[([a-z0-9_]+)\]$/.exec(k);
      if (f) {
        if (!FILTER_KEYS.has(f[1]!)) return unknownParam(k);
        filter.push([f[1]!, v]);
      } else if (k === 'pagination[page]' || k === 'pagination[per_page]') {
        const n = /^[0-9]{1,6}$/.test(v) ? Number(v) : 0;
        if (n < 1) return invalid(`${k} must be a positive integer`);
        if (k === 'pagination[page]') page = n;
        else if (n > MAX_PER_PAGE) return invalid(`${k} may be at most ${MAX_PER_PAGE}`);
        else perPage = n;
      } else if (k === 'include_voided') {
        if (!['true', 'false', '1', '0'].includes(v)) return invalid('include_voided must be true or false');
        includeVoided = v === 'true' || v === '1';
      } else return unknownParam(k);
    }
    const all = st.usersOf(p.ok.id).filter((u) => {
      if (u.voided && !includeVoided) return false;
      return filter.every(([key, want]) => {
        const have = u.data[key as keyof User['data']];
        return key === 'email' ? have?.toLowerCase() === want.trim().toLowerCase() : have === want.trim();
      });
    });
    const pages = Math.max(1, Math.ceil(all.length / perPage));
    const slice = all.slice((page - 1) * perPage, page * perPage);
    // A bare array like the program list; pagination metadata travels in headers.
    return {
      status: 200,
      body: slice.map((u) => userBody(p.ok, u)),
      headers: {
        'x-pagination-page': String(page),
        'x-pagination-per-page': String(perPage),
        'x-pagination-total': String(all.length),
        'x-pagination-total-pages': String(pages),
      },
    };
  });

  sim.route('GET', `${CARDS}/:cardId/stats/:userId`, (_req, params) => {
    const f = programAndUser(params);
    return 'error' in f ? f.error : ok(userBody(f.ok.p, f.ok.u));
  });

  sim.route('POST', `${CARDS}/:cardId/stats`, (req, params) => {
    const p = program(params.cardId);
    if ('error' in p) return p.error;
    const b = objectBody(req);
    if ('error' in b) return b.error;
    const d = parseUserData(b.ok);
    if ('error' in d) return d.error;
    const u = st.createUser(p.ok.id, d.data);
    sim.count('create_user');
    return ok(userBody(p.ok, u), 201);
  });

  sim.route('POST', `${CARDS}/:cardId/stats/bulk`, (req, params) => {
    const p = program(params.cardId);
    if ('error' in p) return p.error;
    const bad = badJson(req.rawBody, req.body);
    if (bad) return bad;
    // Both a bare array and {users: [...]} are accepted.
    let items: unknown = req.body;
    if (isObject(items)) {
      for (const k of Object.keys(items)) if (k !== 'users') return unknownParam(k);
      items = items.users;
    }
    if (items === undefined) return missing('users is required');
    if (!Array.isArray(items)) return invalid('users must be a list of users');
    if (items.length === 0) return missing('users must contain at least one user');
    if (items.length > MAX_BULK) return invalid(`users may contain at most ${MAX_BULK} users`);
    const parsed: UserData[] = [];
    for (const [i, item] of items.entries()) {
      if (!isObject(item)) return invalid(`users[${i}] must be an object`);
      const d = parseUserData(item, `users[${i}].`);
      if ('error' in d) return d.error;
      parsed.push(d.data);
    }
    const created = parsed.map((d) => st.createUser(p.ok.id, d));
    sim.count('bulk_create_users');
    return ok(
      created.map((u) => userBody(p.ok, u)),
      201,
    );
  });

  // Same method and path for "Update user" and "Add stamps": a body with `amount` adds stamps.
  sim.route('POST', `${CARDS}/:cardId/stats/:userId`, (req, params) => {
    const f = programAndUser(params);
    if ('error' in f) return f.error;
    const { p, u } = f.ok;
    const b = objectBody(req);
    if ('error' in b) return b.error;
    if (!('amount' in b.ok)) {
      if (Object.keys(b.ok).length === 0) return missing('Give user data to update, or amount to add stamps');
      const d = parseUserData(b.ok);
      if ('error' in d) return d.error;
      st.updateUser(u, d.data);
      sim.count('update_user');
      return ok(userBody(p, u));
    }
    const others = Object.keys(b.ok).filter((k) => k !== 'amount');
    if (others.some(isUserField))
      return failed(422, ERR.mixedBody, 'amount cannot be combined with user data; send them in separate requests');
    if (others.length > 0) return unknownParam(others[0]!);
    const amount = b.ok.amount;
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1)
      return invalid('amount must be a whole number of at least 1');
    if (amount > MAX_STAMPS) return invalid(`amount may be at most ${MAX_STAMPS}`);
    if (p.type !== 'stamp')
      return failed(422, ERR.notStampCard, 'Stamps can only be added to users of a stamp loyalty card');
    if (u.voided) return failed(422, ERR.userVoided, 'User is voided');
    st.addStamps(p, u, amount);
    sim.count('add_stamps');
    return ok(userBody(p, u));
  });

  sim.route('PUT', `${CARDS}/:cardId/stats/:userId/rewards`, (req, params) => {
    const f = programAndUser(params);
    if ('error' in f) return f.error;
    const { p, u } = f.ok;
    const b = objectBody(req);
    if ('error' in b) return b.error;
    for (const k of Object.keys(b.ok)) if (k !== 'reward_ids') return unknownParam(k);
    const raw = b.ok.reward_ids;
    if (raw === undefined || raw === null) return missing('reward_ids is required');
    if (!Array.isArray(raw) || raw.length === 0) return invalid('reward_ids must be a non-empty list of reward ids');
    const ids: number[] = [];
    for (const v of raw) {
      const id = toId(v);
      if (id === null) return invalid('reward_ids must contain reward ids (positive integers)');
      if (ids.includes(id)) return invalid(`reward id ${id} is listed twice`);
      ids.push(id);
    }
    if (u.voided) return failed(422, ERR.userVoided, 'User is voided');
    const rewards = [];
    for (const id of ids) {
      const r = u.rewards.find((x) => x.id === id);
      if (!r) return failed(422, ERR.rewardNotFound, `Reward ${id} does not belong to this user`);
      if (r.status !== 'available') return failed(422, ERR.rewardUsed, `Reward ${id} has already been used`);
      rewards.push(r);
    }
    st.useRewards(u, rewards);
    sim.count('use_rewards');
    return ok(userBody(p, u));
  });

  sim.route('PUT', `${CARDS}/:cardId/stats/:userId/void`, (req, params) => {
    const f = programAndUser(params);
    if ('error' in f) return f.error;
    const bad = badJson(req.rawBody, req.body);
    if (bad) return bad;
    // Voiding twice is harmless: same answer, nothing changes, nothing counted.
    if (!f.ok.u.voided) {
      st.voidUser(f.ok.u);
      sim.count('void_user');
    }
    return ok(userBody(f.ok.p, f.ok.u));
  });

  sim.route('DELETE', `${CARDS}/:cardId/stats/:userId`, (_req, params) => {
    const f = programAndUser(params);
    if ('error' in f) return f.error;
    st.deleteUser(f.ok.u);
    sim.count('delete_user');
    return ok({ id: f.ok.u.id, deleted: true });
  });

  sim.route('POST', `${CARDS}/:cardId/push-notifications`, (req, params) => {
    const p = program(params.cardId);
    if ('error' in p) return p.error;
    const b = objectBody(req);
    if ('error' in b) return b.error;
    for (const k of Object.keys(b.ok)) if (k !== 'message' && k !== 'recipient_stat_ids') return unknownParam(k);
    const message = b.ok.message;
    if (message === undefined || message === null) return missing('message is required');
    if (typeof message !== 'string' || message.trim() === '') return invalid('message must be a non-empty string');
    if (message.length > MAX_MESSAGE) return invalid(`message may have at most ${MAX_MESSAGE} characters`);
    const active = st.usersOf(p.ok.id).filter((u) => !u.voided);
    let ids: number[];
    const raw = b.ok.recipient_stat_ids;
    if (raw === undefined || raw === null) ids = active.map((u) => u.id);
    else {
      if (!Array.isArray(raw) || raw.length === 0)
        return invalid('recipient_stat_ids must be a non-empty list of user ids');
      ids = [];
      for (const v of raw) {
        const id = toId(v);
        if (id === null) return invalid('recipient_stat_ids must contain user ids (positive integers)');
        const u = st.user(p.ok.id, id);
        if (!u) return failed(422, ERR.recipientInvalid, `User ${id} is not a user of this loyalty card`);
        if (u.voided) return failed(422, ERR.recipientInvalid, `User ${id} is voided`);
        if (!ids.includes(id)) ids.push(id);
      }
    }
    const n = st.push(p.ok.id, message, ids);
    sim.count('push_notification');
    return ok(n);
  });
}
