/**
 * The hub on PostgreSQL (MIMAMORI_DATABASE_URL): start, provision a home and
 * a device, the device presses help over real MQTT, and the alert, its
 * device and the de-duplicated event are rows in PostgreSQL — read back
 * with a plain pg client, not through the store — and no SQLite file is made.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { loadConfig } from '../../core/config.js';
import { toLocalIso } from '../../core/time.js';
import { provisionDevice } from '../../broker/device-credentials.js';
import { startHub } from '../../cli/hub.js';
import { main } from '../../cli/main.js';
import { capture } from '../support/cli-io.js';
import { settled, tempDir, testConfig, until } from '../hub/helpers.js';
import { postgresInstalled, startPostgres } from '../support/postgres.js';

const tz = 'Asia/Tokyo';
const start = Date.parse('2026-11-21T06:00:00+09:00');

t.test('MIMAMORI_DATABASE_URL selects PostgreSQL; anything else is refused with a reason', async (t) => {
  t.equal(loadConfig({ MIMAMORI_DATABASE_URL: 'postgres://u@127.0.0.1:5432/m' }).databaseUrl, 'postgres://u@127.0.0.1:5432/m');
  t.equal(loadConfig({}).databaseUrl, undefined, 'unset: the embedded SQLite store');
  t.throws(() => loadConfig({ MIMAMORI_DATABASE_URL: 'mysql://x' }), { code: 'MIMAMORI_ERR_CONFIG', message: /databaseUrl: must be a postgres:\/\/ URL/ });
});

t.test('a help press on a hub running on PostgreSQL raises an alert stored there', { skip: !postgresInstalled && 'PostgreSQL 15 is not installed (node scripts/setup.mjs --for test)' }, async (t) => {
  const server = await startPostgres(t);
  const url = await server.createDatabase();
  const dir = tempDir(t);
  const clock = new VirtualClock(start);
  const usb = join(dir, 'usb');
  // A daily backup is configured; with the store in PostgreSQL it must say so instead of archiving no store.
  const hub = await startHub({ config: testConfig(dir, { databaseUrl: url, backup: { targets: [usb], dailyAt: '06:01' } }), logger: silentLogger(), clock, http: false });
  t.teardown(() => hub.close());
  await hub.store.createHome({ id: 'h1', name: 'Yamada', timezone: tz });
  await hub.store.addResident({ homeId: 'h1', name: '山田 花子', language: 'ja', birthYear: 1940 });
  await hub.store.addContact({ homeId: 'h1', name: '山田 太郎', role: 'family', phone: '+819012340001', language: 'ja', priority: 1 });
  const creds = await provisionDevice(hub.store, { homeId: 'h1', deviceId: 'help-button', kind: 'button' });
  const device = await mqtt.connectAsync(hub.mqttUrl, { username: 'h1/help-button', password: creds.secret, reconnectPeriod: 0 });
  t.teardown(() => device.endAsync());
  await device.publishAsync('mimamori/v1/homes/h1/devices/help-button/events', JSON.stringify({ id: 'b-1', ts: toLocalIso(start, tz), kind: 'button', press: 'help' }), { qos: 1 });

  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(() => db.end());
  const rows = async (sql: string) => (await db.query(sql)).rows as Array<Record<string, unknown>>;
  await until(async () => (await rows("SELECT 1 FROM alerts WHERE home_id = 'h1'")).length > 0, 20_000, 'the alert row in PostgreSQL');
  t.same(await rows("SELECT rule, severity, status FROM alerts WHERE home_id = 'h1'"), [{ rule: 'help-button', severity: 'critical', status: 'open' }], 'one critical help alert, open');
  t.same(await rows("SELECT device_id, kind FROM devices WHERE home_id = 'h1'"), [{ device_id: 'help-button', kind: 'button' }]);
  t.same(await rows("SELECT event_id FROM seen_ids WHERE home_id = 'h1'"), [{ event_id: 'b-1' }], 'the event id recorded for de-duplication');
  // Without the web server the hub has no voice webhooks, so the family tier falls back to SMS.
  await until(() => hub.localTwilio!.messages().length >= 1, 60_000, 'the family told');
  await settled(hub);
  t.same(hub.localTwilio!.messages().map((m) => m.to), ['+819012340001'], 'one SMS, to the family');
  // Handed to the provider (its message id kept); no status callbacks come back without the web server.
  t.same(await rows('SELECT channel, status, provider_id IS NOT NULL AS handed_over FROM notifications'), [{ channel: 'sms', status: 'queued', handed_over: true }], 'its notification row in PostgreSQL');
  t.equal(existsSync(join(dir, 'mimamori.db')), false, 'no SQLite file beside it');

  // The CLI on the same configuration: the trail in PostgreSQL verifies; `backup` (a SQLite copy) says what to use instead.
  const env = { MIMAMORI_DATA_DIR: dir, MIMAMORI_DATABASE_URL: url, MIMAMORI_LOG_LEVEL: 'silent' };
  const io = capture();
  t.equal(await main(['audit', 'verify'], env, io), 0, io.stderr.join('\n'));
  t.equal(await main(['backup', '--to', join(dir, 'usb')], env, io), 2);
  t.match(io.stderr.join('\n'), /store is in PostgreSQL .*pg_dump[\s\S]*PostgreSQL は pg_dump で/);
  t.equal(existsSync(join(dir, 'mimamori.db')), false, 'and still no SQLite file');
  // `mimamori report` finds a report kept in PostgreSQL (its PDF in the data folder's reports/) and logs the read there.
  const pdf = Buffer.from('%PDF-1.7 a kept report\n');
  mkdirSync(join(dir, 'reports', 'h1'), { recursive: true });
  writeFileSync(join(dir, 'reports', 'h1', '2026-10-ja-r1.pdf'), pdf);
  await hub.store.saveReport({ id: 'r1', homeId: 'h1', month: '2026-10', language: 'ja', createdAt: start, createdBy: 'account:op', complete: true, file: 'h1/2026-10-ja-r1.pdf', size: pdf.length, sha256: createHash('sha256').update(pdf).digest('hex'), pages: 1 });
  const reportIo = capture();
  const out = join(dir, 'out.pdf');
  t.equal(await main(['report', '--home', 'h1', '--month', '2026-10', '--out', out], env, reportIo), 0, reportIo.stderr.join('\n'));
  t.match(JSON.parse(reportIo.stdout.join('')), { report: 'r1', made: false });
  t.same(readFileSync(out), pdf, 'the kept PDF, byte for byte');
  t.same(await rows("SELECT what FROM access_log WHERE home_id = 'h1'"), [{ what: 'monthly report (PDF, command line)' }], 'the read logged in PostgreSQL');

  // The daily backup's time comes: one failed run, in PostgreSQL's backup history, saying why and what to use.
  t.same(await rows('SELECT id FROM backups'), [], 'no run before 06:01');
  clock.advanceTo(Date.parse('2026-11-21T06:01:00+09:00'));
  await until(async () => (await rows('SELECT id FROM backups')).length > 0, 20_000, 'the daily backup run recorded');
  const [run] = await hub.store.listBackups();
  t.match(run, { status: 'failed', startedAt: Date.parse('2026-11-21T06:01:00+09:00'), targets: [{ dir: usb, ok: false }], verified: false });
  t.match(run!.error, /store is in PostgreSQL .*pg_dump[\s\S]*PostgreSQL は pg_dump で/);
  t.equal((await hub.store.listBackups()).length, 1, 'one run');
  t.equal(existsSync(usb), false, 'nothing written to the target');
});
