/**
 * What forgetting old event ids costs the hub's event loop (docs/store.md, "Event ids by the
 * day of the event"): a SQLite store as the hub opens it (its checkpointer in a worker) records
 * `ids` event ids through `commitIngestBatch` in batches of 1,000, spread over two days, then
 * forgets the first day's — in one statement (`one`) or, as the ingest does, `chunk` at a time
 * with a turn of the event loop between (`chunks`). Prints one JSON line: the time to record,
 * the time to forget, per id, each statement's time and the longest stalls of the event loop
 * (`monitorEventLoopDelay`).
 *
 * Not a part of `npm run bench`: it measures a design choice, not a goal.
 * Run: `npx tsc -p tsconfig.build.json && node dist/bench/prune-ids.js chunks 3000000 2400000 1000`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createSqliteStore } from '../core/store.js';
import type { IngestBatchItem } from '../core/store-ports.js';

const day = 86_400_000;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface PruneIdsResult {
  mode: 'one' | 'chunks'; ids: number; firstDay: number; chunk: number;
  recordMs: number; removed: number; statements: number; forgetMs: number; usPerId: number;
  statementMs: { p50: number; p99: number; max: number }; stallMs: { p99: number; max: number };
}

/** Records `ids` ids (the first `firstDay` of them on day 0, the rest on day 1) and forgets day 0. */
export async function benchPruneIds(mode: 'one' | 'chunks', ids: number, firstDay: number, chunk = 1000): Promise<PruneIdsResult> {
  if (!(ids >= 1 && firstDay >= 1 && firstDay <= ids && chunk >= 1)) throw new Error('bench prune-ids: need ids ≥ firstDay ≥ 1 and chunk ≥ 1');
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-prune-ids-'));
  const store = createSqliteStore(join(dir, 'hub.db'), { checkpointInWorker: {} });
  try {
    let t0 = performance.now();
    for (let i = 0; i < ids; i += 1000) {
      const items: IngestBatchItem[] = [];
      // 10,000 homes × 8 devices, each sending in turn.
      for (let j = i; j < Math.min(ids, i + 1000); j++) items.push({ homeId: `home-${j % 10_000}`, deviceId: `dev-${Math.floor(j / 10_000) % 8}`, eventId: `e-${j}` });
      await store.commitIngestBatch(items, i < firstDay ? Math.floor((i * day) / firstDay) : day + (i - firstDay));
    }
    const recordMs = performance.now() - t0;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const times: number[] = [];
    let removed = 0;
    t0 = performance.now();
    if (mode === 'one') {
      removed = await store.pruneSeenEvents(day);
      times.push(performance.now() - t0);
    } else {
      for (;;) {
        const s0 = performance.now();
        const n = await store.pruneSeenEvents(day, chunk);
        times.push(performance.now() - s0);
        removed += n;
        if (n < chunk) break;
        await turn();
      }
    }
    const forgetMs = performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 50));
    delay.disable();
    times.sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      mode, ids, firstDay, chunk: mode === 'one' ? 0 : chunk, recordMs: Math.round(recordMs), removed, statements: times.length,
      forgetMs: Math.round(forgetMs), usPerId: round((forgetMs * 1000) / Math.max(1, removed)),
      statementMs: { p50: round(times[times.length >> 1]!), p99: round(times[Math.floor(times.length * 0.99)]!), max: round(times[times.length - 1]!) },
      stallMs: { p99: round(delay.percentile(99) / 1e6), max: round(delay.max / 1e6) },
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mode = process.argv[2] === 'one' ? 'one' : 'chunks';
  console.log(JSON.stringify(await benchPruneIds(mode, Number(process.argv[3] ?? 3_000_000), Number(process.argv[4] ?? 2_400_000), Number(process.argv[5] ?? 1000))));
}
