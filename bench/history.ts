/**
 * History write throughput: readings per second through createHistoryWriter
 * into a real InfluxDB, against a reference measured in the same run on the
 * same influxd — raw batched line protocol POSTed to `/write?precision=ms`
 * with node's http, the least any writer must do. Also measured: the influx
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
import { createHistoryWriter } from '../rules/history-writer.js';
import { ensureSchema } from '../rules/influx-schema.js';
import { startManagedInfluxd } from '../rules/managed-influxd.js';
import type { BenchRow } from './types.js';

const batchSize = 5000;

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
export async function benchHistory(opts: { points: number; url?: string }): Promise<BenchRow[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'mimamori-bench-history-'));
  const influxd = opts.url ? undefined : await startManagedInfluxd({ dataDir: scratch, logger: silentLogger() });
  const url = new URL(opts.url ?? influxd!.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const start = Date.now() - 3600_000;
  const readings = makeReadings(opts.points, start);
  const dbs = { raw: 'bench_raw', ours: 'bench_writer', client: 'bench_client' };
  try {
    const admin = new InfluxDB({ host: url.hostname, port: Number(url.port) });
    for (const db of Object.values(dbs)) {
      await admin.dropDatabase(db);
      await ensureSchema(admin, db);
    }
    // Warm-up: the first write to a database creates its shard.
    for (const db of Object.values(dbs)) await post(agent, url, `/write?db=${db}&precision=ms`, `warmup,home=w v=1 ${start - 10}`);

    const bufferDir = join(scratch, 'buffer');
    const writer = await createHistoryWriter({ url: url.href, database: dbs.ours, bufferDir, logger: silentLogger(), batchSize, flushIntervalMs: 1000 });
    writer.writeReading(makeReadings(1, start - 20)[0]!);
    await writer.flush();
    const client = new InfluxDB({ host: url.hostname, port: Number(url.port), database: dbs.client });

    /** Reference: hand-built line protocol, batched, POSTed one batch at a time. */
    const runRaw = async (slice: Reading[]) => {
      for (let i = 0; i < slice.length; i += batchSize) {
        let body = '';
        for (const r of slice.slice(i, i + batchSize)) {
          if (r.kind !== 'motion') continue;
          body += `event,device=${r.device},home=${r.home},kind=motion id="${r.id}",occupied=${r.occupied},room="${r.room ?? ''}" ${r.at}\n`;
        }
        await post(agent, url, `/write?db=${dbs.raw}&rp=raw&precision=ms`, body);
      }
    };
    /** Ours: through the writer's public API, flushed. */
    const runOurs = async (slice: Reading[]) => {
      for (const r of slice) writer.writeReading(r);
      await writer.flush();
    };
    /** Alternative transport: the influx client's writePoints with IPoint objects. */
    const runClient = async (slice: Reading[]) => {
      for (let i = 0; i < slice.length; i += batchSize) {
        const points: IPoint[] = [];
        for (const r of slice.slice(i, i + batchSize)) {
          if (r.kind !== 'motion') continue;
          points.push({ measurement: 'event', tags: { home: r.home, device: r.device, kind: r.kind }, fields: { id: r.id, occupied: r.occupied, room: r.room ?? '' }, timestamp: r.at });
        }
        await client.writePoints(points, { precision: 'ms', retentionPolicy: 'raw' });
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

    const reference = { name: `raw line protocol POST, precision=ms, batches of ${batchSize}`, value: rawRate };
    return [
      {
        name: 'history writer (createHistoryWriter → InfluxDB)', value: oursRate, unit: 'points/s', reference, ratio: oursRate / rawRate, target: `≥ 0.8× raw ingest: ${oursRate / rawRate >= 0.8 ? 'met' : 'NOT met'}`,
        notes: `${opts.points} motion readings in ${rounds} interleaved rounds, batches of ${batchSize}; written ${oursStats.written}, buffered ${oursStats.buffered}, rejected ${oursStats.rejected}. Timestamps in ns (id-derived sub-ms offset), so the body is ~6 bytes/point larger than the reference`,
      },
      {
        name: 'influx client writePoints (IPoint objects, precision ms)', value: clientRate, unit: 'points/s', reference, ratio: clientRate / rawRate,
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
