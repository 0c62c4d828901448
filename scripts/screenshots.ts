/**
 * `npm run screenshots`: pictures of the storefront widget and the operator console, for docs/images/ (shown in the
 * README). Runs `npm run sandbox` on free ports with a data folder of its own, drives Debian's Chromium through
 * playwright-core: the demo storefront with the widget (a hold made: "use 50 points"), the same in Lithuanian, then
 * a needs_review transaction made with a simulator fault (a Leal stamp whose answer is lost) in the console's review
 * queue, its page with the timeline, and the dispatch queues. Needs Chromium (apt-get install chromium, or
 * CHROMIUM_PATH).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Locator, type Page } from 'playwright-core';
import { freePort } from '../src/redis/embedded-redis.js';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'docs', 'images');
const KEY = 'screenshots_admin_key_0001';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => !!p && existsSync(p),
);
if (!chromiumPath) {
  console.error('screenshots: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
  process.exit(1);
}

async function waitFor(url: string) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} never answered`);
}

const dir = mkdtempSync(join(tmpdir(), 'lgw-screenshots-'));
let sandbox: ChildProcess | undefined;
let output = '';
try {
  const port = await freePort();
  const demoPort = await freePort();
  sandbox = spawn(process.execPath, [join(root, 'scripts/start.mjs'), '--entry', 'src/sandbox/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_KEYS: `${KEY}:admin`,
      SANDBOX_DATA_DIR: dir,
      SANDBOX_DEMO_PORT: String(demoPort),
      SANDBOX_HL_PORT: '0',
      SANDBOX_CT_PORT: '0',
      SANDBOX_LEAL_PORT: '0',
      SANDBOX_LT_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  sandbox.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const gw = `http://127.0.0.1:${port}`;
  await waitFor(`${gw}/readyz`);
  const leal = /^\s+leal\s+leal\s+(\S+)/m.exec(output)?.[1];
  if (!leal) throw new Error(`the sandbox did not print the Leal simulator's address:\n${output}`);
  mkdirSync(out, { recursive: true });

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 820 }, deviceScaleFactor: 1 });
    const shot = async (p: Page | Locator, name: string, fullPage = false) => {
      await (p as Page).screenshot({ path: join(out, name), ...(fullPage ? { fullPage } : {}) });
      console.log(`  docs/images/${name}`);
    };

    // ---- the demo storefront and its widget ----
    await page.goto(`http://127.0.0.1:${demoPort}/demo`);
    const widget = page.locator('loyalty-widget');
    await widget.locator('dl').waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await widget.getByLabel('Points to use').fill('50');
    await widget.getByRole('button', { name: 'Use 50 points' }).click();
    await widget.getByRole('button', { name: 'Give the points back' }).waitFor();
    await shot(page, 'demo-storefront.png');
    await shot(widget, 'widget.png');
    await widget.getByRole('button', { name: 'Give the points back' }).click();
    await widget.getByRole('status').getByText('The points are back in your balance.').waitFor();
    await page.locator('#lang').selectOption('lt');
    await widget.getByRole('heading', { name: 'Jūsų taškai' }).waitFor();
    await shot(widget, 'widget-lt.png');

    // ---- a transaction whose answer was lost: needs_review (Leal offers no way to check) ----
    await fetch(new URL('/_sandbox/faults', leal), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'timeout', applied: true, ms: 8000, match: '^POST .*/stamp$' }),
    });
    const award = await fetch(`${gw}/v1/points/award`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'idempotency-key': 'screenshots-1' },
      body: JSON.stringify({ card_id: 'leal:301.501', points: 2, reason: 'Two coffees, order 5107' }),
    });
    const txnId = ((await award.json()) as { transaction_id?: string }).transaction_id;
    if (!txnId) throw new Error(`the faulty award answered ${award.status}, not the expected 504`);

    // ---- the console ----
    const con = await browser.newPage({ viewport: { width: 1200, height: 760 }, deviceScaleFactor: 1 });
    await con.goto(`${gw}/console`);
    await con.fill('#key', KEY);
    await Promise.all([con.waitForURL(`${gw}/console`), con.click('button[type=submit]')]);
    await con.locator('tr', { hasText: txnId }).waitFor();
    await shot(con, 'console-review.png');
    await con.goto(`${gw}/console/transactions/${txnId}`);
    await shot(con, 'console-transaction.png', true);
    await con.goto(`${gw}/console/queues`);
    await con.getByText('conn-hl').first().waitFor({ timeout: 15_000 });
    await sleep(500);
    await shot(con, 'console-queues.png');
  } finally {
    await browser.close();
  }
} catch (err) {
  console.error(`screenshots failed: ${(err as Error).message}\n--- sandbox output ---\n${output}`);
  process.exitCode = 1;
} finally {
  sandbox?.kill('SIGTERM');
  await sleep(1500);
  rmSync(dir, { recursive: true, force: true });
}
