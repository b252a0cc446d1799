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

t.test('reads on the alert path, at start and on the family page search an index instead of scanning a table that grows with the history (migrations 23–26)', async (t) => {
  const file = join(tempDir(t, 'mimamori-plan-'), 'hub.db');
  await createSqliteStore(file).close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  const scans = (steps: string[], tables: string) => steps.filter((d) => new RegExp(`^SCAN (${tables})\\b`).test(d));
  // The query texts of core/store.ts.
  const unsettled = plan(db, `SELECT k.*, x.updated_at AS attempt_at, a.home_id AS alert_home FROM send_keys k
    LEFT JOIN notifications x ON x.id = k.notification_id JOIN alerts a ON a.id = k.alert_id
    WHERE k.body IS NOT NULL AND k.recipient IS NOT NULL AND k.created_at >= ?
    AND (k.notification_id IS NULL OR x.id IS NULL OR (x.status = 'pending' AND x.provider_id IS NULL)) AND a.home_id = ?
    ORDER BY k.created_at, k.key`, 0, 'h1');
  t.same(scans(unsettled, 'k|a|x|send_keys|alerts'), [], `one home's unsettled sends (start-up reconciliation): ${unsettled.join(' | ')}`);
  t.ok(unsettled.some((d) => /USING (COVERING )?INDEX alerts_home/.test(d)), 'through the home\'s alerts');
  const open = plan(db, `SELECT l.* FROM alerts a JOIN alert_lifecycle l ON l.alert_id = a.id WHERE a.status <> 'resolved' ORDER BY a.opened_at, a.id`);
  t.ok(open.some((d) => /^SCAN a USING (COVERING )?INDEX alerts_one_open/.test(d)), `the open alerts' lifecycles (reply codes) walk the open alerts only: ${open.join(' | ')}`);
  const bySubject = plan(db, 'SELECT * FROM audit_log WHERE subject = ? ORDER BY at, seq, id', 'alert-1');
  t.same(scans(bySubject, 'audit_log'), [], `one subject's audit records: ${bySubject.join(' | ')}`);
  const newest = plan(db, 'SELECT * FROM audit_log  ORDER BY at DESC, seq DESC, id DESC LIMIT ?', 50);
  t.ok(newest.some((d) => /INDEX audit_log_at/.test(d)), `the newest audit records: ${newest.join(' | ')}`);
  const receipt = plan(db, 'SELECT * FROM notifications WHERE provider_id = ? ORDER BY created_at, id LIMIT 1', 'SM1');
  t.same(scans(receipt, 'notifications'), [], `a delivery receipt's send: ${receipt.join(' | ')}`);
  const everyUnresolved = plan(db, "SELECT * FROM alerts WHERE status <> 'resolved' ORDER BY opened_at DESC, id DESC");
  t.same(scans(everyUnresolved, 'alerts').filter((d) => !/USING (COVERING )?INDEX alerts_one_open/.test(d)), [], `every home's unresolved alerts (the public status page): ${everyUnresolved.join(' | ')}`);
  const unresolved = plan(db, "SELECT * FROM alerts WHERE home_id = ? AND status <> 'resolved' ORDER BY opened_at DESC, id DESC", 'h1');
  t.ok(unresolved.some((d) => /^SEARCH alerts USING INDEX (alerts_one_open|alerts_home)/.test(d)), `a home's unresolved alerts: ${unresolved.join(' | ')}`);
  for (const [what, sql] of [['contacts', 'SELECT * FROM contacts WHERE home_id = ? ORDER BY priority, name, id'], ['residents', 'SELECT * FROM residents WHERE home_id = ? ORDER BY name, id'], ['alerts', 'SELECT * FROM alerts WHERE home_id = ? ORDER BY opened_at DESC, id DESC'],
    ['questions', 'SELECT * FROM questions WHERE home_id = ? ORDER BY asked_at DESC, id DESC'], ['news_photos', 'SELECT * FROM news_photos WHERE news_id = ? ORDER BY id']] as const) {
    const p = plan(db, sql, 'h1');
    t.same(scans(p, what), [], `a home's ${what}: ${p.join(' | ')}`);
  }
});

t.test('forgetting a chunk of old event ids and asking the table from before migration 27 are index searches (migration 27)', async (t) => {
  const file = join(tempDir(t, 'mimamori-plan-'), 'hub.db');
  await createSqliteStore(file).close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  // The query texts of core/store.ts.
  const chunk = plan(db, 'DELETE FROM seen_ids WHERE (day, home_id, device_id, event_id) IN (SELECT day, home_id, device_id, event_id FROM seen_ids WHERE day < ? ORDER BY day, home_id, device_id, event_id LIMIT ?)', 20_000, 1000);
  t.notOk(chunk.some((d) => /^SCAN seen_ids\b|TEMP B-TREE/.test(d)), `a chunk walks the key from its start, no scan, no sort: ${chunk.join(' | ')}`);
  t.ok(chunk.some((d) => /^SEARCH seen_ids USING PRIMARY KEY \(day<\?\)/.test(d)), 'the old days by the key');
  const legacy = plan(db, 'SELECT home_id, device_id, event_id FROM seen_events WHERE (home_id = ? AND device_id = ? AND event_id = ?) OR (home_id = ? AND device_id = ? AND event_id = ?)', 'h1', 'd', 'e1', 'h1', 'd', 'e2');
  t.notOk(legacy.some((d) => /^SCAN seen_events\b/.test(d)), `a batch's ids asked of seen_events by its key: ${legacy.join(' | ')}`);
});
