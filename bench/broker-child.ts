/**
 * Runs the project's broker alone in a process, for bench/broker.ts: the
 * same set-up as the mosquitto reference (its own process, the load
 * generator in another). Prints `{"port":N}` once listening; SIGTERM stops it.
 * With `level`, sessions persist in LevelDB as the hub runs them; with an
 * IPC channel, a message `gc` is answered after a full garbage collection
 * (node --expose-gc) with the process's heap, external and ArrayBuffer bytes,
 * for memory measurements; `{ snapshot: FILE }` also writes a heap snapshot
 * there first (v8.writeHeapSnapshot).
 *   node broker-child.js DATA_DIR STORE_FILE [level]
 */
import { writeHeapSnapshot } from 'node:v8';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { createSqliteStore } from '../core/store.js';
import { createBroker } from '../broker/index.js';

const [dataDir, storeFile, persistence] = process.argv.slice(2);
if (!dataDir || !storeFile) {
  console.error('usage: broker-child DATA_DIR STORE_FILE');
  process.exit(2);
}
const store = createSqliteStore(storeFile);
const broker = await createBroker({
  host: '127.0.0.1', tcpPort: 0, tlsPort: 0, wsPort: 0, maxPacketSize: 64 * 1024,
  lockout: { maxFailures: 5, windowMs: 900_000, lockMs: 900_000 }, dataDir, store, logger: silentLogger(), clock: systemClock,
  ...(persistence === 'level' ? { persistence: 'level' as const } : {}),
});
process.on('message', (m: unknown) => {
  (globalThis as { gc?: () => void }).gc?.();
  // `{ snapshot: FILE }`: a heap snapshot after the GC, to see where memory per connection goes.
  if (typeof m === 'object' && m !== null && typeof (m as { snapshot?: unknown }).snapshot === 'string') writeHeapSnapshot((m as { snapshot: string }).snapshot);
  const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  process.send?.({ heapUsed, heapTotal, external, arrayBuffers });
});
process.stdout.write(`${JSON.stringify({ port: broker.ports.tcp })}\n`);
process.once('SIGTERM', () => {
  void broker.close().then(() => store.close()).then(() => process.exit(0));
});
