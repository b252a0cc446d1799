/**
 * A hub database as an older version left it: the migrations up to and
 * including `version` applied (with their `after` steps), nothing later.
 * For tests of what a later migration does to existing rows.
 */
import Database from 'better-sqlite3';
import { migrations } from '../../core/migrations.js';

/** Opens `file` and applies migrations 1..`version`; the caller writes its rows, then closes it. */
export function databaseAtVersion(file: string, version: number): Database.Database {
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  for (const m of migrations.filter((x) => x.version <= version)) {
    db.transaction(() => {
      for (const sql of m.sql) db.exec(sql);
      m.after?.({ all: (sql, ...p) => db.prepare(sql).all(...p) as Array<Record<string, unknown>>, run: (sql, ...p) => { db.prepare(sql).run(...p); } });
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(m.version, m.name);
    })();
  }
  return db;
}
