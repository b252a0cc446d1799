/** Staff, tablet and operator actions through the routes, and bad input that changes nothing. */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { verifySecret } from '../../broker/device-credentials.js';
import { localTime } from '../../core/time.js';
import { setup, signIn, type Fixture, type Session } from './helpers.js';

/** A multipart body built by hand (what a browser sends). */
function multipart(fields: Record<string, string>, files: Array<{ name: string; filename: string; type: string; data: Buffer }>) {
  const boundary = '----mimamori' + Math.random().toString(16).slice(2);
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\ncontent-type: ${f.type}\r\n\r\n`), f.data, Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function photoWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 3000, height: 2000, channels: 3, background: { r: 200, g: 120, b: 40 } } })
    .jpeg()
    .withExif({ IFD0: { Make: 'PhoneCo', Model: 'Secret Model' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '35/1 41/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '139/1 41/1 0/1' } })
    .toBuffer();
}

async function postNews(f: Fixture, s: Session, body: string, files: Parameters<typeof multipart>[1]) {
  const m = multipart({ _csrf: s.csrf, body }, files);
  return f.web.app.inject({ method: 'POST', url: '/homes/h1/news', headers: { ...m.headers, cookie: s.cookie, accept: 'text/html' }, payload: m.payload });
}

t.test('staff post news with a photo: resized, metadata stripped, shown to family with photo consent', async (t) => {
  const f = await setup({ maxPhotoBytes: 2 * 1024 * 1024 });
  t.teardown(() => f.close());
  const staff = await signIn(f, 'staff1');
  const original = await photoWithGps();
  t.ok((await sharp(original).metadata()).exif, 'the test photo carries EXIF with GPS');
  const res = await postNews(f, staff, '今日は歌を歌いました', [{ name: 'photos', filename: 'a.jpg', type: 'image/jpeg', data: original }]);
  t.equal(res.statusCode, 303);
  const news = await f.store.listNews('h1');
  t.equal(news[0]?.body, '今日は歌を歌いました');
  const photos = await f.store.listNewsPhotos(news[0]!.id);
  t.equal(photos.length, 1);
  const stored = readFileSync(join(f.dir, 'photos', `${photos[0]!.id}.jpg`));
  const meta = await sharp(stored).metadata();
  t.equal(meta.exif, undefined, 'no EXIF (and so no GPS) in the stored photo');
  t.ok(Math.max(meta.width, meta.height) <= 1600, `resized to ${meta.width}x${meta.height}`);
  t.notOk(stored.includes(Buffer.from('Secret Model')), 'camera model gone');

  const fam = await signIn(f, 'family1');
  const url = `/photos/${photos[0]!.id}`;
  t.equal((await f.web.app.inject({ method: 'GET', url, headers: { cookie: fam.cookie } })).statusCode, 403, 'no photos without consent');
  await f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'coarse', photos: true, updatedAt: f.clock.now(), updatedBy: 'resident1' });
  const img = await f.web.app.inject({ method: 'GET', url, headers: { cookie: fam.cookie } });
  t.equal(img.statusCode, 200);
  t.equal(img.headers['content-type'], 'image/jpeg');
  t.match((await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: fam.cookie, accept: 'text/html' } })).body, url, 'the feed shows the photo');
});

t.test('bad uploads and invalid forms: a clear message and nothing changed', async (t) => {
  const f = await setup({ maxPhotoBytes: 64 * 1024 });
  t.teardown(() => f.close());
  const staff = await signIn(f, 'staff1');
  const before = (await f.store.listNews('h1')).length;
  const notImage = await postNews(f, staff, 'hello', [{ name: 'photos', filename: 'x.jpg', type: 'image/jpeg', data: Buffer.from('%PDF-1.4 not a photo at all') }]);
  t.equal(notImage.statusCode, 415);
  t.match(notImage.body, /画像ファイル/, 'staff1 reads Japanese');
  const big = await postNews(f, staff, 'hello', [{ name: 'photos', filename: 'big.png', type: 'image/png', data: Buffer.alloc(200 * 1024, 1) }]);
  t.equal(big.statusCode, 413);
  t.match(big.body, /大きすぎます/);
  const good = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#fff' } }).png().toBuffer();
  const mixed = await postNews(f, staff, 'hello', [{ name: 'photos', filename: 'a.png', type: 'image/png', data: good }, { name: 'photos', filename: 'b.jpg', type: 'image/jpeg', data: Buffer.from('nope') }]);
  t.equal(mixed.statusCode, 415, 'one bad file in several refuses the post');
  const empty = await postNews(f, staff, '   ', []);
  t.equal(empty.statusCode, 400);
  t.match(empty.body, /入力内容/);
  t.equal((await f.store.listNews('h1')).length, before, 'no news saved');
  t.same(readdirSync(join(f.dir, 'photos')), [], 'no photo files left behind');
  const att = await f.web.app.inject({ method: 'POST', url: '/homes/h1/attendance', headers: { cookie: staff.cookie, accept: 'text/html' }, payload: { _csrf: staff.csrf, status: 'maybe' } });
  t.equal(att.statusCode, 400);
  t.same(f.awayCalls, [], 'the rules were not told anything');
});

t.test('attendance tells the rules she is away; the news sheet is a PDF with Japanese text', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const staff = await signIn(f, 'staff1');
  const res = await f.web.app.inject({ method: 'POST', url: '/homes/h1/attendance', headers: { cookie: staff.cookie }, payload: { _csrf: staff.csrf, status: 'present', back: '16:00' } });
  t.equal(res.statusCode, 303);
  t.same(f.awayCalls, [{ home: 'h1', until: Date.parse('2026-11-21T16:00:00+09:00') }]);
  t.equal((await f.store.listAttendance('h1'))[0]?.status, 'present');
  const fam = await signIn(f, 'family1');
  t.match((await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: fam.cookie, accept: 'text/html' } })).body, /id="attendance">Present/);
  await f.web.app.inject({ method: 'POST', url: '/homes/h1/attendance', headers: { cookie: staff.cookie }, payload: { _csrf: staff.csrf, status: 'absent' } });
  t.same(f.awayCalls[1], { home: 'h1', until: null }, 'absent: at home');
  await f.store.addNews({ homeId: 'h1', authorId: 'staff1', body: '体操をしました', createdAt: f.clock.now() });
  const pdf = await f.web.app.inject({ method: 'GET', url: '/homes/h1/news-sheet.pdf', headers: { cookie: staff.cookie } });
  t.equal(pdf.statusCode, 200);
  t.equal(pdf.headers['content-type'], 'application/pdf');
  t.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
  t.ok(pdf.rawPayload.includes(Buffer.from('IPAGothic')), 'a Japanese font is embedded');
});

t.test('the news sheet PDF carries the photos the reader may see, scaled to fit', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const staff = await signIn(f, 'staff1');
  const picture = (width: number, height: number, r: number) => sharp({ create: { width, height, channels: 3, background: { r, g: 90, b: 140 } } }).png().toBuffer();
  const files = [[1200, 800, 10], [600, 900, 80], [300, 300, 160]] as const;
  const posted = await postNews(f, staff, '紅葉を見に行きました', await Promise.all(files.map(async ([w, h, r], i) => ({ name: 'photos', filename: `p${i}.png`, type: 'image/png', data: await picture(w, h, r) }))));
  t.equal(posted.statusCode, 303);
  const images = (pdf: Buffer) => {
    const raw = pdf.toString('latin1');
    let content = '';
    for (const m of raw.matchAll(/stream\r?\n([\s\S]*?)endstream/g)) { try { content += inflateSync(Buffer.from(m[1]!, 'latin1')).toString('latin1'); } catch { /* an image stream */ } }
    return { xobjects: (raw.match(/\/Subtype \/Image\b/g) ?? []).length, drawn: (content.match(/\/I\d+ Do\b/g) ?? []).length, pages: (raw.match(/\/Type \/Page\b(?!s)/g) ?? []).length };
  };
  const sheet = async (login: string) => (await f.web.app.inject({ method: 'GET', url: '/homes/h1/news-sheet.pdf', headers: { cookie: (await signIn(f, login)).cookie } })).rawPayload;
  t.same(images(await sheet('guardian1')), { xobjects: 3, drawn: 3, pages: 1 }, 'the guardian may see photos: three embedded and drawn, on one page');
  t.same(images(await sheet('family1')), { xobjects: 0, drawn: 0, pages: 1 }, 'without photo consent: none');
  await f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'coarse', photos: true, updatedAt: f.clock.now(), updatedBy: 'guardian1' });
  t.same(images(await sheet('family1')), { xobjects: 3, drawn: 3, pages: 1 }, 'with it: all three');
});

t.test('tablet buttons become button events; operator provisions a device with credentials shown once', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const res = await signIn(f, 'resident1');
  const tablet = await f.web.app.inject({ method: 'GET', url: '/tablet', headers: { cookie: res.cookie, accept: 'text/html' } });
  t.match(tablet.body, /助けて/);
  t.match(tablet.body, /元気です/);
  const help = await f.web.app.inject({ method: 'POST', url: '/tablet/button', headers: { cookie: res.cookie }, payload: { _csrf: res.csrf, press: 'help' } });
  t.equal(help.statusCode, 303);
  t.same(f.buttons, [{ home: 'h1', press: 'help' }]);

  // 「出かけます」: an entered absence for the hours she chose, said back to her with the time.
  t.match(tablet.body, /出かけます/);
  t.match(tablet.body, /<option value="3" selected>3時間<\/option>/);
  const out = await f.web.app.inject({ method: 'POST', url: '/tablet/out', headers: { cookie: res.cookie }, payload: { _csrf: res.csrf, hours: '3' } });
  t.equal(out.statusCode, 303);
  const until = f.clock.now() + 3 * 3_600_000;
  t.same(f.awayCalls, [{ home: 'h1', until }], 'the engine is told she is away for 3 h');
  t.equal(out.headers.location, `/tablet?sent=out&until=${until}`);
  const said = await f.web.app.inject({ method: 'GET', url: String(out.headers.location), headers: { cookie: res.cookie, accept: 'text/html' } });
  const l = localTime(until, 'Asia/Tokyo');
  t.match(said.body, new RegExp(`いってらっしゃい。${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}ごろまで`));
  // Her family sees it, in their language, with the time; she sees it too on her home's page.
  const fam = await signIn(f, 'family1');
  const hhmm = `${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
  const famPage = await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: fam.cookie, accept: 'text/html' } });
  t.match(famPage.body, new RegExp(`<p id="away-now">Out: expected back by about ${hhmm}`), 'the family page says she is out and until when');
  const ownPage = await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: res.cookie, accept: 'text/html' } });
  t.match(ownPage.body, new RegExp(`外出中：${hhmm}ごろまでの予定です`));
  const h2Page = await f.web.app.inject({ method: 'GET', url: '/homes/h2', headers: { cookie: (await signIn(f, 'family2')).cookie, accept: 'text/html' } });
  t.notMatch(h2Page.body, /away-now/, 'not on another home');
  for (const hours of ['5', '0', '-3', '', 'many']) {
    const bad = await f.web.app.inject({ method: 'POST', url: '/tablet/out', headers: { cookie: res.cookie, accept: 'application/json' }, payload: { _csrf: res.csrf, hours } });
    t.equal(bad.statusCode, 400, `hours=${JSON.stringify(hours)} is refused`);
  }
  const noCsrf = await f.web.app.inject({ method: 'POST', url: '/tablet/out', headers: { cookie: res.cookie }, payload: { hours: '3' } });
  t.equal(noCsrf.statusCode, 403, 'not without the form token');
  const family = await signIn(f, 'family1');
  const notHers = await f.web.app.inject({ method: 'POST', url: '/tablet/out', headers: { cookie: family.cookie }, payload: { _csrf: family.csrf, hours: '3' } });
  t.equal(notHers.statusCode, 403, 'only the resident says she is going out');
  t.equal(f.awayCalls.length, 1, 'nothing refused changed the absence');
  // Home early (the absence ended): the line is gone.
  f.engine.setAway('h1', null);
  const after = await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: fam.cookie, accept: 'text/html' } });
  t.notMatch(after.body, /away-now/, 'once she is back the family page no longer says she is out');

  const op = await signIn(f, 'op');
  const dev = await f.web.app.inject({ method: 'POST', url: '/operator/homes/h1/devices', headers: { cookie: op.cookie, accept: 'text/html' }, payload: { _csrf: op.csrf, deviceId: 'kettle', kind: 'kettle' } });
  t.equal(dev.statusCode, 200);
  const secret = /id="device-secret">([^<]+)</.exec(dev.body)![1]!;
  t.ok(await verifySecret(secret, (await f.store.getDevice('h1', 'kettle'))!.secretHash), 'the shown secret is the one stored (as a hash)');
  const overview = await f.web.app.inject({ method: 'GET', url: '/operator', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.notMatch(overview.body, secret, 'never shown again');
  t.match(overview.body, /kettle/);
  // The escalation policy form: test/dashboards/escalation-form.test.ts.
});

t.test('alerts: family acknowledges, the caregiver sees who, the answer goes through the responder', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const fam = await signIn(f, 'family1');
  const ack = await f.web.app.inject({ method: 'POST', url: `/alerts/${f.ids.alert1}/acknowledge`, headers: { cookie: fam.cookie, accept: 'application/json' }, payload: { _csrf: fam.csrf } });
  t.same(ack.json(), { ok: true, status: 'acknowledged' });
  const care = await signIn(f, 'care1');
  const queue = await f.web.app.inject({ method: 'GET', url: '/caregiver', headers: { cookie: care.cookie, accept: 'text/html' } });
  t.match(queue.body, /Name of family1/);
  t.notMatch(queue.body, /SECRET-H2/);
  // The page is the queue; its first section is named for what it holds, not the page again.
  t.match(queue.body, /<h1>アラート一覧<\/h1>/);
  t.match(queue.body, /<h2 id="queue-h">対応中のアラート<\/h2>/);
  t.equal(queue.body.split('アラート一覧').length - 1, 2, 'アラート一覧 in the title and the heading only, once each');
  const omw = await f.web.app.inject({ method: 'POST', url: `/alerts/${f.ids.alert1}/on-my-way`, headers: { cookie: care.cookie, accept: 'application/json' }, payload: { _csrf: care.csrf } });
  t.equal(omw.statusCode, 200);
  const json = await f.web.app.inject({ method: 'GET', url: '/homes/h1/alerts.json', headers: { cookie: fam.cookie } });
  t.same(json.json().alerts[0].responses.map((r: { account: string; action: string }) => `${r.account}:${r.action}`), ['family1:acknowledge', 'care1:on-my-way']);
});
