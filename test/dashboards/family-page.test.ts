/**
 * The family page answers "is she OK?" in one vocabulary (issue 14): the
 * status box and the alert cards agree, "on my way" changes both, a help
 * alert shows one time (when the button was pressed, not when the alert was
 * filed), and the charts come with a text alternative.
 */
import t from 'tap';
import { setup, signIn, start } from './helpers.js';
import { activityBucketMs } from '../../dashboards/index.js';
import type { Reading } from '../../core/events.js';
import { toLocalIso } from '../../core/time.js';
import { createInfluxHistoryQuery } from '../../history/history-queries.js';
import { realHistory } from '../support/real-history.js';
import { tempDir } from '../support/wait.js';

const pressedAt = Date.parse('2026-11-21T06:30:00+09:00');
const filedAt = Date.parse('2026-11-21T12:00:00+09:00');

t.test('status box and cards agree; on my way moves both; one time per alert', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  await f.store.updateAlertStatus(f.ids.alert1, 'resolved', f.clock.now());
  const { alert } = await f.store.openAlert({
    homeId: 'h1', rule: 'help', severity: 'critical', message: 'Help button pressed at 06:30', openedAt: filedAt,
    finding: { at: pressedAt, audience: 'family', message: { ja: '06:30 に緊急ボタンが押されました', en: 'The help button was pressed at 06:30' } },
  });
  const s = await signIn(f, 'guardian1'); // Japanese
  const page = async () => (await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: s.cookie, accept: 'text/html' } })).body;
  const cardOf = (body: string) => /<div class="card" data-alert="[^"]+"[\s\S]*?<\/div>/.exec(body)?.[0] ?? '';
  // The card's headline (its timeline below has a time per step).
  const headOf = (body: string) => /<div class="card" data-alert="[^"]+"[^>]*><p>[\s\S]*?<\/p>/.exec(body)?.[0] ?? '';

  let body = await page();
  t.match(body, /data-status="alert-open"[^>]*>緊急のアラート：まだ誰も対応していません</, 'status box: nobody is handling it');
  t.match(cardOf(body), /data-state="open"/);
  t.match(cardOf(body), /<span class="alert-state">未対応<\/span>/, 'card: not handled yet — the same word');
  t.equal(headOf(body).match(/\d\d:\d\d/g)?.length, 1, 'the card shows one time');
  t.match(cardOf(body), /06:30 に緊急ボタンが押されました<\/strong> — 2026-11-21 ·/, 'the time of the press, with the date once');
  t.notMatch(headOf(body), /12:00/, 'not the time the alert was filed');

  const res = await f.web.app.inject({ method: 'POST', url: `/alerts/${alert.id}/on-my-way`, headers: { cookie: s.cookie }, payload: { _csrf: s.csrf } });
  t.equal(res.statusCode, 303);
  body = await page();
  t.match(cardOf(body), /data-state="on-my-way"/);
  t.match(cardOf(body), /<span class="alert-state">対応中（向かっています）<\/span>/, 'card: on the way');
  t.match(body, /data-status="alert-handled"[^>]*>緊急のアラート：対応中</, 'status box: being handled');
});

t.test('rhythm.json counts the home\'s activity per local hour and day, with a sentence for the text alternative', async (t) => {
  const local = (iso: string) => Date.parse(`${iso}+09:00`);
  const points = ['2026-11-21T07:12:00', '2026-11-21T07:30:00', '2026-11-21T08:10:00', '2026-11-20T20:00:00', '2026-11-17T12:00:00'].map((iso) => ({ at: local(iso), kind: 'kettle' }));
  const asked: Array<[string, number, number]> = [];
  const within = (from: number, to: number) => points.filter((p) => p.at >= from && p.at < to);
  const f = await setup({
    history: {
      activity: async (_home, from, to) => within(from, to),
      // Quarter-hour counts, as InfluxDB's GROUP BY time(15m) gives them.
      activityCounts: async (home, from, to) => {
        asked.push([home, from, to]);
        const buckets = new Map<number, number>();
        for (const p of within(from, to)) { const at = p.at - (p.at % activityBucketMs); buckets.set(at, (buckets.get(at) ?? 0) + 1); }
        return [...buckets].map(([at, count]) => ({ at, count }));
      },
    },
  });
  t.teardown(() => f.close());
  await f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'detailed', photos: false, updatedAt: f.clock.now(), updatedBy: 'guardian1' });
  const en = await signIn(f, 'family1');
  const ja = await signIn(f, 'guardian1');
  const get = async (s: { cookie: string }, range: string) => (await f.web.app.inject({ method: 'GET', url: `/homes/h1/rhythm.json?range=${range}`, headers: { cookie: s.cookie } })).json() as { labels: string[]; values: number[]; summary: string };

  const day = await get(en, 'day');
  t.equal(day.values.length, 24);
  t.same(day.values.map((v, h) => [h, v]).filter(([, v]) => (v ?? 0) > 0), [[7, 2], [8, 1], [20, 1]], 'two events at 7, one at 8 and one at 20 (yesterday evening)');
  t.equal(day.summary, '4 events in the last 24 hours; the busiest hour was 7:00 (2).');
  t.same(asked[0], ['h1', f.clock.now() - 24 * 3600_000, f.clock.now()], 'asked for the last 24 hours of this home');
  const week = await get(ja, 'week');
  t.same(week.labels, ['11-15', '11-16', '11-17', '11-18', '11-19', '11-20', '11-21']);
  t.same(week.values, [0, 0, 1, 0, 0, 1, 3]);
  t.equal(week.summary, '過去7日間の反応は合計5件。いちばん多い日は11-21（3件）です。');
  const page = (await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: en.cookie, accept: 'text/html' } })).body;
  t.match(page, /<canvas id="rhythm-day" role="img"[^>]*aria-describedby="rhythm-day-text"/, 'the chart points at its text alternative');
  t.match(page, /<p id="rhythm-day-text"/);
});

t.test('Japanese pages name roles in words, never the raw role id', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  await f.store.recordAccess({ at: f.clock.now(), viewerId: 'care1', homeId: 'h1', what: 'alerts' });
  await f.store.recordAccess({ at: f.clock.now(), viewerId: 'staff1', homeId: 'h1', what: 'alerts' });
  await f.store.addContact({ homeId: 'h1', name: '木村', role: 'caregiver', phone: '+819012340009', language: 'ja', priority: 1 });
  const ja = await signIn(f, 'guardian1');
  const op = await signIn(f, 'op');
  const get = async (s: { cookie: string }, url: string) => (await f.web.app.inject({ method: 'GET', url, headers: { cookie: s.cookie, accept: 'text/html' } })).body;
  const log = await get(ja, '/homes/h1/access-log');
  t.match(log, /Name of care1 \(ケアマネ・ヘルパー・看護師\)/);
  t.match(log, /Name of staff1 \(デイケア職員\)/);
  const consent = await get(ja, '/homes/h1/consent');
  t.match(consent, /Name of family1 \(ご家族\)/);
  const ops = await get(op, '/operator');
  t.match(ops, /<td>木村<\/td><td>ケアマネ・ヘルパー・看護師<\/td>/);
  for (const [page, body] of [['access log', log], ['consent', consent]] as const) {
    t.notMatch(body, /\((family|caregiver|staff|resident|operator)\)/, `${page}: no raw role id`);
  }
});

/** One simulated day in Tokyo as the sensors report it (edge/resident-day.ts shapes): PIRs clear minutes after the last movement, the front door opens and closes behind her. */
function simulatedDay(date: string): Reading[] {
  const at = (time: string) => Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}+09:00`);
  let n = 0;
  const e = (device: string, time: string) => ({ home: 'h1', device, id: `${device}-${n++}`, ts: toLocalIso(at(time), tz), at: at(time) });
  const pir = (room: string, from: string, to: string): Reading[] => [
    { ...e(`motion-${room}`, from), kind: 'motion', occupied: true, room }, { ...e(`motion-${room}`, to), kind: 'motion', occupied: false, room },
  ];
  const door = (time: string, open: boolean): Reading => ({ ...e('front-door', time), kind: 'door', open, door: 'front' });
  return [
    ...pir('bedroom', '02:30', '02:36'), // a night toilet visit: not getting up
    ...pir('bedroom', '06:50', '06:58'),
    { ...e('water-meter', '07:05'), kind: 'water', flowing: true, rate: 6 }, { ...e('water-meter', '07:07'), kind: 'water', flowing: false },
    { ...e('kettle', '07:12'), kind: 'kettle', state: 'on', watts: 1200 }, { ...e('kettle', '07:16'), kind: 'kettle', state: 'off', watts: 0 },
    { ...e('power-meter', '07:12'), kind: 'power', watts: 1350 },
    ...pir('kitchen', '07:20', '07:55'),
    { ...e('motion-living', '09:27'), kind: 'motion', occupied: true, room: 'living' },
    door('09:30', true), door('09:30:30', false),
    { ...e('motion-living', '09:32'), kind: 'motion', occupied: false, room: 'living' }, // cleared after she left
    door('15:10', true), door('15:10:30', false),
    ...pir('living', '15:11', '15:20'),
  ];
}

const tz = 'Asia/Tokyo';
const sentenceOf = (body: string) => /<p id="day-sentence"[^>]*>([^<]*)<\/p>/.exec(body)?.[1];
const stepsOf = (body: string) => [...(/<ol id="day-timeline"[\s\S]*?<\/ol>/.exec(body)?.[0] ?? '').matchAll(/<li data-step="([^"]+)"[^>]*><time datetime="[^"]+">([^<]+)<\/time> ([^<]*)<\/li>/g)].map((m) => `${m[2]} ${m[3]} [${m[1]}]`);

t.test('the day in a sentence and a timeline: a known simulated day, an open critical alert, a home with no data yet', async (t) => {
  const dir = tempDir(t);
  const { influx, writer } = await realHistory(t, dir);
  for (const r of simulatedDay('2026-11-21')) writer.writeReading(r);
  for (const r of simulatedDay('2026-11-20')) writer.writeReading(r); // yesterday is not today
  await writer.flush();
  const f = await setup({ history: createInfluxHistoryQuery(influx) });
  t.teardown(() => f.close());
  await f.store.updateAlertStatus(f.ids.alert1, 'resolved', start + 10 * 60_000);
  await f.store.setAttendance({ homeId: 'h1', date: '2026-11-21', status: 'present', markedBy: 'staff1', at: Date.parse('2026-11-21T09:05:00+09:00') });
  f.clock.advanceTo(Date.parse('2026-11-21T16:00:00+09:00'));
  const ja = await signIn(f, 'guardian1');
  const en = await signIn(f, 'family1');
  const op = await signIn(f, 'op');
  const page = async (s: { cookie: string }, home = 'h1') => (await f.web.app.inject({ method: 'GET', url: `/homes/${home}`, headers: { cookie: s.cookie, accept: 'text/html' } })).body;

  let body = await page(ja);
  t.equal(sentenceOf(body), '今日もいつも通りです。6:50 起床、7:05 水道、7:12 ポット、9:30–15:10 デイサービス', 'a usual day: up, water, kettle, day care from the door');
  t.same(stepsOf(body), [
    '6:50 起床（最初の動き） [up]',
    '7:05 水道を使用（今日はじめて） [water]',
    '7:12 ポットを使用（今日はじめて） [kettle]',
    '9:00 緊急ボタン — 解決済み [alert]',
    '9:05 デイサービス出欠の記録: 出席 [day-care-marked]',
    '9:30 デイサービスへ [day-care-out]',
    '15:10 デイサービスから帰宅 [day-care-back]',
  ], 'the timeline in order');
  t.match(body, /data-status="fine"[^>]*>問題なし</, 'the status box agrees');

  // Summary consent: no times, no timeline — only that there was activity.
  body = await page(en);
  t.equal(sentenceOf(body), 'A usual day so far: activity recorded today');
  t.notMatch(body, /id="day-timeline"/, 'the timeline needs detailed consent');
  await f.store.setConsent({ homeId: 'h1', viewerId: 'family1', level: 'detailed', photos: false, updatedAt: f.clock.now(), updatedBy: 'guardian1' });
  body = await page(en);
  t.equal(sentenceOf(body), 'A usual day so far: up 6:50, water 7:05, kettle 7:12, day care 9:30–15:10');
  t.equal(stepsOf(body)[0], '6:50 Up (first movement) [up]');

  // Something wrong is said first, in the status box's words.
  await f.store.openAlert({
    homeId: 'h1', rule: 'help', severity: 'critical', message: 'Help button pressed at 15:40', openedAt: Date.parse('2026-11-21T15:41:00+09:00'),
    finding: { at: Date.parse('2026-11-21T15:40:00+09:00'), audience: 'family', message: { ja: '15:40 に緊急ボタンが押されました', en: 'The help button was pressed at 15:40' } },
  });
  body = await page(ja);
  t.equal(sentenceOf(body), '緊急のアラート：まだ誰も対応していません（15:40 に緊急ボタンが押されました）。今日: 6:50 起床、7:05 水道、7:12 ポット、9:30–15:10 デイサービス');
  t.equal(stepsOf(body).length, 8);
  t.equal(stepsOf(body)[7], '15:40 15:40 に緊急ボタンが押されました — 未対応 [alert]', 'the alert is the last step, when it happened');
  t.equal(sentenceOf(await page(en)), 'Urgent alert: nobody is handling it yet (The help button was pressed at 15:40). Today: up 6:50, water 7:05, kettle 7:12, day care 9:30–15:10');

  // Another home with nothing recorded today: said plainly; its open alert first.
  body = await page(op, 'h2');
  t.equal(sentenceOf(body), '緊急のアラート：まだ誰も対応していません（SECRET-H2-ALERT）。今日はまだ記録がありません。');
  t.same(stepsOf(body), ['9:00 SECRET-H2-ALERT — 未対応 [alert]'], 'only the alert in its timeline');
  await f.store.updateAlertStatus(f.ids.alert2, 'resolved', f.clock.now());
  t.equal(sentenceOf(await page(op, 'h2')), '今日はまだ記録がありません。');
});

t.test('an alert card opens to its full timeline: raised, two notifications, one answer', async (t) => {
  const f = await setup();
  t.teardown(() => f.close());
  const son = await f.store.addContact({ homeId: 'h1', name: '山田 一郎', role: 'family', phone: '+819012345678', language: 'ja', priority: 1 });
  const daughter = await f.store.addContact({ homeId: 'h1', name: '佐藤 京子', role: 'family', phone: '+819012345679', language: 'ja', priority: 2 });
  await f.store.recordNotification({ alertId: f.ids.alert1, contactId: son.id, channel: 'sms', status: 'delivered', createdAt: start + 60_000 });
  await f.store.recordNotification({ alertId: f.ids.alert1, contactId: daughter.id, channel: 'voice', status: 'no-answer', createdAt: start + 3 * 60_000 });
  const s = await signIn(f, 'guardian1');
  f.clock.advanceTo(start + 5 * 60_000);
  t.equal((await f.web.app.inject({ method: 'POST', url: `/alerts/${f.ids.alert1}/on-my-way`, headers: { cookie: s.cookie }, payload: { _csrf: s.csrf } })).statusCode, 303);
  const timelineOf = (body: string) => /<details class="alert-timeline"><summary>([^<]+)<\/summary><ol>([\s\S]*?)<\/ol><\/details>/.exec(body);
  const page = async (s: { cookie: string }) => (await f.web.app.inject({ method: 'GET', url: '/homes/h1', headers: { cookie: s.cookie, accept: 'text/html' } })).body;

  const ja = timelineOf(await page(s));
  t.equal(ja?.[1], '経過（連絡と対応）', 'a <details> to open, no script');
  t.same([...(ja?.[2] ?? '').matchAll(/<li data-step="(\w+)">([^<]*)<\/li>/g)].map((m) => `${m[1]}: ${m[2]}`), [
    'opened: 2026-11-21 09:00 アラート発生',
    'notified: 2026-11-21 09:01 山田 一郎 さんにSMSで連絡（配達済み）',
    'notified: 2026-11-21 09:03 佐藤 京子 さんに電話で連絡（応答なし）',
    'answered: 2026-11-21 09:05 Name of guardian1 さんがウェブで「向かっています」',
  ]);
  const en = timelineOf(await page(await signIn(f, 'family1')));
  t.same([...(en?.[2] ?? '').matchAll(/<li data-step="(\w+)">([^<]*)<\/li>/g)].map((m) => m[2]), [
    '2026-11-21 09:00 alert raised',
    '2026-11-21 09:01 山田 一郎 told by SMS (delivered)',
    '2026-11-21 09:03 佐藤 京子 told by phone call (no answer)',
    '2026-11-21 09:05 Name of guardian1 on the way (web app)',
  ], 'the same steps in English, as the monthly report prints them');
});
