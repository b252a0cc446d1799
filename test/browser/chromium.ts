/**
 * Real Chromium for browser tests: Debian's chromium driven by
 * playwright-core, with the flags this machine needs (no sandbox as root, no
 * background networking on a closed network), and signing in as a person does.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freshTotpCode, password, type Fixture } from '../dashboards/helpers.js';
import { hangGuardMs } from '../support/wait.js';

export const chromiumPath = process.env.MIMAMORI_CHROMIUM ?? '/usr/bin/chromium';

/** A tap `skip` reason when there is no browser (npm test installs Debian chromium as root). */
export const noBrowser: string | false = existsSync(chromiumPath) ? false : `no browser at ${chromiumPath} (npm test installs Debian chromium as root)`;

/**
 * Launches Chromium. Every context it makes (`newPage` makes one too) waits up to `hangGuardMs` for a
 * page, selector or navigation (Playwright's own 30 s is too short when CI
 * shares two cores with other work; these bounds only catch hangs).
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args: Parameters<Browser['newContext']>) => {
    const ctx = await newContext(...args);
    ctx.setDefaultTimeout(hangGuardMs);
    ctx.setDefaultNavigationTimeout(hangGuardMs);
    return ctx;
  };
  return browser;
}

/** A new context signed in as `login` (with the TOTP step where the role needs it). */
export async function signInAs(browser: Browser, f: Fixture, base: string, login: string, timeoutMs = 15_000): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.setDefaultTimeout(Math.max(timeoutMs, hangGuardMs));
  await page.goto(`${base}/signin`);
  await page.getByLabel(/Login|ログインID/).fill(login);
  await page.getByLabel(/^(Password|パスワード)$/).fill(password);
  await page.locator('#signin').click();
  await page.waitForLoadState();
  if (page.url().endsWith('/signin/totp')) {
    await page.locator('#code').fill(freshTotpCode(f, login));
    await page.getByRole('button').last().click();
    await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  }
  return { ctx, page };
}
