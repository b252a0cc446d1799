/** Shared set-up for hub-level tests: a quiet config on free ports (temp folders and waits: test/support). */
export { freePort, tempDir, until } from '../support/wait.js';
import { parseConfig, type Config } from '../../core/config.js';

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

