/**
 * The `npm start` demo's story on the demo's own clock, stepped as fast as
 * the hub keeps up: a help-button press in the second home, an SMS to the
 * family through the local Twilio server, the family member's "1" reply
 * coming back as a signed webhook, and the alert acknowledged by SMS with no
 * emergency call; in the first home a family member linked to LINE (through
 * the local LINE server) answers a help alert with the LINE button, and
 * another, with a web push subscription, gets it by push (decrypted by the
 * local push service).
 */
import t from 'tap';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { startHub } from '../../cli/hub.js';
import { DemoClock, demoHubOf, startDemo } from '../../cli/demo.js';
import { tempDir, testConfig } from './helpers.js';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Ken Yamada, the first home's second family member (cli/demo.ts demoPhone(0, 1)). */
const demoKen = '+819010000001';

t.test('help button → SMS → reply "1" → acknowledged, nobody else paged; a LINE-linked family member answers by LINE', async (t) => {
  const dir = tempDir(t);
  const start = Date.parse('2026-11-21T05:00:00+09:00');
  const clock = new DemoClock(start, silentLogger());
  const hub = await startHub({ config: testConfig(dir), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  // Three simulated hours; every step waits for the hub (ingest, notifier, the reply's webhook).
  const demo = await startDemo({
    store: hub.store, simClock: clock, wallClock: systemClock, speed: Infinity, hub: demoHubOf(hub), endAt: start + 3 * 3600_000,
    logger: silentLogger(), mqttUrl: hub.mqttUrl, dataDir: dir, homes: 2, seed: 20261121, start,
    notifier: hub.notifier, localTwilio: hub.localTwilio!, localLine: hub.localLine!, localPush: hub.localPush!, twilioFrom: hub.config.twilio.from,
  });
  t.teardown(() => demo.close());
  t.equal(demo.signIn.login, 'demo-family');
  const account = await hub.store.findAccountByLogin('demo-family');
  t.equal((await hub.store.listContactsOfAccount(account!.id)).length, 1, 'the demo family account is its contact: /account/notifications has their settings');
  await demo.finished;
  t.equal(clock.now(), start + 3 * 3600_000, 'the street stopped at its end time');

  const alert = (await hub.store.listAlerts({ homeId: 'demo-02' })).find((a) => a.rule === 'help-button');
  t.ok(alert, 'the help button raised an alert');
  t.equal(alert?.status, 'acknowledged', 'acknowledged by the SMS reply');
  const audit = await hub.store.listAudit(alert!.id);
  t.ok(audit.some((a) => /ack/.test(a.action) && JSON.stringify(a.detail ?? '').includes('sms')), 'by SMS');
  t.equal(hub.localTwilio!.inboundMessages().filter((m) => m.body === '1').length, 1, 'one reply went through the local Twilio server');
  const emergency = hub.localTwilio!.calls().length + hub.localTwilio!.messages().filter((m) => m.to.endsWith('19')).length;
  t.equal(emergency, 0, 'no emergency call or SMS for an acknowledged alert');

  // The LINE story: a family member of the first home linked LINE and answered its help alert by the button.
  const line = hub.localLine!;
  const lineAlert = (await hub.store.listAlerts({ homeId: 'demo-01' })).find((a) => a.rule === 'help-button');
  t.equal(lineAlert?.status, 'acknowledged', 'the first home\'s help alert was acknowledged');
  t.equal((await hub.store.getAlertLifecycle(lineAlert!.id))?.acknowledgedVia, 'line', 'by LINE');
  const pushes = line.messages.filter((m) => m.kind === 'push');
  t.equal(pushes.length, 1, 'one LINE push: the alert with its buttons (nothing after the answer)');
  t.same(line.webhooks.map((w) => [(w.events[0] as { type: string }).type, w.status]), [['follow', 200], ['message', 200], ['postback', 200]], 'friend-add, link code, button: all signed and accepted');

  // The push story: Ken's demo phone got the same alert by web push, decrypted by the local push service, in English with its buttons.
  const pushed = hub.localPush!.messages.map((m) => m.json as { alertId?: string; lang?: string; body?: string; actions?: Array<{ title: string }> });
  t.equal(pushed.filter((p) => p.alertId === lineAlert!.id && p.actions).length, 1, 'one alert push with buttons');
  const alertPush = pushed.find((p) => p.alertId === lineAlert!.id && p.actions)!;
  t.equal(alertPush.lang, 'en');
  t.match(alertPush.body, /help button/i, 'decrypted: the alert text');
  t.same(alertPush.actions?.map((a) => a.title), ['Seen it', "I'm on my way"]);
  t.equal(hub.localTwilio!.messages().filter((m) => m.to === demoKen).length, 0, 'Ken chose push: no SMS to him');
  t.ok(readFileSync(join(dir, 'push-messages.ndjson'), 'utf8').includes(lineAlert!.id), 'the record file in the data folder');
  t.equal(statSync(join(dir, 'vapid-keys.json')).mode & 0o777, 0o600, 'the VAPID keys kept with the hub\'s secrets');
});
