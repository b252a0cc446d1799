/**
 * `npm run bench`: every speed and memory goal, each printed with a reference
 * measured in the same run and the ratio between them. Machines are noisy:
 * compare ratios, not absolute numbers, across machines.
 *
 *   npm run bench                 full scale (10k homes × 8 sensors)
 *   npm run bench -- --quick      small scale, for a smoke run
 *   npm run bench -- rules broker only some parts (rules, baseline, broker, connections, history, e2e, wholepath, cluster, fleet, reconcile)
 *
 * Every figure is also written to bench-results.json in the working folder
 * (or `--out FILE`); the path is printed at the end.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { benchRules } from './rules.js';
import { benchBaseline } from './baseline.js';
import { benchBroker } from './broker.js';
import { benchHistory } from './history.js';
import { benchConnections } from './connections.js';
import { benchEndToEnd } from './e2e.js';
import { benchWholePath } from './wholepath.js';
import { benchFleet } from './fleet.js';
import { benchCluster } from './cluster.js';
import { benchReconcile } from './reconcile.js';
import type { BenchRow } from './types.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIndex = args.indexOf('--out');
const outFile = resolve(outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1]! : 'bench-results.json');
const only = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--out');
const want = (name: string) => only.length === 0 || only.includes(name);

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2);
}

function print(part: string, rows: BenchRow[]): void {
  console.log(`\n## ${part}`);
  for (const r of rows) {
    const ref = r.reference ? `   reference: ${r.reference.name} = ${fmt(r.reference.value)}` : '';
    const ratio = r.ratio !== undefined ? `   ratio ${r.ratio.toFixed(2)}×` : '';
    console.log(`- ${r.name}: ${fmt(r.value)} ${r.unit}${ratio}${ref}`);
    if (r.target) console.log(`    target ${r.target}`);
    if (r.notes) console.log(`    note: ${r.notes}`);
  }
}

async function main(): Promise<void> {
  console.log(`# mimamori bench — ${quick ? 'quick' : 'full'} scale, node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), gc ${typeof globalThis.gc === 'function' ? 'exposed' : 'not exposed'}`);
  const scratch = mkdtempSync(join(tmpdir(), 'mimamori-bench-'));
  let failed = 0;
  const results: { startedAt: string; scale: string; node: string; cores: number; parts: Record<string, BenchRow[] | { failed: string }>; curves: Record<string, unknown> } = {
    startedAt: new Date().toISOString(), scale: quick ? 'quick' : 'full', node: process.version, cores: cpus().length, parts: {}, curves: {},
  };
  const part = async (name: string, run: () => Promise<BenchRow[]>) => {
    if (!want(name)) return;
    try {
      const rows = await run();
      results.parts[name] = rows;
      print(name, rows);
    } catch (err) {
      failed++;
      results.parts[name] = { failed: (err as Error).message };
      console.log(`\n## ${name}\n- FAILED: ${(err as Error).stack ?? String(err)}`);
    }
  };
  try {
    await part('rules', () => benchRules({ homes: quick ? 200 : 1000, sensorsPerHome: 8 }));
    await part('baseline', () => benchBaseline({ homes: quick ? 5 : 20, days: quick ? 30 : 60 }));
    await part('broker', () => benchBroker({ messages: quick ? 5_000 : 50_000, publishers: quick ? 4 : 16 }));
    await part('connections', async () => {
      const dir = join(scratch, 'connections');
      mkdirSync(dir, { recursive: true });
      // Full scale: 18,000 devices on one broker process, the most this machine lets one process
      // hold: 20,000 file descriptors per process, a hard limit root cannot raise here (one per
      // device, and room for the broker's own files and the closes still in flight when
      // everyone logs in again). The generators hold the other side in processes of their own.
      const r = await benchConnections({ devices: quick ? 800 : 18_000, dir });
      results.curves.connections = r.curves;
      return r.rows;
    });
    await part('history', () => benchHistory({ points: quick ? 20_000 : 200_000 }));
    await part('wholepath', async () => {
      const r = await benchWholePath({
        rates: quick ? [500, 1000, 2000, 4000, 8000] : [500, 1000, 2000, 3000, 4000, 6000, 8000, 12000, 16000, 20000, 24000, 28000, 32000, 40000, 48000],
        stepSeconds: quick ? 6 : 12, devices: quick ? 64 : 256, generators: 2, homes: quick ? 1000 : 10_000, alerts: quick ? 30 : 200, historyAlerts: quick ? 2000 : 20_000, dir: join(scratch, 'wholepath'),
      });
      results.curves.wholepath = r.steps;
      return r.rows;
    });
    await part('cluster', async () => {
      const r = await benchCluster({
        nodes: [1, 2, 3], rates: quick ? [500, 1000, 2000, 4000] : [500, 1000, 2000, 3000, 4000, 6000, 8000],
        stepSeconds: quick ? 6 : 12, devices: quick ? 96 : 256, perHome: 4, generators: 2, dir: join(scratch, 'cluster'),
      });
      results.curves.cluster = r.runs;
      return r.rows;
    });
    await part('e2e', () => benchEndToEnd({ homes: quick ? 1000 : 10_000, alerts: quick ? 30 : 200, dataDir: join(scratch, 'e2e'), historyAlerts: quick ? 2000 : 20_000 }));
    await part('fleet', () => benchFleet({ homes: 1000, renders: quick ? 10 : 30 }));
    await part('reconcile', () => benchReconcile(quick ? [1000] : [1000, 10000]));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nfigures written to ${outFile}`);
  }
  if (failed > 0) process.exitCode = 1;
}

await main();
