import t from 'tap';
import { normaliseReply, parseAckReply, replyHelp, replyLanguage } from '../../notifier/ack-parser.js';

t.test('acknowledgements, in every way people type them', async (t) => {
  for (const s of ['1', '１', 'OK', 'ok', 'Ok.', 'ＯＫ', 'ｏｋ', '了解', '了解です。', 'りょうかい', 'リョウカイ', ' 1 ', '確認しました', 'yes', 'Yes!']) {
    t.same(parseAckReply(s), { kind: 'acknowledge' }, JSON.stringify(s));
  }
});

t.test('on my way, with and without minutes', async (t) => {
  const cases: Array<[string, number | undefined]> = [
    ['2', undefined], ['２', undefined], ['向かいます', undefined], ['今から向かいます！', undefined], ['on my way', undefined], ['On my way.', undefined], ["I'm on my way", undefined], ['OMW', undefined],
    ['2 20', 20], ['２ ２０', 20], ['2　15分', 15], ['向かいます 20分', 20], ['向かいます20分', 20], ['向かいます 約30分', 30], ['on my way 25 min', 25], ['on my way, 10 minutes', 10], ['2 45min', 45],
  ];
  for (const [s, eta] of cases) {
    t.same(parseAckReply(s), eta === undefined ? { kind: 'on-my-way' } : { kind: 'on-my-way', etaMinutes: eta }, JSON.stringify(s));
  }
});

t.test('anything else is not understood', async (t) => {
  for (const s of ['', '3', '12', '25', '21', 'hello', 'もう少し待って', '2 abc', '2 0', '2 9999', 'okay then', '1 2']) {
    t.same(parseAckReply(s), { kind: 'unknown' }, JSON.stringify(s));
  }
});

t.test('normalisation and the language of the answer', async (t) => {
  t.equal(normaliseReply('  ＯＫ！ '), 'ok');
  t.equal(normaliseReply('On  my\tway'), 'on my way');
  t.equal(replyLanguage('なに？', '+14155550123'), 'ja', 'the script wins over the country code');
  t.equal(replyLanguage('what?', '+819011112222'), 'en');
  t.equal(replyLanguage('3', '+819011112222'), 'ja', 'digits only: Japanese number → Japanese');
  t.equal(replyLanguage('3', '+14155550123'), 'en');
  t.equal(replyLanguage('なに', '+819011112222', 'en'), 'en', 'a known contact language wins');
  t.match(replyHelp('ja'), /「1」.*「2」/);
  t.match(replyHelp('en'), /Reply 1 or OK.*2/);
});

t.test('a reply code binds the reply to one alert, wherever it is typed', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['1 K27', { kind: 'acknowledge', code: 'K27' }], ['K27 1', { kind: 'acknowledge', code: 'K27' }], ['1k27', { kind: 'acknowledge', code: 'K27' }],
    ['１　Ｋ２７', { kind: 'acknowledge', code: 'K27' }], ['了解 #k27', { kind: 'acknowledge', code: 'K27' }], ['OK K27.', { kind: 'acknowledge', code: 'K27' }],
    ['2 K27', { kind: 'on-my-way', code: 'K27' }], ['2k27 20', { kind: 'on-my-way', etaMinutes: 20, code: 'K27' }], ['向かいます K27 20分', { kind: 'on-my-way', etaMinutes: 20, code: 'K27' }],
    ['K27', { kind: 'unknown', code: 'K27' }], ['3 K27', { kind: 'unknown', code: 'K27' }],
    ['1', { kind: 'acknowledge' }], ['2 20', { kind: 'on-my-way', etaMinutes: 20 }], ['on my way 20 min', { kind: 'on-my-way', etaMinutes: 20 }],
  ];
  for (const [s, want] of cases) t.same(parseAckReply(s), want, JSON.stringify(s));
});
