import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchBrowser } from '../helpers/browser.js';
import { KEYS } from '../helpers/gateway.js';
import { type SandboxGateway, startSandboxGateway } from '../helpers/sandbox.js';

/**
 * The console in a real Chromium: sign in through the form, find in the review queue a needs_review transaction
 * made in the sandbox with a fault, resolve it through its form, and see through the API that its status changed.
 * CONSOLE_SCREENSHOTS=<dir> keeps a screenshot of each page (to look at the pages).
 */

const STAMP = '^POST .*/stamp$';
const shots = process.env.CONSOLE_SCREENSHOTS;

describeBrowser('console in a browser', () => {
  let sb: SandboxGateway;
  let browser: Browser;
  let txnId: string;

  beforeAll(async () => {
    sb = await startSandboxGateway({ timeoutMs: 800 });
    const card = `leal:${sb.leal.seed.customers.fresh.id}.${sb.leal.seed.customers.fresh.customerCardId}`;
    sb.leal.sim.inject({ kind: 'timeout', applied: true, ms: 3000, match: STAMP, times: 1 });
    const res = await sb.gw.request('POST', '/v1/points/award', {
      body: { card_id: card, points: 3, reason: 'Coffee' },
      headers: { 'idempotency-key': 'browser-console-1' },
    });
    expect(res.status, res.text).toBe(504);
    txnId = res.body.transaction_id;
    sb.leal.sim.clearFaults();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sb?.close();
  });

  it('signs in, resolves the needs_review transaction through its form, and the API sees it succeeded', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const shot = async (name: string) => {
      if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
    };

    await page.goto(`${sb.gw.url}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await shot('login');
    await page.fill('#key', KEYS.admin);
    await Promise.all([page.waitForURL(`${sb.gw.url}/console`), page.click('button[type=submit]')]);

    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'lgw_console');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    // A script of the page cannot read it.
    expect(await page.evaluate('document.cookie')).not.toContain('lgw_console');

    const row = page.locator('tr', { hasText: txnId });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('provider_timeout');
    await shot('review');

    await Promise.all([page.waitForURL(`**/console/transactions/${txnId}`), row.locator('a').click()]);
    expect(await page.locator('h1').textContent()).toContain(txnId);
    expect(await page.locator('.timeline').textContent()).toContain('transaction.needs_review');
    await shot('transaction');

    await page.check('input[name=outcome][value=succeeded]');
    await page.fill('#provider_reference', 'leal-browser-1');
    await page.fill('#resolve_note', 'Checked at Leal');
    await Promise.all([
      page.waitForURL(`**/console/transactions/${txnId}?done=resolved`),
      page.click('form[action$="/resolve"] button[type=submit]'),
    ]);
    expect(await page.locator('.flash').textContent()).toContain('Resolved.');
    expect(await page.locator('.timeline').textContent()).toContain('Checked at Leal');
    await shot('resolved');

    const txn = await sb.gw.request('GET', `/v1/transactions/${txnId}`);
    expect(txn.body).toMatchObject({ status: 'succeeded', provider_reference: 'leal-browser-1' });

    await page.goto(`${sb.gw.url}/console/queues`);
    await page.waitForSelector('text=conn-leal', { timeout: 15_000 });
    await shot('queues');
    expect(violations).toEqual([]);
  });
});
