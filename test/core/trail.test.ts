import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../core/store.js';
import { migrations } from '../../core/migrations.js';
import { genesisHash, trailHash, verifyTrail } from '../../core/trail.js';
import { verifyTrails } from '../../cli/audit.js';
import { tempDir, type Teardown } from '../support/wait.js';
import { databaseAtVersion } from '../support/old-schema.js';

/** A store with five audit records and three access records, and a raw connection to tamper with. */
async function seeded(t: Teardown) {
  const file = join(tempDir(t), 'mimamori.db');
  const store = createSqliteStore(file);
  for (let i = 1; i <= 5; i++) await store.audit({ at: 1000 + i, actor: `op-${i}`, action: 'alert.acknowledge', subject: `alert-${i}`, detail: { via: 'sms', n: i } });
  for (let i = 1; i <= 3; i++) await store.recordAccess({ at: 2000 + i, viewerId: 'fam-1', homeId: 'h1', what: `page-${i}` });
  const raw = new Database(file);
  t.teardown(async () => { raw.close(); await store.close(); });
  return { store, raw };
}

const problemsOf = async (store: Awaited<ReturnType<typeof seeded>>['store']) =>
  (await verifyTrails(store)).flatMap((r) => r.problems.map((p) => `${r.kind}:${p.problem}@${p.seq}`));

t.test('an untouched trail verifies, and each record links to the one before', async (t) => {
  const { store, raw } = await seeded(t);
  const reports = await verifyTrails(store);
  t.same(reports.map((r) => [r.kind, r.records, r.head.seq, r.problems.length]), [['audit', 5, 5, 0], ['access', 3, 3, 0]]);
  const rows = raw.prepare('SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq').all() as Array<{ seq: number; prev_hash: string; hash: string }>;
  t.same(rows.map((r) => r.seq), [1, 2, 3, 4, 5]);
  t.equal(rows[0]!.prev_hash, genesisHash);
  for (let i = 1; i < rows.length; i++) t.equal(rows[i]!.prev_hash, rows[i - 1]!.hash, `record ${i + 1} carries the hash of record ${i}`);
  t.same(await store.trailHeads(), { audit: { seq: 5, hash: rows[4]!.hash }, access: reports[1]!.head });
});

t.test('an edited record is found, and only it', async (t) => {
  const { store, raw } = await seeded(t);
  raw.prepare("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2").run();
  t.same(await problemsOf(store), ['audit:edited@2']);
});

t.test('an edit with the hash recomputed is found at the next record', async (t) => {
  const { store, raw } = await seeded(t);
  const r = raw.prepare('SELECT * FROM access_log WHERE seq = 2').get() as Record<string, unknown>;
  const fields = { ...r, what: 'nothing to see' };
  raw.prepare('UPDATE access_log SET what = ?, hash = ? WHERE seq = 2').run(fields.what, trailHash('access', 2, r.prev_hash as string, fields));
  t.same(await problemsOf(store), ['access:reordered@3'], 'record 3 no longer links to record 2');
});

t.test('a deleted record is found where it was', async (t) => {
  const { store, raw } = await seeded(t);
  raw.prepare('DELETE FROM audit_log WHERE seq = 3').run();
  const [audit] = await verifyTrails(store);
  t.same(audit!.problems.map((p) => [p.problem, p.seq]), [['missing', 3]]);
  t.match(audit!.problems[0]!.message, { en: /missing at seq 3/, ja: /番号 3/ });
});

t.test('reordered records are found: two records swapped', async (t) => {
  const { store, raw } = await seeded(t);
  raw.transaction(() => {
    raw.prepare('UPDATE audit_log SET seq = -1 WHERE seq = 2').run();
    raw.prepare('UPDATE audit_log SET seq = 2 WHERE seq = 3').run();
    raw.prepare('UPDATE audit_log SET seq = 3 WHERE seq = -1').run();
  })();
  const [audit] = await verifyTrails(store);
  t.same(audit!.problems.map((p) => [p.problem, p.seq]), [['reordered', 2], ['reordered', 3]]);
  t.match(audit!.problems[0]!.message.en, /written at seq 3 now stands at seq 2/);
});

t.test('records removed from the end are found against a head a backup recorded', async (t) => {
  const { store, raw } = await seeded(t);
  const heads = await store.trailHeads();
  await store.saveBackup({ id: 'b1', startedAt: 3000, finishedAt: 3001, status: 'ok', targets: [], verified: true, heads });
  t.same(await problemsOf(store), []);
  raw.prepare('DELETE FROM audit_log WHERE seq >= 4').run();
  t.same(await problemsOf(store), ['audit:truncated@5']);
});

t.test('a record written around the store is reported as unsealed', async (t) => {
  const { store, raw } = await seeded(t);
  raw.prepare("INSERT INTO access_log (id, at, viewer_id, home_id, what) VALUES ('x', 1, 'v', 'h1', 'w')").run();
  t.same(await problemsOf(store), ['access:unsealed@null']);
});

t.test('migration 8 chains the rows that exist, in the order they were written', async (t) => {
  const file = join(tempDir(t), 'mimamori.db');
  const old = databaseAtVersion(file, 7);
  // Written out of time order: the chain follows the writing order, not `at`.
  old.prepare("INSERT INTO audit_log (id, at, actor, action, subject, detail) VALUES ('a', 20, 'x', 'y', 'z', NULL)").run();
  old.prepare("INSERT INTO audit_log (id, at, actor, action, subject, detail) VALUES ('b', 10, 'x', 'y', 'z', '{\"k\":1}')").run();
  old.prepare("INSERT INTO access_log (id, at, viewer_id, home_id, what) VALUES ('c', 5, 'v', 'h', 'w')").run();
  old.close();

  const store = createSqliteStore(file);
  t.teardown(() => store.close());
  t.equal(await store.schemaVersion(), migrations.at(-1)!.version, 'migrated to the latest');
  const audit = await store.readTrail('audit');
  t.same(audit.map((r) => [r.fields.id, r.seq]), [['a', 1], ['b', 2]]);
  t.equal(audit[1]!.prevHash, audit[0]!.hash);
  t.same(verifyTrail('audit', audit).problems, []);
  t.same((await store.readTrail('access')).map((r) => r.seq), [1]);
  await store.audit({ at: 30, actor: 'x', action: 'y', subject: 'z' });
  t.same((await store.readTrail('audit')).map((r) => r.seq), [1, 2, 3], 'new records continue the migrated chain');
  t.same(await problemsOf(store), []);
});
