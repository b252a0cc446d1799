/**
 * The hub's SQLite store checkpoints its WAL in a worker thread
 * (core/sqlite-checkpointer.ts), not in the ingest's commits on the event
 * loop: the log is copied into the database file while the store's own
 * connection, whose automatic checkpoint is set far out, never reached it;
 * closing the store stops the worker, and what was committed is all there.
 */
import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../core/store.js';
import { startCheckpointer } from '../../core/sqlite-checkpointer.js';
import { tempDir, until } from '../support/wait.js';

const pageSize = 4096;

t.test('the log is copied into the database by the worker, where the store would not yet have checkpointed itself', async (t) => {
  const file = join(tempDir(t, 'mimamori-ckpt-'), 'hub.db');
  const errors: string[] = [];
  const store = createSqliteStore(file, { checkpointInWorker: { onError: (m) => errors.push(m) } });
  const before = statSync(file).size;
  // Two commits of ~350 pages each: short of SQLite's own automatic checkpoint (a log of 1,000
  // pages by default, the store's backstop further still), so only the worker copies anything
  // into the database file.
  const text = 'x'.repeat(400);
  let n = 0;
  for (let b = 0; b < 2; b++) {
    const items = Array.from({ length: 2500 }, () => ({ homeId: `h${n % 7}`, deviceId: 'd1', eventId: `e${n++}`, outbox: `{"i":${n},"t":"${text}"}` }));
    const { fresh } = await store.commitIngestBatch(items, b);
    t.equal(fresh.filter(Boolean).length, items.length, `batch ${b}: every event new`);
  }
  await until(() => statSync(file).size - before > 300 * pageSize, 30_000, 'the worker to copy the log into the database file');
  t.pass(`the database file grew by ${Math.round((statSync(file).size - before) / pageSize)} pages while the store went on committing`);
  await store.close();
  t.same(errors, [], 'no checkpoint failed');

  const again = new Database(file, { readonly: true });
  t.teardown(() => again.close());
  t.equal(Number(again.prepare('SELECT COUNT(*) AS c FROM seen_ids').pluck().get()), n, 'every committed event id is there');
  t.equal(Number(again.prepare('SELECT COUNT(*) AS c FROM ingest_outbox').pluck().get()), n, 'and every outbox row');
});

t.test('the same batch again is not fresh; a repeat inside one batch neither; events without an id always are', async (t) => {
  const store = createSqliteStore(join(tempDir(t, 'mimamori-ckpt-'), 'hub.db'), { checkpointInWorker: {} });
  t.teardown(() => store.close());
  const first = await store.commitIngestBatch([
    { homeId: 'h1', deviceId: 'd1', eventId: 'a', outbox: '{"a":1}' },
    { homeId: 'h1', deviceId: 'd1', eventId: 'a', outbox: '{"a":2}' },
    { homeId: 'h1', deviceId: 'd2', eventId: 'a', outbox: '{"a":3}' },
    { homeId: 'h1', deviceId: 'd1' },
  ], 1);
  t.same(first.fresh, [true, false, true, true]);
  t.ok(first.outboxHead > 0, 'the outbox head is the last row written');
  const rows = await store.listIngestOutbox();
  t.same(rows.map((r) => r.text), ['{"a":1}', '{"a":3}'], 'the repeat wrote no outbox row');
  t.equal(first.outboxHead, rows[rows.length - 1]!.seq);
  const second = await store.commitIngestBatch([{ homeId: 'h1', deviceId: 'd1', eventId: 'a', outbox: '{"a":4}' }, { homeId: 'h1', deviceId: 'd1', eventId: 'b', outbox: '{"b":1}' }], 2);
  t.same(second.fresh, [false, true], 'seen before is not fresh; a new id is');
});

t.test('a checkpointer that cannot open its database says so once, and stops cleanly', async (t) => {
  const errors: string[] = [];
  const cp = startCheckpointer(join(tempDir(t, 'mimamori-ckpt-'), 'missing.db'), { onError: (m) => errors.push(m) });
  await until(() => errors.length > 0, 10_000, 'the failure to be told');
  t.match(errors[0], /unable to open|no such file|directory does not exist/i);
  await cp.stop();
  await cp.stop();
  t.equal(errors.length, 1, 'told once');
});
