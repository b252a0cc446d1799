import t from 'tap';
import { alertText, operatorText, resolvedText, smsTargetChars, type AlertContext } from '../../notifier/templates.js';
import { at1942, finding } from './helpers.js';

const ctx: AlertContext = { residentNames: ['山田花子'], homeName: '山田さん宅', timezone: 'Asia/Tokyo' };

t.test('Japanese alert text: name, home, summary, explanation and local time', async (t) => {
  const text = alertText(finding({ severity: 'warning' }), ctx, 'ja');
  t.equal(text, '【見守り】山田花子さん（山田さん宅）: 60分以上、浴室の水が流れたままで動きがありません (予想: 水を使う間に動きがあること／実際: 18:42から水が流れ続け、動きなし) 19:42');
  t.match(alertText(finding(), ctx, 'ja'), /^【見守り・緊急】/, 'critical is marked urgent');
});

t.test('English alert text', async (t) => {
  const text = alertText(finding(), ctx, 'en');
  t.equal(text, '[Mimamori URGENT] 山田花子 (山田さん宅): Bath water has been running for 60 minutes and nobody has moved (expected: movement while water runs; observed: water running since 18:42, no movement) 19:42');
});

t.test('local time is the home\'s zone, not the server\'s', async (t) => {
  t.match(alertText(finding(), { ...ctx, timezone: 'Europe/London' }, 'en'), / 10:42$/);
  t.match(alertText(finding({ at: at1942 + 5 * 60_000 }), ctx, 'ja'), / 19:47$/);
});

t.test('long explanations are dropped, then the summary shortened, to keep the SMS short', async (t) => {
  const long = finding({ expected: { ja: 'あ'.repeat(400), en: 'a'.repeat(400) } });
  const ja = alertText(long, ctx, 'ja');
  t.ok([...ja].length <= smsTargetChars.ja, `ja ${[...ja].length} chars`);
  t.notMatch(ja, /予想/);
  t.match(ja, /浴室の水/);
  t.match(ja, / 19:42$/);
  const huge = finding({ message: { ja: 'い'.repeat(500), en: 'b'.repeat(500) } });
  const shortened = alertText(huge, ctx, 'ja');
  t.ok([...shortened].length <= smsTargetChars.ja);
  t.match(shortened, /^【見守り・緊急】山田花子さん/);
  t.match(shortened, /… 19:42$/);
  t.ok(alertText(huge, ctx, 'en').length <= smsTargetChars.en);
});

t.test('nothing secret or personal beyond the name: no address, no entry notes', async (t) => {
  // The templates only receive names and the home name; prove the output never grows other fields.
  const text = alertText(finding({ data: { keybox: '4321', address: '東京都港区' } }), ctx, 'ja');
  t.notMatch(text, /4321|港区/);
});

t.test('several residents, or none', async (t) => {
  t.match(alertText(finding(), { ...ctx, residentNames: ['山田花子', '山田一郎'] }, 'ja'), /山田花子さん・山田一郎さん（山田さん宅）/);
  t.match(alertText(finding(), { ...ctx, residentNames: [] }, 'en'), /^\[Mimamori URGENT\] 山田さん宅: /);
});

t.test('calm follow-ups by rule type', async (t) => {
  const at = Date.parse('2026-11-21T20:05:00+09:00');
  t.equal(resolvedText(finding({ type: 'noSignOfLife', state: 'cleared', at }), ctx, 'ja'), '【見守り】山田花子さん（山田さん宅）: 動きがありました。ご安心ください。 20:05');
  t.equal(resolvedText(finding({ type: 'noSignOfLife', state: 'cleared', at }), ctx, 'en'), '[Mimamori] 山田花子 (山田さん宅): There is movement again. All is well now. 20:05');
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
