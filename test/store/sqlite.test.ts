/** The store contract on SQLite (the embedded default), in a temp file. */
import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../core/store.js';
import { databaseAtVersion } from '../support/old-schema.js';
import { tempDir } from '../support/wait.js';
import { rawRunners, storeContract } from './contract.js';

storeContract(t, async (t, opts = {}) => {
  const file = join(tempDir(t, 'mimamori-store-'), 'hub.db');
  const store = createSqliteStore(file, { ...opts, now: () => 1_000 });
  rawRunners.set(store, async (sql) => {
    const raw = new Database(file);
    try { raw.exec(sql); } finally { raw.close(); }
  });
  return store;
});

t.test('migration 18: the old schedule\'s rows become free jobs, and the old table goes', async (t) => {
  const file = join(tempDir(t, 'mimamori-store-'), 'hub.db');
  const old = databaseAtVersion(file, 16);
  old.prepare('INSERT INTO notifier_schedule (id, kind, subject, due_at, payload) VALUES (?, ?, ?, ?, ?)').run('esc:a1', 'escalation', 'h1', 5_000, '{"alertId":"a1"}');
  old.prepare('INSERT INTO notifier_schedule (id, kind, subject, due_at, payload) VALUES (?, ?, ?, ?, ?)').run('digest:c1:08:00', 'digest', 'h1', 3_000, null);
  old.close();
  const store = createSqliteStore(file, { now: () => 1_000 });
  t.teardown(() => store.close());
  t.same(await store.listJobs(), [
    { key: 'digest:c1:08:00', kind: 'digest', homeId: 'h1', dueAt: 3_000, version: 1, attempts: 0, createdAt: 3_000, updatedAt: 3_000 },
    { key: 'esc:a1', kind: 'escalation', homeId: 'h1', dueAt: 5_000, payload: { alertId: 'a1' }, version: 1, attempts: 0, createdAt: 5_000, updatedAt: 5_000 },
  ]);
  const raw = new Database(file, { readonly: true });
  t.teardown(() => raw.close());
  t.equal((raw.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'notifier_schedule'").get() as { n: number }).n, 0, 'notifier_schedule is gone');
});
