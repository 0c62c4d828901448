import type { ExternalReference } from './state.js';

/** Request validation the way a Rails API reports it: `{field: [messages]}`. */

export type FieldErrors = Record<string, string[]>;

export function addError(errors: FieldErrors, field: string, message: string): void {
  errors[field] ??= [];
  errors[field].push(message);
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Path ids "Must be a number": anything else cannot name a record. */
export function parseId(s: string | undefined): number | null {
  return s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : null;
}

/** An integer given as a JSON number or a numeric string (form-style params are accepted too). */
export function parseInteger(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return null;
}

/** "Must be one of: true, false, 1, 0". `undefined` when absent, `null` when invalid. */
export function parseFlag(v: unknown): boolean | null | undefined {
  if (v === undefined) return undefined;
  if (v === true || v === 1 || v === 'true' || v === '1') return true;
  if (v === false || v === 0 || v === 'false' || v === '0') return false;
  return null;
}

export interface CustomerFields {
  first_name?: string;
  last_name?: string | null;
  email?: string | null;
  phone?: string | null;
  birthday?: string | null;
  metadata?: Record<string, unknown>;
  external_references?: ExternalReference[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ().-]{6,24}$/;

function isValidDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Blank strings clear an optional field, as Rails' presence handling would store nil. */
function optionalString(input: Record<string, unknown>, key: string, errors: FieldErrors): string | null | undefined {
  if (!(key in input)) return undefined;
  const v = input[key];
  if (v === null) return null;
  if (typeof v !== 'string') {
    addError(errors, key, 'must be a string');
    return undefined;
  }
  return v.trim() === '' ? null : v.trim();
}

/**
 * Validates `customer` attributes. On create `first_name` and one of email/phone are required;
 * on update only the attributes given are checked (unknown attributes are ignored, like strong params).
 */
export function validateCustomer(
  input: Record<string, unknown>,
  mode: 'create' | 'update',
): { fields: CustomerFields; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const fields: CustomerFields = {};

  const first = optionalString(input, 'first_name', errors);
  if (first === null || (first === undefined && mode === 'create' && !errors.first_name))
    addError(errors, 'first_name', "can't be blank");
  else if (first !== undefined) {
    if (first.length > 100) addError(errors, 'first_name', 'is too long (maximum is 100 characters)');
    else fields.first_name = first;
  }

  const last = optionalString(input, 'last_name', errors);
  if (last !== undefined) {
    if (last !== null && last.length > 100) addError(errors, 'last_name', 'is too long (maximum is 100 characters)');
    else fields.last_name = last;
  }

  const email = optionalString(input, 'email', errors);
  if (email !== undefined) {
    if (email !== null && !EMAIL.test(email)) addError(errors, 'email', 'is invalid');
    else fields.email = email;
  }

  const phone = optionalString(input, 'phone', errors);
  if (phone !== undefined) {
    if (phone !== null && (!PHONE.test(phone) || phone.replace(/\D/g, '').length < 6))
      addError(errors, 'phone', 'is invalid');
    else fields.phone = phone;
  }

  const birthday = optionalString(input, 'birthday', errors);
  if (birthday !== undefined) {
    if (birthday !== null && !isValidDate(birthday))
      addError(errors, 'birthday', 'must be a date in YYYY-MM-DD format');
    else fields.birthday = birthday;
  }

  if ('metadata' in input) {
    const m = input.metadata;
    if (m === null) fields.metadata = {};
    else if (!isObject(m)) addError(errors, 'metadata', 'must be an object');
    else if (jsonSize(m) > 16_384) addError(errors, 'metadata', 'is too large (16 KB at most)');
    else fields.metadata = structuredClone(m);
  }

  if ('external_references' in input) {
    const refs = input.external_references;
    if (!Array.isArray(refs)) addError(errors, 'external_references', 'must be an array');
    else {
      const out: ExternalReference[] = [];
      for (const r of refs) {
        const source = isObject(r) && typeof r.source === 'string' ? r.source.trim() : '';
        const ext =
          isObject(r) && (typeof r.external_id === 'string' || typeof r.external_id === 'number')
            ? String(r.external_id).trim()
            : '';
        if (!source || !ext) {
          addError(errors, 'external_references', 'each reference needs a source and an external_id');
          break;
        }
        if (!out.some((o) => o.source === source && o.external_id === ext)) out.push({ source, external_id: ext });
      }
      if (!errors.external_references) fields.external_references = out;
    }
  }

  if (mode === 'create' && !fields.email && !fields.phone && !errors.email && !errors.phone) {
    addError(errors, 'base', 'email or phone must be present');
  }
  return { fields, errors };
}

/** Bytes as JSON; anything too deep to write counts as too large. */
function jsonSize(v: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(v));
  } catch {
    return Infinity;
  }
}
