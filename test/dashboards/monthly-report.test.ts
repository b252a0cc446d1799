/**
 * The monthly report (issue 14) from a month of real history: a real influxd
 * child fed through the history writer, the real SQLite store, the web app's
 * routes through `inject`. The PDF is read back as a person would read it
 * (text, page count) and checked for its vector charts; a second request
 * returns the kept report; people without consent for the home get 403.
 */
import t from 'tap';
import { inflateSync } from 'node:zlib';
import { addDays, monthDates } from '../../core/time.js';
import { createInfluxHistoryQuery } from '../../history/history-queries.js';
import { tempDir } from '../support/wait.js';
import { realHistory } from '../support/real-history.js';
import { pdfText } from '../support/pdf-text.js';
import { setup, signIn, start } from './helpers.js';
import { ordinaryDay, tokyo } from '../support/ordinary-day.js';

const at = tokyo;

/** Page objects, filled rectangles and line segments in a pdfkit PDF (content streams inflated). */
function drawing(pdf: Buffer): { pages: number; rects: number; segments: number } {
  const raw = pdf.toString('latin1');
  let content = '';
  for (const m of raw.matchAll(/stream\r?\n([\s\S]*?)endstream/g)) {
    try { content += inflateSync(Buffer.from(m[1]!, 'latin1')).toString('latin1'); } catch { content += m[1]; }
  }
  return {
    pages: (raw.match(/\/Type \/Page\b(?!s)/g) ?? []).length,
    rects: (content.match(/ re\n/g) ?? []).length,
    segments: (content.match(/ l\n/g) ?? []).length,
  };
}

t.test('a month of history becomes a kept, printable report with charts, for those the resident allows', async (t) => {
  const dir = tempDir(t);
  const { influx, writer } = await realHistory(t, dir);
  // All of November, and the last week of October (her usual band comes from the weeks before the month).
  const days = [...Array.from({ length: 7 }, (_, i) => addDays('2026-10-25', i)), ...monthDates('2026-11')];
  for (const d of days) for (const r of ordinaryDay(d)) writer.writeReading(r);
  await writer.flush();

  const f = await setup({ history: createInfluxHistoryQuery(influx) });
  t.teardown(() => f.close());
  const { store } = f;
  const son = await store.addContact({ homeId: 'h1', name: '山田 一郎', role: 'family', phone: '+819012345678', language: 'ja', priority: 1 });
  await store.recordNotification({ alertId: f.ids.alert1, contactId: son.id, channel: 'sms', status: 'delivered', createdAt: start + 60_000 });
  await store.recordAlertResponse({ alertId: f.ids.alert1, homeId: 'h1', accountId: 'family1', action: 'on-my-way', at: start + 5 * 60_000 });
  await store.updateAlertStatus(f.ids.alert1, 'resolved', start + 40 * 60_000);
  for (const d of ['2026-11-03', '2026-11-10', '2026-11-17', '2026-11-24']) await store.setAttendance({ homeId: 'h1', date: d, status: 'present', markedBy: 'staff1', at: at(d, '09:00') });
  await store.setAttendance({ homeId: 'h1', date: '2026-11-06', status: 'absent', markedBy: 'staff1', at: at('2026-11-06', '09:00') });
  await store.addVideoNote({ homeId: 'h1', authorId: 'care1', mood: 'お元気そう', eating: '完食', followUp: '', at: at('2026-11-12', '14:00') });
  await store.addNews({ homeId: 'h1', authorId: 'staff1', body: '紅葉狩り', createdAt: at('2026-11-15', '12:00') });
  f.clock.advanceTo(at('2026-12-02', '09:00')); // November has ended

  const guardian = await signIn(f, 'guardian1');
  const make = (s: { cookie: string; csrf: string }, month: string, language: string) => f.web.app.inject({
    method: 'POST', url: '/homes/h1/reports', headers: { cookie: s.cookie, accept: 'application/json' }, payload: { _csrf: s.csrf, month, language },
  });

  const first = await make(guardian, '2026-11', 'ja');
  t.equal(first.statusCode, 200, first.body);
  const made = first.json<{ id: string; made: boolean; pages: number; url: string }>();
  t.equal(made.made, true, 'made on demand');
  t.equal(made.pages, 3);

  const pdf = await f.web.app.inject({ method: 'GET', url: made.url, headers: { cookie: guardian.cookie } });
  t.equal(pdf.statusCode, 200);
  t.equal(pdf.headers['content-type'], 'application/pdf');
  t.match(pdf.headers['content-disposition'], /^inline; filename="report-h1-2026-11-ja\.pdf"$/);
  t.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
  t.equal(pdf.rawPayload.subarray(-6).toString().trim(), '%%EOF', 'a whole PDF');
  const drawn = drawing(pdf.rawPayload);
  t.equal(drawn.pages, 3, 'three pages');
  // Rhythm: a band and a bar in each of the 5 active hours (6, 7, 10, 15, 21) = 10; legends 3 × 2 = 6;
  // day-care squares 4; trend bars 4 → 24 filled rectangles.
  t.equal(drawn.rects, 24, 'the charts are drawn as vector rectangles');
  // Day by day: 29 segments over 30 days; trends: 3 over 4 weeks; 3 axes of one segment each → 35.
  t.equal(drawn.segments, 35, 'and lines');
  const text = pdfText(pdf.rawPayload);
  for (const heading of ['月次レポート 2026年11月', 'この月のまとめ', '一日のリズム（時間帯ごとの活動）', '日ごとの活動', '4週間の推移', 'アラートと対応', '見守りメモ']) {
    t.ok(text.includes(heading), `heading ${heading}`);
  }
  // Each chart's legend and scale are drawn beside it: gone with the charts.
  for (const legend of ['この月の平均', 'いつもの範囲', 'デイサービス出席日', '活動（1日平均）']) t.ok(text.includes(legend), `chart legend ${legend}`);
  t.ok(text.includes('外出：30回（合計 150時間0分、最長 5時間0分）'), 'outings of the month');
  t.ok(text.includes('デイサービス：出席 4日・欠席 1日'), 'day-care attendance');
  t.ok(text.includes('家族のニュース：2件'), 'family news count (the fixture\'s and one more)');
  t.ok(text.includes('見守りメモ：1件'), 'check-in notes');
  t.ok(text.replace(/\n/g, '').includes('いちばん活動が多いのは 7時台（1日平均 2.0 回）。いつもの範囲は前の4週間（7日）から。範囲を外れた時間帯: 0。'), 'the rhythm chart in words');
  // The alert and its timeline: raised, told by SMS, answered on the web, closed.
  t.ok(text.includes('11/21 09:00 緊急ボタン — 解決済み'), 'the alert');
  t.ok(text.includes('・11/21 09:00 アラート発生'), 'raised');
  t.ok(text.includes('・11/21 09:01 山田 一郎 さんにSMSで連絡（配達済み）'), 'who was told, when, how, delivered');
  t.ok(text.includes('・11/21 09:05 Name of family1 さんがウェブで「向かっています」'), 'who answered');
  t.ok(text.includes('・11/21 09:40 終了'), 'closed');
  t.ok(text.includes('お元気そう'), 'the note');

  // A second request returns the kept report: same record, same bytes, one row.
  const again = await make(guardian, '2026-11', 'ja');
  t.same(again.json<{ id: string; made: boolean }>(), { ...made, made: false }, 'the kept report');
  const pdf2 = await f.web.app.inject({ method: 'GET', url: made.url, headers: { cookie: guardian.cookie } });
  t.same(pdf2.rawPayload, pdf.rawPayload, 'the same bytes');
  t.equal((await store.listReports()).length, 1, 'kept once');

  // Access: no consent → 403 (family2 has no relation; family1's consent is the default, a summary).
  const other = await signIn(f, 'family2');
  t.equal((await make(other, '2026-11', 'ja')).statusCode, 403, 'another home\'s family cannot make it');
  t.equal((await f.web.app.inject({ method: 'GET', url: made.url, headers: { cookie: other.cookie } })).statusCode, 403, 'nor read it');
  const family = await signIn(f, 'family1');
  t.equal((await f.web.app.inject({ method: 'GET', url: made.url, headers: { cookie: family.cookie } })).statusCode, 403, 'a summary-only family member cannot read it');
  t.equal((await make(family, '2026-11', 'en')).statusCode, 403, 'nor make one');
  t.equal((await store.listReports()).length, 1, 'nothing made for them');
  await store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'detailed', photos: false, updatedAt: f.clock.now(), updatedBy: 'resident1' });
  const en = await make(family, '2026-11', 'en');
  t.equal(en.statusCode, 200, 'with detailed consent she may');
  const enPdf = await f.web.app.inject({ method: 'GET', url: `${en.json<{ url: string }>().url}?download=1`, headers: { cookie: family.cookie } });
  t.match(enPdf.headers['content-disposition'], /^attachment;/);
  const enText = pdfText(enPdf.rawPayload);
  t.ok(enText.includes('Monthly report November 2026'), 'English title');
  t.ok(enText.includes('Outings: 30 (150 h 0 min in all, longest 5 h 0 min)'), 'English summary');
  t.ok(enText.includes('・11/21 09:01 山田 一郎 told by SMS (delivered)'), 'English timeline');

  // Each read is access-logged, once per viewer (the page dedupes within five minutes).
  const log = await store.listAccess('h1');
  t.equal(log.filter((r) => r.what === 'monthly report (PDF)' && r.viewerId === 'guardian1').length, 1, 'the guardian\'s read');
  t.equal(log.filter((r) => r.what === 'monthly report (PDF)' && r.viewerId === 'family1').length, 1, 'the daughter\'s read');
  t.equal(log.filter((r) => r.viewerId === 'family2').length, 0, 'refused reads are not data shown');

  // Searchable records: per home and month, and across homes for the operator.
  const list = await f.web.app.inject({ method: 'GET', url: '/homes/h1/reports?month=2026-11', headers: { cookie: guardian.cookie, accept: 'text/html' } });
  t.equal((list.body.match(/data-report="/g) ?? []).length, 2, 'ja and en of November');
  const none = await f.web.app.inject({ method: 'GET', url: '/homes/h1/reports?month=2026-10', headers: { cookie: guardian.cookie, accept: 'text/html' } });
  t.match(none.body, /id="no-reports"/);
  const op = await signIn(f, 'op');
  const search = await f.web.app.inject({ method: 'GET', url: '/operator/reports?home=h1&month=2026-11', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.equal((search.body.match(/data-report="/g) ?? []).length, 2, 'the operator finds both');
  const searchOther = await f.web.app.inject({ method: 'GET', url: '/operator/reports?home=h2', headers: { cookie: op.cookie, accept: 'text/html' } });
  t.equal((searchOther.body.match(/data-report="/g) ?? []).length, 0, 'and none for another home');

  // Bad input: a clear 400 and nothing made.
  const bad = await make(guardian, '2026-13', 'ja');
  t.equal(bad.statusCode, 400);
  t.match(bad.json<{ message: string }>().message, /month/);
  const future = await make(guardian, '2027-01', 'ja');
  t.equal(future.statusCode, 400);
  t.match(future.json<{ message: string }>().message, /has not begun/);
  t.equal((await store.listReports()).length, 2, 'only the two made');
});
