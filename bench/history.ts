/**
 * History write throughput: readings per second through createHistoryWriter
 * into a real InfluxDB, against a reference measured in the same run on the
 * same influxd — raw batched line protocol POSTed to `/write?precision=n`
 * with node's http, two batches under way as the writer keeps them, the least
 * any writer must do, writing IDENTICAL points
 * (same measurement, tags, fields and ns timestamps: checked line by line
 * before timing, and by counting both databases after). Also measured: the influx
 * client's own `writePoints` (IPoint objects, precision ms), the transport the
 * writer could have used instead, and buffering to disk while InfluxDB is down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { InfluxDB, type IPoint } from 'influx';
import { silentLogger } from '../core/logger.js';
import type { Reading } from '../core/events.js';
import { createHistoryWriter, ensureSchema, pointTime, readingLine, startManagedInfluxd } from '../history/index.js';
import type { BenchRow } from './types.js';

const batchSize = 5000;
/** Readings the hub's ingest hands on per turn at most (its `maxBatch`). */
const ingestBatch = 1000;
/** The history writer's default `writesInFlight`, given to the reference too. */
const rawWritesInFlight = 2;

/** Rejects with a clear error when `work` takes longer than `ms`: a bench step fails, it never hangs. */
async function bounded<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`bench history: ${what} took longer than ${Math.round(ms / 1000)} s`)), ms); });
  try { return await Promise.race([work, timeout]); } finally { clearTimeout(timer); }
}

/** The reference's hand-written encoding of a motion reading (no escaping needed for these ids). */
function rawLine(r: Extract<Reading, { kind: 'motion' }>): string {
  return `event,device=${r.device},home=${r.home},kind=motion id="${r.id}",occupied=${r.occupied},room="${r.room ?? ''}" ${pointTime(r.at, r.id)}`;
}

function makeReadings(n: number, start: number): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < n; i++) {
    const at = start + i;
    out.push({ kind: 'motion', id: `b-${i}`, ts: new Date(at).toISOString(), occupied: i % 2 === 0, room: 'kitchen', home: `home-${i % 100}`, device: `pir-${i % 8}`, at });
  }
  return out;
}

function post(agent: Agent, url: URL, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, path, method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`write answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Points/s for `points` readings through each path; starts its own influxd unless `url` is given. */
export async function benchHistory(opts: { points: number; url?: string; timeoutMs?: number }): Promise<BenchRow[]> {
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  return bounded('the whole history bench', timeoutMs, run(opts, timeoutMs));
}

async function run(opts: { points: number; url?: string }, timeoutMs: number): Promise<BenchRow[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'mimamori-bench-history-'));
  const influxd = opts.url ? undefined : await bounded('starting influxd', Math.min(timeoutMs, 60_000), startManagedInfluxd({ dataDir: scratch, logger: silentLogger() }));
  const url = new URL(opts.url ?? influxd!.url);
  const agent = new Agent({ keepAlive: true, maxSockets: rawWritesInFlight });
  const start = Date.now() - 3600_000;
  const readings = makeReadings(opts.points, start);
  // Identical points: the reference's text is the writer's, line for line.
  for (const r of readings) {
    if (r.kind === 'motion' && rawLine(r) !== readingLine(r)) throw new Error(`bench history: the reference would write a different point: ${rawLine(r)} vs ${readingLine(r)}`);
  }
  const dbs = { raw: 'bench_raw', ours: 'bench_writer', client: 'bench_client' };
  try {
    const admin = new InfluxDB({ host: url.hostname, port: Number(url.port) });
    for (const db of Object.values(dbs)) {
      await admin.dropDatabase(db);
      await ensureSchema(admin, db);
    }
    // Warm-up: the first write to a database creates its shard.
    for (const db of Object.values(dbs)) await post(agent, url, `/write?db=${db}&rp=raw&precision=n`, `warmup,home=w v=1 ${pointTime(start - 10)}`);

    const bufferDir = join(scratch, 'buffer');
    const writer = await createHistoryWriter({ url: url.href, database: dbs.ours, bufferDir, logger: silentLogger(), batchSize, flushIntervalMs: 1000 });
    writer.writeReading(makeReadings(1, start - 20)[0]!);
    await writer.flush();
    const client = new InfluxDB({ host: url.hostname, port: Number(url.port), database: dbs.client });

    /**
     * Reference: hand-built line protocol, batched, POSTed with as many batches under way as
     * the writer keeps (its default `writesInFlight`, 2): the same transport, so the figure is
     * the writer's encoding and bookkeeping, not how many requests each sends at once.
     */
    const runRaw = async (slice: Reading[]) => {
      const under = new Set<Promise<void>>();
      for (let i = 0; i < slice.length; i += batchSize) {
        const lines: string[] = [];
        for (const r of slice.slice(i, i + batchSize)) if (r.kind === 'motion') lines.push(rawLine(r));
        const write = post(agent, url, `/write?db=${dbs.raw}&rp=raw&precision=n`, lines.join('\n'));
        under.add(write);
        void write.then(() => under.delete(write), () => under.delete(write));
        if (under.size >= rawWritesInFlight) await Promise.race(under);
      }
      await Promise.all(under);
    };
    /**
     * Ours: through the writer's public API as the hub calls it — each committed ingest batch
     * (at most `maxBatch`, 1,000 readings) in one turn of the event loop, so a full batch is on
     * its way while the next readings arrive — then flushed.
     */
    const runOurs = async (slice: Reading[]) => {
      for (let i = 0; i < slice.length; i += ingestBatch) {
        for (const r of slice.slice(i, i + ingestBatch)) writer.writeReading(r);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await writer.flush();
    };
    /** Alternative transport: the influx client's writePoints with IPoint objects. */
    const runClient = async (slice: Reading[]) => {
      for (let i = 0; i < slice.length; i += batchSize) {
        const points: IPoint[] = [];
        for (const r of slice.slice(i, i + batchSize)) {
          if (r.kind !== 'motion') continue;
          points.push({ measurement: 'event', tags: { home: r.home, device: r.device, kind: r.kind }, fields: { id: r.id, occupied: r.occupied, room: r.room ?? '' }, timestamp: pointTime(r.at, r.id) });
        }
        await client.writePoints(points, { precision: 'n', retentionPolicy: 'raw' });
      }
    };
    // Interleaved rounds, so InfluxDB's background work (WAL snapshots,
    // compactions) after one contender's writes does not land on just the next one.
    const rounds = 4;
    const elapsed = { raw: 0, ours: 0, client: 0 };
    const per = Math.ceil(readings.length / rounds);
    for (let round = 0; round < rounds; round++) {
      const slice = readings.slice(round * per, (round + 1) * per);
      for (const [name, run] of [['raw', runRaw], ['ours', runOurs], ['client', runClient]] as const) {
        const t0 = performance.now();
        await run(slice);
        elapsed[name] += performance.now() - t0;
      }
    }
    // The same points landed in both databases (one series per home × device, one point per reading).
    const counts: Record<string, number> = {};
    for (const [name, db] of Object.entries(dbs)) {
      const rows = await admin.query<{ count: number }>(`SELECT count(occupied) FROM raw.event`, { database: db });
      counts[name] = rows[0]?.count ?? 0;
    }
    if (counts.raw !== readings.length || counts.ours !== readings.length + 1) throw new Error(`bench history: points in InfluxDB differ: reference ${counts.raw}, writer ${counts.ours} (1 warm-up), expected ${readings.length}`);
    const rate = (ms: number) => readings.length / (ms / 1000);
    const rawRate = rate(elapsed.raw);
    const oursRate = rate(elapsed.ours);
    const clientRate = rate(elapsed.client);
    const oursStats = writer.stats();
    await writer.close();

    // Outage: the same writer pointed at a port where nothing listens, so every batch goes to the disk buffer.
    const downDir = join(scratch, 'buffer-down');
    const down = await createHistoryWriter({ url: 'http://127.0.0.1:9', database: dbs.ours, bufferDir: downDir, logger: silentLogger(), batchSize, flushIntervalMs: 1000 });
    const t0 = performance.now();
    for (const r of readings) down.writeReading(r);
    await down.flush();
    const downRate = readings.length / ((performance.now() - t0) / 1000);
    const downStats = down.stats();
    await down.close();

    const reference = { name: `raw line protocol POST of the same points, precision=n, batches of ${batchSize}, ${rawWritesInFlight} under way`, value: rawRate };
    return [
      {
        name: 'history writer (createHistoryWriter → InfluxDB)', value: oursRate, unit: 'points/s', reference, ratio: oursRate / rawRate, target: `≥ 0.8× raw ingest: ${oursRate / rawRate >= 0.8 ? 'met' : 'NOT met'}`,
        notes: `${opts.points} motion readings in ${rounds} interleaved rounds, batches of ${batchSize}; the writer handed ${ingestBatch} a turn as the hub's ingest hands them on; identical points (same line text, ns timestamps with the id-derived sub-ms offset; ${counts.raw} points in each database); written ${oursStats.written}, buffered ${oursStats.buffered}, rejected ${oursStats.rejected}`,
      },
      {
        name: 'influx client writePoints (IPoint objects, same points, precision n)', value: clientRate, unit: 'points/s', reference, ratio: clientRate / rawRate,
        notes: 'the alternative transport; the writer posts its own line protocol instead because the disk buffer holds line protocol and replays it verbatim',
      },
      {
        name: 'history writer while InfluxDB is down (into the disk buffer, fdatasync per batch)', value: downRate, unit: 'points/s', reference, ratio: downRate / rawRate,
        notes: `buffered ${downStats.buffered} points, ${downStats.bufferBytes} bytes`,
      },
    ];
  } finally {
    agent.destroy();
    await influxd?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const points = Number(process.argv[2] ?? 20_000);
  for (const row of await benchHistory({ points })) console.log(JSON.stringify(row));
}
