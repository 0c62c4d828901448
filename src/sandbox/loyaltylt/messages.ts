/** Lithuanian and English texts: Loyalty.lt answers in the language of the `{locale}` path segment. */

export type Locale = 'lt' | 'en';

export const LOCALES: readonly string[] = ['lt', 'en'];

const TEXTS = {
  unauthorized: {
    en: 'Invalid or missing API credentials',
    lt: 'Neteisingi arba nepateikti API prisijungimo duomenys',
  },
  notFound: { en: 'Endpoint not found', lt: 'Maršrutas nerastas' },
  rateLimited: { en: 'Too many requests. Please try again later.', lt: 'Per daug užklausų. Bandykite vėliau.' },
  validation: { en: 'The given data was invalid', lt: 'Pateikti duomenys neteisingi' },
  cardNotFound: { en: 'Loyalty card not found', lt: 'Lojalumo kortelė nerasta' },
  userNotFound: { en: 'User not found', lt: 'Vartotojas nerastas' },
  cardInactive: { en: 'Loyalty card is inactive or blocked', lt: 'Lojalumo kortelė neaktyvi arba užblokuota' },
  insufficientPoints: { en: 'Insufficient points balance', lt: 'Nepakanka taškų' },
  duplicateOrder: { en: 'Transaction already processed for this order', lt: 'Šio užsakymo transakcija jau apdorota' },
  transactionCreated: { en: 'Transaction created successfully', lt: 'Transakcija sėkmingai sukurta' },
  pointsDeducted: { en: 'Points deducted successfully', lt: 'Taškai sėkmingai nurašyti' },
  balance: { en: 'Balance retrieved successfully', lt: 'Balansas sėkmingai gautas' },
  cardInfo: { en: 'Card information retrieved successfully', lt: 'Kortelės informacija sėkmingai gauta' },
  cards: { en: 'Loyalty cards retrieved successfully', lt: 'Lojalumo kortelės sėkmingai gautos' },
  card: { en: 'Loyalty card retrieved successfully', lt: 'Lojalumo kortelė sėkmingai gauta' },
  transactions: { en: 'Transactions retrieved successfully', lt: 'Transakcijos sėkmingai gautos' },
  orderDescription: { en: 'Points for order {order}', lt: 'Taškai už užsakymą {order}' },
} as const;

export type TextKey = keyof typeof TEXTS;

export function text(locale: Locale, key: TextKey, vars: Record<string, string> = {}): string {
  return TEXTS[key][locale].replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');
}

/** Laravel-style validation messages; `{f}` is the field, `{o}` the other field, `{n}` a limit. */
const RULES = {
  required: { en: 'The {f} field is required.', lt: 'Laukas {f} yra privalomas.' },
  required_without: {
    en: 'The {f} field is required when {o} is not present.',
    lt: 'Laukas {f} yra privalomas, kai nenurodytas {o}.',
  },
  integer: { en: 'The {f} field must be an integer.', lt: 'Laukas {f} turi būti sveikasis skaičius.' },
  numeric: { en: 'The {f} field must be a number.', lt: 'Laukas {f} turi būti skaičius.' },
  string: { en: 'The {f} field must be a string.', lt: 'Laukas {f} turi būti tekstas.' },
  email: {
    en: 'The {f} field must be a valid email address.',
    lt: 'Laukas {f} turi būti galiojantis el. pašto adresas.',
  },
  min: { en: 'The {f} field must be at least {n}.', lt: 'Laukas {f} turi būti ne mažesnis nei {n}.' },
  max: { en: 'The {f} field must not be greater than {n}.', lt: 'Laukas {f} negali būti didesnis nei {n}.' },
  max_string: {
    en: 'The {f} field must not be greater than {n} characters.',
    lt: 'Laukas {f} negali būti ilgesnis nei {n} simbolių.',
  },
  array: { en: 'The {f} field must be an array.', lt: 'Laukas {f} turi būti masyvas.' },
  object: { en: 'The {f} field must be an object.', lt: 'Laukas {f} turi būti objektas.' },
  max_kb: { en: 'The {f} field must not be larger than {n} KB.', lt: 'Laukas {f} negali būti didesnis nei {n} KB.' },
  currency: {
    en: 'The {f} field must be a 3-letter currency code.',
    lt: 'Laukas {f} turi būti 3 raidžių valiutos kodas.',
  },
  card_owner: {
    en: 'The selected {f} does not belong to this user.',
    lt: 'Pasirinkta {f} nepriklauso šiam vartotojui.',
  },
} as const;

export type Rule = keyof typeof RULES;

export function ruleText(locale: Locale, rule: Rule, field: string, vars: { o?: string; n?: number } = {}): string {
  // Laravel words plain attributes ("order id") but keeps dotted array paths as they are.
  const label = (f: string) => (f.includes('.') ? f : f.replace(/_/g, ' '));
  return RULES[rule][locale]
    .replace('{f}', label(field))
    .replace('{o}', label(vars.o ?? ''))
    .replace('{n}', String(vars.n ?? ''));
}
