/** Shared set-up for hub-level tests: a quiet config on free ports (temp folders and waits: test/support). */
export { freePort, tempDir, until } from '../support/wait.js';
import { parseConfig, type Config } from '../../core/config.js';
import type { Hub } from '../../cli/hub.js';

/**
 * The barrier after moving a hub's virtual clock: the local Twilio server's
 * callbacks and webhooks, and the notifier's work they started, have finished
 * (twice over, for work that starts more work). Use it instead of a sleep.
 */
export async function settled(hub: Pick<Hub, 'notifier' | 'localTwilio'>): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await hub.localTwilio?.settled();
    await hub.notifier.idle();
  }
}

export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): Config {
  return parseConfig({
    dataDir, logLevel: 'silent', host: '127.0.0.1',
    broker: { tcpPort: 0, tlsPort: 0, wsPort: 0 },
    http: { port: 0, hooksPort: 0 },
    influx: { flushIntervalMs: 50 },
    demo: { homes: 0 },
    ...overrides,
  });
}

