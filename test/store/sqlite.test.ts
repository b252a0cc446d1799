/** The store contract on SQLite (the embedded default), in a temp file. */
import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../core/store.js';
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
