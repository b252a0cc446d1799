/**
 * The acknowledgement loop through the whole hub and real webhooks: the local
 * Twilio server sends signed SMS replies and keypresses back to the hub's
 * endpoints, the notifier's responder acts, and everyone already told hears
 * who is handling it.
 */
import t from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import { startHub, type Hub } from '../../cli/hub.js';
import { settled, tempDir, testConfig, until } from './helpers.js';

const tz = 'Asia/Tokyo';
const start = Date.parse('2026-11-21T10:00:00+09:00');
const taro = '+819055550001', ken = '+819055550002';

async function homeWithFamily(hub: Hub, home: string, channels: string[]) {
  await hub.store.createHome({ id: home, name: '山田家', timezone: tz, address: '東京都杉並区1-1', entryNotes: 'key box 1234' });
  await hub.store.addResident({ homeId: home, name: '山田 花子', language: 'ja', birthYear: 1940 });
  await hub.store.addContact({ homeId: home, name: '山田 太郎', role: 'family', phone: taro, language: 'ja', priority: 1 });
  await hub.store.addContact({ homeId: home, name: 'Ken', role: 'family', phone: ken, language: 'en', priority: 2 });
  const policy = await hub.notifier.getEscalationPolicy(home);
  await hub.notifier.setEscalationPolicy(home, { ...policy, tiers: policy.tiers.map((tier) => (tier.name === 'family' ? { ...tier, channels } : tier)) });
}

const help = (hub: Hub, home: string, at: number) => hub.acceptReading({ kind: 'button', press: 'help', id: `b-${at}`, ts: toLocalIso(at, tz), home, device: 'help-button', at });

t.test('an SMS reply "1" acknowledges; the other family member is told who is handling it', async (t) => {
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(tempDir(t)), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  await homeWithFamily(hub, 'h1', ['sms']);
  help(hub, 'h1', start);
  await until(() => hub.localTwilio!.messages().filter((m) => m.to === taro || m.to === ken).length >= 2, 10_000, 'SMS to both');
  const [alert] = await hub.store.listAlerts({ homeId: 'h1' });
  t.equal(alert?.status, 'open');

  await hub.localTwilio!.simulateInboundSms({ from: taro, to: hub.config.twilio.from, body: '了解' });
  await until(async () => (await hub.store.getAlert(alert!.id))?.status === 'acknowledged', 10_000, 'acknowledged');
  await until(() => hub.localTwilio!.messages().some((m) => m.to === ken && /山田 太郎|Taro|handling/i.test(m.body)), 10_000, 'Ken hears who is handling it');
  const toKen = hub.localTwilio!.messages().filter((m) => m.to === ken).at(-1)!;
  t.match(toKen.body, /handling|on it/i, 'in English, for Ken');

  // Acknowledged means no caregiver or emergency tier later; only reminders to the acknowledger.
  await settled(hub);
  const count = (phone: string) => hub.localTwilio!.messages().filter((m) => m.to === phone).length;
  const [taroBefore, kenBefore] = [count(taro), count(ken)];
  for (let minute = 0; minute < 60; minute++) { clock.advanceBy(60_000); await settled(hub); }
  const unexpected = hub.localTwilio!.messages().filter((m) => m.to !== taro && m.to !== ken).length + hub.localTwilio!.calls().length;
  t.equal(unexpected, 0, 'nobody beyond the family is paged after the acknowledgement');
  t.equal(count(taro) - taroBefore, 2, 'two reminders to Taro, who acknowledged (every 30 minutes)');
  t.equal(count(ken) - kenBefore, 0, 'nothing more to Ken');
  const reminders = hub.localTwilio!.messages().filter((m) => m.to === taro).slice(taroBefore);
  for (const m of reminders) t.match(m.body, /^【見守り・確認】/);
});


t.test('pressing 1 on the voice call acknowledges', async (t) => {
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(tempDir(t)), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  await homeWithFamily(hub, 'h2', ['voice', 'sms']);
  hub.localTwilio!.scriptNumber(taro, { answer: 'human', press: '1' });
  help(hub, 'h2', start);
  await until(() => hub.localTwilio!.calls().some((c) => c.to === taro), 10_000, 'the call to Taro');
  const [alert] = await hub.store.listAlerts({ homeId: 'h2' });
  // The call's timeline runs on the hub's clock.
  for (let i = 0; i < 50 && (await hub.store.getAlert(alert!.id))?.status !== 'acknowledged'; i++) {
    clock.advanceBy(5_000);
    await settled(hub);
  }
  t.equal((await hub.store.getAlert(alert!.id))?.status, 'acknowledged', 'the keypress acknowledged the alert');
  const audit = await hub.store.listAudit(alert!.id);
  t.ok(audit.some((a) => /ack/.test(a.action) && JSON.stringify(a.detail ?? '').includes('voice')), 'the audit says it was by voice');
});

/** Runs the hub's clock in steps so the local Twilio server's call timeline and its callbacks play out. */
async function play(hub: Hub, clock: VirtualClock, minutes: number, until: () => boolean | Promise<boolean>) {
  for (let i = 0; i < minutes * 12 && !(await until()); i++) {
    clock.advanceBy(5_000);
    await settled(hub);
  }
}

t.test('a call answered by voicemail does not count as reaching Taro: he gets the SMS', async (t) => {
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(tempDir(t)), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  await homeWithFamily(hub, 'h3', ['voice', 'sms']);
  hub.localTwilio!.scriptNumber(taro, { answer: 'machine' });
  hub.localTwilio!.scriptNumber(ken, { answer: 'human', press: '2' });
  help(hub, 'h3', start);
  await play(hub, clock, 5, () => hub.localTwilio!.messages().some((m) => m.to === taro));
  t.ok(hub.localTwilio!.calls().some((c) => c.to === taro && c.answeredBy?.startsWith('machine')), 'the call reached a machine');
  t.ok(hub.localTwilio!.messages().some((m) => m.to === taro), 'so the next channel, SMS, went to Taro');
  const [alert] = await hub.store.listAlerts({ homeId: 'h3' });
  await play(hub, clock, 5, async () => (await hub.store.getAlert(alert!.id))?.status === 'acknowledged');
  t.equal((await hub.store.getAlert(alert!.id))?.status, 'acknowledged', 'Ken pressed 2 (on my way), which handles it');
});

t.test('a call that fails falls back to SMS for that person', async (t) => {
  const clock = new VirtualClock(start);
  const hub = await startHub({ config: testConfig(tempDir(t)), logger: silentLogger(), clock });
  t.teardown(() => hub.close());
  await homeWithFamily(hub, 'h4', ['voice', 'sms']);
  hub.localTwilio!.scriptNumber(ken, { answer: 'failed' });
  help(hub, 'h4', start);
  await play(hub, clock, 5, () => hub.localTwilio!.messages().some((m) => m.to === ken));
  t.ok(hub.localTwilio!.messages().some((m) => m.to === ken && /help/i.test(m.body)), 'Ken gets the alert by SMS, in English');
});
