/**
 * The SQL port's batch (`runMany`, core/store-sql.ts) on both drivers: SQLite
 * (better-sqlite3, one prepared statement in one synchronous transaction) and
 * a real PostgreSQL 15 (multi-row INSERT statements, cut below the parameter
 * limit; other statements row after row). The same suite runs on each.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createSqliteStore, createSqlStore, sqliteDb } from '../../core/store.js';
import { pgSqlDb } from '../../core/store-pg.js';
import type { SqlDb } from '../../core/store-sql.js';
import { gate, outOfOrderPort } from '../support/out-of-order-port.js';
import { postgresInstalled, startPostgres } from '../support/postgres.js';
import { tempDir } from '../support/wait.js';

type OpenDb = (t: Test) => Promise<SqlDb>;

const insert = 'INSERT INTO batch_rows (id, n, label) VALUES (?, ?, ?)';
const upsert = 'INSERT INTO batch_rows (id, n, label) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET n = excluded.n, label = excluded.label';

async function rows(db: SqlDb): Promise<Array<[string, number, string | null]>> {
  return (await db.all('SELECT id, n, label FROM batch_rows ORDER BY id')).map((r) => [r.id as string, Number(r.n), r.label as string | null]);
}

function sqlPortContract(t: Test, open: OpenDb): void {
  const fresh = async (t: Test): Promise<SqlDb> => {
    const db = await open(t);
    await db.run('CREATE TABLE batch_rows (id TEXT PRIMARY KEY, n INTEGER NOT NULL, label TEXT)');
    return db;
  };

  t.test('runMany writes every row, and counts the rows it changed', async (t) => {
    const db = await fresh(t);
    t.equal(await db.runMany(insert, []), 0, 'an empty batch changes nothing');
    t.equal(await db.runMany(insert, [['a', 1, 'one'], ['b', 2, null], ['c', 3, 'みっつ']]), 3);
    t.same(await rows(db), [['a', 1, 'one'], ['b', 2, null], ['c', 3, 'みっつ']]);
    t.equal(await db.runMany(upsert, [['b', 20, 'twenty'], ['d', 4, 'four']]), 2, 'an upsert counts updated and inserted rows');
    t.same(await rows(db), [['a', 1, 'one'], ['b', 20, 'twenty'], ['c', 3, 'みっつ'], ['d', 4, 'four']]);
    t.equal(await db.runMany('DELETE FROM batch_rows WHERE id = ?', [['a'], ['c'], ['no-such-row']]), 2, 'a statement other than INSERT, row after row');
    t.same(await rows(db), [['b', 20, 'twenty'], ['d', 4, 'four']]);
  });

  t.test('a batch larger than one PostgreSQL statement takes (65,535 parameters) is written whole', async (t) => {
    const db = await fresh(t);
    const many = Array.from({ length: 25_000 }, (_, i) => [`r${String(i).padStart(5, '0')}`, i, `label ${i}`]);
    t.equal(await db.runMany(insert, many), 25_000);
    const got = await rows(db);
    t.equal(got.length, 25_000);
    t.same(got[0], ['r00000', 0, 'label 0']);
    t.same(got[24_999], ['r24999', 24_999, 'label 24999']);
    t.equal(got.reduce((sum, r) => sum + r[1], 0), (24_999 * 25_000) / 2, 'every row with its own values');
  });

  t.test('a batch is all or nothing, alone or inside a transaction', async (t) => {
    const db = await fresh(t);
    await db.run(insert, 'b', 2, 'kept');
    // Alone: the duplicate key in the third row undoes the first two.
    const err = await db.runMany(insert, [['a', 1, null], ['c', 3, null], ['b', 9, 'duplicate'], ['d', 4, null]]).then(() => undefined, (e: unknown) => e);
    t.ok(err, 'the batch fails');
    t.ok(db.isConflict(err), 'as a key conflict');
    t.same(await rows(db), [['b', 2, 'kept']], 'no row of the failed batch stays');
    // Inside a transaction that fails after the batch: the batch goes with it.
    await t.rejects(db.tx(async (tx) => {
      t.equal(await tx.runMany(insert, [['x', 1, null], ['y', 2, null]]), 2);
      t.equal((await tx.all('SELECT id FROM batch_rows')).length, 3, 'the transaction sees its own batch');
      throw new Error('later step failed');
    }), /later step failed/);
    t.same(await rows(db), [['b', 2, 'kept']]);
    // Inside a transaction that commits: kept.
    await db.tx(async (tx) => { await tx.runMany(upsert, [['b', 5, 'updated'], ['e', 6, null]]); });
    t.same(await rows(db), [['b', 5, 'updated'], ['e', 6, null]]);
  });

  t.test('a batch started while a transaction is open lands after it, not inside it', async (t) => {
    const db = await fresh(t);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    const failing = db.tx(async (tx) => {
      await tx.run(insert, 'in-tx', 1, null);
      entered();
      await gate;
      throw new Error('rolled back');
    });
    await inside;
    const batch = db.runMany(insert, [['batch-1', 1, null], ['batch-2', 2, null]]);
    release();
    await t.rejects(failing, /rolled back/);
    t.equal(await batch, 2);
    t.same(await rows(db), [['batch-1', 1, null], ['batch-2', 2, null]], 'the rolled-back row is gone, the batch is kept');
  });
}

t.test('SQLite', async (t) => {
  sqlPortContract(t, async (t) => {
    const raw = new Database(join(tempDir(t, 'mimamori-sql-port-'), 'port.db'));
    raw.pragma('journal_mode = WAL');
    const db = sqliteDb(raw);
    t.teardown(() => db.close());
    return db;
  });
});

t.test('PostgreSQL', async (t) => {
  if (!postgresInstalled) { t.fail('PostgreSQL 15 is not installed: node scripts/setup.mjs --for test'); return; }
  const server = await startPostgres(t);
  sqlPortContract(t, async (t) => {
    const db = pgSqlDb(new pg.Pool({ connectionString: await server.createDatabase(), max: 4 }));
    t.teardown(() => db.close());
    return db;
  });
});

t.test('the rule engine\'s state saves commit in the order they were made, also on a port whose transactions may not (a pool)', async (t) => {
  // A migrated database, reached through a port that says it does not commit in order, whose first batch is slow.
  const file = join(tempDir(t, 'mimamori-sql-port-'), 'hub.db');
  await createSqliteStore(file).close();
  const raw = new Database(file);
  const port = sqliteDb(raw);
  let release!: () => void;
  const slow = new Promise<void>((r) => { release = r; });
  const batches: string[] = [];
  let first = true, failNext = false;
  const store = createSqlStore({
    ...port,
    commitsInOrder: false,
    runMany: async (sql, rows) => {
      const label = String((rows[0] as unknown[])[2]);
      batches.push(`begin ${label}`);
      if (failNext) { failNext = false; throw new Error('connection lost'); }
      if (first) { first = false; await slow; }
      const n = await port.runMany(sql, rows);
      batches.push(`end ${label}`);
      return n;
    },
  });
  t.teardown(() => store.close());
  const older = store.saveHomeStateParts([{ homeId: 'h1', part: 'home', data: 'older' }], 1);
  const newer = store.saveHomeStateParts([{ homeId: 'h1', part: 'home', data: 'newer' }], 2);
  await new Promise((r) => setImmediate(r));
  t.same(batches, ['begin older'], 'the later save waits for the one under way');
  release();
  await Promise.all([older, newer]);
  t.same(batches, ['begin older', 'end older', 'begin newer', 'end newer']);
  t.same(await store.loadHomeStateParts('h1'), [{ homeId: 'h1', part: 'home', data: 'newer' }], 'the later save is the one kept');
  // A failed save does not stop the ones after it.
  failNext = true;
  const lost = store.saveHomeStateParts([{ homeId: 'h1', part: 'home', data: 'lost' }], 3);
  const after = store.saveHomeStateParts([{ homeId: 'h1', part: 'home', data: 'after' }], 4);
  await t.rejects(lost, /connection lost/);
  t.same(await after, []);
  t.same(await store.loadHomeStateParts('h1'), [{ homeId: 'h1', part: 'home', data: 'after' }]);
});

t.test('a video call\'s save that commits after a later one (a pool) does not undo its answer or its end', async (t) => {
  const { port } = await outOfOrderPort(t);
  // The save issued first (when `first` is set) is held back until the one after it has committed.
  let held = gate();
  let first = false;
  const store = createSqlStore({
    ...port,
    run: async (sql, ...p) => {
      if (sql.startsWith('INSERT INTO video_calls') && first) { first = false; await held.wait(); }
      return port.run(sql, ...p);
    },
  });
  t.teardown(() => store.close());
  const ringing = { id: 'call1', homeId: 'h1', callerId: 'cg', kind: 'call', startedAt: 10 } as const;
  // dashboards/video-calls.ts: the tablet answers (saved), and the caller hangs up while that save is on its way.
  await store.saveCall(ringing);
  first = true;
  const answered = store.saveCall({ ...ringing, answeredAt: 11, answeredBy: 'resident' });
  await held.reached;
  await store.saveCall({ ...ringing, answeredAt: 11, answeredBy: 'resident', endedAt: 20, outcome: 'connected' });
  held.open();
  await answered;
  t.same(await store.getCall('call1'), { ...ringing, answeredAt: 11, answeredBy: 'resident', endedAt: 20, outcome: 'connected' }, 'the call stays ended');
  // A call cancelled while its first save (the insert) was on its way.
  held = gate();
  first = true;
  const started = store.saveCall({ ...ringing, id: 'call2' });
  await held.reached;
  await store.saveCall({ ...ringing, id: 'call2', endedAt: 12, outcome: 'cancelled' });
  held.open();
  await started;
  t.same(await store.getCall('call2'), { ...ringing, id: 'call2', endedAt: 12, outcome: 'cancelled' }, 'the cancelled call stays cancelled');
});
