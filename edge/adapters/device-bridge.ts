/**
 * The device bridge: a bridge mode of the edge agent for a real home. It
 * subscribes to the home's own MQTT broker (the mosquitto that zigbee2mqtt,
 * Shelly and Tasmota publish to) and takes facts from the ECHONET Lite
 * poller, turns each mapped device's native messages into canonical events
 * and heartbeats, and hands them to that device's edge agent (disk queue,
 * per-device login) for the hub.
 *
 * Nothing is lost on the way: a message from the home broker is acknowledged
 * (PUBACK) only once its events are on the disk queue, and the bridge's
 * session is persistent, so QoS 1 messages published while the bridge is down
 * wait in the home broker; the disk queue covers the hub being away.
 * Devices the bridge sees but nobody mapped are listed, not dropped silently;
 * messages it cannot read are counted by reason and logged (topic and reason,
 * never the payload).
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { scheduleEvery, type Clock } from '../../core/clock.js';
import { MimamoriError } from '../../core/errors.js';
import type { DeviceEvent } from '../../core/events.js';
import { newId } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import { toLocalIso } from '../../core/time.js';
import type { EdgeAgent } from '../agent.js';
import { createHomeAgents, type HomeAgents } from '../home-agents.js';
import { mappedDeviceSchema, type DeviceMap, type Ecosystem, type MappedDevice } from './device-map.js';
import { deriveEvents, type RoleState } from './device-roles.js';
import { canonicalEchonetNative, createEchonetClient, echonetPort, type EchonetClient } from './echonet.js';
import type { AdaptRejectReason, AdaptResult, MqttAdapter } from './native-facts.js';
import { maxReportedUnmapped, sendBridgeReport, type DeliveredMapping } from './onboarding-report.js';
import { shellyAdapter } from './shelly.js';
import { tasmotaAdapter } from './tasmota.js';
import { zigbee2mqttAdapter } from './zigbee2mqtt.js';

export interface DeviceBridgeOptions {
  map: DeviceMap;
  /** The home broker zigbee2mqtt / Shelly / Tasmota publish to, e.g. `mqtt://127.0.0.1:1883`. Needed when such devices are mapped. */
  localUrl?: string;
  localUsername?: string;
  localPassword?: string;
  /** The hub's broker, as for the edge agent. */
  hubUrl: string;
  /**
   * The hub's web app (e.g. `https://hub.example.jp`): with the map's `bridge` login, the bridge reports the devices
   * nobody mapped there and takes the mappings the operator makes on the onboarding page (docs/devices.md).
   */
  webUrl?: string;
  ca?: string;
  /** Device secrets by mimamori device id, for devices whose map entry has no `secret`. */
  secrets?: Readonly<Record<string, string>>;
  /** Queues (`queues/{home}/{device}`) and the devices' remembered state (`role-state.json`). */
  stateDir: string;
  clock: Clock;
  logger: Logger;
  /** Passed to each device's agent (MQTT.js options towards the hub). */
  hubClientOptions?: Partial<mqtt.IClientOptions>;
  /** Passed to the home-broker client. */
  localClientOptions?: Partial<mqtt.IClientOptions>;
  /** Local UDP port for ECHONET Lite (default the map's port, 3610; 0 in tests). */
  echonetBindPort?: number;
}

/** Why a native message was not forwarded: the adapters' reasons, an unreadable ECHONET Lite datagram, or the device's disk queue refusing its events (e.g. a full disk). */
export type BridgeRejectReason = AdaptRejectReason | 'malformed_frame' | 'queue_failed';

export interface BridgeStats {
  /** Native messages from mapped devices (MQTT messages and ECHONET Lite reports). */
  received: number;
  events: number;
  heartbeats: number;
  /** Messages of mapped devices refused, by reason. */
  rejected: Partial<Record<BridgeRejectReason, number>>;
  /** Messages from devices nobody mapped. */
  unmapped: number;
  /** Facts a device's role had no use for (a kettle plug's temperature, a button action nobody mapped). */
  unusedFacts: number;
  /** Home-broker redeliveries of messages this bridge had already taken in (acknowledged again, nothing derived). */
  redelivered: number;
}

export interface BridgedDeviceStatus {
  device: string; adapter: Ecosystem; native: string; role: MappedDevice['role'];
  /** false after the device (or its ecosystem) said it went offline; undefined until it says anything about it. */
  online?: boolean;
  lastSeen?: number;
  battery?: number;
  messages: number;
  rejected: number;
}

export interface UnmappedDevice { adapter: Ecosystem; native: string; firstSeen: number; lastSeen: number; messages: number }

export interface DeviceBridge {
  stats(): BridgeStats;
  devices(): BridgedDeviceStatus[];
  /** Devices seen on the home broker (or answering ECHONET Lite discovery) that no map entry names, for the operator to map. */
  unmapped(): UnmappedDevice[];
  /**
   * Reads and forwards one native message of an ecosystem (the MQTT path and the ECHONET Lite poller use this).
   * Resolves false only when what it derived could not be queued for the hub (the device's remembered state is then left as it was).
   */
  accept(adapter: Ecosystem, native: string, result: AdaptResult, topic?: string): Promise<boolean>;
  /** Records a device the bridge found but nobody mapped. */
  sawUnmapped(adapter: Ecosystem, native: string): void;
  /** The local ECHONET Lite UDP port, when ECHONET Lite is on. */
  echonetPort(): number | undefined;
  /** True once subscribed to the home broker (always true without one). */
  localConnected(): boolean;
  /** Resolves once every message taken so far is handled (its events queued, or it was refused). */
  settled(): Promise<void>;
  /** Items queued for the hub and not yet acknowledged. */
  pending(): number;
  /** Resolves once the hub acknowledged everything queued so far. */
  drained(): Promise<void>;
  /**
   * Reports to the hub now (also done every `bridge.reportSeconds`, and at once when a new unmapped device appears)
   * and takes on the mappings it answers with. Resolves to how many devices it newly mapped, or why it could not report.
   */
  report(): Promise<{ mapped: number } | { error: string }>;
  close(): Promise<void>;
}

/** `heartbeatSent`: this device has had a heartbeat from this bridge run, so the hub judges it as a heartbeat device. */
interface Runtime { lastSentAt?: number; lastBattery?: number; heartbeatSent?: boolean; status: BridgedDeviceStatus }

/**
 * Starts the bridge for one home.
 *
 * @example
 * const bridge = await createDeviceBridge({ map: loadDeviceMap('devices.json'), localUrl: 'mqtt://127.0.0.1:1883',
 *   hubUrl: 'mqtts://hub.local:8883', ca: 'ca.pem', stateDir: 'data/bridge', clock: systemClock, logger });
 */
export async function createDeviceBridge(opts: DeviceBridgeOptions): Promise<DeviceBridge> {
  const { map, clock } = opts;
  const log = opts.logger.child({ component: 'device-bridge', home: map.home });
  const mqttAdapters: MqttAdapter[] = [zigbee2mqttAdapter(map.zigbee2mqttBaseTopic), tasmotaAdapter(), shellyAdapter()];
  if (!opts.localUrl && map.devices.some((d) => d.adapter !== 'echonet')) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'device bridge: zigbee2mqtt / Shelly / Tasmota devices are mapped but no home broker URL (localUrl) is given');
  // With a home broker the bridge listens even before anything is mapped: what it hears is listed for onboarding.
  const needsLocal = opts.localUrl !== undefined;
  const bridgeLogin = map.bridge && opts.webUrl ? { ...map.bridge, webUrl: opts.webUrl, secret: map.bridge.secret ?? opts.secrets?.[map.bridge.device] } : undefined;
  if (bridgeLogin && !bridgeLogin.secret) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `device bridge: no secret for the bridge's own login ${bridgeLogin.device} (put it in the map's "bridge" or pass it in secrets)`);

  const echonetDefaultPort = map.echonet?.port ?? echonetPort;
  const nativeKey = (adapter: Ecosystem, native: string) => `${adapter}\u0000${adapter === 'echonet' ? canonicalEchonetNative(native, echonetDefaultPort) : native}`;
  // Devices mapped on the operator's onboarding page are kept beside the map (the map file stays the installer's).
  mkdirSync(opts.stateDir, { recursive: true });
  const onboardedFile = join(opts.stateDir, 'onboarded.json');
  const onboarded: DeliveredMapping[] = readOnboarded(onboardedFile, log);
  const mappedDevices: MappedDevice[] = [...map.devices];
  for (const m of onboarded) {
    if (mappedDevices.some((d) => d.device === m.device || nativeKey(d.adapter, d.native) === nativeKey(m.adapter, m.native))) {
      log.warn({ device: m.device, adapter: m.adapter, native: m.native }, 'device bridge: a device mapped on the hub is also in the map file; the map file wins');
      continue;
    }
    mappedDevices.push(m);
  }

  const devices = mappedDevices.map((d) => {
    const secret = d.secret ?? opts.secrets?.[d.device];
    if (!secret) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `device bridge: no secret for device ${d.device} (put it in the map or pass it in secrets)`);
    return { device: d.device, secret };
  });
  const byNative = new Map(mappedDevices.map((d) => [nativeKey(d.adapter, d.native), d] as const));
  const statusOf = (d: MappedDevice): BridgedDeviceStatus => ({ device: d.device, adapter: d.adapter, native: d.native, role: d.role, messages: 0, rejected: 0 });
  const runtime = new Map<string, Runtime>(mappedDevices.map((d) => [d.device, { status: statusOf(d) }]));
  const unmapped = new Map<string, UnmappedDevice>();
  const stats: BridgeStats = { received: 0, events: 0, heartbeats: 0, rejected: {}, unmapped: 0, unusedFacts: 0, redelivered: 0 };
  /** Reports to the hub, one at a time. */
  let reporting: Promise<unknown> = Promise.resolve();
  let echonet: EchonetClient | undefined;

  const stateFile = join(opts.stateDir, 'role-state.json');
  const { devices: roleState, outbox, taken } = readRoleState(stateFile, log);
  const serialize = () => JSON.stringify({ version: 2, devices: roleState, outbox, taken } satisfies SavedState);
  let savedState = serialize();

  const agents: HomeAgents = await createHomeAgents({
    url: opts.hubUrl, home: map.home, devices, queueRoot: join(opts.stateDir, 'queues'), timezone: map.timezone, logger: opts.logger,
    ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.hubClientOptions ? { clientOptions: opts.hubClientOptions } : {}),
  });

  const count = (reason: BridgeRejectReason) => { stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1; };

  // Events a bridge killed mid-message had remembered but maybe not queued: queued now with the same ids,
  // so a copy that did reach the disk queue before the kill is dropped by the hub as a duplicate.
  for (const [device, events] of Object.entries(outbox)) {
    const agent = agents.agents.get(device);
    if (!agent) log.warn({ device, events: events.length }, 'device bridge: events of a device no longer mapped were left from the last run; dropped');
    for (const e of agent ? events : []) await agent?.publishEvent(e);
    delete outbox[device];
  }
  persistState();

  function sawUnmapped(adapter: Ecosystem, native: string): void {
    const key = nativeKey(adapter, native);
    const now = clock.now();
    stats.unmapped++;
    const seen = unmapped.get(key);
    if (seen) { seen.lastSeen = now; seen.messages++; return; }
    unmapped.set(key, { adapter, native, firstSeen: now, lastSeen: now, messages: 1 });
    log.warn({ adapter, native }, 'device bridge: a device nobody mapped is reporting; map it to a mimamori device (docs/devices.md)');
    if (bridgeLogin && !closing) void report(); // the operator sees it now, not at the next periodic report
  }

  async function accept(adapter: Ecosystem, native: string, result: AdaptResult, topic?: string, delivery?: Delivery): Promise<boolean> {
    const mapped = byNative.get(nativeKey(adapter, native));
    if (!mapped) { sawUnmapped(adapter, native); return true; }
    const rt = runtime.get(mapped.device) as Runtime;
    const now = clock.now();
    stats.received++;
    rt.status.messages++;
    if (!result.ok) {
      count(result.reason);
      rt.status.rejected++;
      log.warn({ adapter, device: mapped.device, topic, reason: result.reason, detail: result.detail }, 'device bridge: native message refused');
      return true;
    }
    // Derive on a copy: the device's state moves on only once its events are safely queued.
    const state = structuredClone(roleState[mapped.device] ?? {});
    const derived = deriveEvents(mapped, result.facts, state, now);
    stats.unusedFacts += derived.unused;
    if (derived.online !== undefined) {
      if (rt.status.online !== derived.online) log[derived.online ? 'info' : 'warn']({ device: mapped.device, adapter }, derived.online ? 'device bridge: device online' : 'device bridge: device offline (no heartbeats until it is back; the hub raises device health)');
      rt.status.online = derived.online;
    }
    if (derived.online === false) return true;
    if (derived.online === undefined && rt.status.online === false) rt.status.online = true; // it talks, so it is back
    rt.status.lastSeen = now;
    if (derived.battery !== undefined) rt.status.battery = derived.battery;
    const agent = agents.agents.get(mapped.device) as EdgeAgent;
    const ts = toLocalIso(now, map.timezone);
    const events = derived.events.map((body) => ({ ...body, id: `${mapped.device}-${newId(now)}`, ts }) as DeviceEvent);
    // The device's new state and its events (with their ids) reach the disk before the events are queued:
    // killed in between, the next run queues them again with the same ids (the hub drops a second copy),
    // and the home broker's redelivery of this message derives nothing new from the state it finds.
    const before = roleState[mapped.device];
    roleState[mapped.device] = state;
    if (events.length > 0) outbox[mapped.device] = events;
    if (delivery) remember(taken, delivery);
    persistState();
    let queued = 0;
    try {
      for (const e of events) {
        await agent.publishEvent(e);
        queued++;
        stats.events++;
      }
      const batteryMoved = derived.battery !== undefined && (rt.lastBattery === undefined || Math.abs(derived.battery - rt.lastBattery) >= 1);
      const due = rt.lastSentAt === undefined || now - rt.lastSentAt >= map.heartbeatMinutes * 60_000;
      // The first message also carries a heartbeat: the hub then knows the bridge keeps
      // this device alive (a device sending nothing for `afterMinutes` is a device-health
      // finding), instead of judging it as an event-only sensor that may be quiet for days.
      if (derived.events.length > 0 && !batteryMoved && rt.heartbeatSent) {
        rt.lastSentAt = now; // after that, an event is as good as a heartbeat for device health
      } else if (due || batteryMoved || derived.online === true || !rt.heartbeatSent) {
        const hb: { ts: string; battery?: number; rssi?: number } = { ts };
        if (derived.battery !== undefined) hb.battery = derived.battery;
        if (derived.rssi !== undefined) hb.rssi = derived.rssi;
        await agent.publishHeartbeat(hb);
        stats.heartbeats++;
        rt.heartbeatSent = true;
        rt.lastSentAt = now;
        if (derived.battery !== undefined) rt.lastBattery = derived.battery;
      }
    } catch (err) {
      count('queue_failed');
      log.error({ device: mapped.device, err: (err as Error).message }, 'device bridge: could not queue for the hub');
      if (queued < events.length) { // the change did not get through: the device's state stays as it was
        if (before === undefined) delete roleState[mapped.device];
        else roleState[mapped.device] = before;
      }
      delete outbox[mapped.device];
      persistState();
      return false;
    }
    if (events.length > 0) {
      delete outbox[mapped.device];
      persistState();
    }
    return true;
  }

  function persistState(): void {
    const text = serialize();
    if (text === savedState) return;
    const tmp = `${stateFile}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, stateFile);
    savedState = text;
  }

  // The home broker: a persistent session so QoS 1 messages wait for us, and each message is
  // acknowledged only after `accept` has put its events on disk (MQTT.js sends the PUBACK when handleMessage calls back).
  let local: MqttClient | undefined;
  let subscribed = !needsLocal;
  let closing = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  let inFlightEchonet: () => Promise<unknown> = () => Promise.resolve();
  if (needsLocal) {
    const client = mqtt.connect(opts.localUrl as string, {
      clientId: `mimamori-bridge-${map.home}`, clean: false, protocolVersion: 4, reconnectPeriod: 1000,
      ...(opts.localUsername ? { username: opts.localUsername, password: opts.localPassword ?? '' } : {}),
      ...opts.localClientOptions,
    });
    local = client;
    client.handleMessage = (packet, callback) => {
      const topic = packet.topic;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const adapter = mqttAdapters.find((a) => a.route(topic) !== undefined);
      const route = adapter?.route(topic);
      if (!adapter || !route) { callback(); return; }
      // While closing, a message is left unacknowledged: the home broker keeps it for our next session.
      if (closing) return;
      // A QoS 1 message sent again (DUP) under a packet id whose message this bridge already took in: our
      // PUBACK was lost (killed before the socket flushed it). Deriving again would send a second change,
      // since the device's state has moved on past it — acknowledge it and derive nothing.
      const delivery = packet.qos === 1 && packet.messageId !== undefined ? { id: packet.messageId, digest: digestOf(topic, payload) } : undefined;
      if (delivery && packet.dup && taken.some(([id, digest]) => id === delivery.id && digest === delivery.digest)) {
        stats.redelivered++;
        callback();
        return;
      }
      const handled = accept(adapter.name, route.native, adapter.read(route, payload), topic, delivery).then((stored) => {
        if (stored || !closing) callback();
      }, (err: unknown) => {
        log.error({ topic, err: (err as Error).message }, 'device bridge: message not handled');
        if (!closing) callback();
      });
      inFlight = handled;
    };
    client.on('connect', (connack) => {
      log.info({ sessionPresent: connack.sessionPresent }, 'device bridge: connected to the home broker');
      const filters = [...new Set(mqttAdapters.flatMap((a) => a.subscriptions))];
      client.subscribe(filters, { qos: 1 }, (err) => {
        if (err) log.error({ err: err.message }, 'device bridge: could not subscribe on the home broker');
        else subscribed = true;
      });
    });
    client.on('offline', () => { subscribed = false; log.warn('device bridge: home broker unreachable'); });
    client.on('error', (err) => log.warn({ err: err.message }, 'device bridge: home broker connection error'));
  }

  // ECHONET Lite: discovery, polling and notifications on UDP; reports are handled one at a time, in order.
  const echonetDevices = mappedDevices.filter((d) => d.adapter === 'echonet');
  if (echonetDevices.length > 0 || map.echonet) {
    let chain: Promise<unknown> = Promise.resolve();
    const settings = map.echonet ?? { addresses: [], port: echonetPort, multicast: true, pollSeconds: 60 };
    try {
      echonet = await createEchonetClient({
        bindPort: opts.echonetBindPort ?? settings.port, port: settings.port, addresses: settings.addresses, multicast: settings.multicast,
        pollSeconds: settings.pollSeconds, objects: echonetDevices.map((d) => d.native), clock, logger: opts.logger,
        onReport: (native, result) => { if (!closing) chain = chain.then(() => accept('echonet', native, result)); },
        onDiscovered: (native) => { if (!byNative.has(nativeKey('echonet', native)) && !native.endsWith('/0ef001')) sawUnmapped('echonet', native); },
        onMalformed: (from, detail) => { count('malformed_frame'); log.warn({ from, detail }, 'device bridge: unreadable ECHONET Lite datagram'); },
      });
    } catch (err) {
      await local?.endAsync(true);
      await agents.close();
      throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `device bridge: cannot open ECHONET Lite UDP port ${opts.echonetBindPort ?? settings.port}: ${(err as Error).message}`);
    }
    echonet.discover();
    echonet.poll();
    inFlightEchonet = () => chain;
  }

  /** Takes on one mapping made on the hub: an agent for the device, its messages forwarded from now on, kept across restarts. */
  async function takeMapping(m: DeliveredMapping): Promise<boolean> {
    const key = nativeKey(m.adapter, m.native);
    const same = byNative.get(key);
    if (same && same.device === m.device) return false; // already taken (the hub says it again until our report lists it)
    if (same || runtime.has(m.device)) {
      log.warn({ device: m.device, adapter: m.adapter, native: m.native }, 'device bridge: the hub mapped a device that clashes with one already mapped here; not taken');
      return false;
    }
    if (m.adapter !== 'echonet' && !local) {
      log.warn({ device: m.device, adapter: m.adapter }, 'device bridge: the hub mapped a zigbee2mqtt / Shelly / Tasmota device but this bridge has no home broker (--local); not taken');
      return false;
    }
    await agents.add({ device: m.device, secret: m.secret });
    onboarded.push(m);
    const tmp = `${onboardedFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(onboarded, null, 2), { mode: 0o600 }); // holds device secrets
    chmodSync(tmp, 0o600);
    renameSync(tmp, onboardedFile);
    byNative.set(key, m);
    runtime.set(m.device, { status: statusOf(m) });
    unmapped.delete(key);
    if (m.adapter === 'echonet') echonet?.addObject(m.native);
    log.info({ device: m.device, adapter: m.adapter, native: m.native, role: m.role }, 'device bridge: device mapped on the hub; forwarding it from now on');
    return true;
  }

  function report(): Promise<{ mapped: number } | { error: string }> {
    const run = async (): Promise<{ mapped: number } | { error: string }> => {
      if (!bridgeLogin) return { error: 'no bridge login or no hub web address: nothing to report to' };
      try {
        const list = [...unmapped.values()].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, maxReportedUnmapped);
        const mappings = await sendBridgeReport({
          webUrl: bridgeLogin.webUrl, home: map.home, device: bridgeLogin.device, secret: bridgeLogin.secret as string,
          report: { devices: [...runtime.keys()], unmapped: list.map((u) => ({ ...u })) },
        });
        let mapped = 0;
        for (const m of mappings) if (!closing && await takeMapping(m)) mapped++;
        return { mapped };
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'device bridge: could not report to the hub; trying again later');
        return { error: (err as Error).message };
      }
    };
    const next = reporting.then(run);
    reporting = next;
    return next;
  }
  const stopReporting = bridgeLogin ? scheduleEvery(clock, bridgeLogin.reportSeconds * 1000, () => { if (!closing) void report(); }) : () => undefined;
  if (bridgeLogin) void report();

  return {
    stats: () => ({ ...stats, rejected: { ...stats.rejected } }),
    devices: () => [...runtime.values()].map((r) => ({ ...r.status })),
    unmapped: () => [...unmapped.values()].map((u) => ({ ...u })),
    accept,
    sawUnmapped,
    echonetPort: () => echonet?.port(),
    localConnected: () => subscribed && (local?.connected ?? true),
    async settled() { await inFlight; await inFlightEchonet(); },
    pending: () => agents.pending(),
    drained: () => agents.drained(),
    report,
    async close() {
      if (closing) return;
      closing = true;
      stopReporting();
      await reporting;
      // Let the message in hand reach the disk queue and be acknowledged, then leave the home broker.
      await inFlight;
      if (local) await local.endAsync(!local.connected);
      if (echonet) await echonet.close();
      await inFlightEchonet();
      persistState();
      await agents.close();
    },
  };
}

/** The mappings taken from the hub earlier (each checked again: a damaged entry is skipped, not trusted). */
function readOnboarded(file: string, log: Logger): DeliveredMapping[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.error({ err: (err as Error).message }, 'device bridge: devices mapped on the hub unreadable; map them again on the hub');
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((v: unknown) => {
    const r = mappedDeviceSchema.safeParse(v);
    if (r.success && r.data.secret) return [r.data as DeliveredMapping];
    log.error({ entry: (v as { device?: unknown } | null)?.device }, 'device bridge: a device mapped on the hub is damaged in onboarded.json; skipped');
    return [];
  });
}

/**
 * `role-state.json`: each device's remembered state, the events of a message being queued (the outbox),
 * and the home broker's last QoS 1 deliveries taken in (`taken`: packet id and a digest of topic and
 * payload, newest last), written in the same file as the state they moved.
 */
interface SavedState { version: 2; devices: Record<string, RoleState>; outbox: Record<string, DeviceEvent[]>; taken?: [number, string][] }

/** A home-broker delivery: its packet id and what it carried. */
interface Delivery { id: number; digest: string }
/**
 * How many deliveries are remembered: more than a broker keeps in flight to one client (mosquitto's
 * default is 20). A packet id is only reused once its PUBACK arrived, so only the newest can come again.
 */
const takenKept = 64;

function digestOf(topic: string, payload: Buffer): string {
  return createHash('sha256').update(topic).update('\0').update(payload).digest('base64url').slice(0, 22);
}

/** Records `d` as taken in (a new message under a reused packet id replaces the old record). */
function remember(taken: [number, string][], d: Delivery): void {
  const at = taken.findIndex(([id]) => id === d.id);
  if (at >= 0) taken.splice(at, 1);
  taken.push([d.id, d.digest]);
  if (taken.length > takenKept) taken.splice(0, taken.length - takenKept);
}

function readRoleState(file: string, log: Logger): Required<Omit<SavedState, 'version'>> {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Partial<SavedState>;
      // Version 1 (before the outbox) was the device map alone.
      if (v.version !== 2) return { devices: value as Record<string, RoleState>, outbox: {}, taken: [] };
      const taken = Array.isArray(v.taken) ? v.taken.filter((x): x is [number, string] => Array.isArray(x) && typeof x[0] === 'number' && typeof x[1] === 'string') : [];
      return { devices: v.devices ?? {}, outbox: v.outbox ?? {}, taken };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { devices: {}, outbox: {}, taken: [] };
    log.warn({ err: (err as Error).message }, 'device bridge: remembered device state unreadable; starting afresh (a state may be sent again)');
  }
  return { devices: {}, outbox: {}, taken: [] };
}
