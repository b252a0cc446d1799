import t from 'tap';
import { acknowledgedText, alertText, answerHint, groupedAlertText, onMyWayText, operatorText, reminderText, residentPromptText, resolvedByText, resolvedText, smsMaxSegments, type AlertContext } from '../../notifier/templates.js';
import { smsSegments, smsSize } from '../../notifier/sms-segments.js';
import type { Finding } from '../../core/findings.js';
import type { Language, Severity } from '../../core/store.js';
import { at1942, finding } from './helpers.js';

const ctx: AlertContext = { residentNames: ['山田花子'], homeName: '山田さん宅', timezone: 'Asia/Tokyo' };
const help = (over: Partial<Finding> = {}) => finding({ rule: 'help', type: 'helpButton', message: { ja: '19:42 に緊急ボタンが押されました', en: 'Help button pressed at 19:42' }, ...over });

t.test('segments are counted the way carriers count them', async (t) => {
  t.same(smsSize('Hello'), { encoding: 'GSM-7', units: 5, segments: 1 });
  t.equal(smsSegments('a'.repeat(160)), 1);
  t.equal(smsSegments('a'.repeat(161)), 2, 'split GSM-7 segments hold 153');
  t.equal(smsSegments('a'.repeat(306)), 2);
  t.equal(smsSegments('a'.repeat(307)), 3);
  t.equal(smsSize('[]').units, 4, 'extension characters cost two septets');
  t.equal(smsSegments('あ'.repeat(70)), 1);
  t.equal(smsSegments('あ'.repeat(71)), 2, 'split UCS-2 segments hold 67');
  t.equal(smsSegments('あ'.repeat(134)), 2);
  t.equal(smsSegments('あ'.repeat(135)), 3);
  t.equal(smsSize(`${'a'.repeat(100)}花`).encoding, 'UCS-2', 'one Japanese character makes the whole text UCS-2');
  t.equal(smsSize('😀').units, 2, 'outside the BMP: two UTF-16 units');
});

t.test('the first alert SMS: who, what, when, how to answer with the code; nothing else', async (t) => {
  t.equal(alertText(help(), ctx, 'ja', { code: 'K27' }), '【見守り・緊急】山田花子さん: 19:42 に緊急ボタンが押されました。返信「1 K27」で確認、「2 K27」で向かいます');
  t.equal(alertText(help(), ctx, 'en', { code: 'K27' }), '[Mimamori URGENT] 山田花子: Help button pressed at 19:42. Reply "1 K27" if seen, "2 K27" if on your way.');
  t.equal(alertText(finding({ severity: 'warning' }), ctx, 'ja', { code: 'M40' }), '【見守り】山田花子さん: 60分以上、浴室の水が流れたままで動きがありません（19:42）。返信「1 M40」で確認、「2 M40」で向かいます');
  t.equal(smsSegments(alertText(help(), ctx, 'ja', { code: 'K27' })), 1, 'the help SMS is one segment');
  for (const lang of ['ja', 'en'] as const) {
    const text = alertText(finding({ device: 'help-button', data: { keybox: '4321', address: '東京都港区' } }), ctx, lang, { code: 'K27' });
    t.notMatch(text, /help-button|4321|港区|予想|実際|expected|observed/, 'no device id, no secrets, no expected/observed scaffolding');
  }
  t.equal(answerHint('ja'), '返信「1」で確認、「2」で向かいます', 'without a code (e.g. no code free) the plain answer still works');
});

t.test('local time is the home\'s zone, not the server\'s', async (t) => {
  t.match(alertText(finding(), { ...ctx, timezone: 'Europe/London' }, 'en'), /\(10:42\)\./);
  t.match(alertText(finding({ at: at1942 + 5 * 60_000 }), ctx, 'ja'), /（19:47）/);
});

t.test('a link to the full explanation when it fits, never instead of what happened', async (t) => {
  const link = 'https://hub.example/a/7Hq2';
  const ja = alertText(finding(), ctx, 'ja', { code: 'K27', link });
  t.match(ja, / https:\/\/hub\.example\/a\/7Hq2$/);
  t.match(ja, /浴室の水が流れたままで動きがありません/);
  t.ok(smsSegments(ja) <= 2);
  const long = `https://hub.example/${'x'.repeat(120)}`;
  t.notMatch(alertText(finding(), ctx, 'ja', { code: 'K27', link: long }), /https/, 'a link too long to leave room for the summary is left out');
});

// Long, realistic names: two residents with long names (and a hyphenated English name), a long home name.
const longCtxs: AlertContext[] = [
  { residentNames: ['長谷川・ウィリアムズ 美智子', '長谷川 正太郎'], homeName: '長谷川・ウィリアムズさん宅（世田谷区上北沢三丁目）', timezone: 'Asia/Tokyo' },
  { residentNames: ['Margaret Elizabeth Fitzgerald-Montgomery', 'Christopher Alexander Fitzgerald-Montgomery'], homeName: 'Fitzgerald-Montgomery residence', timezone: 'Asia/Tokyo' },
  { residentNames: [], homeName: '長谷川・ウィリアムズさん宅（世田谷区上北沢三丁目）', timezone: 'Asia/Tokyo' },
];
const longFinding = (severity: Severity) => finding({
  severity,
  message: { ja: '起きている時間帯に6時間30分、生活反応がありません。いつもは7:40までにポットと洗面所の水を使いますが、今日はどちらもありません', en: 'No sign of life for 6 h 30 min of waking time. Usually the kettle and the bathroom tap are used by 7:40; today neither has been used, and the front door has not opened either' },
  expected: { ja: 'あ'.repeat(200), en: 'a'.repeat(200) }, observed: { ja: 'い'.repeat(200), en: 'b'.repeat(200) },
});

t.test('every template, language and severity fits in two segments with long names', async (t) => {
  const severities: Severity[] = ['info', 'warning', 'critical'];
  let checked = 0;
  for (const c of longCtxs) {
    for (const lang of ['ja', 'en'] as Language[]) {
      for (const sev of severities) {
        const f = longFinding(sev);
        const texts: Record<string, string> = {
          alert: alertText(f, c, lang, { code: 'K27' }),
          grouped: groupedAlertText([f, longFinding('warning'), help({ severity: sev })], c, lang, false, { code: 'K27' }),
          backlog: groupedAlertText([f, f, f, f], c, lang, true, { code: 'K27' }),
          resolved: resolvedText({ ...f, state: 'cleared' }, c, lang),
          acknowledged: acknowledgedText(lang === 'ja' ? '長谷川・ウィリアムズ 健太郎さん' : 'Christopher Fitzgerald-Montgomery', c, at1942, lang),
          onMyWay: onMyWayText(lang === 'ja' ? '長谷川・ウィリアムズ 健太郎さん' : 'Christopher Fitzgerald-Montgomery', at1942 + 1800_000, c, at1942, lang),
          reminder: reminderText(f, c, at1942, lang),
          resolvedBy: resolvedByText('長谷川・ウィリアムズ 健太郎さん', 'う'.repeat(300), c, at1942, lang),
          operator: operatorText({ ...f, audience: 'operator', device: 'kitchen-motion-sensor-0042' }, c.timezone, lang),
          resident: residentPromptText(lang),
        };
        for (const [name, text] of Object.entries(texts)) {
          checked += 1;
          const size = smsSize(text);
          t.ok(size.segments <= smsMaxSegments, `${name} ${lang} ${sev}: ${size.segments} segments (${size.encoding}, ${size.units}): ${text}`);
        }
        // Alerts keep who and how to answer whatever gets shortened.
        t.match(texts.alert!, lang === 'ja' ? /返信「1 K27」で確認、「2 K27」で向かいます$/ : /Reply "1 K27" if seen, "2 K27" if on your way\.$/);
        t.match(texts.grouped!, /K27/);
        if (c.residentNames.length) t.ok(texts.alert!.includes(c.residentNames[0]!), 'names the person');
        t.match(texts.alert!, /19:42/, 'says when');
        t.match(texts.grouped!, /19:42/, 'says when, even when the summary that said it is shortened');
        t.match(texts.reminder!, lang === 'ja' ? /様子を教えてください。 19:42$/ : /how things are\. 19:42$/, 'the question is never cut');
      }
    }
  }
  t.equal(checked, 3 * 2 * 3 * 10);
});

t.test('an English text with ASCII names stays GSM-7 (306 characters in two segments)', async (t) => {
  const en = alertText(longFinding('critical'), longCtxs[1]!, 'en', { code: 'K27' });
  t.equal(smsSize(en).encoding, 'GSM-7', en);
  t.ok(en.length > 134, 'more than a UCS-2 text could hold, still two segments');
  t.match(en, /\.\.\. \(19:42\)/, 'shortened with an ASCII ellipsis, so it stays GSM-7');
});

t.test('several residents, or none', async (t) => {
  t.match(alertText(finding(), { ...ctx, residentNames: ['山田花子', '山田一郎'] }, 'ja'), /^【見守り・緊急】山田花子さん・山田一郎さん: /);
  t.match(alertText(finding(), { ...ctx, residentNames: [] }, 'en'), /^\[Mimamori URGENT\] 山田さん宅: /);
});

t.test('calm follow-ups by rule type', async (t) => {
  const at = Date.parse('2026-11-21T20:05:00+09:00');
  t.equal(resolvedText(finding({ type: 'noSignOfLife', state: 'cleared', at }), ctx, 'ja'), '【見守り】山田花子さん: 動きがありました。ご安心ください。 20:05');
  t.equal(resolvedText(finding({ type: 'noSignOfLife', state: 'cleared', at }), ctx, 'en'), '[Mimamori] 山田花子: There is movement again. All is well now. 20:05');
  t.match(resolvedText(finding({ type: 'helpButton', state: 'cleared', at }), ctx, 'ja'), /大丈夫/);
  t.match(resolvedText(finding({ type: 'somethingNew', state: 'cleared', at }), ctx, 'en'), /back to normal/);
});

t.test('operator text names home and device, not the resident', async (t) => {
  const f = finding({ audience: 'operator', type: 'deviceSilent', device: 'kitchen-motion', severity: 'warning', message: { ja: 'センサーから応答がありません', en: 'Sensor silent' } });
  const en = operatorText(f, 'Asia/Tokyo', 'en');
  t.match(en, /^\[Mimamori ops\] home-1\/kitchen-motion: Sensor silent \(expected: /);
  t.notMatch(en, /山田/);
  t.match(operatorText(f, 'Asia/Tokyo', 'ja', true), /^【見守り運用・復旧】home-1\/kitchen-motion: センサーから応答がありません 19:42$/);
});
