/**
 * Fault scenarios: storms. A flapping finding and a chattering rule through
 * the real notifier and the local Twilio server, with exact counts of alerts
 * opened and SMS sent (issue 11, "No storms").
 */
import t from 'tap';
import type { Finding } from '../../core/findings.js';
import { finding } from '../notifier/helpers.js';
import { at1942, homeId, min, notifierRig } from './notifier-rig.js';

const nsol = (over: Partial<Finding> = {}): Finding => finding({
  rule: 'no-sign-of-life', type: 'noSignOfLife', severity: 'warning',
  message: { ja: '起きている時間帯に3時間、生活反応がありません', en: 'No sign of life for 3 h of waking time' }, ...over,
});

t.test('a flapping finding (raised and cleared 10 times in 5 minutes) is one alert: one page and one all-clear per person', async (t) => {
  const r = await notifierRig(t);
  for (let i = 0; i < 10; i++) {
    const at = at1942 + i * 30_000;
    r.clock.advanceTo(at);
    await r.notifier.handleFinding(nsol({ at }));
    r.clock.advanceTo(at + 15_000);
    await r.notifier.handleFinding(nsol({ state: 'cleared', at: at + 15_000, message: { ja: '生活反応がありました', en: 'Sign of life' } }));
    await r.notifier.idle();
  }
  await r.local.settled();
  const alerts = await r.store.listAlerts({ homeId });
  t.equal(alerts.length, 1, 'exactly one alert');
  t.equal(r.to(r.taro.phone).length, 1, 'one page to Taro while it flaps, no "all is well" in between');
  t.equal(r.to(r.ken.phone).length, 1);
  t.equal(r.to(r.carer.phone).length, 0);

  await r.advance(5 * min);
  t.equal((await r.store.getAlert(alerts[0]!.id))?.status, 'resolved', 'resolved once it stayed clear for the flap window');
  const taro = r.to(r.taro.phone).map((m) => m.body);
  t.equal(taro.length, 2, 'then exactly one calm follow-up');
  t.match(taro[1], /ご安心ください/);
  t.equal(r.to(r.ken.phone).length, 2);
  t.equal(r.local.messages().length, 4, 'four SMS in all');
  const timeline = (await r.store.listAudit(alerts[0]!.id)).map((a) => a.action);
  t.equal(timeline.filter((a) => a === 'alert.flap').length, 9, 'the timeline shows the nine flaps');
  t.equal(timeline.filter((a) => a === 'alert.condition-cleared').length, 10);
  t.equal(timeline.filter((a) => a === 'alert.resolve').length, 1);

  await r.advance(60 * min);
  t.equal(r.local.messages().length, 4, 'nothing later either');
});

t.test('a chattering rule meets the per-person budget: six messages, then one summary', async (t) => {
  // Each finding its own alert (no grouping), 20 of them 30 s apart: far more than anyone should get.
  const r = await notifierRig(t, { groupWindowMs: 0 });
  for (let i = 0; i < 20; i++) {
    const at = at1942 + i * 30_000;
    r.clock.advanceTo(at);
    await r.notifier.handleFinding(nsol({ rule: `chatter-${i}`, at, message: { ja: `センサー反応 ${i}`, en: `sensor event ${i}` } }));
    await r.notifier.idle();
  }
  await r.local.settled();
  t.equal((await r.store.listAlerts({ homeId })).length, 20);
  t.equal(r.to(r.taro.phone).length, 6, 'the budget (6 per 10 min) holds the rest');
  t.equal(r.to(r.ken.phone).length, 6);
  const held = (await r.store.listNotifications()).filter((n) => n.status === 'held');
  t.equal(held.length, 28, '14 held for each of the two, none dropped');

  // The window allows one more at 10 minutes after the first: one summary each.
  r.clock.advanceTo(at1942 + 10 * min - 1);
  await r.notifier.idle();
  t.equal(r.to(r.taro.phone).length, 6);
  await r.advance(1);
  const taro = r.to(r.taro.phone).map((m) => m.body);
  t.equal(taro.length, 7, 'one summary');
  t.match(taro[6], /^【見守り】山田花子さん: 送りすぎを防ぐため14件のお知らせを控えました。対応が必要: [A-Z]\d\d センサー反応 6／/);
  t.match(r.to(r.ken.phone)[6]?.body, /14 messages were held\. Still open: [A-Z]\d\d sensor event 6 \//);
  t.equal((await r.store.listNotifications()).filter((n) => n.status === 'summarized').length, 28);
  // In no ten-minute window did either get more than six.
  for (const phone of [r.taro.phone, r.ken.phone]) {
    const times = r.to(phone).map((m) => m.dateCreated);
    for (const start of times) t.ok(times.filter((x) => x >= start && x < start + 10 * min).length <= 6);
  }
});

t.test('the help alert goes at once even though another alert of the home opened 16 s before', async (t) => {
  const r = await notifierRig(t);
  await r.notifier.handleFinding(finding({ rule: 'kettle', type: 'routineMissed', severity: 'warning', message: { ja: 'ポットがまだ使われていません', en: 'Kettle not used yet' } }));
  t.equal(r.to(r.taro.phone).length, 1, 'the first alert of a quiet home goes at once');
  const helpAt = at1942 + 16_000;
  r.clock.advanceTo(helpAt);
  const res = await r.notifier.handleFinding(finding({ rule: 'help', type: 'helpButton', severity: 'critical', at: helpAt, message: { ja: '19:42 に緊急ボタンが押されました', en: 'Help button pressed at 19:42' } }));
  t.equal(res.notified, 2, 'both family members, from inside handleFinding');
  const helpSms = r.to(r.taro.phone).filter((m) => /緊急ボタン/.test(m.body));
  t.equal(helpSms.length, 1);
  t.equal(helpSms[0]?.dateCreated, helpAt, 'sent at the press, not at the end of the group window');
  t.equal((await r.store.listAudit(res.alertId!)).find((a) => a.action === 'escalation.start')?.detail && ((await r.store.listAudit(res.alertId!)).find((a) => a.action === 'escalation.start')!.detail as { firstStepAt: number }).firstStepAt, helpAt);
  await r.advance(2 * min);
  t.equal(r.to(r.taro.phone).filter((m) => /緊急ボタン/.test(m.body)).length, 1, 'and not again when the window ends');
});
