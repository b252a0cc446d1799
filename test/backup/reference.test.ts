/**
 * The read-only reference hub (issue 15): a real backup of a provisioned hub,
 * served over real HTTP from a real read-only SQLite copy. Sign-in with the
 * backup's accounts, the contact list in calling order (page and PDF, read
 * back as text), every write route refused, every read access-logged in the
 * reference hub's own log, the copy's bytes unchanged, and bad archives
 * refused with a clear error.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, openSync, readFileSync, readdirSync, readSync, statSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import { totpCode } from '../../dashboards/totp.js';
import { sessionRoutes } from '../../dashboards/index.js';
import { startReferenceHub, type ReferenceHub } from '../../cli/reference-hub.js';
import { openReferenceCopy } from '../../backup/reference.js';
import { pdfText } from '../support/pdf-text.js';
import { h1Calling, passphrase, password, provisionedBackup } from './reference-fixture.js';

const logger = silentLogger();
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface Browser { cookie: string; csrf: string }

/** Signs in over HTTP the way a browser does: the sign-in form, then the TOTP form. */
async function signIn(url: string, login: string, totpSecret?: string): Promise<Browser> {
  const form = await fetch(`${url}/signin`, { headers: { accept: 'text/html' } });
  const pre = /mimamori_pre=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')![1]!;
  const preCsrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await fetch(`${url}/signin`, {
    method: 'POST', redirect: 'manual', headers: { cookie: `mimamori_pre=${pre}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ _csrf: preCsrf, login, password }).toString(),
  });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = `mimamori_session=${/mimamori_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!}`;
  const page = await fetch(`${url}${totpSecret ? '/signin/totp' : '/account'}`, { headers: { cookie, accept: 'text/html' } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  if (totpSecret) {
    const done = await fetch(`${url}/signin/totp`, {
      method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ _csrf: csrf, code: totpCode(totpSecret, Date.now()) }).toString(),
    });
    if (done.status !== 303) throw new Error(`TOTP answered ${done.status}`);
  }
  return { cookie, csrf };
}

const get = (hub: ReferenceHub, b: Browser, path: string) => fetch(`${hub.url}${path}`, { headers: { cookie: b.cookie, accept: 'text/html' } });

t.test('a backup served read-only: sign in, contacts in calling order, PDF, every write refused, every read logged, copy unchanged', async (t) => {
  const f = await provisionedBackup(t);
  const workDir = join(f.dir, 'reference');
  const hub = await startReferenceHub({ archive: f.archive, passphrase, logger, host: '127.0.0.1', port: 0, workDir });
  t.teardown(() => hub.close());
  const before = sha256(hub.copy.storePath);
  t.equal(statSync(hub.copy.storePath).mode & 0o777, 0o400, 'the copy is read-only on disk');
  t.equal(statSync(workDir).mode & 0o777, 0o700, 'the copy lives in a private folder');
  t.equal(hub.copy.accessLogPath, join(workDir, 'access-log', 'mimamori.db'), 'the access log lives beside the copy');
  t.notOk(existsSync(join(hub.copy.dataDir, 'influxdb')), 'no influxd data: the history is not restored, no influxd runs');

  // Marked on every page, before sign-in too.
  const signInPage = await (await fetch(`${hub.url}/signin`, { headers: { accept: 'text/html' } })).text();
  t.match(signInPage, /参照専用 — バックアップ \d{4}-\d\d-\d\d \d\d:\d\d の内容です \/ Reference copy — read-only, from the backup of \d{4}-\d\d-\d\d \d\d:\d\d/);

  // The accounts as they were in the backup; a wrong password is still refused.
  const bad = await fetch(`${hub.url}/signin`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'login=op1&password=nope' });
  t.equal(bad.status, 403, 'no pre-sign-in CSRF cookie: refused');
  const op = await signIn(hub.url, 'op1', f.operatorTotp);

  const log = createSqliteStore(hub.copy.accessLogPath);
  t.teardown(() => log.close());
  const accessCount = async () => (await log.readTrail('access')).length;
  const logged0 = await accessCount();

  const page = await get(hub, op, '/operator/homes/h1/contacts');
  t.equal(page.status, 200);
  const html = await page.text();
  t.match(html, /id="reference-banner"/, 'the banner is on the page');
  const at = h1Calling.map((c) => html.indexOf(c.name));
  t.ok(at.every((i) => i > 0) && at[0]! < at[1]! && at[1]! < at[2]!, `contacts in calling order (${at.join(' < ')})`);
  for (const c of h1Calling) t.match(html, c.phone);
  t.match(html, 'キーボックス 玄関右 番号 4821', 'the key-box note');
  t.match(html, 'dc-sakura', 'the care facility');

  const pdf = await get(hub, op, '/operator/homes/h1/contacts.pdf');
  t.equal(pdf.status, 200);
  t.equal(pdf.headers.get('content-type'), 'application/pdf');
  const text = pdfText(Buffer.from(await pdf.arrayBuffer()));
  const lines = h1Calling.map((c, i) => text.split('\n').findIndex((l) => l.startsWith(`${i + 1}. ${c.name}`) && l.includes(c.phone)));
  t.ok(lines.every((l) => l >= 0) && lines[0]! < lines[1]! && lines[1]! < lines[2]!, `PDF lists ${h1Calling.map((c) => c.name).join(', ')} with their numbers in calling order`);
  t.match(text, '山田花子');
  t.match(text, '東京都中央区1-2-3');
  t.match(text, 'キーボックス 玄関右 番号 4821');
  t.match(text, 'dc-sakura');
  t.match(text, `ハブ / Hub: ${hostname()}`);
  t.match(text, /バックアップの日時 \/ Backup of: \d{4}-\d\d-\d\d \d\d:\d\d \(Asia\/Tokyo\)/);
  t.notMatch(text, 'Sato Ichiro', 'one home only');

  const all = pdfText(Buffer.from(await (await get(hub, op, '/operator/contacts.pdf')).arrayBuffer()));
  t.match(all, '1. Sato Ichiro — 家族 / family — +819044440004', 'the whole operator: h2 too');
  t.match(all, `1. ${h1Calling[0]!.name}`);

  const homePage = await (await get(hub, op, '/homes/h1')).text();
  t.match(homePage, '今日はお花見に行きました', 'news');
  t.match(homePage, '緊急ボタンが押されました', 'recent alerts');
  t.match(homePage, /id="reference-banner"/);
  // 1 (one home) + 1 (one home) + 2 (every home) + 1 (one home) successful reads
  t.equal(await accessCount() - logged0, 5, 'every read is in the reference access log, one record per home shown');

  // Every page can be read from the copy: no GET route tries to write (that would be a 405 from the store guard) or fails.
  const logged1 = await accessCount();
  const reads = hub.web.routes.filter((r) => r.method === 'GET' && r.url !== '/live' && r.url !== '/ack/*'); // acknowledgement links are refused on purpose (below)
  const broken: string[] = [];
  for (const r of reads) {
    const res = await get(hub, op, r.url.replace(':home', 'h1').replace(':alert', f.alertId).replace(/:(\w+)/g, 'x1'));
    await res.arrayBuffer();
    if (res.status === 405 || res.status >= 500) broken.push(`${r.url} ${res.status}`);
  }
  t.same(broken, [], `all ${reads.length} GET routes answer read-only`);
  await accessCount().then((n) => t.ok(n > logged1, 'those reads were logged too'));
  const logged2 = await accessCount();

  // Every route other than GET/HEAD, bar signing in and out, is refused — a new write route is covered by the same test.
  const writes = hub.web.routes.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
  const allowed = writes.filter((r) => sessionRoutes.includes(`${r.method} ${r.url}`));
  t.same(allowed.map((r) => `${r.method} ${r.url}`).sort(), [...sessionRoutes].sort(), 'only sign-in, TOTP and sign-out are allowed');
  t.ok(writes.length - allowed.length >= 20, `${writes.length - allowed.length} write routes to try`);
  const refused: string[] = [];
  for (const r of writes.filter((w) => !allowed.includes(w))) {
    const path = r.url.replace(':home', 'h1').replace(':alert', f.alertId).replace(/:(\w+)/g, 'x1');
    const res = await fetch(`${hub.url}${path}`, {
      method: r.method, headers: { cookie: op.cookie, 'x-csrf-token': op.csrf, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ _csrf: op.csrf, name: 'x', body: 'x', status: 'present', language: 'en', code: '123456' }).toString(),
    });
    const body = await res.text();
    if ((res.status === 405 || res.status === 403) && body.includes('参照専用のコピーです') && body.includes('Reference copy')) refused.push(`${r.method} ${r.url}`);
    else t.fail(`${r.method} ${r.url} answered ${res.status}`);
  }
  t.equal(refused.length, writes.length - allowed.length, 'every write route refused with a clear page');
  // An e-mail acknowledgement link (a GET) is refused with the same clear page.
  const ack = await fetch(`${hub.url}/ack/some-token-from-an-email`, { headers: { accept: 'text/html' } });
  t.equal(ack.status, 405);
  t.match(await ack.text(), /参照専用のため確認できません/);
  t.ok(writes.some((r) => r.url === '/twilio/sms') && writes.some((r) => r.url === '/ack/*'), 'the webhooks and acknowledgement links are among the refused routes');
  // An upload is refused before its body is read.
  const boundary = '----mimamori-ref';
  const upload = await fetch(`${hub.url}/homes/h1/news`, {
    method: 'POST', headers: { cookie: op.cookie, 'content-type': `multipart/form-data; boundary=${boundary}`, accept: 'application/json' },
    body: `--${boundary}\r\ncontent-disposition: form-data; name="_csrf"\r\n\r\n${op.csrf}\r\n--${boundary}\r\ncontent-disposition: form-data; name="photos"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\n${'x'.repeat(100_000)}\r\n--${boundary}--\r\n`,
  });
  t.equal(upload.status, 405);
  t.equal(upload.headers.get('allow'), 'GET, HEAD');
  t.equal(((await upload.json()) as { code: string }).code, 'MIMAMORI_ERR_READ_ONLY');
  t.equal(await accessCount(), logged2, 'refused writes log no read');

  // The guard below the web app: the store refuses writes itself, and so does SQLite.
  await t.rejects(hub.copy.store.addNews({ homeId: 'h1', authorId: 'op1', body: 'x', createdAt: 1 }), { code: 'MIMAMORI_ERR_READ_ONLY' });
  await t.rejects(hub.copy.store.setAccountTotp('op1', null), { code: 'MIMAMORI_ERR_READ_ONLY' });
  const raw = createSqliteStore(hub.copy.storePath, { readonly: true });
  await t.rejects(raw.createHome({ id: 'h9', name: 'x', timezone: 'Asia/Tokyo' }), /readonly/);
  await raw.close();

  t.equal(sha256(hub.copy.storePath), before, 'the store copy is byte for byte what the backup held');
  t.same(readdirSync(hub.copy.dataDir).filter((n) => n.startsWith('mimamori.db')), ['mimamori.db'], 'no journal or WAL files were written beside it');
  const audit = (await log.readTrail('audit')).map((r) => r.fields.action);
  t.same(audit, ['session.start', 'session.second-factor'], 'sign-in is audited in the reference log, not the copy');

  await hub.close();
  t.notOk(existsSync(hub.copy.dataDir), 'the copy is removed when the reference hub stops');
  t.ok(existsSync(hub.copy.accessLogPath), 'the access log stays');
});

t.test('a family member sees her home read-only and not the operator list', async (t) => {
  const f = await provisionedBackup(t);
  const hub = await startReferenceHub({ archive: f.archive, passphrase, logger, host: '127.0.0.1', port: 0, workDir: join(f.dir, 'reference') });
  t.teardown(() => hub.close());
  const fam = await signIn(hub.url, 'fam1');
  const home = await get(hub, fam, '/homes/h1');
  t.equal(home.status, 200);
  t.match(await home.text(), 'Reference copy — read-only');
  t.equal((await get(hub, fam, '/operator/contacts')).status, 403, 'the emergency list is for operators');
  const ack = await fetch(`${hub.url}/alerts/${f.alertId}/acknowledge`, { method: 'POST', headers: { cookie: fam.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: `_csrf=${fam.csrf}` });
  t.equal(ack.status, 405, 'acknowledging is refused');
  t.match(await ack.text(), /read-only reference copy of a backup; nothing can be changed here/);
});

t.test('a wrong passphrase or an altered archive is refused with a clear error and leaves nothing behind', async (t) => {
  const f = await provisionedBackup(t);
  const workDir = join(f.dir, 'reference');
  mkdirSync(workDir);
  await t.rejects(openReferenceCopy({ archive: f.archive, passphrase: 'not the passphrase', logger, workDir }), { code: 'MIMAMORI_ERR_BACKUP_WRONG_KEY', message: /passphrase does not open this archive/ });
  t.same(readdirSync(workDir), [], 'nothing left after a wrong passphrase');

  const tampered = join(f.dir, 'tampered.mmbk');
  copyFileSync(f.archive, tampered);
  const size = statSync(tampered).size;
  const fd = openSync(tampered, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, Math.floor(size / 2));
  writeSync(fd, Buffer.from([byte[0]! ^ 0x40]), 0, 1, Math.floor(size / 2));
  closeSync(fd);
  await t.rejects(startReferenceHub({ archive: tampered, passphrase, logger, host: '127.0.0.1', port: 0, workDir }), { code: 'MIMAMORI_ERR_BACKUP_DAMAGED', message: /altered or is damaged/ });
  t.same(readdirSync(workDir), [], 'nothing left after an altered archive');
});

t.test('a backup from a newer mimamori (a schema this code does not know) is refused, not misread', async (t) => {
  const f = await provisionedBackup(t, (db) => db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('from the future'));
  const workDir = join(f.dir, 'reference');
  mkdirSync(workDir);
  await t.rejects(openReferenceCopy({ archive: f.archive, passphrase, logger, workDir }), { code: 'MIMAMORI_ERR_CONFIG', message: /schema version 999, newer than this mimamori/ });
  t.same(readdirSync(workDir), [], 'nothing left behind');
});
