/**
 * A SQL port that, like PostgreSQL's connection pool, does not promise that
 * writes commit in the order they were issued (`commitsInOrder: false`),
 * over a real, migrated SQLite file. A test overrides the port's methods to
 * hold one statement or one transaction back, so a later write can commit
 * first, as it may on a pool — the store must then order (or guard) the
 * writes whose order matters itself. See test/store/sql-port.test.ts.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore, sqliteDb } from '../../core/store.js';
import type { SqlDb } from '../../core/store-sql.js';
import { tempDir, type Teardown } from './wait.js';

/** The migrated database's port (in order, like SQLite's) and a copy that says it is not in order. */
export async function outOfOrderPort(t: Teardown): Promise<{ inOrder: SqlDb; port: SqlDb }> {
  const file = join(tempDir(t, 'mimamori-pool-like-'), 'hub.db');
  await createSqliteStore(file).close();
  const inOrder = sqliteDb(new Database(file));
  return { inOrder, port: { ...inOrder, commitsInOrder: false } };
}

/** A gate: `wait()` resolves once `open()` is called; `reached` once someone waits at it. */
export function gate(): { wait(): Promise<void>; open(): void; reached: Promise<void> } {
  let open!: () => void;
  let reach!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  const reached = new Promise<void>((resolve) => { reach = resolve; });
  return { wait: () => { reach(); return opened; }, open, reached };
}
