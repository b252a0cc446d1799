/**
 * What the browser suites check on every page: axe-core (WCAG 2 A and AA)
 * run inside the page, and a full-page screenshot kept as a test artefact.
 * axe's source goes in through `page.evaluate`: the pages' CSP (script-src
 * 'self', no inline script) refuses an injected <script> tag, as it should.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

/** Screenshots land here (git-ignored); the suites print the folder. */
export const screenshotDir = join(process.cwd(), 'test-artifacts', 'screenshots');

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One axe finding worth failing a page for, in a line a person can act on. */
export interface Violation { id: string; impact: string; help: string; targets: string[] }

/** Runs axe (tags wcag2a, wcag2aa) on the page as it is now; returns its serious and critical violations. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  return await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] }, resultTypes: ['violations'] })
    .then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))`) as Violation[];
}

/** The violations as lines for a failure message. */
export function describeViolations(vs: Violation[]): string {
  return vs.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.targets.join(', ')}`).join('\n');
}

/** A full-page screenshot named `<name>.png` in `screenshotDir`. */
export async function keepScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name.replace(/[^a-z0-9-]+/gi, '_')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The two widths every page is checked at: a computer and a phone. */
export const widths = [{ name: 'desktop', width: 1280, height: 900 }, { name: 'phone', width: 390, height: 844 }] as const;
