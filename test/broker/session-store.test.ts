/**
 * The LevelDB session store's clean-session shortcut (broker/session-store.ts)
 * on a real broker with real LevelDB and real MQTT.js clients: repeat
 * clean-session logins skip LevelDB, while persistent sessions, the
 * discarding of a session by a clean login (MQTT-3.1.2-6) and stored wills
 * behave exactly as before.
 */
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Level } from 'level';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import t from 'tap';
import { commandTopic, heartbeatTopic } from '../../core/topics.js';
import { provisionDevice, provisionService } from '../../broker/device-credentials.js';
import { connect, inbox, startBroker, ts, until } from './helpers.js';

/** Connects with the message listener in place before CONNACK, so a queued message cannot slip past. */
async function connectWithInbox(url: string, opts: IClientOptions): Promise<{ client: MqttClient; box: ReturnType<typeof inbox>; sessionPresent: boolean }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
  const box = inbox(client);
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.sessionPresent));
    client.once('error', reject);
  });
  return { client, box, sessionPresent };
}

type OldPersistence = { putWill(client: { id: string }, packet: object): Promise<void>; getWill(client: { id: string }): Promise<unknown>; setup(broker: object): Promise<void>; destroy(): Promise<void> };
const OldLevelPersistence = createRequire(import.meta.url)('aedes-persistence-level/asyncPersistence.js') as new (db: Level) => OldPersistence;

t.test('repeat clean-session logins skip LevelDB; a persistent session keeps its subscription and queued command until a clean login discards it', async (t) => {
  const h = await startBroker({ persistence: 'level' });
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const tablet = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'tablet', kind: 'tablet' });
  const svc = await provisionService(h.store, 'watcher');
  const creds = { clientId: 'h1/tablet', username: tablet.username, password: tablet.secret };
  const sender = await connect(h.url(), { username: svc.username, password: svc.secret });

  // First clean login: the ids holding session state were read from LevelDB at start, and this
  // one holds none, so the login already skips everything: the subscriptions, inbound packets and
  // outgoing queue at CONNECT, the will lookup (no will stored) and the clean-up at close.
  const skips = () => h.broker.stats().sessionStoreSkips;
  // Waits until the broker has closed the device's side too: only the sender is left.
  const gone = () => until(() => h.broker.stats().clients === 1, 5000, 'the broker to close the device connection');
  const loginAndLeave = async () => {
    await (await connect(h.url(), creds)).endAsync();
    await gone();
  };
  // Such logins are served by the device lane (broker/device-lane.ts), which makes no session-store
  // call at all: neither a LevelDB call nor a skipped one.
  const lane = () => h.broker.stats().laneLogins;
  const before = lane();
  await loginAndLeave();
  t.equal(lane() - before, 1, 'the first clean login is served by the device lane');
  const skipsBefore = skips();
  await loginAndLeave();
  t.equal(lane() - before, 2, 'and the repeat login');
  t.equal(skips() - skipsBefore, 0, 'no session-store call for it: nothing read from LevelDB, nothing even skipped');

  // A persistent session: subscribe, leave, a command is queued, come back.
  const p1 = await connectWithInbox(h.url(), { ...creds, clean: false });
  t.equal(p1.sessionPresent, false, 'no session yet');
  await p1.client.subscribeAsync(commandTopic('h1', 'tablet'), { qos: 1 });
  await p1.client.endAsync();
  await gone(); // the command below must be queued, not sent to a session still closing
  await sender.publishAsync(commandTopic('h1', 'tablet'), 'show-reminder', { qos: 1 });
  const p2 = await connectWithInbox(h.url(), { ...creds, clean: false });
  t.equal(p2.sessionPresent, true, 'the session survived the disconnect');
  await p2.box.waitFor(1);
  t.same(p2.box.messages.map((m) => m.payload), ['show-reminder'], 'the queued command is delivered');
  await p2.client.endAsync();
  await gone();

  // Queued again, then a clean login: the session and its queue are gone (MQTT-3.1.2-6).
  // aedes acknowledges a QoS 1 publish before it queues it: wait until 'stale' is in LevelDB, or the
  // clean login below could run before the write lands (aedes then keeps it: its own race, not ours).
  const queued = h.broker.stats().sessionStoreQueued;
  await sender.publishAsync(commandTopic('h1', 'tablet'), 'stale', { qos: 1 });
  await until(() => h.broker.stats().sessionStoreQueued > queued, 5000, "'stale' queued for the offline session");
  const c = await connectWithInbox(h.url(), creds);
  t.equal(c.sessionPresent, false);
  // The clean session is not handed what was queued for the id (aedes 1.2 clears a clean client's
  // queue at CONNECT instead of writing it): a barrier message on a fresh subscription arrives alone —
  // anything queued before would have come first.
  await c.client.subscribeAsync(commandTopic('h1', 'tablet'), { qos: 1 });
  await sender.publishAsync(commandTopic('h1', 'tablet'), 'barrier', { qos: 1 });
  await until(() => c.box.messages.some((m) => m.payload === 'barrier'), 5000, 'the barrier on the clean session');
  t.same(c.box.messages.map((m) => String(m.payload)), ['barrier'], 'the clean session gets nothing queued for the id before it (MQTT-3.1.2-6)');
  await c.client.endAsync();
  await gone();
  const p3 = await connectWithInbox(h.url(), { ...creds, clean: false });
  t.equal(p3.sessionPresent, false, 'the clean login discarded the stored session');
  // Barrier: a fresh command on a fresh subscription arrives; the stale one would have come first.
  await p3.client.subscribeAsync(commandTopic('h1', 'tablet'), { qos: 1 });
  await sender.publishAsync(commandTopic('h1', 'tablet'), 'fresh', { qos: 1 });
  await p3.box.waitFor(1);
  t.same(p3.box.messages.map((m) => m.payload), ['fresh'], 'the discarded queue is never delivered');
  await p3.client.endAsync();

  // The same holds across a restart: the stored session is on disk, the shortcut starts empty.
  const p4 = await connectWithInbox(h.url(), { ...creds, clean: false });
  t.equal(p4.sessionPresent, true);
  await p4.client.endAsync();
  await gone();
  await sender.endAsync();
  await h.restart({ persistence: 'level' });
  const c2 = await connectWithInbox(h.url(), creds);
  t.equal(c2.sessionPresent, false);
  await c2.client.endAsync();
  const p5 = await connectWithInbox(h.url(), { ...creds, clean: false });
  t.equal(p5.sessionPresent, false, 'a clean login after the restart discarded the session stored before it');
  await p5.client.endAsync();
});

t.test('a will stored before a restart is still deleted when its device logs in again without one', async (t) => {
  const h = await startBroker({ persistence: 'level' });
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const kettle = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  await h.broker.close();
  // What a hub that died with the kettle connected leaves behind: its will, under a dead broker's id.
  const willOf = async (write?: object) => {
    const db = new Level(join(h.dataDir, 'broker'));
    await db.open();
    const p = new OldLevelPersistence(db);
    await p.setup({ id: 'a-dead-broker' });
    if (write) await p.putWill({ id: 'h1/kettle' }, write);
    const will = await p.getWill({ id: 'h1/kettle' });
    await p.destroy();
    return will;
  };
  t.ok(await willOf({ cmd: 'publish', topic: heartbeatTopic('h1', 'kettle'), payload: Buffer.from(JSON.stringify({ ts })), qos: 1, retain: false }), 'a will is stored');

  await h.restart({ persistence: 'level' });
  await (await connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret })).endAsync();
  await h.broker.close();
  t.equal(await willOf(), undefined, 'the login without a will deleted the stored one');
});

t.test('after a restart, a persistent session found on disk by the start-up scan gets its queued command; a new clean device reads nothing', async (t) => {
  const h = await startBroker({ persistence: 'level' });
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const tablet = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'tablet', kind: 'tablet' });
  const kettle = await provisionDevice(h.store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
  const svc = await provisionService(h.store, 'watcher');
  const creds = { clientId: 'h1/tablet', username: tablet.username, password: tablet.secret, clean: false };
  const p1 = await connectWithInbox(h.url(), creds);
  await p1.client.subscribeAsync(commandTopic('h1', 'tablet'), { qos: 1 });
  await p1.client.endAsync();
  await until(() => h.broker.stats().clients === 0, 5000, 'the tablet gone');
  const sender = await connect(h.url(), { username: svc.username, password: svc.secret });
  const queued = h.broker.stats().sessionStoreQueued;
  await sender.publishAsync(commandTopic('h1', 'tablet'), 'while-down', { qos: 1 });
  await until(() => h.broker.stats().sessionStoreQueued > queued, 5000, 'the command queued for the offline session');
  await sender.endAsync();

  await h.restart({ persistence: 'level' });
  // The kettle has never logged in: its first clean login after the restart reads nothing.
  const before = h.broker.stats().laneLogins;
  await (await connect(h.url(), { clientId: 'h1/kettle', username: kettle.username, password: kettle.secret })).endAsync();
  t.equal(h.broker.stats().laneLogins - before, 1, 'the kettle\'s first login is served by the device lane: nothing read from LevelDB');
  // The tablet's session was found by the scan (its id URI-encoded in the keys): served from LevelDB.
  const p2 = await connectWithInbox(h.url(), creds);
  t.equal(p2.sessionPresent, true, 'the stored session is there after the restart');
  await p2.box.waitFor(1);
  t.same(p2.box.messages.map((m) => m.payload), ['while-down'], 'the command queued before the restart is delivered');
  await p2.client.endAsync();
});
