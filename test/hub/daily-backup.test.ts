/**
 * The hub's daily backup (issue 15) through the real composition root: the
 * managed influxd's run file exists while the hub runs, the backup at the
 * configured time takes the store and the hub's own influxd, and the run
 * file is gone after close.
 */
import t from 'tap';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { startHub } from '../../cli/hub.js';
import { listArchives } from '../../backup/index.js';
import { tempDir, testConfig, until } from './helpers.js';

t.test('the hub takes its daily backup at the configured time, InfluxDB included', async (t) => {
  const root = tempDir(t);
  const dataDir = join(root, 'data');
  const usb = join(root, 'usb');
  mkdirSync(usb);
  const passFile = join(root, 'operator.pass');
  writeFileSync(passFile, 'a long operator passphrase\n');
  const clock = new VirtualClock(Date.parse('2026-12-01T02:00:00+09:00'));
  const hub = await startHub({ config: testConfig(dataDir, { backup: { targets: [usb], dailyAt: '03:00', passphraseFile: passFile } }), logger: silentLogger(), clock, http: false });
  let closed = false;
  t.teardown(() => (closed ? undefined : hub.close()));
  t.ok(existsSync(join(dataDir, 'influxd.json')), 'the run file tells `mimamori backup` where the hub\'s influxd is');
  await hub.store.createHome({ id: 'h1', name: '山田', timezone: 'Asia/Tokyo' });

  clock.advanceTo(Date.parse('2026-12-01T02:59:59+09:00'));
  t.same(await hub.store.listBackups(), [], 'not before 03:00');
  clock.advanceTo(Date.parse('2026-12-01T03:00:00+09:00'));
  await until(async () => { const list = await hub.store.listBackups(); return list.length === 1 && list[0]!.status !== 'running'; }, 60_000, 'the daily backup to finish');
  const [b] = await hub.store.listBackups();
  t.match(b, { status: 'ok', verified: true, startedAt: Date.parse('2026-12-01T03:00:00+09:00'), contents: { store: { homes: 1 }, influx: { database: 'mimamori' } } });
  t.same(await listArchives(usb), [b!.file]);

  await hub.close();
  closed = true;
  t.notOk(existsSync(join(dataDir, 'influxd.json')), 'the run file goes with the hub');
});
