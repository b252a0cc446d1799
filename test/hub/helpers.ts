/** Shared set-up for hub-level tests: a temp data folder and a quiet config on free ports. */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../core/config.js';

export function tempDir(prefix = 'mimamori-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A port that was free a moment ago (for tests that must know it before the server starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): Config {
  return parseConfig({
    dataDir, logLevel: 'silent', host: '127.0.0.1',
    broker: { tcpPort: 0, tlsPort: 0, wsPort: 0 },
    http: { port: 0 },
    influx: { flushIntervalMs: 50 },
    demo: { homes: 0 },
    ...overrides,
  });
}

/** Waits for a condition on real I/O, polling every 20 ms, failing after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
