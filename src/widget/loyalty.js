/**
 * <loyalty-widget>: a customer's points on a storefront page, and "use points" for the cart.
 *
 *   <script type="module" src="https://gateway.example/widget/v1/loyalty.js"></script>
 *   <loyalty-widget publishable-key="pk_..." token="..." cart-points="500" cart-id="cart-1001"></loyalty-widget>
 *
 * Hand-written, no build step, no framework: a custom element in an open shadow root, styled by a
 * constructed stylesheet (no <style> element, so a page's CSP needs no 'unsafe-inline'), themable
 * through CSS custom properties (--loyalty-*). It calls the gateway's customer routes (/v1/me) with
 * the customer token the shop's backend gave the page, and tells the page what happened by DOM events:
 *   loyalty:hold           {hold_id, points, reference_id, expires_at, value?}  points held for the cart
 *   loyalty:release        {hold_id, points, reference_id}                        the hold given back
 *   loyalty:token-expired  {}                                                     the token is refused (401)
 *   loyalty:error          {code, status}                                         any other failure
 * Nothing it receives is parsed as HTML: every text goes in through textContent. Errors never leave it.
 */

/** @typedef {'en' | 'lt'} Lang */
/** @typedef {{ points: number, at: string }} Expiry */
/** @typedef {{ available: number, pending: number, held: number, next_expiry: Expiry | null }} Balance */
/** @typedef {{ id: string, type: string, delta: number, reason: string, created_at: string }} Movement */
/** @typedef {{ id: string, points: number, reference_id: string, status: string, expires_at: string }} Hold */

/** Lithuanian noun forms by Intl.PluralRules category: nominative, accusative. */
const LT_POINTS = {
  one: ['taškas', 'tašką'],
  few: ['taškai', 'taškus'],
  many: ['taško', 'taško'],
  other: ['taškų', 'taškų'],
};

const TEXTS = {
  en: {
    title: 'Your points',
    loading: 'Loading your points…',
    available: 'Available',
    pending: 'Pending',
    held: 'Held',
    nextExpiry: 'Next expiry',
    none: 'None',
    expiry: (/** @type {string} */ pts, /** @type {string} */ date) => `${pts} on ${date}`,
    amount: 'Points to use',
    use: (/** @type {string} */ pts) => `Use ${pts}`,
    heldForCart: (/** @type {string} */ pts) => `${pts} held for this order.`,
    release: 'Give the points back',
    history: 'Recent activity',
    noHistory: 'No activity yet.',
    updated: (/** @type {string} */ pts) => `Points updated: ${pts} available.`,
    released: 'The points are back in your balance.',
    nothingToUse: 'There are no points to use on this cart.',
    expired: 'Your session has ended — refresh the page to see your points.',
    noCard: 'You have no loyalty card yet.',
    tooMany: 'That is more points than you can use here.',
    error: 'Something went wrong. Please try again.',
    types: { award: 'Earned', redeem: 'Used', adjust: 'Adjusted', expire: 'Expired', other: 'Changed' },
    points: (/** @type {number} */ n, /** @type {Intl.NumberFormat} */ nf) =>
      `${nf.format(n)} ${n === 1 ? 'point' : 'points'}`,
    pointsAcc: (/** @type {number} */ n, /** @type {Intl.NumberFormat} */ nf) =>
      `${nf.format(n)} ${n === 1 ? 'point' : 'points'}`,
  },
  lt: {
    title: 'Jūsų taškai',
    loading: 'Įkeliami jūsų taškai…',
    available: 'Galima panaudoti',
    pending: 'Laukiama',
    held: 'Rezervuota',
    nextExpiry: 'Artimiausiai baigs galioti',
    none: 'Nėra',
    expiry: (/** @type {string} */ pts, /** @type {string} */ date) => `${pts}, ${date}`,
    amount: 'Kiek taškų panaudoti',
    use: (/** @type {string} */ pts) => `Panaudoti ${pts}`,
    heldForCart: (/** @type {string} */ pts) => `Šiam užsakymui rezervuota: ${pts}.`,
    release: 'Grąžinti taškus',
    history: 'Naujausia veikla',
    noHistory: 'Veiklos dar nėra.',
    updated: (/** @type {string} */ pts) => `Taškai atnaujinti: galima panaudoti ${pts}.`,
    released: 'Taškai grąžinti į jūsų likutį.',
    nothingToUse: 'Šiam krepšeliui panaudoti taškų nėra.',
    expired: 'Jūsų sesija baigėsi — atnaujinkite puslapį, kad pamatytumėte savo taškus.',
    noCard: 'Lojalumo kortelės dar neturite.',
    tooMany: 'Čia tiek taškų panaudoti negalima.',
    error: 'Kažkas nepavyko. Bandykite dar kartą.',
    types: { award: 'Gauta', redeem: 'Panaudota', adjust: 'Pakoreguota', expire: 'Baigė galioti', other: 'Pakeista' },
    points: (/** @type {number} */ n, /** @type {Intl.NumberFormat} */ nf) => `${nf.format(n)} ${ltNoun(n, 0)}`,
    pointsAcc: (/** @type {number} */ n, /** @type {Intl.NumberFormat} */ nf) => `${nf.format(n)} ${ltNoun(n, 1)}`,
  },
};

const ltRules = new Intl.PluralRules('lt');
/** @param {number} n @param {0 | 1} form */
function ltNoun(n, form) {
  const cat = /** @type {keyof typeof LT_POINTS} */ (ltRules.select(n));
  return (LT_POINTS[cat] ?? LT_POINTS.other)[form];
}

const CSS = `
:host {
  display: block;
  font-family: var(--loyalty-font, system-ui, sans-serif);
  color: var(--loyalty-fg, #1f2328);
  --_accent: var(--loyalty-accent, #1a56c4);
  --_accent-fg: var(--loyalty-accent-fg, #ffffff);
  --_muted: var(--loyalty-muted, #57606a);
  --_radius: var(--loyalty-radius, 8px);
}
:host([hidden]) { display: none; }
.box {
  position: relative;
  background: var(--loyalty-bg, #ffffff);
  border: 1px solid var(--loyalty-border, #d0d7de);
  border-radius: var(--_radius);
  padding: 1rem 1.25rem;
}
h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
h3 { font-size: .95rem; margin: 1rem 0 .5rem; }
dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(7rem, 1fr)); gap: .5rem 1rem; margin: 0; }
dt { color: var(--_muted); font-size: .8rem; }
dd { margin: 0; font-weight: 600; }
form, .held { display: flex; flex-wrap: wrap; align-items: end; gap: .5rem; margin-top: 1rem; }
label { display: block; font-size: .85rem; margin-bottom: .25rem; }
input {
  font: inherit; width: 7rem; padding: .4rem .5rem;
  border: 1px solid var(--_muted); border-radius: calc(var(--_radius) / 2);
  background: var(--loyalty-bg, #ffffff); color: inherit;
}
button {
  font: inherit; cursor: pointer; padding: .45rem .9rem;
  border: 1px solid var(--_accent); border-radius: calc(var(--_radius) / 2);
  background: var(--_accent); color: var(--_accent-fg);
}
button.secondary { background: transparent; color: var(--_accent); }
:focus-visible { outline: 3px solid var(--loyalty-focus, #e5a000); outline-offset: 2px; }
.empty { margin: 1rem 0 0; color: var(--_muted); }
.held p { margin: 0; flex: 1 1 12rem; font-weight: 600; }
ul { list-style: none; padding: 0; margin: 0; font-size: .9rem; }
li { display: flex; gap: .75rem; padding: .3rem 0; border-top: 1px solid var(--loyalty-border, #d0d7de); }
li .what { flex: 1; }
li .when { color: var(--_muted); }
.plus { color: var(--loyalty-positive, #116329); font-weight: 600; }
.minus { color: var(--loyalty-negative, #a40e26); font-weight: 600; }
.note { margin: 0; }
.live { margin: .75rem 0 0; font-size: .9rem; }
.live:empty { margin: 0; }
.sr { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
[hidden] { display: none !important; }
`;

/** One stylesheet for every widget on the page; null where constructed stylesheets are missing. */
let sheet = null;
try {
  sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
} catch {
  sheet = null;
}

const DEFAULT_API = (() => {
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return '';
  }
})();

let uid = 0;

/**
 * A DOM node with attributes and children (strings become text nodes: nothing is parsed as HTML).
 * @param {string} tag @param {Record<string, string>} [attrs] @param {(Node | string)[]} children
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** A failed call: its HTTP status (0 when the network failed) and the problem's code. */
class CallError extends Error {
  /** @param {number} status @param {string} code */
  constructor(status, code) {
    super(`${status} ${code}`);
    this.status = status;
    this.code = code;
  }
}

export class LoyaltyWidget extends HTMLElement {
  static get observedAttributes() {
    return ['token', 'publishable-key', 'api-base', 'lang', 'cart-points', 'cart-id'];
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    if (sheet) root.adoptedStyleSheets = [sheet];
    const id = `lw${++uid}`;
    /** @type {Balance | null} */
    this.balance = null;
    /** @type {Movement[]} */
    this.movements = [];
    /** @type {Hold | null} */
    this.hold = null;
    /** @type {'loading' | 'ready' | 'expired' | 'nocard' | 'error'} */
    this.state = 'loading';
    /** How many holds this page gave back: a new hold needs a new reference (one hold per reference). */
    this.releases = 0;
    this.generation = 0;
    this.busy = false;
    /** The customer typed an amount: keep it (else the amount follows the most usable). */
    this.edited = false;
    this.fallbackCart = `cart-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

    this.el = {
      title: h('h2', { id: `${id}-t` }),
      note: h('p', { class: 'note' }),
      stats: h('dl'),
      form: /** @type {HTMLFormElement} */ (h('form', { novalidate: '' })),
      label: h('label', { for: `${id}-n` }),
      input: /** @type {HTMLInputElement} */ (
        h('input', { id: `${id}-n`, type: 'number', inputmode: 'numeric', min: '1', step: '1' })
      ),
      use: /** @type {HTMLButtonElement} */ (h('button', { type: 'submit' })),
      empty: h('p', { class: 'empty' }),
      held: h('div', { class: 'held' }),
      heldText: h('p', { tabindex: '-1' }),
      release: /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'secondary' })),
      historyTitle: h('h3'),
      history: h('ul'),
      live: h('p', { class: 'live', role: 'status', 'aria-live': 'polite' }),
      /** @type {HTMLElement} */
      box: /** @type {any} */ (null),
    };
    const e = this.el;
    e.form.append(h('div', {}, e.label, e.input), e.use);
    e.held.append(e.heldText, e.release);
    e.box = h(
      'section',
      { class: 'box', part: 'box', 'aria-labelledby': `${id}-t` },
      e.title,
      e.note,
      e.stats,
      e.form,
      e.empty,
      e.held,
      e.historyTitle,
      e.history,
      e.live,
    );
    root.append(e.box);
    e.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.useNow();
    });
    e.input.addEventListener('input', () => {
      this.edited = true;
      this.renderUseLabel();
    });
    e.release.addEventListener('click', () => {
      this.releaseNow();
    });
  }

  connectedCallback() {
    this.render();
    this.load();
  }

  /** @param {string} name @param {string | null} before @param {string | null} after */
  attributeChangedCallback(name, before, after) {
    if (!this.isConnected || before === after) return;
    if (name === 'cart-id') {
      // Another cart: this one's hold (captured at checkout, or abandoned) is no longer the widget's.
      this.hold = null;
      this.releases = 0;
      this.edited = false;
    }
    if (name === 'token' || name === 'publishable-key' || name === 'api-base') this.load();
    else this.render();
  }

  /** @returns {Lang} */
  get language() {
    const own =
      this.getAttribute('lang') || this.closest('[lang]')?.getAttribute('lang') || document.documentElement.lang;
    return (own || '').toLowerCase().startsWith('lt') ? 'lt' : 'en';
  }

  get t() {
    return TEXTS[this.language];
  }

  get apiBase() {
    return (this.getAttribute('api-base') || DEFAULT_API).replace(/\/+$/, '');
  }

  get cartId() {
    const base = this.getAttribute('cart-id') || this.fallbackCart;
    return this.releases === 0 ? base : `${base}-${this.releases + 1}`;
  }

  /** The most the token lets a page hold (its max_hold_points claim), when it says; the token is not verified here. */
  get tokenMax() {
    try {
      const part = (this.getAttribute('token') || '').split('.')[1] || '';
      const claims = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
      return Number.isInteger(claims.max_hold_points) ? claims.max_hold_points : Number.POSITIVE_INFINITY;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }

  /** The most points "use points" may take now: the balance, the cart, the token. */
  get maxUsable() {
    const cart = Number.parseInt(this.getAttribute('cart-points') || '', 10);
    const available = this.balance ? this.balance.available : 0;
    return Math.max(0, Math.min(available, Number.isFinite(cart) ? cart : available, this.tokenMax));
  }

  /**
   * One call to the gateway's customer routes; throws CallError.
   * @param {string} method @param {string} path @param {unknown} [body]
   */
  async call(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = {
      authorization: `Bearer ${this.getAttribute('token') || ''}`,
      'x-publishable-key': this.getAttribute('publishable-key') || '',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(this.apiBase + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        mode: 'cors',
      });
    } catch {
      throw new CallError(0, 'network');
    }
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new CallError(res.status, (data && typeof data.code === 'string' && data.code) || 'http');
    return data;
  }

  /** Reads the card and its last five movements; a newer load makes an older one's answer moot. */
  async load() {
    const gen = ++this.generation;
    this.state = 'loading';
    this.render();
    // No token yet: the page is still asking its backend for one.
    if (!this.getAttribute('token')) return;
    try {
      const [me, history] = await Promise.all([this.call('GET', '/v1/me'), this.call('GET', '/v1/me/history?limit=5')]);
      if (gen !== this.generation) return;
      this.balance = me.balance;
      this.movements = Array.isArray(history?.data) ? history.data.slice(0, 5) : [];
      this.state = 'ready';
      this.render();
      this.announce(this.t.updated(this.t.points(this.balance?.available ?? 0, this.nf)));
    } catch (err) {
      if (gen === this.generation) this.fail(err);
    }
  }

  /** "Use points": hold them for the cart, tell the page, show them as held. */
  async useNow() {
    if (this.busy || this.state !== 'ready' || this.hold) return;
    const points = Number.parseInt(this.el.input.value, 10);
    if (!Number.isInteger(points) || points < 1 || points > this.maxUsable) {
      this.announce(this.maxUsable > 0 ? this.t.tooMany : this.t.nothingToUse, true);
      return;
    }
    this.busy = true;
    this.render();
    try {
      /** @type {Hold} */
      let hold = await this.call('POST', '/v1/me/holds', { points, reference_id: this.cartId });
      // This reference's hold was given back before: the next hold takes a new reference.
      if (hold.status !== 'active') {
        this.releases += 1;
        hold = await this.call('POST', '/v1/me/holds', { points, reference_id: this.cartId });
      }
      this.hold = hold;
      this.edited = false;
      /** @type {Record<string, unknown>} */
      const detail = {
        hold_id: hold.id,
        points: hold.points,
        reference_id: hold.reference_id,
        expires_at: hold.expires_at,
      };
      const value = this.valueOf(hold.points);
      if (value) detail.value = value;
      this.emit('loyalty:hold', detail);
      await this.refresh();
      this.announce(this.t.heldForCart(this.t.points(hold.points, this.nf)));
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
      this.render();
    }
    // The form is gone: the focus goes to what replaced it (the next Tab reaches "give the points back").
    if (this.hold && this.state === 'ready') this.el.heldText.focus();
  }

  /** Gives the hold back (the customer changed their mind). */
  async releaseNow() {
    const hold = this.hold;
    if (this.busy || !hold) return;
    this.busy = true;
    this.render();
    try {
      await this.call('POST', `/v1/me/holds/${encodeURIComponent(hold.id)}/release`);
      this.hold = null;
      this.releases += 1;
      this.emit('loyalty:release', { hold_id: hold.id, points: hold.points, reference_id: hold.reference_id });
      await this.refresh();
      this.announce(this.t.released, true);
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
      this.render();
    }
    // The form is back: the focus goes to the amount (it was on the button, now hidden).
    if (!this.hold && this.state === 'ready') this.el.input.focus();
  }

  /** The card again after a change (a failure here is reported, the change stands). */
  async refresh() {
    const [me, history] = await Promise.all([this.call('GET', '/v1/me'), this.call('GET', '/v1/me/history?limit=5')]);
    this.balance = me.balance;
    this.movements = Array.isArray(history?.data) ? history.data.slice(0, 5) : [];
    this.render();
  }

  /**
   * The money value of some points, when the page says what a point is worth (point-value, currency).
   * @param {number} points
   */
  valueOf(points) {
    const per = Number.parseFloat(this.getAttribute('point-value') || '');
    const currency = this.getAttribute('currency');
    if (!Number.isFinite(per) || !currency) return null;
    return { amount: Math.round(points * per * 100) / 100, currency };
  }

  /** @param {unknown} err */
  fail(err) {
    const status = err instanceof CallError ? err.status : 0;
    const code = err instanceof CallError ? err.code : 'unexpected';
    if (status === 401) {
      this.state = 'expired';
      this.hold = null;
      this.emit('loyalty:token-expired', {});
      this.render();
      this.announce(this.t.expired);
      return;
    }
    if (code === 'card_not_found' && this.state === 'loading') this.state = 'nocard';
    else if (this.state === 'loading') this.state = 'error';
    this.emit('loyalty:error', { code, status });
    this.render();
    const msg =
      this.state === 'nocard'
        ? this.t.noCard
        : code === 'insufficient_points' || code === 'validation_failed'
          ? this.t.tooMany
          : this.t.error;
    this.announce(msg, this.state === 'ready');
  }

  /** @param {string} type @param {Record<string, unknown>} detail */
  emit(type, detail) {
    try {
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    } catch {
      // A page's listener that throws is the page's business; the widget carries on.
    }
  }

  /**
   * Says something in the live region; `shown` when the widget shows it nowhere else (else it is for screen
   * readers only, not printed twice).
   * @param {string} text @param {boolean} [shown]
   */
  announce(text, shown = false) {
    this.el.live.textContent = text;
    this.el.live.classList.toggle('sr', !shown);
  }

  get nf() {
    return new Intl.NumberFormat(this.language);
  }

  /** @param {string} iso */
  date(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : new Intl.DateTimeFormat(this.language, { dateStyle: 'medium' }).format(d);
  }

  renderUseLabel() {
    const n = Number.parseInt(this.el.input.value, 10);
    this.el.use.textContent = this.t.use(this.t.pointsAcc(Number.isInteger(n) && n > 0 ? n : 0, this.nf));
  }

  /** Brings the shadow DOM in line with the state (texts through textContent only). */
  render() {
    const { t, el: e, nf } = this;
    const ready = this.state === 'ready';
    e.title.textContent = t.title;
    e.note.hidden = ready;
    e.note.textContent =
      this.state === 'loading'
        ? t.loading
        : this.state === 'expired'
          ? t.expired
          : this.state === 'nocard'
            ? t.noCard
            : this.state === 'error'
              ? t.error
              : '';
    e.stats.hidden = !ready;
    e.historyTitle.hidden = !ready;
    e.history.hidden = !ready;
    const max = this.maxUsable;
    // Nothing to use (an empty cart, no points): a sentence instead of a form that cannot be sent.
    e.form.hidden = !ready || this.hold !== null || max === 0;
    e.empty.hidden = !ready || this.hold !== null || max > 0;
    e.empty.textContent = t.nothingToUse;
    e.held.hidden = !ready || this.hold === null;
    if (!ready || !this.balance) return;

    const b = this.balance;
    const rows = [
      [t.available, t.points(b.available, nf)],
      [t.pending, t.points(b.pending, nf)],
      [t.held, t.points(b.held, nf)],
      [
        t.nextExpiry,
        b.next_expiry ? t.expiry(t.points(b.next_expiry.points, nf), this.date(b.next_expiry.at)) : t.none,
      ],
    ];
    e.stats.replaceChildren(...rows.flatMap(([dt, dd]) => [h('dt', {}, dt), h('dd', {}, dd)]));

    e.label.textContent = t.amount;
    e.input.max = String(max);
    const current = Number.parseInt(e.input.value, 10);
    if (!this.edited || !Number.isInteger(current) || current > max) e.input.value = String(max);
    // Never disabled while a call runs (a disabled control loses the focus): `busy` makes a second press a no-op.
    e.box.setAttribute('aria-busy', String(this.busy || this.state === 'loading'));
    this.renderUseLabel();

    if (this.hold) e.heldText.textContent = t.heldForCart(t.points(this.hold.points, nf));
    e.release.textContent = t.release;

    e.historyTitle.textContent = t.history;
    e.history.replaceChildren(
      ...(this.movements.length === 0
        ? [h('li', {}, t.noHistory)]
        : this.movements.map((m) => {
            const label = t.types[/** @type {keyof typeof t.types} */ (m.type)] ?? t.types.other;
            const sign = m.delta > 0 ? '+' : m.delta < 0 ? '−' : '';
            return h(
              'li',
              {},
              h('span', { class: 'when' }, this.date(m.created_at)),
              h('span', { class: 'what' }, label),
              h('span', { class: m.delta < 0 ? 'minus' : 'plus' }, `${sign}${nf.format(Math.abs(m.delta))}`),
            );
          })),
    );
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('loyalty-widget')) {
  customElements.define('loyalty-widget', LoyaltyWidget);
}
