/**
 * The send ledger over a real SQLite store: one send per key, channel
 * fallbacks from what the ledger knows, and "who was told" answered from
 * that alert's sends only (an acknowledge used to read every notification
 * in the database).
 */
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore, type Alert, type Store } from '../../core/store.js';
import type { Channel, ChannelMessage, SendResult } from '../../notifier/channel.js';
import { createRateLimiter } from '../../notifier/rate-limit.js';
import { createSendLedger, sendKeyOf } from '../../notifier/send-ledger.js';
import { at1942, finding, homeId, seedHome } from './helpers.js';

/** An in-process channel: records what it was given and answers as scripted. */
function channel(name: string, status: SendResult['status'] = 'sent'): Channel & { got: ChannelMessage[] } {
  const got: ChannelMessage[] = [];
  let n = 0;
  return { name, got, async send(msg) { got.push(msg); return status === 'failed' ? { status, error: 'scripted' } : { status, providerId: `${name}-${++n}` }; } };
}

/** The store, with a count of the calls that read every notification in the database. */
function counting(store: Store): { store: Store; readAll: () => number } {
  let all = 0;
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'listNotifications') return (alertId?: string) => { if (alertId === undefined) all += 1; return target.listNotifications(alertId); };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: wrapped, readAll: () => all };
}

async function rig(t: Test, chans: Channel[]) {
  const seeded = await seedHome(createSqliteStore(':memory:'));
  t.teardown(() => seeded.store.close());
  const { store, readAll } = counting(seeded.store);
  const clock = new VirtualClock(at1942);
  const ledger = createSendLedger({
    store, logger: silentLogger(), clock, channels: new Map(chans.map((c) => [c.name, c])), rateLimiter: createRateLimiter({ max: 100, windowMs: 60_000 }),
    sendWaitMs: 1_000, track: (p) => p, heldForBudget: async () => undefined, replyCodeOf: async () => 'K27',
  });
  const open = async (rule: string): Promise<Alert> => (await store.openAlert({ homeId, rule, severity: 'critical', message: rule, finding: finding({ rule }), openedAt: at1942 })).alert;
  return { ...seeded, store, readAll, clock, ledger, open };
}

t.test('a failed channel falls back to the next; a second delivery of the same stage sends nothing', async (t) => {
  const voice = channel('voice', 'failed'), sms = channel('sms');
  const r = await rig(t, [voice, sms]);
  const a = await r.open('help');
  const text = () => 'help';
  await r.ledger.deliver([a], r.taro, ['voice', 'sms'], '0:1:0', text, true);
  t.same([voice.got.length, sms.got.length], [1, 1], 'voice failed, so SMS');
  await r.ledger.deliver([a], r.taro, ['voice', 'sms'], '0:1:0', text, true);
  t.same([voice.got.length, sms.got.length], [1, 1], 'keys exist: nothing is sent twice');
  await r.ledger.deliver([a], r.taro, ['voice', 'sms'], '0:1:1', text, true);
  t.same([voice.got.length, sms.got.length], [2, 2], 'a new stage is a new send');
  // Keys made in one millisecond come back by key (the store's tie-break), so compare them as a set.
  t.same((await r.store.listSendKeys(a.id)).map((k) => k.key).sort(), [sendKeyOf(a.id, '0:1:0', r.taro.id, 'voice'), sendKeyOf(a.id, '0:1:0', r.taro.id, 'sms'), sendKeyOf(a.id, '0:1:1', r.taro.id, 'voice'), sendKeyOf(a.id, '0:1:1', r.taro.id, 'sms')].sort());
});

t.test('a receipt saying nobody was reached moves the person on to their next channel', async (t) => {
  const voice = channel('voice', 'queued'), sms = channel('sms');
  const r = await rig(t, [voice, sms]);
  const a = await r.open('help');
  await r.ledger.deliver([a], r.taro, ['voice', 'sms'], '0:1:0', () => 'help', true);
  t.same([voice.got.length, sms.got.length], [1, 0]);
  const n = (await r.store.listNotifications(a.id))[0]!;
  await r.store.updateNotification(n.id, { status: 'no-answer' }, at1942 + 60_000);
  await r.ledger.deliver([a], r.taro, ['voice', 'sms'], '0:1:0', () => 'help', true);
  t.same([voice.got.length, sms.got.length], [1, 1]);
});

t.test('who was told: one query for that alert — a group member sees the outcome of the message recorded under its leader', async (t) => {
  const sms = channel('sms', 'queued');
  const r = await rig(t, [sms]);
  const leader = await r.open('kettle');
  const member = await r.open('door');
  const other = await r.open('bath');
  // One message per person for the group: the keys of both alerts point at one notification (under the leader).
  await r.ledger.deliver([leader, member], r.taro, ['sms'], '0:1:0', () => '2件', false);
  await r.ledger.deliver([leader, member], r.ken, ['sms'], '0:1:0', () => '2 alerts', false);
  await r.ledger.deliver([other], r.carer, ['sms'], '0:2:0', () => 'bath', false);
  const kenNote = (await r.store.listNotifications(leader.id)).find((n) => n.contactId === r.ken.id)!;
  await r.store.updateNotification(kenNote.id, { status: 'undelivered' }, at1942 + 1);
  // A key whose send never got a notification (a crash inside the send window) counts as told.
  await r.store.claimSendKeys([{ key: sendKeyOf(member.id, 'ack0', r.carer.id, 'sms'), alertId: member.id, contactId: r.carer.id, channel: 'sms', createdAt: at1942 }]);

  t.same(await r.ledger.toldContacts(member.id), [r.taro.id, r.carer.id], "ken's message was undelivered: not told");
  t.same(await r.ledger.toldContacts(leader.id), [r.taro.id]);
  t.same(await r.ledger.toldContacts(other.id), [r.carer.id]);
  t.equal(r.readAll(), 0, 'no read of every notification in the database');

  const outcomes = await r.store.listSendOutcomes(member.id);
  t.equal(outcomes.length, 3, "only the member's own keys");
  t.same(new Map(outcomes.map((o) => [o.contactId, o.notificationStatus])), new Map<string | undefined, string | undefined>([[r.taro.id, 'queued'], [r.ken.id, 'undelivered'], [r.carer.id, undefined]]));
});
