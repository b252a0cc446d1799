import t from 'tap';
import { mkdirSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { main } from '../../cli/main.js';
import { nextDailyRun, scheduleDailyBackups, writeInfluxdRunFile } from '../../cli/backup.js';
import { createSqliteStore } from '../../core/store.js';
import { parseConfig } from '../../core/config.js';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { startManagedInfluxd } from '../../history/managed-influxd.js';
import { listArchives } from '../../backup/index.js';
import { tempDir, type Teardown } from '../support/wait.js';
import { capture } from '../support/cli-io.js';

async function seed(dataDir: string) {
  const store = createSqliteStore(join(dataDir, 'mimamori.db'));
  await store.createHome({ id: 'h1', name: '山田', timezone: 'Asia/Tokyo', createdAt: 1 });
  for (let i = 0; i < 3; i++) await store.audit({ at: 10 + i, actor: 'op', action: 'a', subject: 'h1' });
  await store.recordAccess({ at: 20, viewerId: 'v', homeId: 'h1', what: 'w' });
  await store.close();
}

/** A data folder with a small store, an empty target folder and a passphrase file outside the data folder. */
async function hubFolder(t: Teardown) {
  const root = tempDir(t);
  const dataDir = join(root, 'data');
  const usb = join(root, 'usb');
  mkdirSync(usb);
  await seed(dataDir);
  const passFile = join(root, 'operator-key.txt');
  writeFileSync(passFile, 'a long operator passphrase\n');
  return { root, dataDir, usb, passFile };
}

t.test('backup, backup list, restore and audit verify from the command line', async (t) => {
  const { root, dataDir, usb, passFile } = await hubFolder(t);
  const env = { MIMAMORI_DATA_DIR: dataDir, MIMAMORI_LOG_LEVEL: 'silent' };

  let io = capture();
  t.equal(await main(['backup', '--to', usb], env, io), 1, 'no passphrase: refused');
  t.match(io.stderr.join('\n'), /MIMAMORI_ERR_CONFIG .*no backup passphrase/);
  writeFileSync(join(dataDir, 'key.txt'), 'a long operator passphrase\n');
  io = capture();
  t.equal(await main(['backup', '--to', usb, '--passphrase-file', join(dataDir, 'key.txt')], env, io), 1);
  t.match(io.stderr.join('\n'), /inside the data folder/);
  writeFileSync(join(root, 'short.txt'), 'short\n');
  io = capture();
  t.equal(await main(['backup', '--to', usb, '--passphrase-file', join(root, 'short.txt')], env, io), 1);
  t.match(io.stderr.join('\n'), /at least 12 characters/);
  t.same(readdirSync(usb), [], 'nothing written by the refused runs');

  io = capture();
  t.equal(await main(['backup', '--to', usb, '--passphrase-file', passFile], env, io), 0, io.stderr.join('\n'));
  t.match(io.stdout[0], /^\S+ ok verified \/ 検証済み mimamori-\d{8}T\d{9}Z\.mmbk .* 1\/1 target\(s\) audit#3:[0-9a-f]{12} access#1:/);
  t.match(io.stderr.join('\n'), /no InfluxDB data in the data folder/);
  const [archive] = await listArchives(usb);

  io = capture();
  t.equal(await main(['backup', 'list'], env, io), 0);
  t.equal(io.stdout.length, 1, 'one backup in the history');
  t.match(io.stdout[0], /ok verified/);

  io = capture();
  t.equal(await main(['restore', join(usb, archive!), '--to', join(root, 'wrong')], { ...env, MIMAMORI_BACKUP_PASSPHRASE: 'not the passphrase' }, io), 1);
  t.match(io.stderr.join('\n'), /MIMAMORI_ERR_BACKUP_WRONG_KEY .*passphrase does not open this archive/);
  t.notOk(existsSync(join(root, 'wrong')));
  io = capture();
  t.equal(await main(['restore', join(usb, archive!), '--to', join(root, 'back'), '--passphrase-file', passFile], env, io), 0, io.stderr.join('\n'));
  t.match(JSON.parse(io.stdout[0]!), { files: 2, heads: { audit: { seq: 3 }, access: { seq: 1 } } });

  io = capture();
  t.equal(await main(['audit', 'verify'], env, io), 0);
  t.match(io.stdout.join('\n'), /audit log \/ 監査ログ: 3 record\(s\), head seq 3 [0-9a-f]{64} — intact/);
  const raw = new Database(join(dataDir, 'mimamori.db'));
  raw.prepare("UPDATE audit_log SET action = 'nothing happened' WHERE seq = 2").run();
  raw.prepare('DELETE FROM access_log WHERE seq = 1').run();
  raw.close();
  io = capture();
  t.equal(await main(['audit', 'verify'], env, io), 1, 'a broken chain fails the command');
  t.match(io.stdout.join('\n'), /edited seq 2 id \S+: record at seq 2 was edited/);
  t.match(io.stdout.join('\n'), /truncated seq 1: a head recorded earlier \(seq 1\) is gone/, 'the access record removed since the backup is found');
});

t.test('beside a running hub, the CLI backs up the hub\'s own influxd (its run file)', async (t) => {
  const { dataDir, usb } = await hubFolder(t);
  const influxd = await startManagedInfluxd({ dataDir, logger: silentLogger() });
  t.teardown(() => influxd.close());
  await fetch(`${influxd.url}/query?q=${encodeURIComponent('CREATE DATABASE mimamori')}`, { method: 'POST' });
  const remove = writeInfluxdRunFile(dataDir, influxd);
  t.teardown(remove);
  const io = capture();
  t.equal(await main(['backup', '--to', usb], { MIMAMORI_DATA_DIR: dataDir, MIMAMORI_LOG_LEVEL: 'silent', MIMAMORI_BACKUP_PASSPHRASE: 'a long operator passphrase' }, io), 0, io.stderr.join('\n'));
  t.same(io.stderr, [], 'no note: InfluxDB was backed up');
  const store = createSqliteStore(join(dataDir, 'mimamori.db'));
  t.teardown(() => store.close());
  t.match((await store.listBackups())[0], { status: 'ok', verified: true, contents: { influx: { database: 'mimamori' } } });
});

t.test('the hub\'s daily backup runs once a day at the configured local time', async (t) => {
  const { root, dataDir, usb, passFile } = await hubFolder(t);
  const start = Date.parse('2026-12-01T00:00:00+09:00');
  t.equal(nextDailyRun(start, '03:00', 'Asia/Tokyo'), Date.parse('2026-12-01T03:00:00+09:00'));
  t.equal(nextDailyRun(Date.parse('2026-12-01T03:00:00+09:00'), '03:00', 'Asia/Tokyo'), Date.parse('2026-12-02T03:00:00+09:00'), 'a run at 03:00 schedules the next day');

  const config = parseConfig({ dataDir, backup: { targets: [usb], dailyAt: '03:00', passphraseFile: passFile, keep: 3 } });
  const store = createSqliteStore(join(dataDir, 'mimamori.db'));
  t.teardown(() => store.close());
  const clock = new VirtualClock(start);
  const daily = scheduleDailyBackups({ config, store, clock, logger: silentLogger() });
  t.teardown(() => daily.stop());
  clock.advanceTo(Date.parse('2026-12-01T02:59:00+09:00'));
  await daily.idle();
  t.equal((await store.listBackups()).length, 0, 'nothing before 03:00');
  for (let day = 1; day <= 4; day++) {
    clock.advanceTo(Date.parse(`2026-12-0${day}T03:00:00+09:00`));
    await daily.idle();
  }
  const list = await store.listBackups();
  t.same(list.map((b) => [new Date(b.startedAt).toISOString(), b.status, b.verified]), [
    ['2026-12-03T18:00:00.000Z', 'ok', true], ['2026-12-02T18:00:00.000Z', 'ok', true], ['2026-12-01T18:00:00.000Z', 'ok', true], ['2026-11-30T18:00:00.000Z', 'ok', true],
  ]);
  t.equal(readdirSync(usb).length, 3, 'three generations kept');

  // Without the passphrase file the run is recorded as failed, and the next day still runs.
  const off = parseConfig({ dataDir, backup: { targets: [usb], dailyAt: '03:00', passphraseFile: join(root, 'gone.txt') } });
  const daily2 = scheduleDailyBackups({ config: off, store, clock, logger: silentLogger() });
  t.teardown(() => daily2.stop());
  daily.stop();
  clock.advanceTo(Date.parse('2026-12-05T03:00:00+09:00'));
  await daily2.idle();
  t.match((await store.listBackups())[0], { status: 'failed', error: /cannot read the passphrase file/ });
  t.equal((await store.listBackups()).length, 5);

  daily2.stop();
  const none = scheduleDailyBackups({ config: parseConfig({ dataDir, backup: { targets: [usb] } }), store, clock, logger: silentLogger() });
  clock.advanceBy(3 * 86_400_000);
  await none.idle();
  t.equal((await store.listBackups()).length, 5, 'no dailyAt: no scheduled backups');
});
