/**
 * A hub starting after an alert storm: `homes` homes each with one send that a
 * crash left without an outcome (an SMS being handed to Twilio), on a real
 * SQLite store. `reconcile()` settles every home's, each home's in its queue
 * (notifier/send-reconcile.ts) — the sends are young, so each is left for a
 * later look and nothing goes to a provider: what is measured is the reading.
 * Reference: the same keys listed in one read, the floor of any reconciliation.
 * Before session 26 each home's read listed every home's keys and read each
 * one's alert: 1,000 homes took 21 s and 1 GB of heap, 3,000 ran out of memory.
 */
import { performance } from 'node:perf_hooks';
import { VirtualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { createSqliteStore } from '../core/store.js';
import { createReconciler, defaultReconcile } from '../notifier/index.js';
import type { BenchRow } from './types.js';

async function once(homes: number): Promise<{ ms: number; listMs: number; settled: number }> {
  const store = createSqliteStore(':memory:');
  const clock = new VirtualClock(1_000_000);
  try {
    for (let i = 0; i < homes; i++) {
      const homeId = `h${i}`;
      await store.createHome({ id: homeId, name: homeId, timezone: 'Asia/Tokyo' });
      const { alert } = await store.openAlert({ homeId, rule: 'help', severity: 'critical', message: 'm', finding: {}, openedAt: 999_000 });
      await store.claimSendKeys([{ key: `k${i}`, alertId: alert.id, contactId: `c${i}`, channel: 'sms', createdAt: 999_990, recipient: `+8190${String(i).padStart(8, '0')}`, body: '【見守り】' }]);
    }
    const t0 = performance.now();
    await store.listUnsettledSendKeys(clock.now() - defaultReconcile.lookBackMs);
    const listMs = performance.now() - t0;
    const r = createReconciler({
      store, logger: silentLogger(), clock, channels: new Map(), ledger: { inFlight: () => false, settle: async () => true },
      options: defaultReconcile, track: (p) => p, inHome: (_home, fn) => fn(undefined),
    });
    const t1 = performance.now();
    const out = await r.reconcile();
    const ms = performance.now() - t1;
    r.close();
    return { ms, listMs, settled: out.size };
  } finally {
    store.close();
  }
}

/** Rows: reconciliation at start for each size in `sizes`, against one listing of the same keys. */
export async function benchReconcile(sizes: readonly number[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const homes of sizes) {
    const { ms, listMs, settled } = await once(homes);
    if (settled !== homes) throw new Error(`reconcile bench: ${settled} of ${homes} homes' sends looked at`);
    rows.push({
      name: `restart after an alert storm: ${homes.toLocaleString('en-US')} homes' unsettled sends read and planned`, value: ms, unit: 'ms',
      reference: { name: 'the same keys listed in one read', value: listMs }, ratio: listMs / ms,
      notes: 'lower is better; the ratio is the one listing\'s share of the whole (a read per home, in its queue, is the rest)',
    });
  }
  return rows;
}
