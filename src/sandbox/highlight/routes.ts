/**
 * Routes of the Highlight Cards API v2 sandbox (paths relative to /api/v2).
 */
import { randomBytes } from 'node:crypto';
import type { SimRequest, SimResponse, Simulator } from '../harness.js';
import { applyOp, OPS } from './balance.js';
import { type Customer, newCard, newCustomer, newSerial, type Store } from './state.js';
import {
  cardJson,
  customerJson,
  type FieldErrors,
  fail,
  list,
  noContent,
  objectBody,
  ok,
  operationJson,
  paging,
  pushJson,
  templateJson,
  validation,
} from './wire.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ()-]{5,20}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (v: string) =>
  DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);
const normPhone = (p: string) => p.replace(/[^\d+]/g, '');
const sameEmail = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();
const samePhone = (a: string | null, b: string) => a !== null && normPhone(a) === normPhone(b);

export const routeNotFound = (): SimResponse => fail(404, 'Route not found');
const notFound = (what: string) => fail(404, `${what} not found`);

/** Customer fields of POST (firstName required) and PATCH (all optional). */
function customerFields(body: Record<string, unknown>, create: boolean, errors: FieldErrors): Partial<Customer> {
  const out: Partial<Customer> = {};
  const str = (name: keyof Customer, max: number, re?: RegExp, check?: (v: string) => boolean) => {
    const v = body[name];
    if (v === undefined) return;
    if (v === null && name !== 'firstName') {
      (out as Record<string, unknown>)[name] = null;
      return;
    }
    if (typeof v !== 'string' || v.trim() === '' || v.length > max || (re && !re.test(v)) || (check && !check(v))) {
      errors[name] = [`This value is not valid.`];
    } else (out as Record<string, unknown>)[name] = v.trim();
  };
  if (create && (body.firstName === undefined || body.firstName === null))
    errors.firstName = ['This value should not be blank.'];
  str('firstName', 100);
  str('surname', 100);
  str('email', 254, EMAIL);
  str('phone', 20, PHONE);
  str('dateOfBirth', 10, DATE, isDate);
  str('externalUserId', 255);
  if (body.gender !== undefined) {
    if (body.gender === null || body.gender === 0 || body.gender === 1 || body.gender === 2) out.gender = body.gender;
    else errors.gender = ['The value should be one of: 0, 1, 2.'];
  }
  return out;
}

function duplicate(store: Store, fields: Partial<Customer>, exceptId?: string): SimResponse | null {
  for (const c of store.customers.values()) {
    if (c.id === exceptId) continue;
    if (fields.email && sameEmail(c.email, fields.email)) return fail(409, 'Customer with this email already exists');
    if (fields.phone && samePhone(c.phone, fields.phone)) return fail(409, 'Customer with this phone already exists');
  }
  return null;
}

function customFieldsOf(v: unknown, errors: FieldErrors): { id: number | string; value: unknown }[] {
  // A custom field's value is a scalar (text, number, flag), as a form field is.
  const scalar = (v: unknown) =>
    v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 1000);
  const okItem = (x: unknown) =>
    typeof x === 'object' &&
    x !== null &&
    (typeof (x as { id: unknown }).id === 'number' || typeof (x as { id: unknown }).id === 'string') &&
    'value' in x &&
    scalar((x as { value: unknown }).value);
  if (!Array.isArray(v) || !v.every(okItem)) {
    errors.customFields = ['This value should be a list of {id, value} with scalar values.'];
    return [];
  }
  return v.map((x: { id: number | string; value: unknown }) => ({ id: x.id, value: x.value }));
}

/** An optional integer query filter (e.g. templateId). */
function intQuery(req: SimRequest, name: string, errors: FieldErrors): number | null {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return null;
  if (!/^\d+$/.test(raw)) errors[name] = ['This value should be an integer.'];
  return Number(raw);
}

export function registerRoutes(sim: Simulator, store: Store): void {
  // --- customers
  sim.route('GET', '/customers', (req) => {
    const errors: FieldErrors = {};
    const page = paging(req, errors);
    if (Object.keys(errors).length) return validation(errors);
    const email = req.query.get('email');
    const phone = req.query.get('phone');
    const items = [...store.customers.values()].filter(
      (c) => (!email || sameEmail(c.email, email)) && (!phone || samePhone(c.phone, phone)),
    );
    return list(items, page, customerJson);
  });

  sim.route('POST', '/customers', (req) => {
    const parsed = objectBody(req);
    if ('error' in parsed) return parsed.error;
    const errors: FieldErrors = {};
    const fields = customerFields(parsed.body, true, errors);
    if (Object.keys(errors).length) return validation(errors);
    const dup = duplicate(store, fields);
    if (dup) return dup;
    const id = `cus_${randomBytes(13).toString('hex')}`;
    const customer = newCustomer(id, fields, new Date().toISOString());
    store.customers.set(id, customer);
    sim.count('customers.create');
    return ok(customerJson(customer), 201);
  });

  sim.route('GET', '/customers/:id', (_req, p) => {
    const c = store.customers.get(p.id!);
    return c ? ok(customerJson(c)) : notFound('Customer');
  });

  sim.route('PATCH', '/customers/:id', (req, p) => {
    const c = store.customers.get(p.id!);
    if (!c) return notFound('Customer');
    const parsed = objectBody(req);
    if ('error' in parsed) return parsed.error;
    const errors: FieldErrors = {};
    const fields = customerFields(parsed.body, false, errors);
    if (Object.keys(errors).length) return validation(errors);
    const dup = duplicate(store, fields, c.id);
    if (dup) return dup;
    Object.assign(c, fields, { updatedAt: new Date().toISOString() });
    sim.count('customers.update');
    return ok(customerJson(c));
  });

  sim.route('DELETE', '/customers/:id', (_req, p) => {
    if (!store.customers.has(p.id!)) return notFound('Customer');
    store.customers.delete(p.id!);
    // The customer's cards go with them.
    for (const [serial, card] of store.cards) if (card.customerId === p.id) store.cards.delete(serial);
    sim.count('customers.delete');
    return noContent();
  });

  // --- cards
  sim.route('GET', '/cards', (req) => {
    const errors: FieldErrors = {};
    const page = paging(req, errors);
    const templateId = intQuery(req, 'templateId', errors);
    if (Object.keys(errors).length) return validation(errors);
    const customerId = req.query.get('customerId');
    const email = req.query.get('customerEmail');
    const phone = req.query.get('customerPhone');
    const items = [...store.cards.values()].filter((card) => {
      const c = store.customers.get(card.customerId);
      return (
        (!customerId || card.customerId === customerId) &&
        (templateId === null || card.templateId === templateId) &&
        (!email || (c !== undefined && sameEmail(c.email, email))) &&
        (!phone || (c !== undefined && samePhone(c.phone, phone)))
      );
    });
    return list(items, page, (card) => cardJson(store, card, false));
  });

  sim.route('POST', '/cards', (req) => {
    const parsed = objectBody(req);
    if ('error' in parsed) return parsed.error;
    const b = parsed.body;
    const errors: FieldErrors = {};
    if (typeof b.customerId !== 'string' || b.customerId === '')
      errors.customerId = ['This value should be a non-empty string.'];
    if (!Number.isInteger(b.templateId)) errors.templateId = ['This value should be an integer.'];
    const customFields = b.customFields === undefined ? [] : customFieldsOf(b.customFields, errors);
    if (Object.keys(errors).length) return validation(errors);
    const customer = store.customers.get(b.customerId as string);
    if (!customer) return notFound('Customer');
    const template = store.templates.get(b.templateId as number);
    if (!template) return notFound('Template');
    for (const card of store.cards.values()) {
      if (card.customerId === customer.id && card.templateId === template.id)
        return fail(409, 'Customer already has a card of this template');
    }
    const card = newCard(newSerial(store), template, customer.id, new Date().toISOString());
    card.customFields = customFields;
    store.cards.set(card.serial, card);
    sim.count('cards.create');
    return ok(cardJson(store, card), 201);
  });

  sim.route('GET', '/cards/:serial', (_req, p) => {
    const card = store.cards.get(p.serial!);
    return card ? ok(cardJson(store, card)) : notFound('Card');
  });

  sim.route('PATCH', '/cards/:serial', (req, p) => {
    const card = store.cards.get(p.serial!);
    if (!card) return notFound('Card');
    const parsed = objectBody(req);
    if ('error' in parsed) return parsed.error;
    const errors: FieldErrors = {};
    const fields = customFieldsOf(parsed.body.customFields, errors);
    if (Object.keys(errors).length) return validation(errors);
    for (const f of fields) {
      const at = card.customFields.findIndex((x) => String(x.id) === String(f.id));
      if (at === -1) card.customFields.push(f);
      else card.customFields[at] = f;
    }
    card.updatedAt = new Date().toISOString();
    sim.count('cards.update');
    return ok(cardJson(store, card));
  });

  sim.route('DELETE', '/cards/:serial', (_req, p) => {
    if (!store.cards.delete(p.serial!)) return notFound('Card');
    sim.count('cards.delete');
    return noContent();
  });

  sim.route('POST', '/cards/:serial/:op', (req, p) => {
    const op = p.op!;
    if (!OPS[op]) return routeNotFound();
    const card = store.cards.get(p.serial!);
    if (!card) return notFound('Card');
    // redeem-coupon and set-expiration-date need no body fields, so an empty body is fine.
    const parsed = objectBody(req, true);
    if ('error' in parsed) return parsed.error;
    const template = store.templates.get(card.templateId)!;
    const result = applyOp(store, card, template, op, parsed.body);
    if ('status' in result) return result;
    store.operations.push({
      id: store.nextOperationId++,
      cardId: card.serial,
      customerId: card.customerId,
      templateId: card.templateId,
      eventId: OPS[op]!.eventId,
      op,
      amount: result.amount,
      balance: result.balance,
      purchaseSum: result.purchaseSumCents === null ? null : result.purchaseSumCents / 100,
      comment: result.comment,
      createdAt: card.updatedAt,
    });
    sim.count(`cards.${op}`);
    return ok(cardJson(store, card));
  });

  // --- operations (newest first)
  sim.route('GET', '/operations', (req) => {
    const errors: FieldErrors = {};
    const page = paging(req, errors);
    const templateId = intQuery(req, 'templateId', errors);
    const start = req.query.get('startDate');
    const end = req.query.get('endDate');
    if (start && !isDate(start)) errors.startDate = ['This value should be a date in Y-m-d format.'];
    if (end && !isDate(end)) errors.endDate = ['This value should be a date in Y-m-d format.'];
    if (Object.keys(errors).length) return validation(errors);
    const cardId = req.query.get('cardId');
    const customerId = req.query.get('customerId');
    const items = store.operations
      .filter((o) => {
        const day = o.createdAt.slice(0, 10);
        return (
          (!cardId || o.cardId === cardId) &&
          (!customerId || o.customerId === customerId) &&
          (templateId === null || o.templateId === templateId) &&
          (!start || day >= start) &&
          (!end || day <= end)
        );
      })
      .reverse();
    return list(items, page, (o) => operationJson(store, o));
  });

  // --- pushes
  sim.route('GET', '/pushes', (req) => {
    const errors: FieldErrors = {};
    const page = paging(req, errors);
    if (Object.keys(errors).length) return validation(errors);
    return list([...store.pushes].reverse(), page, pushJson);
  });

  sim.route('GET', '/pushes/:id', (_req, p) => {
    const push = store.pushes.find((x) => String(x.id) === p.id);
    return push ? ok(pushJson(push)) : notFound('Push');
  });

  sim.route('POST', '/pushes', (req) => {
    const parsed = objectBody(req);
    if ('error' in parsed) return parsed.error;
    const b = parsed.body;
    const errors: FieldErrors = {};
    if (typeof b.message !== 'string' || b.message.trim() === '' || b.message.length > 500)
      errors.message = ['This value should be a non-empty string of at most 500 characters.'];
    if (!Number.isInteger(b.templateId)) errors.templateId = ['This value should be an integer.'];
    if (b.cardId != null && typeof b.cardId !== 'string') errors.cardId = ['This value should be a string.'];
    if (b.scheduledAt != null && (typeof b.scheduledAt !== 'string' || Number.isNaN(Date.parse(b.scheduledAt))))
      errors.scheduledAt = ['This value should be a date-time.'];
    if (Object.keys(errors).length) return validation(errors);
    if (!store.templates.has(b.templateId as number)) return notFound('Template');
    const cardId = (b.cardId as string | null | undefined) ?? null;
    if (cardId !== null && store.cards.get(cardId)?.templateId !== b.templateId) return notFound('Card');
    const push = {
      id: store.nextPushId++,
      templateId: b.templateId as number,
      cardId,
      message: b.message as string,
      scheduledAt: b.scheduledAt == null ? null : new Date(b.scheduledAt as string).toISOString(),
      createdAt: new Date().toISOString(),
    };
    store.pushes.push(push);
    sim.count('pushes.create');
    return ok(pushJson(push), 201);
  });

  // --- templates
  sim.route('GET', '/templates', (req) => {
    const errors: FieldErrors = {};
    const page = paging(req, errors);
    if (Object.keys(errors).length) return validation(errors);
    return list([...store.templates.values()], page, templateJson);
  });

  sim.route('GET', '/templates/:id', (_req, p) => {
    const t = /^\d+$/.test(p.id!) ? store.templates.get(Number(p.id)) : undefined;
    return t ? ok(templateJson(t)) : notFound('Template');
  });
}
