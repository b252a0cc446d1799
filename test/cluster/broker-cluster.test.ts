/**
 * Two aedes brokers in one process on two ports, sharing one real Redis
 * through the cluster options: one MQTT address space, real MQTT clients
 * over sockets.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import t, { type Test } from 'tap';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { createBrokerCluster } from '../../cluster/index.js';
import { Redis } from 'ioredis';
import { startRedis } from '../support/redis.js';
import { until } from '../support/wait.js';

/** An aedes broker on a free loopback port with the cluster options; closed at teardown. */
async function startNode(t: Test, redisUrl: string, nodeId: string): Promise<string> {
  const cluster = await createBrokerCluster({ redisUrl, nodeId });
  const aedes = await Aedes.createBroker({ ...cluster.aedesOptions });
  const server: Server = createServer((socket) => aedes.handle(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await cluster.close();
  });
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function client(t: Test, url: string, clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId, reconnectPeriod: 0, connectTimeout: 10_000 });
  t.teardown(() => c.endAsync(true));
  return c;
}

/** Resolves with the next `n` messages `c` receives (bounded). */
function nextMessages(c: MqttClient, n: number, ms = 10_000): Promise<{ topic: string; payload: string; retain: boolean }[]> {
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { c.off('message', on); reject(new Error(`got ${got.length} of ${n} messages: ${JSON.stringify(got)}`)); }, ms);
    function on(topic: string, payload: Buffer, packet: { retain: boolean }) {
      got.push({ topic, payload: payload.toString(), retain: packet.retain });
      if (got.length === n) { clearTimeout(timer); c.off('message', on); resolve(got); }
    }
    c.on('message', on);
  });
}

t.test('a device on broker A gets what is published on broker B; a retained message is seen from either', async (t) => {
  const redis = await startRedis(t);
  const brokerA = await startNode(t, redis.url, 'node-a');
  const brokerB = await startNode(t, redis.url, 'node-b');
  t.not(brokerA, brokerB);

  const device = await client(t, brokerA, 'device-on-a');
  await device.subscribeAsync('mimamori/test/home-1/prompt', { qos: 1 });
  const publisher = await client(t, brokerB, 'service-on-b');
  const arriving = nextMessages(device, 3);
  for (const payload of ['first', 'second', 'third']) await publisher.publishAsync('mimamori/test/home-1/prompt', payload, { qos: 1 });
  t.same((await arriving).map((m) => `${m.topic} ${m.payload} ${m.retain}`), [
    'mimamori/test/home-1/prompt first false', 'mimamori/test/home-1/prompt second false', 'mimamori/test/home-1/prompt third false',
  ], 'the messages crossed from B to A once each (no duplicate before the third), in order');

  // A retained message stored through B is in the shared persistence: a new subscriber on A or B gets it.
  await publisher.publishAsync('mimamori/test/home-1/config', 'v1', { qos: 1, retain: true });
  for (const [where, url] of [['A', brokerA], ['B', brokerB]] as const) {
    const late = await client(t, url, `late-on-${where}`);
    const retained = nextMessages(late, 1);
    await late.subscribeAsync('mimamori/test/+/config', { qos: 1 });
    t.same(await retained, [{ topic: 'mimamori/test/home-1/config', payload: 'v1', retain: true }], `the retained message is seen from broker ${where}`);
  }
});

t.test('a device with a persistent session may come back on the other broker: what was queued meanwhile is delivered there', async (t) => {
  const redis = await startRedis(t);
  const brokerA = await startNode(t, redis.url, 'node-a');
  const brokerB = await startNode(t, redis.url, 'node-b');
  const tablet = await mqtt.connectAsync(brokerA, { clientId: 'tablet-h1', clean: false, reconnectPeriod: 0 });
  await tablet.subscribeAsync('mimamori/test/home-1/prompt', { qos: 1 });
  await tablet.endAsync();

  const publisher = await client(t, brokerB, 'service-on-b');
  for (const payload of ['while-away-1', 'while-away-2']) await publisher.publishAsync('mimamori/test/home-1/prompt', payload, { qos: 1 });
  // aedes acknowledges a QoS 1 publish before it queues it for the offline session: wait until both
  // are in the shared persistence's queue (aedes-persistence-redis: the list `outgoing:<client id>`),
  // or the tablet could come back between the PUBACK and the write (a CI run got 1 of 2).
  const probe = new Redis(redis.url);
  t.teardown(() => probe.quit());
  await until(async () => (await probe.llen('outgoing:tablet-h1')) === 2, 10_000, 'both messages queued in Redis');

  const back = mqtt.connect(brokerB, { clientId: 'tablet-h1', clean: false, reconnectPeriod: 0 });
  t.teardown(() => back.endAsync(true));
  const queued = nextMessages(back, 2);
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => { back.once('connect', resolve); back.once('error', reject); });
  t.equal(connack.sessionPresent, true, 'broker B knows the session broker A started');
  t.same((await queued).map((m) => m.payload), ['while-away-1', 'while-away-2'], 'both queued messages delivered on broker B, in order');
});
