/** The operator page shows the trail's chain heads and the backup history (issue 15). */
import t from 'tap';
import { setup, signIn } from './helpers.js';

t.test('the operator sees the chain heads and the last backups', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const get = async () => (await f.web.app.inject({ method: 'GET', url: '/operator', headers: { cookie: op.cookie, accept: 'text/html' } })).body;

  let page = await get();
  const heads = await f.store.trailHeads();
  t.ok(heads.access.seq > 0, 'viewing pages is access-logged, so the access chain has a head');
  t.match(page, new RegExp(`<li>監査ログ: #${heads.audit.seq} <code>${heads.audit.hash}</code></li>`));
  t.match(page, /<li>閲覧記録: #\d+ <code>[0-9a-f]{64}<\/code><\/li>/);
  t.match(page, /バックアップはまだありません/);

  await f.store.saveBackup({ id: 'b1', startedAt: Date.parse('2026-11-21T03:00:00+09:00'), finishedAt: 1, status: 'ok', file: 'mimamori-20261120T180000000Z.mmbk', targets: [{ dir: '/mnt/usb', ok: true }], verified: true, heads });
  await f.store.saveBackup({ id: 'b2', startedAt: Date.parse('2026-11-22T03:00:00+09:00'), status: 'failed', targets: [{ dir: '/mnt/usb', ok: false }], verified: false, error: 'disk full' });
  page = await get();
  const rows = /<table id="backups">(.*?)<\/table>/s.exec(page)?.[1] ?? '';
  t.equal(rows.match(/<tr><td>/g)?.length, 2, 'one row per backup');
  t.match(rows, /失敗<\/td><td>未確認<\/td><td>-<\/td>.*成功<\/td><td>合格<\/td><td>mimamori-20261120T180000000Z\.mmbk/s, 'newest first, with the test restore result');
});

t.test('the operator page lists the 50 newest audit records, newest first, without reading the whole log', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const op = await signIn(f, 'op');
  const base = Date.parse('2026-11-21T10:00:00+09:00');
  for (let i = 0; i < 70; i++) await f.store.audit({ at: base + i * 60_000, actor: 'op', action: 'home.create', subject: `home:n${String(i).padStart(2, '0')}` });
  const reads: Array<[string | undefined, number | undefined]> = [];
  const listAudit = f.store.listAudit.bind(f.store);
  f.store.listAudit = async (subject, opts) => { reads.push([subject, opts?.last]); return listAudit(subject, opts); };
  const page = (await f.web.app.inject({ method: 'GET', url: '/operator', headers: { cookie: op.cookie, accept: 'text/html' } })).body;
  const table = /<table id="audit">([^]*?)<\/table>/.exec(page)?.[1] ?? '';
  const subjects = [...table.matchAll(/<td>home:(n\d\d)<\/td>/g)].map((m) => m[1]);
  t.equal(subjects.length, 50, '50 rows');
  t.equal(subjects[0], 'n69', 'the newest first');
  t.equal(subjects[49], 'n20', 'down to the 50th newest');
  t.same(reads, [[undefined, 50]], 'one read of the newest 50');
});
