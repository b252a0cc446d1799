/**
 * The hub on PostgreSQL (MIMAMORI_DATABASE_URL): start, provision a home and
 * a device, the device presses help over real MQTT, and the alert, its
 * device and the de-duplicated event are rows in PostgreSQL — read back
 * with a plain pg client, not through the store — and no SQLite file is made.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
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
  const hub = await startHub({ config: testConfig(dir, { databaseUrl: url }), logger: silentLogger(), clock, http: false });
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
  t.same(await rows("SELECT event_id FROM seen_events WHERE home_id = 'h1'"), [{ event_id: 'b-1' }], 'the event id recorded for de-duplication');
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
});
