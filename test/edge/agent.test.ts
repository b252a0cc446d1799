/**
 * The store-and-forward agent against a real MQTT broker (aedes on a
 * loopback port): hub down, hub restarting mid-stream, agent restarting.
 */
import { freePort, hangGuardMs, tempDir, until } from '../support/wait.js';
import net, { type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import t from 'tap';
import { parseDeviceEvent, parseHeartbeat, type DeviceEvent } from '../../core/events.js';
import { silentLogger } from '../../core/logger.js';
import { parseDeviceTopic } from '../../core/topics.js';
import { createEdgeAgent, type EdgeAgent, type EdgeAgentOptions } from '../../edge/agent.js';
import { createHomeAgents } from '../../edge/home-agents.js';
import { simulate } from '../../edge/simulator.js';

interface Received { topic: string; payload: string; username: string }
interface Broker { port: number; logins: string[]; close(): Promise<void> }

/** aedes on 127.0.0.1:`port`, accepting `{home}/{device}` with the matching secret, recording every publish. */
async function startBroker(port: number, received: Received[], secrets: Map<string, string>, admitted: () => boolean = () => true): Promise<Broker> {
  const logins: string[] = [];
  const aedes = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      // The hub's gate while its ingest is away: CONNACK 3, "server unavailable" (MQTT-3.2.2-6).
      if (!admitted()) { done(Object.assign(new Error('server unavailable'), { returnCode: 3 }) as Parameters<typeof done>[0], false); return; }
      const ok = username !== undefined && secrets.get(username) === password?.toString();
      if (ok) { logins.push(username as string); (client as unknown as { user: string }).user = username as string; }
      done(null, ok);
    },
  });
  aedes.on('publish', (packet, client) => {
    if (client) received.push({ topic: packet.topic, payload: packet.payload.toString(), username: (client as unknown as { user: string }).user });
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
  return {
    port: (server.address() as AddressInfo).port,
    logins,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

async function bounded<T>(what: string, p: Promise<T>, ms = hangGuardMs): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); });
  try { return await Promise.race([p, timeout]); } finally { clearTimeout(timer); }
}

const home = 'h1', device = 'power-meter', secret = 'device-secret-1';
const secrets = new Map([[`${home}/${device}`, secret]]);
const event = (i: number): DeviceEvent => ({ id: `p-${i}`, ts: new Date(Date.UTC(2026, 0, 5, 0, i)).toISOString(), kind: 'power', watts: 100 + i });
const fastReconnect = { clientOptions: { reconnectPeriod: 50, connectTimeout: 2000 }, maxReconnectMs: 200 };

function agentOptions(port: number, queueDir: string, extra: Partial<EdgeAgentOptions> = {}): EdgeAgentOptions {
  return { url: `mqtt://127.0.0.1:${port}`, home, device, secret, queueDir, logger: silentLogger(), ...fastReconnect, ...extra };
}

/**
 * aedes emits 'publish' for its own listeners a moment after it sent the
 * PUBACK, so give the last few a bounded moment to show up before counting.
 */
async function settle(what: () => number, expected: number): Promise<void> {
  await until(() => what() >= expected, 5000, `${expected} received`).catch(() => undefined);
}

/** Ids of the events received, and how many copies arrived in all. */
function eventIds(received: Received[]): { unique: Set<string>; copies: number } {
  const events = received.filter((r) => parseDeviceTopic(r.topic)?.channel === 'events');
  return { unique: new Set(events.map((r) => (JSON.parse(r.payload) as { id: string }).id)), copies: events.length };
}

t.test('200 events queued while the hub is down all arrive once it starts; the queue drains to 0', async (t) => {
  const dir = tempDir(t, 'mimamori-agent-');
  const port = await freePort();
  const agent = await createEdgeAgent(agentOptions(port, dir));
  t.teardown(() => agent.close());
  for (let i = 0; i < 200; i++) await agent.publishEvent(event(i));
  t.equal(agent.pending(), 200, 'all on disk');
  t.notOk(agent.connected());

  const received: Received[] = [];
  const broker = await startBroker(port, received, secrets);
  t.teardown(() => broker.close());
  await bounded('drain', agent.drained());
  t.equal(agent.pending(), 0);
  await settle(() => eventIds(received).unique.size, 200);
  const { unique } = eventIds(received);
  t.equal(unique.size, 200, 'every event arrived (after de-duplication by id)');
  t.same([...unique].sort(), Array.from({ length: 200 }, (_, i) => `p-${i}`).sort());
  t.ok(broker.logins.every((u) => u === `${home}/${device}`), 'authenticated as {home}/{device} with the device secret');
  for (const r of received) {
    t.equal(r.topic, `mimamori/v1/homes/${home}/devices/${device}/events`);
    if (!parseDeviceEvent(r.payload).ok) t.fail(`payload does not validate: ${r.payload}`);
  }
});

t.test('the hub stops mid-stream and comes back: nothing is lost', async (t) => {
  const dir = tempDir(t, 'mimamori-agent-');
  const received: Received[] = [];
  let broker = await startBroker(0, received, secrets);
  const port = broker.port;
  t.teardown(() => broker.close());
  const agent = await createEdgeAgent(agentOptions(port, dir));
  t.teardown(() => agent.close());
  await until(() => agent.connected(), 20_000, 'connect');

  const total = 300;
  let i = 0;
  for (; i < 100; i++) await agent.publishEvent(event(i));
  await until(() => received.length >= 50, 20_000, 'some deliveries');
  await broker.close();
  await until(() => !agent.connected(), 20_000, 'agent notices');
  for (; i < total; i++) await agent.publishEvent(event(i));
  t.ok(agent.pending() > 0, `${agent.pending()} waiting on disk while the hub is down`);

  broker = await startBroker(port, received, secrets);
  await bounded('drain', agent.drained());
  await settle(() => eventIds(received).unique.size, total);
  const { unique, copies } = eventIds(received);
  t.equal(unique.size, total, 'every event arrived');
  t.ok(copies >= total, `${copies - total} duplicate(s), dropped by the hub by id`);
  t.equal(agent.pending(), 0);
});

t.test('an agent restart resends what was not acknowledged, and only that', async (t) => {
  const dir = tempDir(t, 'mimamori-agent-');
  const received: Received[] = [];
  let broker = await startBroker(0, received, secrets);
  const port = broker.port;
  t.teardown(() => broker.close());

  const first = await createEdgeAgent(agentOptions(port, dir));
  for (let i = 0; i < 20; i++) await first.publishEvent(event(i));
  await bounded('first drain', first.drained());
  await settle(() => received.length, 20);
  await broker.close();
  await until(() => !first.connected(), 20_000, 'agent notices');
  for (let i = 20; i < 50; i++) await first.publishEvent(event(i));
  await first.publishHeartbeat({ ts: '2026-01-05T09:00:00+09:00', battery: 87 });
  await first.close(); // the process "dies" with 31 items unacknowledged
  await t.rejects(first.publishEvent(event(99)), { code: 'MIMAMORI_ERR_UNAVAILABLE' }, 'a closed agent refuses work');

  const before = received.length;
  broker = await startBroker(port, received, secrets);
  const second: EdgeAgent = await createEdgeAgent(agentOptions(port, dir));
  t.teardown(() => second.close());
  t.equal(second.pending(), 31, 'the restarted agent found the unacknowledged items on disk');
  await bounded('second drain', second.drained());
  await settle(() => received.length - before, 31);
  const resent = received.slice(before);
  const resentIds = new Set(resent.filter((r) => r.topic.endsWith('/events')).map((r) => (JSON.parse(r.payload) as { id: string }).id));
  t.same([...resentIds].sort(), Array.from({ length: 30 }, (_, i) => `p-${i + 20}`).sort(), 'only the unacknowledged events were resent');
  const hb = resent.filter((r) => r.topic.endsWith('/heartbeat'));
  t.equal(hb.length, 1, 'the heartbeat too');
  t.ok(parseHeartbeat(hb[0]?.payload ?? '').ok);
  t.equal(eventIds(received).unique.size, 50);
});

t.test('invalid events and heartbeats are refused before they reach the queue', async (t) => {
  const dir = tempDir(t, 'mimamori-agent-');
  const agent = await createEdgeAgent(agentOptions(await freePort(), dir));
  t.teardown(() => agent.close());
  await t.rejects(agent.publishEvent({ id: 'x', ts: 'yesterday', kind: 'power', watts: 1 } as DeviceEvent), { code: 'MIMAMORI_ERR_INVALID_INPUT' });
  await t.rejects(agent.publishEvent({ id: 'x', ts: '2026-01-05T09:00:00+09:00', kind: 'toaster' } as unknown as DeviceEvent), { code: 'MIMAMORI_ERR_INVALID_INPUT' });
  await t.rejects(agent.publishHeartbeat({ ts: '2026-01-05T09:00:00+09:00', battery: 140 }), { code: 'MIMAMORI_ERR_INVALID_INPUT' });
  t.equal(agent.pending(), 0);
  await t.rejects(createEdgeAgent({ ...agentOptions(1, dir), home: 'Not An Id' }), { code: 'MIMAMORI_ERR_CONFIG' });
});

t.test('a hub answering "server unavailable" (CONNACK 3) is tried again until it lets the device in', async (t) => {
  const dir = tempDir(t, 'mimamori-agent-');
  const received: Received[] = [];
  let refused = 0;
  const broker = await startBroker(0, received, secrets, () => refused++ >= 3);
  t.teardown(() => broker.close());
  const agent = await createEdgeAgent(agentOptions(broker.port, dir));
  t.teardown(() => agent.close());
  await agent.publishEvent(event(1));
  await bounded('the queue to drain after three refusals', until(() => agent.pending() === 0, 20_000, 'drained'));
  t.equal(refused, 4, 'refused three times, let in on the fourth');
  t.equal(broker.logins.length, 1);
  await settle(() => eventIds(received).copies, 1);
  t.same([...eventIds(received).unique], ['p-1'], 'the queued event arrived');
});

t.test('a wrong secret never gets in; items stay queued', async (t) => {
  const dir = tempDir(t, 'mimamori-agent-');
  const received: Received[] = [];
  const broker = await startBroker(0, received, secrets);
  t.teardown(() => broker.close());
  const agent = await createEdgeAgent({ ...agentOptions(broker.port, dir), secret: 'wrong' });
  t.teardown(() => agent.close());
  await agent.publishEvent(event(1));
  await new Promise((r) => setTimeout(r, 300)); // a few refused connection attempts
  t.notOk(agent.connected());
  t.equal(agent.pending(), 1);
  t.equal(received.length, 0);
});

t.test('createHomeAgents: one agent per device feeds a simulated home-day into the hub', async (t) => {
  const dir = tempDir(t, 'mimamori-agent-');
  const sim = simulate({ seed: 3, homes: 1, start: '2026-01-05T06:00:00+09:00', days: 0.25, heartbeatMinutes: 60 });
  const deviceSecrets = sim.devices.map((d) => ({ device: d.device, secret: `s-${d.device}` }));
  const received: Received[] = [];
  const broker = await startBroker(0, received, new Map(deviceSecrets.map((d) => [`home-01/${d.device}`, d.secret])));
  t.teardown(() => broker.close());
  const agents = await createHomeAgents({ url: `mqtt://127.0.0.1:${broker.port}`, home: 'home-01', devices: deviceSecrets, queueRoot: dir, logger: silentLogger(), clientOptions: { reconnectPeriod: 50 } });
  t.teardown(() => agents.close());
  for (const r of sim.readings) await agents.publishReading(r);
  await bounded('home drain', agents.drained());
  t.equal(agents.pending(), 0);
  await until(() => agents.connected(), 20_000, 'all connected');
  await settle(() => received.length, sim.readings.length);
  t.equal(received.length, sim.readings.length, 'every reading arrived once');
  for (const r of received) {
    const topic = parseDeviceTopic(r.topic);
    if (!topic || r.username !== `${topic.home}/${topic.device}`) t.fail(`${r.topic} published by ${r.username}`);
  }
  await t.rejects(agents.publishReading({ ...sim.readings[0]!, device: 'toaster' }), { code: 'MIMAMORI_ERR_NOT_FOUND' });
});
