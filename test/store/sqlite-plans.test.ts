/**
 * The dead-letter and budget-summary queries read notifications through the
 * status index (migration 17), not every notification ever sent: SQLite's
 * EXPLAIN QUERY PLAN of the store's own query text, on a migrated database.
 */
import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore, unreachedNotificationsWhere } from '../../core/store.js';
import { tempDir } from '../support/wait.js';

const plan = (db: Database.Database, sql: string, ...params: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);

t.test('unreached notifications and one person\'s held ones are index searches, never a scan of notifications', async (t) => {
  const file = join(tempDir(t, 'mimamori-plan-'), 'hub.db');
  await createSqliteStore(file).close(); // every migration applied
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  const statuses = ['failed', 'busy'];
  const dead = plan(db, `SELECT n.* FROM notifications n WHERE ${unreachedNotificationsWhere(2)} ORDER BY n.updated_at DESC, n.id DESC LIMIT ? OFFSET ?`, ...statuses, ...statuses, 50, 0);
  t.ok(dead.some((d) => /^SEARCH n USING INDEX notifications_status \(status=\?\)/.test(d)), `the outer read searches the status index: ${dead.join(' | ')}`);
  t.ok(dead.some((d) => /^SEARCH o USING INDEX notifications_(alert|status)/.test(d)), 'the check of the pair searches an index');
  t.notOk(dead.some((d) => /^SCAN (n|o|notifications)\b/.test(d)), 'no full scan of notifications');
  const count = plan(db, `SELECT COUNT(*) AS c FROM notifications n WHERE ${unreachedNotificationsWhere(2)}`, ...statuses, ...statuses);
  t.notOk(count.some((d) => /^SCAN (n|o|notifications)\b/.test(d)), `the count neither: ${count.join(' | ')}`);
  const held = plan(db, 'SELECT * FROM notifications WHERE status IN (?) AND contact_id = ? ORDER BY created_at, id', 'held', 'c1');
  t.ok(held.some((d) => /^SEARCH notifications USING INDEX notifications_status \(status=\? AND contact_id=\?\)/.test(d)), `held for one person: ${held.join(' | ')}`);
  const cut = plan(db, 'SELECT at, id FROM rejected_messages WHERE home_id = ? ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?', 'h1', 999);
  t.same(cut, ['SEARCH rejected_messages USING COVERING INDEX rejected_messages_home (home_id=?)'], 'the dead-letter cap finds its cut per home without sorting');
});
