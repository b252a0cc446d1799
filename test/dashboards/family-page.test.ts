/**
 * The family page answers "is she OK?" in one vocabulary (issue 14): the
 * status box and the alert cards agree, "on my way" changes both, a help
 * alert shows one time (when the button was pressed, not when the alert was
 * filed), and the charts come with a text alternative.
 */
import t from 'tap';
import { setup, signIn } from './helpers.js';
import { activityBucketMs } from '../../dashboards/index.js';

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

  let body = await page();
  t.match(body, /data-status="alert-open"[^>]*>緊急のアラート：まだ誰も対応していません</, 'status box: nobody is handling it');
  t.match(cardOf(body), /data-state="open"/);
  t.match(cardOf(body), /<span class="alert-state">未対応<\/span>/, 'card: not handled yet — the same word');
  t.equal(cardOf(body).match(/\d\d:\d\d/g)?.length, 1, 'the card shows one time');
  t.match(cardOf(body), /06:30 に緊急ボタンが押されました<\/strong> — 2026-11-21 ·/, 'the time of the press, with the date once');
  t.notMatch(cardOf(body), /12:00/, 'not the time the alert was filed');

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
