/**
 * The store contract on a real PostgreSQL 15 (test/support/postgres.ts): one
 * server for the file, an empty database per test. Also: the two migration
 * lists have the same numbers, and a missing one stops the store.
 */
import t from 'tap';
import pg from 'pg';
import { migrations } from '../../core/migrations.js';
import { pgMigrations } from '../../core/migrations-pg.js';
import { createPgStore } from '../../core/store-pg.js';
import { postgresInstalled, startPostgres } from '../support/postgres.js';
import { rawRunners, storeContract } from './contract.js';

t.test('every SQLite migration has its PostgreSQL counterpart, and no other', async (t) => {
  t.same(pgMigrations.map((m) => m.version), migrations.map((m) => m.version));
});

if (!postgresInstalled) {
  t.fail('PostgreSQL 15 is not installed: node scripts/setup.mjs --for test');
} else {
  const server = await startPostgres(t);

  t.test('contract', async (t) => {
    storeContract(t, async (_t, opts = {}) => {
      const url = await server.createDatabase();
      const store = await createPgStore(url, { ...opts, now: () => 1_000, poolSize: 4 });
      rawRunners.set(store, async (sql) => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try { await c.query(sql); } finally { await c.end(); }
      });
      return store;
    });
  });

  t.test('a second store on the same database finds the schema in place', async (t) => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([createPgStore(url), createPgStore(url)]);
    t.teardown(async () => { await a.close(); await b.close(); });
    t.equal(await a.schemaVersion(), Math.max(...migrations.map((m) => m.version)));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const rows = (await c.query('SELECT COUNT(*)::int AS n FROM schema_migrations')).rows as Array<{ n: number }>;
    await c.end();
    t.equal(rows[0]!.n, migrations.length, 'each migration applied once though two processes started together');
  });

  t.test('a PostgreSQL migration list missing a number stops the store with a clear error', async (t) => {
    const url = await server.createDatabase();
    const removed = pgMigrations.splice(pgMigrations.length - 1, 1);
    t.teardown(() => { pgMigrations.push(...removed); });
    await t.rejects(createPgStore(url), { code: 'MIMAMORI_ERR_CONFIG', message: new RegExp(`lack version ${removed[0]!.version}\\b`) });
  });
}
