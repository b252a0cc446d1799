/**
 * history/'s front door: createHistory starts a managed influxd when no URL
 * is configured, and the writer and the queries work on one client; close()
 * stops what it started, and so does a failure part-way.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../core/config.js';
import { VirtualClock } from '../../core/clock.js';
import { createSqliteStore } from '../../core/store.js';
import { silentLogger } from '../../core/logger.js';
import { createHistory } from '../../history/index.js';
import { baseTime, motion, tempDir } from './fixtures/helpers.js';

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

t.test('a managed influxd, one client for writer and queries, close stops influxd', async (t) => {
  const dataDir = tempDir(t);
  const store = createSqliteStore(join(dataDir, 'mimamori.db'));
  t.teardown(() => store.close());
  const config = parseConfig({ dataDir, influx: { flushIntervalMs: 50 } });
  const history = await createHistory({ dataDir, influx: config.influx, store }, new VirtualClock(baseTime), silentLogger());
  t.teardown(() => history.close());
  t.ok(history.influxd, 'no URL configured: the hub runs its own influxd');
  t.equal(history.url, history.influxd!.url);
  t.ok(existsSync(join(dataDir, 'influxdb')), 'its data under the data folder');

  for (let i = 0; i < 3; i++) history.writer.writeReading(motion(i));
  await history.writer.flush();
  t.equal(history.writer.stats().written, 3);
  const points = await history.queries.activity('home-1', baseTime - 60_000, baseTime + 3_600_000);
  t.same(points.map((p) => p.kind), ['motion', 'motion', 'motion'], 'the queries read what the writer wrote');
  t.same(await history.queries.activity('home-2', baseTime - 60_000, baseTime + 3_600_000), [], 'only that home');

  const pid = history.influxd!.pid;
  t.same(influxdFor(dataDir), [pid], 'one influxd, for this data folder');
  await history.close();
  t.notOk(alive(pid), 'close() stopped the managed influxd');
});

t.test('a failure part-way stops the influxd it had started', async (t) => {
  const dataDir = tempDir(t);
  const store = createSqliteStore(join(dataDir, 'mimamori.db'));
  t.teardown(() => store.close());
  const config = parseConfig({ dataDir });
  // A batch size the writer refuses: createHistory fails after influxd is up.
  const influx = { ...config.influx, batchSize: 0 };
  await t.rejects(createHistory({ dataDir, influx, store }, new VirtualClock(baseTime), silentLogger()), /batchSize/);
  t.ok(existsSync(join(dataDir, 'influxdb')), 'influxd had been started');
  t.same(influxdFor(dataDir), [], 'no influxd left running for this data folder');
});

/** influxd processes started for `dataDir` (its data folder is in their command line or environment). */
function influxdFor(dataDir: string): number[] {
  return pidsOfInfluxd().filter((p) => influxdUnder(p, dataDir));
}
function pidsOfInfluxd(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try { return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'influxd'; } catch { return false; }
  });
}
function influxdUnder(pid: number, dataDir: string): boolean {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir) || readFileSync(`/proc/${pid}/environ`, 'utf8').includes(dataDir); } catch { return false; }
}
