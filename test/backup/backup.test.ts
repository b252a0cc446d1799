import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync, openSync, writeSync, closeSync, statSync, truncateSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { InfluxDB } from 'influx';
import { createSqliteStore, type Store } from '../../core/store.js';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { ensureSchema, readingLine } from '../../history/influx-schema.js';
import { startManagedInfluxd } from '../../history/managed-influxd.js';
import { listArchives, restoreArchive, runBackup, type BackupOptions } from '../../backup/index.js';
import { tempDir, type Teardown } from '../support/wait.js';

const logger = silentLogger();
const passphrase = 'correct horse battery staple 見守り';
/** A cheap scrypt so the tests stay quick; production uses the default cost. */
const kdf = { N: 1 << 10, r: 8, p: 1 };
const database = 'mimamori';

async function fillStore(store: Store) {
  await store.createHome({ id: 'h1', name: '山田', timezone: 'Asia/Tokyo', address: '1-2-3 Chuo', entryNotes: 'key box 1234', createdAt: 1 });
  await store.addResident({ homeId: 'h1', name: '山田花子', language: 'ja', birthYear: 1940 });
  await store.addContact({ homeId: 'h1', name: 'Ken', role: 'family', phone: '+819011112222', language: 'en', priority: 1 });
  await store.addContact({ homeId: 'h1', name: '太郎', role: 'caregiver', phone: '+819033334444', language: 'ja', priority: 2 });
  for (let i = 0; i < 4; i++) await store.audit({ at: 100 + i, actor: 'op', action: 'home.update', subject: 'h1', detail: { i } });
  for (let i = 0; i < 3; i++) await store.recordAccess({ at: 200 + i, viewerId: 'fam', homeId: 'h1', what: `page ${i}` });
  await store.addNews({ homeId: 'h1', authorId: 'staff', body: '今日はお花見に行きました', createdAt: 300 });
}

/**
 * Rows in every table of the live database, counted apart from the backup's
 * own count (so a new migration's rows need no edit here). The backup audits
 * itself before it copies: count after it.
 */
function liveRows(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>;
    return tables.reduce((n, { name }) => n + (db.prepare(`SELECT count(*) AS c FROM "${name}"`).get() as { c: number }).c, 0);
  } finally {
    db.close();
  }
}

async function snapshotRows(store: Store) {
  return {
    homes: await store.listHomes(), residents: await store.listResidents('h1'), contacts: await store.listContacts('h1'),
    audit: await store.readTrail('audit'), access: await store.readTrail('access'), news: await store.listNews('h1'),
  };
}

const queries = ['SELECT * FROM "raw"."event" ORDER BY time', 'SELECT count("id") FROM "raw"."event" GROUP BY "home"', 'SHOW RETENTION POLICIES', 'SHOW CONTINUOUS QUERIES'];

async function influxResults(url: string): Promise<unknown[]> {
  const out: unknown[] = [];
  // epoch=ns as text: exact nanosecond times (JSON numbers would round them).
  for (const q of queries) {
    const res = await fetch(`${url}/query?${new URLSearchParams({ db: database, q, epoch: 'ns' })}`);
    out.push(await res.text());
  }
  return out;
}

function options(over: Partial<BackupOptions> & Pick<BackupOptions, 'dataDir' | 'store' | 'targets' | 'clock'>): BackupOptions {
  return { passphrase, kdf, logger, ...over };
}

/** A data folder with a store, a photo, a secret and (optionally) a real influxd with points. */
async function hubData(t: Teardown, withInflux: boolean) {
  const dataDir = join(tempDir(t), 'data');
  const store = createSqliteStore(join(dataDir, 'mimamori.db'));
  t.teardown(() => store.close());
  await fillStore(store);
  mkdirSync(join(dataDir, 'photos', 'h1'), { recursive: true });
  writeFileSync(join(dataDir, 'photos', 'h1', 'p1.jpg'), Buffer.from([0xff, 0xd8, 0xff, 1, 2, 3, 4, 5]));
  writeFileSync(join(dataDir, 'ack-link.secret'), 'secret-value\n', { mode: 0o600 });
  mkdirSync(join(dataDir, 'node-red'));
  writeFileSync(join(dataDir, 'node-red', 'empty.log'), '');
  if (!withInflux) return { dataDir, store };
  const influxd = await startManagedInfluxd({ dataDir, logger });
  t.teardown(() => influxd.close());
  const u = new URL(influxd.url);
  await ensureSchema(new InfluxDB({ host: u.hostname, port: Number(u.port), database }), database);
  const now = Date.now() - 3600_000;
  const points = Array.from({ length: 50 }, (_, i) => readingLine({ kind: 'motion', id: `m-${i}`, ts: new Date(now + i).toISOString(), occupied: i % 2 === 0, room: 'kitchen', home: i % 3 === 0 ? 'h2' : 'h1', device: 'pir-1', at: now + i }));
  const res = await fetch(`${influxd.url}/write?db=${database}&rp=raw&precision=n`, { method: 'POST', body: points.join('\n') });
  if (res.status !== 204) throw new Error(`points not written: ${res.status} ${await res.text()}`);
  return { dataDir, store, influxd };
}

t.test('backup → wipe → restore gives the same store rows, files and InfluxDB query results', async (t) => {
  const { dataDir, store, influxd } = await hubData(t, true);
  const targets = [join(tempDir(t), 'usb'), join(tempDir(t), 'nas')];
  for (const d of targets) mkdirSync(d);
  const clock = new VirtualClock(Date.parse('2026-12-01T03:00:00Z'));
  const before = { rows: await snapshotRows(store), influx: await influxResults(influxd!.url), heads: await store.trailHeads() };

  const record = await runBackup(options({ dataDir, store, targets, clock, influx: { rpcAddress: influxd!.rpcAddress, database } }));
  t.equal(record.status, 'ok', record.error ?? 'backup ok');
  t.equal(record.verified, true, 'verified by a test restore');
  t.match(record.verifyNote, new RegExp(`^test restore matched: \\d+ file\\(s\\), ${liveRows(join(dataDir, 'mimamori.db'))} store row\\(s\\), [1-9] InfluxDB measurement\\(s\\)$`), 'every row of every table came back');
  t.same(record.targets.map((x) => x.ok), [true, true]);
  t.same(record.heads, before.heads, 'the chain heads are in the record');
  t.match(record.sha256, /^[0-9a-f]{64}$/);
  for (const d of targets) t.same(await listArchives(d), ['mimamori-20261201T030000000Z.mmbk']);
  t.equal(statSync(join(targets[0]!, record.file!)).size, record.size);
  t.same(readFileSync(join(targets[0]!, record.file!)), readFileSync(join(targets[1]!, record.file!)), 'the same archive in both targets');
  const history = await store.listBackups();
  t.equal(history.length, 1);
  t.match(history[0], { id: record.id, status: 'ok', verified: true, size: record.size, sha256: record.sha256, file: record.file });
  t.notOk(readFileSync(join(targets[0]!, record.file!)).includes(Buffer.from('key box 1234')), 'the archive does not hold the store in the clear');

  // The bad day: the hub and its data are gone.
  await influxd!.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });

  const to = join(tempDir(t), 'restored');
  const restored = await restoreArchive({ archive: join(targets[1]!, record.file!), to, passphrase, logger });
  t.equal(restored.manifest.id, record.id);
  t.same(restored.manifest.heads, before.heads, 'the manifest carries the chain heads');
  t.same(readFileSync(join(to, 'photos', 'h1', 'p1.jpg')), Buffer.from([0xff, 0xd8, 0xff, 1, 2, 3, 4, 5]));
  t.equal(readFileSync(join(to, 'ack-link.secret'), 'utf8'), 'secret-value\n');
  t.equal(readFileSync(join(to, 'node-red', 'empty.log'), 'utf8'), '', 'empty files too');
  t.equal(statSync(join(to, 'mimamori.db')).mode & 0o777, 0o600, 'restored files are private');
  const back = createSqliteStore(join(to, 'mimamori.db'));
  t.teardown(() => back.close());
  t.same(await snapshotRows(back), before.rows, 'the same store rows');
  const influxBack = await startManagedInfluxd({ dataDir: to, logger });
  t.teardown(() => influxBack.close());
  t.same(await influxResults(influxBack.url), before.influx, 'the same InfluxDB query results');
});

t.test('three generations are kept per target; a missing target is reported, the others still written', async (t) => {
  const { dataDir, store } = await hubData(t, false);
  const usb = join(tempDir(t), 'usb');
  mkdirSync(usb);
  writeFileSync(join(usb, 'notes.txt'), 'not a backup');
  const unmounted = join(tempDir(t), 'offline', 'not-mounted');
  const clock = new VirtualClock(Date.parse('2026-12-01T03:00:00Z'));
  const names: string[] = [];
  for (let day = 0; day < 5; day++) {
    const r = await runBackup(options({ dataDir, store, targets: [unmounted, usb], clock }));
    t.equal(r.status, 'ok');
    t.match(r.targets, [{ ok: false, error: /does not exist \(is the disk mounted\?\)/ }, { ok: true }]);
    names.push(r.file!);
    clock.advanceBy(86_400_000);
  }
  t.same(await listArchives(usb), names.slice(2), 'the newest three');
  t.ok(existsSync(join(usb, 'notes.txt')), 'other files in the target are left alone');
  t.notOk(existsSync(unmounted), 'a missing target is not created');
  t.equal((await store.listBackups()).length, 5);
});

t.test('a target inside the data folder is refused and recorded as a failed run', async (t) => {
  const { dataDir, store } = await hubData(t, false);
  mkdirSync(join(dataDir, 'backups'));
  const r = await runBackup(options({ dataDir, store, targets: [join(dataDir, 'backups')], clock: new VirtualClock(1) }));
  t.equal(r.status, 'failed');
  t.match(r.error, /inside the data folder/);
  t.same(readdirSync(join(dataDir, 'backups')), []);
  t.match((await store.listBackups())[0], { status: 'failed', verified: false });
});

t.test('a tampered, cut or wrong-key archive is refused and nothing is left behind', async (t) => {
  const { dataDir, store } = await hubData(t, false);
  const target = join(tempDir(t), 'usb');
  mkdirSync(target);
  const r = await runBackup(options({ dataDir, store, targets: [target], clock: new VirtualClock(5000) }));
  t.equal(r.status, 'ok');
  const archive = join(target, r.file!);
  const scratch = tempDir(t);

  await t.rejects(restoreArchive({ archive, to: join(scratch, 'a'), passphrase: 'wrong passphrase', logger }), { code: 'MIMAMORI_ERR_BACKUP_WRONG_KEY', message: /passphrase does not open this archive/ });
  t.notOk(existsSync(join(scratch, 'a')));

  const flipped = join(scratch, 'flipped.mmbk');
  copyFileSync(archive, flipped);
  const size = statSync(flipped).size;
  const fd = openSync(flipped, 'r+');
  writeSync(fd, Buffer.from([readFileSync(flipped)[size - 40]! ^ 0x01]), 0, 1, size - 40);
  closeSync(fd);
  await t.rejects(restoreArchive({ archive: flipped, to: join(scratch, 'b'), passphrase, logger }), { code: 'MIMAMORI_ERR_BACKUP_DAMAGED', message: /altered or is damaged/ });
  t.notOk(existsSync(join(scratch, 'b')), 'what was written before the bad chunk is removed');

  const cut = join(scratch, 'cut.mmbk');
  copyFileSync(archive, cut);
  truncateSync(cut, size - 100);
  await t.rejects(restoreArchive({ archive: cut, to: join(scratch, 'c'), passphrase, logger }), { code: 'MIMAMORI_ERR_BACKUP_DAMAGED' });

  const header = join(scratch, 'header.mmbk');
  const bytes = readFileSync(archive);
  const text = bytes.toString('latin1').replace('"chunk":1048576', '"chunk":1048575');
  writeFileSync(header, Buffer.from(text, 'latin1'));
  await t.rejects(restoreArchive({ archive: header, to: join(scratch, 'd'), passphrase, logger }), { code: 'MIMAMORI_ERR_BACKUP_DAMAGED' }, 'an edited header is refused');

  mkdirSync(join(scratch, 'full'));
  writeFileSync(join(scratch, 'full', 'keep.txt'), 'mine');
  await t.rejects(restoreArchive({ archive, to: join(scratch, 'full'), passphrase, logger }), { code: 'MIMAMORI_ERR_CONFLICT' });
  t.equal(readFileSync(join(scratch, 'full', 'keep.txt'), 'utf8'), 'mine', 'a non-empty folder is left alone');

  const ok = await restoreArchive({ archive, to: join(scratch, 'e'), passphrase, logger });
  t.equal(ok.files, 4, 'the untouched archive restores');
});
