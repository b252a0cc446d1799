/**
 * The device lane (broker/device-lane.ts): clean-session devices without a
 * will are served by the broker's own lean connection instead of aedes's
 * client. Spoken to over real sockets with hand-made packets, so the wire
 * is what is checked: PUBACK order and timing, QoS 2, commands and retained
 * commands, takeover, malformed input, keep-alive, and the hand-off of
 * everything else to aedes.
 */
import t from 'tap';
import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { commandTopic, eventTopic } from '../../core/topics.js';
import { provisionDevice, provisionService } from '../../broker/device-credentials.js';
import { connect, inbox, startBroker, ts, until, type Harness } from './helpers.js';

const event = (id: string) => JSON.stringify({ id, ts, kind: 'power', watts: 100 });

/** A raw MQTT connection: packets written as given, packets read as parsed. */
function raw(port: number): Promise<{ socket: Socket; send(...p: Packet[]): void; next(ms?: number): Promise<Packet>; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const got: Packet[] = [];
    const waiting: Array<(p: Packet) => void> = [];
    parser.on('packet', (p: Packet) => { const w = waiting.shift(); if (w) w(p); else got.push(p); });
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({
      socket, closed,
      send: (...p) => socket.write(Buffer.concat(p.map((x) => mqttPacket.generate(x)))),
      next: (ms = 5000) => {
        const p = got.shift();
        if (p) return Promise.resolve(p);
        return new Promise((res, rej) => {
          const take = (x: Packet) => { clearTimeout(timer); res(x); };
          const timer = setTimeout(() => { waiting.splice(waiting.indexOf(take), 1); rej(new Error('no packet in time')); }, ms);
          waiting.push(take);
        });
      },
    }));
    socket.once('error', reject);
  });
}

const connectPacket = (creds: { username: string; secret: string }, more: Partial<Packet & { keepalive: number; clean: boolean }> = {}) =>
  ({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: creds.username, clean: true, keepalive: 60, username: creds.username, password: Buffer.from(creds.secret), ...more }) as Packet;

async function device(h: Harness, id: string) {
  return provisionDevice(h.store, { homeId: 'h1', deviceId: id, kind: 'power' });
}

t.test('publishes of one read: nothing acknowledged before the hub has it, PUBACKs in the order sent', async (t) => {
  const h = await startBroker({ requireIngest: true });
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const meter = await device(h, 'meter');
  const held: Array<{ release: () => void }> = [];
  h.broker.attachIngest(() => new Promise<void>((resolve) => { held.push({ release: resolve }); }));

  const c = await raw(h.broker.ports.tcp);
  const lane = h.broker.stats().laneLogins;
  c.send(connectPacket(meter));
  t.match(await c.next(), { cmd: 'connack', returnCode: 0 }, 'logged in');
  t.equal(h.broker.stats().laneLogins, lane + 1, 'on the device lane');
  // Three QoS 1 publishes and a ping in one write.
  c.send(...[1, 2, 3].map((n) => ({ cmd: 'publish', topic: eventTopic('h1', 'meter'), payload: event(`e${n}`), qos: 1, messageId: n, retain: false, dup: false }) as Packet), { cmd: 'pingreq' } as Packet);
  await until(() => held.length === 3, 5000, 'the ingest to get all three');
  // A second read while the first waits: the hub takes it too (pipelining), its answer waits its turn.
  c.send({ cmd: 'publish', topic: eventTopic('h1', 'meter'), payload: event('e4'), qos: 1, messageId: 4, retain: false, dup: false } as Packet);
  await until(() => held.length === 4, 5000, 'the ingest to get the fourth while the first three wait');
  await t.rejects(c.next(200), /no packet/, 'no PUBACK (nor the PINGRESP behind them) while the ingest holds them');
  held[3]!.release();
  held[1]!.release();
  held[2]!.release();
  await t.rejects(c.next(200), /no packet/, 'still nothing while the first of the read waits');
  held[0]!.release();
  const answers = [await c.next(), await c.next(), await c.next(), await c.next(), await c.next()];
  t.same(answers.map((p) => (p.cmd === 'puback' ? `puback ${p.messageId}` : p.cmd)), ['puback 1', 'puback 2', 'puback 3', 'pingresp', 'puback 4'], 'answered in the order sent');
  c.socket.destroy();
});

t.test('QoS 2: PUBREC once the hub has it, a resend before PUBREL is not handed on twice, PUBCOMP', async (t) => {
  const h = await startBroker({ requireIngest: true });
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const button = await device(h, 'button');
  const got: string[] = [];
  h.broker.attachIngest(async (_topic, payload) => { got.push(payload.toString()); });
  const c = await raw(h.broker.ports.tcp);
  c.send(connectPacket(button));
  t.match(await c.next(), { cmd: 'connack', returnCode: 0 });
  const pub = { cmd: 'publish', topic: eventTopic('h1', 'button'), payload: event('help-1'), qos: 2, messageId: 7, retain: false, dup: false } as Packet;
  c.send(pub);
  t.match(await c.next(), { cmd: 'pubrec', messageId: 7 });
  c.send({ ...pub, dup: true } as Packet);
  t.match(await c.next(), { cmd: 'pubrec', messageId: 7 }, 'the resend is answered');
  c.send({ cmd: 'pubrel', messageId: 7 } as Packet);
  t.match(await c.next(), { cmd: 'pubcomp', messageId: 7 });
  t.equal(got.length, 1, 'handed to the ingest once');
  c.socket.destroy();
});

t.test('commands: a lane device subscribes to its own commands, gets retained and live ones; other topics refused', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const plug = await device(h, 'plug');
  const svc = await provisionService(h.store, 'commands');
  const sender = await connect(h.url(), { username: svc.username, password: svc.secret });
  await sender.publishAsync(commandTopic('h1', 'plug'), 'retained-off', { qos: 1, retain: true });

  const c = await raw(h.broker.ports.tcp);
  c.send(connectPacket(plug));
  t.match(await c.next(), { cmd: 'connack', returnCode: 0 });
  c.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: commandTopic('h1', 'plug'), qos: 1 }, { topic: commandTopic('h1', 'kettle'), qos: 1 }] } as Packet);
  t.match(await c.next(), { cmd: 'suback', messageId: 3, granted: [1, 128] }, 'own commands granted, another device\'s refused');
  const retained = await c.next();
  t.match(retained, { cmd: 'publish', topic: commandTopic('h1', 'plug'), retain: true, qos: 1 }, 'the retained command follows the SUBACK');
  t.equal((retained as { payload: Buffer }).payload.toString(), 'retained-off');
  c.send({ cmd: 'puback', messageId: (retained as { messageId: number }).messageId } as Packet);
  await sender.publishAsync(commandTopic('h1', 'plug'), 'on', { qos: 1 });
  const live = await c.next();
  t.match(live, { cmd: 'publish', topic: commandTopic('h1', 'plug'), retain: false, qos: 1 }, 'a live command at QoS 1');
  t.equal((live as { payload: Buffer }).payload.toString(), 'on');
  t.not((live as { messageId: number }).messageId, (retained as { messageId: number }).messageId, 'a fresh message id');
  c.send({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: [commandTopic('h1', 'plug')] } as Packet);
  t.match(await c.next(), { cmd: 'unsuback', messageId: 4 });
  await sender.publishAsync(commandTopic('h1', 'plug'), 'after', { qos: 1 });
  await t.rejects(c.next(300), /no packet/, 'nothing after UNSUBSCRIBE');
  c.socket.destroy();
});

t.test('one id, one connection: a second login takes over; a persistent session or a will goes to aedes', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const door = await device(h, 'door');
  const first = await raw(h.broker.ports.tcp);
  first.send(connectPacket(door));
  t.match(await first.next(), { cmd: 'connack', returnCode: 0 });
  const second = await raw(h.broker.ports.tcp);
  second.send(connectPacket(door));
  t.match(await second.next(), { cmd: 'connack', returnCode: 0 });
  await first.closed;
  t.pass('the first connection was closed when the same id logged in again');
  t.equal(h.broker.stats().clients, 1, 'one client');

  // With a will: aedes serves it, and the lane device with the same id gives way.
  const lane = h.broker.stats().laneLogins;
  const withWill = await raw(h.broker.ports.tcp);
  withWill.send(connectPacket(door, { will: { topic: eventTopic('h1', 'door'), payload: Buffer.from(event('gone')), qos: 0, retain: false } } as never));
  t.match(await withWill.next(), { cmd: 'connack', returnCode: 0 }, 'the login with a will is accepted');
  await second.closed;
  t.equal(h.broker.stats().laneLogins, lane, 'not on the lane');
  withWill.socket.destroy();

  // What came in the same read as a handed-off CONNECT reaches aedes once.
  const pipelined = await raw(h.broker.ports.tcp);
  pipelined.socket.write(Buffer.concat([
    mqttPacket.generate(connectPacket(door, { will: { topic: eventTopic('h1', 'door'), payload: Buffer.from(event('gone')), qos: 0, retain: false } } as never)),
    mqttPacket.generate({ cmd: 'pingreq' } as Packet),
  ]));
  t.match(await pipelined.next(), { cmd: 'connack', returnCode: 0 });
  t.match(await pipelined.next(), { cmd: 'pingresp' }, 'the ping behind the CONNECT is answered');
  await t.rejects(pipelined.next(300), /no packet/, 'once');
  pipelined.socket.destroy();

  // A persistent session is aedes's too; the next clean login goes to aedes as well, to discard it.
  const persistent = await connect(h.url(), { clientId: 'h1/door', username: door.username, password: door.secret, clean: false });
  await persistent.endAsync();
  const clean = await raw(h.broker.ports.tcp);
  clean.send(connectPacket(door));
  t.match(await clean.next(), { cmd: 'connack', returnCode: 0, sessionPresent: false }, 'the clean login discards the session');
  t.equal(h.broker.stats().laneLogins, lane, 'served by aedes');
  clean.socket.destroy();
  await until(() => h.broker.stats().clients === 0, 5000, 'everyone gone');
  const again = await raw(h.broker.ports.tcp);
  again.send(connectPacket(door));
  t.match(await again.next(), { cmd: 'connack', returnCode: 0 });
  t.equal(h.broker.stats().laneLogins, lane + 1, 'with the session gone, the lane again');
  again.socket.destroy();
});

t.test('bad input closes only its own connection; wrong passwords are refused and counted', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const tv = await device(h, 'tv');
  const meter = await device(h, 'meter');
  const good = await connect(h.url(), { clientId: 'h1/meter', username: meter.username, password: meter.secret });

  const wrong = await raw(h.broker.ports.tcp);
  wrong.send(connectPacket({ username: tv.username, secret: 'not-the-secret' }));
  t.match(await wrong.next(), { cmd: 'connack', returnCode: 4 }, 'bad username or password');
  await wrong.closed;
  t.equal(h.broker.stats().authFailures, 1, 'counted for the lockout');

  for (const garbage of [
    Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), // a remaining length of five bytes
    Buffer.from([0x30, 0x03, 0x00, 0x05, 0x61]), // a topic longer than its packet
    Buffer.from([0x36, 0x02, 0x00, 0x00]), // QoS 3
    Buffer.from([0x10, 0x02, 0x00, 0x00]), // a second CONNECT
    Buffer.from([0x30, 0x05, 0x00, 0x03, 0xc3, 0x28, 0x61]), // a topic that is not UTF-8
  ]) {
    const c = await raw(h.broker.ports.tcp);
    c.send(connectPacket(tv));
    t.match(await c.next(), { cmd: 'connack', returnCode: 0 });
    c.socket.write(garbage);
    await c.closed;
    t.pass(`closed after ${garbage.toString('hex')}`);
  }
  t.equal(good.connected, true, 'the other device is still connected');
  await good.publishAsync(eventTopic('h1', 'meter'), event('still-here'), { qos: 1 });
  t.pass('and still heard');

  // Publishing to someone else's topic closes the connection (no negative PUBACK in 3.1.1).
  const denials = h.broker.stats().aclDenials.publish;
  const c = await raw(h.broker.ports.tcp);
  c.send(connectPacket(tv));
  t.match(await c.next(), { cmd: 'connack', returnCode: 0 });
  c.send({ cmd: 'publish', topic: eventTopic('h1', 'meter'), payload: event('x'), qos: 1, messageId: 1, retain: false, dup: false } as Packet);
  await c.closed;
  t.equal(h.broker.stats().aclDenials.publish, denials + 1, 'refused and counted');
});

t.test('keep-alive: a device silent for 1.5 × its keep-alive is closed', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const tv = await device(h, 'tv');
  const c = await raw(h.broker.ports.tcp);
  c.send(connectPacket(tv, { keepalive: 1 }));
  t.match(await c.next(), { cmd: 'connack', returnCode: 0 });
  const opened = Date.now();
  await c.closed;
  const after = Date.now() - opened;
  t.ok(after >= 1400 && after < 4000, `closed after ${after} ms (keep-alive 1 s, checked every second)`);
});

t.test('a retained flag from a device is dropped; subscribers still get the message', async (t) => {
  const h = await startBroker();
  t.teardown(() => h.close());
  await h.store.createHome({ id: 'h1', name: 'home one', timezone: 'Asia/Tokyo' });
  const tv = await device(h, 'tv');
  const svc = await provisionService(h.store, 'watcher');
  const watcher = await connect(h.url(), { username: svc.username, password: svc.secret });
  const box = inbox(watcher);
  await watcher.subscribeAsync(eventTopic('h1', 'tv'), { qos: 1 });
  const c = await raw(h.broker.ports.tcp);
  c.send(connectPacket(tv));
  t.match(await c.next(), { cmd: 'connack', returnCode: 0 });
  c.send({ cmd: 'publish', topic: eventTopic('h1', 'tv'), payload: event('r1'), qos: 1, messageId: 9, retain: true, dup: false } as Packet);
  t.match(await c.next(), { cmd: 'puback', messageId: 9 });
  await box.waitFor(1);
  t.equal(h.broker.stats().retainStripped, 1, 'the flag was removed');
  const late = await connect(h.url(), { username: svc.username, password: svc.secret });
  const lateBox = inbox(late);
  await late.subscribeAsync(eventTopic('h1', 'tv'), { qos: 1 });
  await t.rejects(lateBox.waitFor(1, 300), 'nothing retained for a later subscriber');
  c.socket.destroy();
});
