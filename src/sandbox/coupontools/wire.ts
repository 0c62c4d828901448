/**
 * Coupontools wire helpers: the error body (v3's documented shape, reused for v4 with real HTTP
 * status codes), the error codes this simulator uses, and body validation of user data.
 */
import type { SimResponse } from '../harness.js';
import { USER_FIELDS, type UserData, type UserField } from './state.js';

/** Error codes. 1000/200/300-range/5xx-"not found" follow v3's numbering; the rest are invented. */
export const ERR = {
  invalidJson: 100,
  missingParameter: 200,
  invalidValue: 300,
  unknownParameter: 301,
  mixedBody: 302,
  notStampCard: 340,
  userVoided: 341,
  rewardUsed: 342,
  rewardNotFound: 343,
  recipientInvalid: 344,
  cardNotFound: 520,
  userNotFound: 521,
  endpointNotFound: 599,
  invalidCredentials: 1000,
  rateLimited: 1050,
} as const;

export function failed(status: number, code: number, message: string, headers?: Record<string, string>): SimResponse {
  const r: SimResponse = {
    status,
    body: { status: { status: 'failed', errors: { error_code: code, error_message: message } } },
  };
  if (headers) r.headers = headers;
  return r;
}

export const missing = (msg: string) => failed(400, ERR.missingParameter, msg);
export const invalid = (msg: string) => failed(422, ERR.invalidValue, msg);
export const unknownParam = (name: string) => failed(422, ERR.unknownParameter, `Unknown parameter: ${name}`);
export const cardNotFound = () => failed(404, ERR.cardNotFound, 'Loyalty card not found');
export const userNotFound = () => failed(404, ERR.userNotFound, 'User not found');

/** Positive integer from a path segment or JSON value (digit strings allowed), else null. */
export function toId(v: unknown): number | null {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  if (typeof v === 'string' && /^[1-9][0-9]{0,14}$/.test(v)) return Number(v);
  return null;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A body that was sent but is not JSON is refused before anything else. */
export function badJson(rawBody: string, body: unknown): SimResponse | null {
  if (rawBody.trim().length > 0 && body === undefined)
    return failed(400, ERR.invalidJson, 'Request body is not valid JSON');
  return null;
}

const MAX_LEN: Record<UserField, number> = {
  first_name: 100,
  last_name: 100,
  address: 255,
  zip: 20,
  city: 100,
  phone: 30,
  email: 255,
  custom_1: 255,
  custom_2: 255,
  custom_3: 255,
  custom_4: 255,
  custom_5: 255,
  custom_6: 255,
  custom_7: 255,
  custom_8: 255,
};
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const isUserField = (k: string): k is UserField => (USER_FIELDS as readonly string[]).includes(k);

/**
 * Validates user data (create, bulk item, update). Every field is optional; values are strings
 * (null clears a field on update). `where` prefixes messages, e.g. "users[2].".
 */
export function parseUserData(o: Record<string, unknown>, where = ''): { data: UserData } | { error: SimResponse } {
  const data: UserData = {};
  for (const [k, v] of Object.entries(o)) {
    if (!isUserField(k)) return { error: unknownParam(`${where}${k}`) };
    if (v === null) {
      data[k] = null;
      continue;
    }
    if (typeof v !== 'string') return { error: invalid(`${where}${k} must be a string`) };
    const s = v.trim();
    if (s.length > MAX_LEN[k]) return { error: invalid(`${where}${k} may have at most ${MAX_LEN[k]} characters`) };
    if (k === 'email' && s !== '' && !EMAIL.test(s))
      return { error: invalid(`${where}email is not a valid email address`) };
    data[k] = s === '' ? null : s;
  }
  return { data };
}
