/**
 * Test support shared by every folder: temp folders that clean themselves
 * up, free loopback ports, and a bounded wait for real I/O. Waiting is for
 * sockets and processes only — rules and timers run on a virtual clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Teardown { teardown(fn: () => unknown): void }

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: Teardown, prefix = 'mimamori-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A loopback port that was free a moment ago (for a server that must start after its clients). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The shortest a wait may give up after. A bound only guards against a hang:
 * on a busy machine (CI with other work, load 20 on two cores) a child
 * process or a browser can take half a minute for what takes a second when
 * quiet, and a test must not fail for that.
 */
export const hangGuardMs = 90_000;

/**
 * Polls `check` every 20 ms until it holds, failing with `what` after `ms`
 * (never sooner than `hangGuardMs`: the bound is against hangs, not a speed test).
 */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + Math.max(ms, hangGuardMs);
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
