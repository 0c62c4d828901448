import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { type DemoStorefront, startDemoStorefront } from '../../src/sandbox/demo/storefront.js';
import { describeBrowser, launchBrowser, runAxe, seriousOrCritical } from '../helpers/browser.js';
import { KEYS, startGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * The storefront widget (issue 12) in a real Chromium, on the sandbox's demo storefront (its own origin,
 * its strict CSP, its backend signing tokens and capturing holds) against a real gateway. Every wait is
 * for something to be shown or to happen, never for a time.
 */

const PK = 'pk_test_widget_0001';
const KID = 'w1';
const SECRET = 'widget-test-secret-00000000000000000001';
const CUSTOMER = 'demo-customer-1';

let gw: TestGateway;
let demo: DemoStorefront;
let other: Server;
let otherUrl: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let pageErrors: string[];

/** A free port for the demo storefront: the gateway's shop must name its origin before either starts. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describeBrowser('the loyalty widget on the demo storefront', () => {
  beforeAll(async () => {
    const port = await freePort();
    gw = await startGateway({
      shops: [
        {
          id: 'shop',
          platform: 'shopify',
          secret: 'shpss_widget_test_0001',
          connection: 'ledger',
          earn: { pointsPerUnit: 1, basis: 'subtotal', rounding: 'floor' },
          publishableKey: PK,
          allowedOrigins: [`http://127.0.0.1:${port}`],
          tokenSecrets: [{ kid: KID, secret: SECRET }],
        },
      ],
    });
    demo = await startDemoStorefront({
      gatewayUrl: gw.url,
      apiKey: KEYS.write,
      shopId: 'shop',
      publishableKey: PK,
      kid: KID,
      tokenSecret: SECRET,
      customerId: CUSTOMER,
      welcomePoints: 500,
      port,
    });
    // A page on an origin the shop does not allow.
    other = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>elsewhere</title><p>elsewhere</p>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (other ? other.close(() => resolve()) : resolve()));
    await demo?.close();
    await gw?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext();
    // Records, from before any page script runs, the widget's events and any CSP violation.
    await context.addInitScript(`
      window.__seen = [];
      for (const type of ['loyalty:hold', 'loyalty:release', 'loyalty:token-expired', 'loyalty:error']) {
        document.addEventListener(type, (e) => window.__seen.push({ type, detail: e.detail }));
      }
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__seen.push({ type: 'csp', detail: { directive: e.violatedDirective, uri: e.blockedURI } }));
    `);
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
  });

  afterEach(async () => {
    // On every page of every case: no CSP violation, no uncaught error.
    if (page.url().startsWith(demo.url)) expect(await seen('csp')).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  /** The events of one type the page saw, in order. */
  async function seen(type: string): Promise<any[]> {
    return page.evaluate(`window.__seen.filter((e) => e.type === ${JSON.stringify(type)}).map((e) => e.detail)`);
  }
  /** The first event of a type, once it came (polled from here: a string evaluated in the page would be an eval the CSP refuses). */
  async function waitForEvent(type: string, count = 1): Promise<any> {
    await expect.poll(async () => (await seen(type)).length).toBeGreaterThanOrEqual(count);
    return (await seen(type))[count - 1];
  }
  const widget = () => page.locator('loyalty-widget');
  const stat = (label: string) => widget().locator('dt', { hasText: label }).locator('xpath=following-sibling::dd[1]');

  /** The demo page, with the widget showing the customer's card. */
  async function openDemo(): Promise<void> {
    await page.goto(`${demo.url}/demo`);
    await widget().locator('dl').waitFor({ state: 'visible' });
  }

  /** A token for the demo customer, as the demo backend signs it (and one for the API's side of the checks). */
  async function customerToken(opts: { secret?: string; iat?: number; exp?: number } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: KID })
      .setSubject(CUSTOMER)
      .setIssuedAt(opts.iat ?? now)
      .setExpirationTime(opts.exp ?? now + 600)
      .sign(new TextEncoder().encode(opts.secret ?? SECRET));
  }
  /** The demo customer's card (made by the demo backend's first session) and its balance, from the API. */
  async function card(): Promise<{ id: string; available: number; held: number }> {
    const session = await fetch(`${demo.url}/demo/api/session`, { method: 'POST' });
    expect(session.status).toBe(200);
    const me = await gw.request('GET', '/v1/me', {
      key: null,
      headers: { authorization: `Bearer ${await customerToken()}`, 'x-publishable-key': PK },
    });
    expect(me.status, me.text).toBe(200);
    const balance = await gw.request('GET', `/v1/points/balance/${me.body.card_id}`);
    return { id: me.body.card_id, available: balance.body.available, held: balance.body.held };
  }
  const en = (n: number) => new Intl.NumberFormat('en').format(n);

  it('shows the balance and the latest movements after an award made through the API', async () => {
    const before = await card();
    const award = await gw.request('POST', '/v1/points/award', {
      body: { card_id: before.id, points: 1234, reason: 'Birthday bonus' },
    });
    expect(award.status, award.text).toBe(201);
    const { available } = await card();
    expect(available).toBe(before.available + 1234);

    await openDemo();
    await expect.poll(() => stat('Available').textContent()).toBe(`${en(available)} points`);
    expect(await stat('Pending').textContent()).toBe('0 points');
    const movements = widget().locator('li');
    expect(await movements.count()).toBeGreaterThanOrEqual(2);
    expect(await movements.first().textContent()).toContain('Earned');
    expect(await movements.first().textContent()).toContain('+1,234');
    expect(await widget().getByRole('status').textContent()).toBe(`Points updated: ${en(available)} points available.`);
    // An empty cart takes no points: a sentence, no form; the first item brings the form, offering all it can.
    expect(await widget().getByText('There are no points to use on this cart.').isVisible()).toBe(true);
    expect(await widget().locator('form').isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await widget()
      .getByRole('button', { name: `Use ${en(Math.min(available, 1290))} points` })
      .waitFor();
  });

  it('"use 50 points" holds them, fires loyalty:hold, shows them held; the checkout captures the hold', async () => {
    const before = await card();
    await openDemo();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    const amount = widget().getByLabel('Points to use');
    await amount.fill('50');
    await widget().getByRole('button', { name: 'Use 50 points' }).click();

    const hold = await waitForEvent('loyalty:hold');
    expect(hold).toMatchObject({ hold_id: expect.stringMatching(/^hld_/), points: 50, value: { amount: 0.5 } });
    await widget().getByText('50 points held for this order.').first().waitFor();
    await expect.poll(() => stat('Held').textContent()).toBe('50 points');
    expect(await page.locator('#discount').textContent()).toBe('−€0.50');
    const api = await gw.request('GET', `/v1/points/holds/${hold.hold_id}`);
    expect(api.body).toMatchObject({
      status: 'active',
      points: 50,
      card_id: before.id,
      reference_id: hold.reference_id,
    });
    expect(await card()).toMatchObject({ available: before.available - 50, held: before.held + 50 });
    if (process.env.WIDGET_SCREENSHOT) await page.screenshot({ path: process.env.WIDGET_SCREENSHOT, fullPage: true });

    await page.getByRole('button', { name: 'Checkout' }).click();
    await page
      .locator('#order')
      .getByText(/^Order DEMO-\w+ paid: 50 points used\.$/)
      .waitFor();
    const captured = await gw.request('GET', `/v1/points/holds/${hold.hold_id}`);
    expect(captured.body).toMatchObject({ status: 'captured', captured_points: 50 });
    expect(await card()).toMatchObject({ available: before.available - 50, held: before.held });
    // The widget follows the new cart: no hold, the balance after the order.
    await expect.poll(() => stat('Held').textContent()).toBe(`${en(before.held)} points`);
    await expect.poll(() => stat('Available').textContent()).toBe(`${en(before.available - 50)} points`);
  });

  it('a forged token and an expired token both show the ended session and fire loyalty:token-expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = {
      forged: await customerToken({ secret: 'not-the-shop-secret-000000000000000000' }),
      expired: await customerToken({ iat: now - 7200, exp: now - 3600 }),
    };
    for (const [what, token] of Object.entries(cases)) {
      await openDemo();
      await widget().evaluate((el, t) => el.setAttribute('token', t), token);
      await widget().getByText('Your session has ended — refresh the page to see your points.').first().waitFor();
      expect(await seen('loyalty:token-expired'), what).toHaveLength(1);
      expect(await widget().locator('dl').isVisible(), what).toBe(false);
      expect(await widget().getByRole('status').textContent(), what).toBe(
        'Your session has ended — refresh the page to see your points.',
      );
      const axe = seriousOrCritical(await runAxe(page));
      expect(axe, `${what}: ${JSON.stringify(axe)}`).toEqual([]);
    }
  });

  it('works with the keyboard alone: add to cart, use points, give them back, use again, check out', async () => {
    const before = await card();
    await page.goto(`${demo.url}/demo`);
    await widget().locator('dl').waitFor({ state: 'visible' });
    /** Tab until the focused element (inside shadow roots too) matches; answers what has focus. */
    async function tabTo(want: RegExp): Promise<void> {
      for (let i = 0; i < 30; i++) {
        await page.keyboard.press('Tab');
        const focused: string = await page.evaluate(`(() => {
          let a = document.activeElement;
          while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
          return a ? a.tagName + ' ' + (a.getAttribute('type') || '') + ' ' + (a.textContent || '').trim() : '';
        })()`);
        if (want.test(focused)) return;
      }
      throw new Error(`never reached ${want}`);
    }
    await tabTo(/^BUTTON button Add to cart$/);
    await page.keyboard.press('Enter');
    await page.locator('#cart-lines').getByText('1 × House blend').waitFor();
    await tabTo(/^INPUT number/);
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('40');
    await page.keyboard.press('Enter');
    const first = await waitForEvent('loyalty:hold');
    expect(first.points).toBe(40);
    await widget().getByText('40 points held for this order.').first().waitFor();

    await tabTo(/^BUTTON button Give the points back$/);
    await page.keyboard.press('Enter');
    await waitForEvent('loyalty:release');
    await widget().getByRole('status').getByText('The points are back in your balance.').waitFor();
    expect((await gw.request('GET', `/v1/points/holds/${first.hold_id}`)).body.status).toBe('released');
    // The release puts the focus back on the amount.
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('30');
    await page.keyboard.press('Enter');
    const second = await waitForEvent('loyalty:hold', 2);
    expect(second.points).toBe(30);
    expect(second.hold_id).not.toBe(first.hold_id);

    await tabTo(/^BUTTON button Checkout$/);
    await page.keyboard.press('Enter');
    await page
      .locator('#order')
      .getByText(/paid: 30 points used\.$/)
      .waitFor();
    expect((await gw.request('GET', `/v1/points/holds/${second.hold_id}`)).body.status).toBe('captured');
    expect((await card()).available).toBe(before.available - 30);
  });

  it('reports a refused hold in its live region and by loyalty:error, and the page carries on', async () => {
    await openDemo();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    const { id, available } = await card();
    // The points go elsewhere after the widget read the balance: the gateway refuses the hold.
    const spent = await gw.request('POST', '/v1/points/redeem', {
      body: { card_id: id, points: available, reason: 'spent at the counter' },
    });
    expect(spent.status, spent.text).toBe(201);
    await widget().getByLabel('Points to use').fill('20');
    await widget().getByRole('button', { name: 'Use 20 points' }).click();
    expect(await waitForEvent('loyalty:error')).toEqual({ code: 'insufficient_points', status: 400 });
    await widget().getByRole('status').getByText('That is more points than you can use here.').waitFor();
    expect(await seen('loyalty:hold')).toEqual([]);
    expect(await widget().locator('dl').isVisible()).toBe(true);
    // Give them back for the next cases.
    await gw.request('POST', '/v1/points/award', { body: { card_id: id, points: available, reason: 'restore' } });
  });

  it('has no serious or critical accessibility violation, ready and with points held (axe-core)', async () => {
    await openDemo();
    expect(seriousOrCritical(await runAxe(page))).toEqual([]);
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await widget().getByLabel('Points to use').fill('10');
    await widget().getByRole('button', { name: 'Use 10 points' }).click();
    await widget().getByText('10 points held for this order.').first().waitFor();
    expect(seriousOrCritical(await runAxe(page))).toEqual([]);
    // Give the points back: the next case starts from the customer's whole balance.
    await widget().getByRole('button', { name: 'Give the points back' }).click();
    await waitForEvent('loyalty:release');
  });

  it('speaks Lithuanian with lang=lt (texts, plurals, numbers)', async () => {
    const { available } = await card();
    await openDemo();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.locator('#lang').selectOption('lt');
    await widget().getByRole('heading', { name: 'Jūsų taškai' }).waitFor();
    const lt = new Intl.NumberFormat('lt').format(available);
    expect(await stat('Galima panaudoti').textContent()).toMatch(new RegExp(`^${lt} tašk(as|ai|ų)$`));
    expect(await widget().getByText('Naujausia veikla').count()).toBe(1);
    await widget().getByLabel('Kiek taškų panaudoti').fill('21');
    await widget().getByRole('button', { name: 'Panaudoti 21 tašką' }).waitFor();
    await widget().getByLabel('Kiek taškų panaudoti').fill('5');
    await widget().getByRole('button', { name: 'Panaudoti 5 taškus' }).waitFor();
    await widget().getByLabel('Kiek taškų panaudoti').fill('10');
    await widget().getByRole('button', { name: 'Panaudoti 10 taškų' }).click();
    await widget().getByText('Šiam užsakymui rezervuota: 10 taškų.').first().waitFor();
    await widget().getByRole('button', { name: 'Grąžinti taškus' }).click();
    await widget().getByRole('status').getByText('Taškai grąžinti į jūsų likutį.').waitFor();
  });

  it('runs under the demo page’s strict CSP with no violation', async () => {
    const res = await page.goto(`${demo.url}/demo`);
    const csp = res!.headers()['content-security-policy']!;
    expect(csp).toContain(`script-src 'self' ${gw.url}`);
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe');
    await widget().locator('dl').waitFor({ state: 'visible' });
    // The widget's styles applied (a constructed stylesheet, no <style>): its box has its border radius.
    const radius = await widget()
      .locator('section')
      .evaluate((el) => (globalThis as any).getComputedStyle(el).borderTopLeftRadius);
    expect(radius).toBe('10px');
    expect(await seen('csp')).toEqual([]);
    expect(await seen('loyalty:error')).toEqual([]);
  });

  it('lets the allowed origin read /v1/me, and not a page of another origin', async () => {
    const token = await customerToken();
    const read = `(async () => {
      try {
        const res = await fetch(${JSON.stringify(`${gw.url}/v1/me`)}, {
          headers: { authorization: 'Bearer ${token}', 'x-publishable-key': ${JSON.stringify(PK)} },
        });
        return { ok: true, status: res.status, body: await res.json() };
      } catch (err) {
        return { ok: false, error: String(err) };
      }
    })()`;
    await openDemo();
    const allowed: any = await page.evaluate(read);
    expect(allowed).toMatchObject({ ok: true, status: 200, body: { shop_id: 'shop' } });

    await page.goto(`${otherUrl}/`);
    const refused: any = await page.evaluate(read);
    expect(refused).toMatchObject({ ok: false, error: expect.stringContaining('Failed to fetch') });
  });
});
