import { existsSync } from 'node:fs';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { describe } from 'vitest';

/**
 * A real headless Chromium for the browser tests (playwright-core drives Debian's `chromium`; no
 * browser is downloaded). CHROMIUM_PATH names another binary. Where none is installed the browser
 * tests are skipped with a line saying so, except under CI (CI=true), where that is a failure:
 * .ci/run installs the package.
 */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export const chromiumPath: string | undefined = CANDIDATES.find((p): p is string => !!p && existsSync(p));

if (!chromiumPath && process.env.CI === 'true') {
  throw new Error('The browser tests need Chromium: apt-get install chromium (or set CHROMIUM_PATH).');
}

/** `describe` when a Chromium is there, else a skipped block that says why. */
export const describeBrowser: typeof describe = (chromiumPath ? describe : describe.skip) as typeof describe;
if (!chromiumPath) {
  console.warn('browser tests skipped: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
}

export async function launchBrowser(): Promise<Browser> {
  if (!chromiumPath) throw new Error('no Chromium');
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** What runAxe reports of one violation. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core in the page (its open shadow roots included) and answers the violations. The source is
 * evaluated through the DevTools protocol, not added as a <script>, so a page's strict CSP does not stop it.
 */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axe.source);
  return page.evaluate(`(async () => {
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      nodes: v.nodes.map((n) => JSON.stringify(n.target)),
    }));
  })()`);
}

/** The violations a page must not have: serious or critical. */
export const seriousOrCritical = (violations: AxeViolation[]) =>
  violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
