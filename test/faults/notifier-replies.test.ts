/**
 * Fault scenario: two open alerts and a bare "1" reply (issue 11, "Replies
 * bound to one alert"). The help SMS and a no-sign-of-life SMS go out 26 ms
 * apart; Taro answers "1" through the local Twilio server and the hub's
 * signed webhook.
 */
import t from 'tap';
import { finding } from '../notifier/helpers.js';
import { at1942, homeId, notifierRig } from './notifier-rig.js';

const codeIn = (body: string | undefined): string | undefined => /「1 ([A-Z]\d\d)」/.exec(body ?? '')?.[1];

t.test('a bare "1" with two open alerts acknowledges nothing and asks which; "1 <code>" acknowledges exactly that one', async (t) => {
  const r = await notifierRig(t);
  const help = await r.notifier.handleFinding(finding({ rule: 'help', type: 'helpButton', severity: 'critical', message: { ja: '19:42 に緊急ボタンが押されました', en: 'Help button pressed at 19:42' } }));
  r.clock.advanceTo(at1942 + 26);
  const nsol = await r.notifier.handleFinding(finding({ rule: 'no-sign-of-life', type: 'noSignOfLife', severity: 'warning', at: at1942 + 26, message: { ja: '起きている時間帯に3時間、生活反応がありません', en: 'No sign of life for 3 h' } }));
  await r.local.settled();
  const toTaro = r.to(r.taro.phone).map((m) => m.body);
  t.equal(toTaro.length, 2, 'Taro has both alerts');
  const helpCode = codeIn(toTaro.find((b) => /緊急ボタン/.test(b)));
  const nsolCode = codeIn(toTaro.find((b) => /生活反応/.test(b)));
  t.ok(helpCode && nsolCode && helpCode !== nsolCode, 'each alert SMS carries its own code');

  const answers = await r.reply(r.taro.phone!, '1');
  t.equal(answers.length, 1);
  t.match(answers[0], /^【見守り】お知らせが2件あります。どれへの返信か、記号を添えてください/);
  t.match(answers[0], new RegExp(`${helpCode} 山田花子さん: 19:42 に緊急ボタン`));
  t.match(answers[0], new RegExp(`${nsolCode} 山田花子さん: 起きている時間帯に`));
  const acks = async () => (await r.store.listAudit()).filter((a) => a.action === 'alert.acknowledge');
  t.equal((await acks()).length, 0, 'no acknowledgement');
  t.equal((await r.store.listAlerts({ homeId, status: 'open' })).length, 2);
  t.equal(r.to(r.taro.phone).length, 3, 'exactly one "which one?" SMS');

  await r.reply(r.taro.phone!, `1 ${helpCode}`);
  t.equal((await acks()).length, 1, 'one acknowledgement');
  t.equal((await acks())[0]?.subject, help.alertId, 'of the help alert');
  t.equal((await r.store.getAlert(help.alertId!))?.status, 'acknowledged');
  t.equal((await r.store.getAlert(nsol.alertId!))?.status, 'open', 'the other alert is untouched');

  // Ken answers in English with the code glued on; an unknown code binds to nothing.
  const unknown = await r.reply(r.ken.phone!, '1 Q99');
  t.match(unknown[0], /^\[Mimamori\] No alert has the code Q99\./);
  await r.reply(r.ken.phone!, `2${nsolCode!.toLowerCase()}`);
  t.equal((await r.store.getAlert(nsol.alertId!))?.status, 'acknowledged', '"2k27": on my way for exactly that alert');
  t.equal((await acks()).length, 1, 'on my way is not an acknowledge record, and nothing else was acknowledged');
});
