/** Loyalty.lt envelopes, app error codes and a small Laravel-like validator. */
import { randomUUID } from 'node:crypto';
import type { SimResponse } from '../harness.js';
import { type Locale, type Rule, ruleText, type TextKey, text } from './messages.js';

/**
 * Application codes. 1004, 1100 and 1200 are documented numeric codes; the create endpoint's own page
 * documents the string codes RESOURCE_ALREADY_EXISTS (409, order already processed) and
 * VALIDATION_ERROR (400, e.g. insufficient points); the others are the sandbox's choice.
 */
export const CODES = {
  ok: 200,
  routeNotFound: 1000,
  unauthorized: 1004,
  rateLimited: 1005,
  validation: 1100,
  cardNotFound: 1200,
  cardInactive: 1201,
  insufficientPoints: 'VALIDATION_ERROR',
  userNotFound: 1203,
  duplicateOrder: 'RESOURCE_ALREADY_EXISTS',
} as const;

export interface Meta {
  current_page: number;
  last_page: number;
  per_page: number;
  total: number;
}

export function ok(locale: Locale, key: TextKey, data: unknown, meta?: Meta): SimResponse {
  const body: Record<string, unknown> = { success: true, code: CODES.ok, message: text(locale, key), data };
  if (meta) body.meta = meta;
  body.request_id = randomUUID();
  return { status: 200, body };
}

export function fail(
  status: number,
  code: number | string,
  locale: Locale,
  key: TextKey,
  extra: Record<string, unknown> = {},
): SimResponse {
  return { status, body: { success: false, code, message: text(locale, key), ...extra, request_id: randomUUID() } };
}

export type Errors = Record<string, string[]>;

export function invalid(locale: Locale, errors: Errors): SimResponse {
  return fail(422, CODES.validation, locale, 'validation', { errors });
}

const INT_RE = /^-?\d+$/;
const NUM_RE = /^-?\d+(\.\d+)?$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/** Collects every field error, like a Laravel FormRequest; integers/numbers also accept numeric strings. */
export class Checker {
  readonly errors: Errors = {};

  constructor(
    private readonly locale: Locale,
    private readonly input: Record<string, unknown>,
  ) {}

  get failed(): boolean {
    return Object.keys(this.errors).length > 0;
  }

  has(field: string): boolean {
    return present(this.input[field]);
  }

  add(field: string, rule: Rule, vars: { o?: string; n?: number } = {}): void {
    this.errors[field] ??= [];
    this.errors[field].push(ruleText(this.locale, rule, field, vars));
  }

  int(field: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.input[field];
    if (!present(v)) {
      if (opts.required) this.add(field, 'required');
      return undefined;
    }
    const n =
      typeof v === 'number' && Number.isInteger(v)
        ? v
        : typeof v === 'string' && INT_RE.test(v.trim())
          ? Number(v.trim())
          : NaN;
    if (Number.isNaN(n)) return void this.add(field, 'integer');
    if (opts.min !== undefined && n < opts.min) return void this.add(field, 'min', { n: opts.min });
    const max = opts.max ?? 2_147_483_647;
    if (n > max) return void this.add(field, 'max', { n: max });
    return n;
  }

  /** A number; Laravel-style validation also caps it (`max`, default 1e9) so state stays exact. */
  num(field: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.input[field];
    if (!present(v)) {
      if (opts.required) this.add(field, 'required');
      return undefined;
    }
    const n =
      typeof v === 'number' && Number.isFinite(v)
        ? v
        : typeof v === 'string' && NUM_RE.test(v.trim())
          ? Number(v.trim())
          : NaN;
    if (Number.isNaN(n)) return void this.add(field, 'numeric');
    if (opts.min !== undefined && n < opts.min) return void this.add(field, 'min', { n: opts.min });
    const max = opts.max ?? 1e9;
    if (n > max) return void this.add(field, 'max', { n: max });
    return n;
  }

  str(field: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
    const v = this.input[field];
    if (!present(v)) {
      if (opts.required) this.add(field, 'required');
      return undefined;
    }
    if (typeof v !== 'string') return void this.add(field, 'string');
    if (opts.max !== undefined && v.length > opts.max) return void this.add(field, 'max_string', { n: opts.max });
    return v;
  }

  email(field: string): string | undefined {
    const v = this.str(field, { max: 255 });
    if (v !== undefined && !EMAIL_RE.test(v)) return void this.add(field, 'email');
    return v;
  }
}

/** A JSON body as an object ({} when absent or not an object, so required-field errors follow). */
export function bodyOf(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** page / per_page (≤ 50, default 15) from the query string. */
export function paging(c: Checker): { page: number; perPage: number } {
  const page = c.int('page', { min: 1 }) ?? 1;
  const perPage = c.int('per_page', { min: 1, max: 50 }) ?? 15;
  return { page, perPage };
}

export function paginate<T>(items: T[], page: number, perPage: number): { items: T[]; meta: Meta } {
  const total = items.length;
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    meta: { current_page: page, last_page: Math.max(1, Math.ceil(total / perPage)), per_page: perPage, total },
  };
}
