import Type, { type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The shapes of Loyalty.lt Shop API answers the adapter reads (current `/{locale}/shop/...` generation).
 * Only the fields the adapter uses are checked; extra fields are allowed. Where the documents show
 * two shapes (SDK vs docs page), both are accepted.
 */

const Id = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 200 })]);
const OptStr = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const OptInt = Type.Optional(Type.Union([Type.Integer(), Type.Null()]));
const OptNum = Type.Optional(Type.Union([Type.Number(), Type.Null()]));
const OptId = Type.Optional(Type.Union([Id, Type.Null()]));

/** `{success, code, message, data, request_id}`; lists add `meta`. */
export const Envelope = Type.Object({
  success: Type.Boolean(),
  message: OptStr,
  data: Type.Optional(Type.Unknown()),
  meta: Type.Optional(Type.Unknown()),
});
export type Envelope = Static<typeof Envelope>;

/** transactions/create → data. */
export const CreateData = Type.Object({
  transaction_id: Id,
  points_awarded: OptInt,
  points_balance: OptInt,
  loyalty_card_id: OptId,
  card_number: OptStr,
  user_id: OptId,
});
export type CreateData = Static<typeof CreateData>;

/** deduct-points → data: undocumented (one SDK version only), so every field is optional. */
export const DeductData = Type.Union([
  Type.Null(),
  Type.Object({
    transaction_id: OptId,
    id: OptId,
    points_balance: OptInt,
    new_balance: OptInt,
    balance: Type.Optional(Type.Unknown()),
    points: OptInt,
  }),
]);
export type DeductData = Static<typeof DeductData>;

/** loyalty-cards/balance → data{card_id, card_number, points} (points: non-expired only). */
export const BalanceData = Type.Object({ card_id: OptId, card_number: OptStr, points: Type.Integer() });

const User = Type.Object({
  id: OptId,
  name: OptStr,
  first_name: OptStr,
  last_name: OptStr,
  email: OptStr,
  phone: OptStr,
});

/** loyalty-cards/info and the items of loyalty-cards (list); `balance` appears in the list shape. */
export const CardData = Type.Object({
  id: Id,
  card_number: OptStr,
  card_type: OptStr,
  status: OptStr,
  is_active: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  points: OptInt,
  points_balance: OptInt,
  user_id: OptId,
  user: Type.Optional(Type.Union([User, Type.Null()])),
  partner_card_id: OptId,
  qr_code_url: OptStr,
  created_at: OptStr,
  updated_at: OptStr,
  balance: Type.Optional(Type.Unknown()),
  statistics: Type.Optional(Type.Unknown()),
});
export type CardData = Static<typeof CardData>;

/** Page metadata: `meta{current_page, last_page, per_page, total}` or the same keys beside a nested `data`. */
export const PageInfo = Type.Object({ current_page: OptInt, last_page: OptInt, per_page: OptInt, total: OptInt });
export type PageInfo = Static<typeof PageInfo>;

/** One entry of GET /transactions. */
export const TransactionData = Type.Object({
  id: Id,
  type: OptStr,
  points: OptInt,
  points_redeemed: OptInt,
  amount: OptNum,
  description: OptStr,
  reference_number: OptStr,
  order_id: OptStr,
  status: OptStr,
  loyalty_card_id: OptId,
  loyalty_card: Type.Optional(
    Type.Union([Type.Object({ id: OptId, number: OptStr, card_number: OptStr }), Type.Null()]),
  ),
  balance_after: OptInt,
  transaction_date: OptStr,
  created_at: OptStr,
});
export type TransactionData = Static<typeof TransactionData>;

export function check<const T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return Value.Check(schema, value);
}

/**
 * A list answer, in either documented form: `{data: [...], meta{...}}` (SDK, transactions docs) or
 * `{data: {data: [...], current_page, ...}}` (loyalty-cards docs). Null when it is neither.
 */
export function listOf(env: Envelope): { items: unknown[]; page: PageInfo } | null {
  if (Array.isArray(env.data)) {
    const meta = env.meta ?? {};
    return check(PageInfo, meta) ? { items: env.data, page: meta } : null;
  }
  const inner = env.data as { data?: unknown } | null | undefined;
  if (inner && typeof inner === 'object' && Array.isArray(inner.data) && check(PageInfo, inner)) {
    return { items: inner.data, page: inner };
  }
  return null;
}

/** A string id, from an integer or string. */
export const idText = (v: string | number | null | undefined): string | null =>
  v === null || v === undefined ? null : String(v);
