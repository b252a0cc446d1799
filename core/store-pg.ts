/**
 * The store on PostgreSQL (`pg`): the same implementation as SQLite's
 * (core/store.ts `createSqlStore`) over a connection pool, with the schema
 * from core/migrations-pg.ts. Chosen by `MIMAMORI_DATABASE_URL=postgres://…`
 * (core/store-open.ts); passes the contract suite in test/store/contract.ts.
 */
import pg from 'pg';
import { migrations } from './migrations.js';
import { pgMigrations } from './migrations-pg.js';
import { MimamoriError } from './errors.js';
import { createSqlStore, type Store, type StoreOptions } from './store.js';
import type { Row, SqlDb, SqlQueries, SqlTx } from './store-sql.js';

/** BIGINT (epoch milliseconds, counts) as a JS number: every stored one is a safe integer. */
const int8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (oid === int8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** `?` placeholders (the store's portable SQL) → `$1, $2, …`. */
const numbered = new Map<string, string>();
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let i = 0;
    out = sql.replace(/\?/g, () => `$${++i}`);
    numbered.set(sql, out);
  }
  return out;
}

/** PostgreSQL takes at most 65,535 parameters in one statement; a batch is cut into statements below that. */
const maxParams = 65_535;
const maxRowsPerStatement = 1_000;
/** `INSERT INTO t (a, b) VALUES (?, ?)` with an optional tail (`ON CONFLICT …`): the form a batch sends as multi-row statements. */
const singleRowInsert = /^(INSERT INTO [^(]+\([^)]*\) VALUES )\((\?(?:, *\?)*)\)(.*)$/is;

/** A multi-row statement for `count` rows of `perRow` parameters each: `prefix ($1, $2), ($3, $4) tail`. */
function multiRow(prefix: string, perRow: number, count: number, tail: string): string {
  const tuples: string[] = [];
  for (let r = 0, i = 0; r < count; r++) {
    const ps: string[] = [];
    for (let j = 0; j < perRow; j++) ps.push(`$${++i}`);
    tuples.push(`(${ps.join(', ')})`);
  }
  return `${prefix}${tuples.join(', ')}${tail}`;
}

/** `rows` on one connection (in the caller's transaction): an INSERT as multi-row statements, anything else row after row. */
async function runRows(c: pg.PoolClient, sql: string, rows: ReadonlyArray<readonly unknown[]>): Promise<number> {
  let changes = 0;
  const m = singleRowInsert.exec(sql);
  if (m === null) {
    for (const row of rows) changes += (await c.query(toPg(sql), row as unknown[])).rowCount ?? 0;
    return changes;
  }
  const [, prefix, marks, tail] = m as unknown as [string, string, string, string];
  const perRow = marks.split('?').length - 1;
  const chunk = Math.max(1, Math.min(maxRowsPerStatement, Math.floor(maxParams / perRow)));
  for (let from = 0; from < rows.length; from += chunk) {
    const part = rows.slice(from, from + chunk);
    const params: unknown[] = [];
    for (const row of part) {
      if (row.length !== perRow) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `runMany: a row has ${row.length} parameters where the statement takes ${perRow}`);
      for (const v of row) params.push(v);
    }
    changes += (await c.query(multiRow(prefix, perRow, part.length, tail), params)).rowCount ?? 0;
  }
  return changes;
}

function queries(c: pg.PoolClient): SqlQueries {
  return {
    async get(sql, ...p) { return (await c.query(toPg(sql), p)).rows[0] as Row | undefined; },
    async all(sql, ...p) { return (await c.query(toPg(sql), p)).rows as Row[]; },
    async run(sql, ...p) { return (await c.query(toPg(sql), p)).rowCount ?? 0; },
    runMany: (sql, rows) => runRows(c, sql, rows),
  };
}

async function inTransaction<T>(pool: pg.Pool, work: (t: SqlTx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const t: SqlTx = { ...queries(client), lock: async (name) => { await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name]); } };
    const out = await work(t);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Brings the schema up to date, one transaction per migration, one process at a time. */
async function migratePg(pool: pg.Pool, now: () => number): Promise<void> {
  const sqlite = new Map(migrations.map((m) => [m.version, m]));
  const missing = [...sqlite.keys()].filter((v) => !pgMigrations.some((m) => m.version === v));
  if (missing.length > 0) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `PostgreSQL migrations lack version ${missing.join(', ')} (core/migrations-pg.ts)`);
  await inTransaction(pool, async (t) => {
    await t.lock('mimamori:migrations');
    await t.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  });
  for (const m of pgMigrations) {
    const base = sqlite.get(m.version);
    if (!base) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `PostgreSQL migration ${m.version} has no SQLite counterpart (core/migrations.ts)`);
    await inTransaction(pool, async (t) => {
      await t.lock('mimamori:migrations');
      if (await t.get('SELECT version FROM schema_migrations WHERE version = ?', m.version)) return;
      for (const sql of m.sql === 'portable' ? base.sql : m.sql) await t.run(sql);
      await m.after?.(t);
      await t.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', m.version, base.name, now());
    });
  }
}

/**
 * Connects to PostgreSQL at `url`, brings the schema up to date and returns
 * the store. Several hub processes may share one database: migrations take
 * an advisory lock, and the store's read-then-write steps (opening an alert,
 * appending to the audit trail) hold a per-subject lock to their commit.
 */
export async function createPgStore(url: string, opts: StoreOptions & { poolSize?: number } = {}): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 8, types });
  // An idle client's error (the server restarting) must not crash the hub; the next query reports it.
  pool.on('error', () => {});
  try {
    await migratePg(pool, opts.now ?? Date.now);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return createSqlStore(pgSqlDb(pool), opts);
}

/** The SQL port over a `pg` pool (exported for the port's own contract test, test/store/sql-port.test.ts). */
export function pgSqlDb(pool: pg.Pool): SqlDb {
  // An idle client's error (the server restarting or stopping) must not crash the process; the next query reports it.
  if (pool.listenerCount('error') === 0) pool.on('error', () => {});
  return {
    async get(sql, ...p) { return (await pool.query(toPg(sql), p)).rows[0] as Row | undefined; },
    async all(sql, ...p) { return (await pool.query(toPg(sql), p)).rows as Row[]; },
    async run(sql, ...p) { return (await pool.query(toPg(sql), p)).rowCount ?? 0; },
    // A batch is all or nothing: in a transaction of its own.
    runMany: async (sql, rows) => (rows.length === 0 ? 0 : inTransaction(pool, (t) => t.runMany(sql, rows))),
    tx: (work) => inTransaction(pool, work),
    isConflict: (err) => (err as { code?: unknown }).code === '23505',
    skipLocked: ' FOR UPDATE SKIP LOCKED',
    close: () => pool.end(),
  };

}
