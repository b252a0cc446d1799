/**
 * Which store the configuration asks for: PostgreSQL when `databaseUrl`
 * (`MIMAMORI_DATABASE_URL`) is set, else the embedded SQLite file in the
 * data folder. The hub and the CLI open their store here (docs/store.md).
 */
import { join } from 'node:path';
import type { Config } from './config.js';
import { createPgStore } from './store-pg.js';
import { createSqliteStore, type Store, type StoreOptions } from './store.js';

/** Where the SQLite store lives in a data folder. */
export const sqliteFile = (dataDir: string): string => join(dataDir, 'mimamori.db');

/** Opens the configured store and brings its schema up to date; the dead-letter cap comes from `deadLetters.keepPerHome`. */
export async function openStore(config: Pick<Config, 'dataDir' | 'databaseUrl'> & Partial<Pick<Config, 'deadLetters'>>, opts: StoreOptions = {}): Promise<Store> {
  const all: StoreOptions = { ...(config.deadLetters ? { rejectedPerHome: config.deadLetters.keepPerHome } : {}), ...opts };
  return config.databaseUrl ? createPgStore(config.databaseUrl, all) : createSqliteStore(sqliteFile(config.dataDir), all);
}
