/**
 * The hub's MQTT broker (aedes 1.x, MQTT 3.1.1): TCP, TLS and WebSocket
 * listeners; store-backed device and service logins with a login throttle
 * per (client id, address); a topic ACL; a packet size limit; no retained
 * device messages; and optional on-disk session persistence so the hub's
 * ingest keeps its QoS 1 messages across a restart.
 */
import { mkdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Aedes, type AedesOptions, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { Level } from 'level';
import type { SchedulerLike } from 'rxjs';
import { z } from 'zod';
import { systemClock } from '../core/clock.js';
import { createLogLimiter } from '../core/log-limiter.js';
import { MimamoriError } from '../core/errors.js';
import { afterDelay, createLoginThrottle, type LoginThrottlePort } from '../core/login-throttle.js';
import type { Logger } from '../core/logger.js';
import type { DeviceStore } from '../core/store.js';
import { checkClientId } from './client-id-policy.js';
import { DeviceLane, type LaneClient } from './device-lane.js';
import type { DevicePublishSink } from './ingest.js';
import type { Identity } from './device-credentials.js';
import { openListeners } from './listeners.js';
import { createLoginCheck } from './login-check.js';
import { CleanSessionShortcut, type AedesPersistence } from './session-store.js';
import { loadOrCreateTls } from './tls.js';
import { canPublish, canSubscribe } from './topic-acl.js';

export { deviceUsername, hashSecret, provisionDevice, provisionService, rotateDeviceSecret, serviceUsername, verifySecret } from './device-credentials.js';
export { createIngest, type Ingest, type IngestStats } from './ingest.js';
export { createInboxReader, type InboxReader, type InboxReaderStats } from './ingest-inbox.js';

export interface BrokerOptions {
  host: string;
  tcpPort: number;
  tlsPort: number;
  wsPort: number;
  tlsKeyFile?: string | undefined;
  tlsCertFile?: string | undefined;
  maxPacketSize: number;
  /**
   * Login throttle per (client id, source address), see core/login-throttle.ts:
   * `maxFailures` failures, then back-off from `lockMs` doubling to `maxLockMs`;
   * past `addressMaxFailures` failures an address's attempts are delayed, not refused.
   */
  lockout: {
    maxFailures: number; windowMs: number; lockMs: number;
    maxLockMs?: number | undefined; addressMaxFailures?: number | undefined; addressDelayMs?: number | undefined; maxAddressDelayMs?: number | undefined;
  };
  dataDir: string;
  store: DeviceStore;
  logger: Logger;
  clock: SchedulerLike;
  /** Wall-clock time for the login throttle (default the system clock; never the demo's sped-up clock). */
  securityClock?: SchedulerLike;
  /**
   * The login throttle to use instead of this broker's own in-memory one
   * (built from `lockout`): a cluster passes its shared one so every node
   * counts the same failures (cluster/login-throttle-redis.ts).
   */
  loginThrottle?: LoginThrottlePort;
  /** `memory` (default) forgets sessions on close; `level` keeps them under `{dataDir}/broker`. */
  persistence?: 'memory' | 'level';
  /**
   * One broker of a cluster (cluster/broker-cluster.ts): aedes's `id`, the
   * shared emitter and the shared persistence, used instead of `persistence`.
   */
  cluster?: { id: string; mq: unknown; persistence: unknown };
  /**
   * A service that must be connected and subscribed for devices to be let in
   * (the hub passes `ingest`). While it is absent, device logins get CONNACK 3
   * "server unavailable" and connected devices are disconnected before their
   * next publish is acknowledged, so an event is only ever acknowledged when
   * the hub is there to receive it; the edge agent keeps the rest queued.
   */
  requireService?: string;
  /**
   * Devices are let in only while an ingest is attached (`attachIngest`),
   * with the same consequences as `requireService`. The hub sets this.
   */
  requireIngest?: boolean;
}

export interface BrokerStats {
  /** Clients connected right now. */
  clients: number;
  /** Network connections accepted since start. */
  connections: number;
  /** PUBLISH packets accepted from clients. */
  publishes: number;
  authFailures: number;
  aclDenials: { publish: number; subscribe: number };
  clientIdRejections: number;
  oversizedPackets: number;
  /** Times a (client id, address) pair was put on back-off (or its back-off lengthened). */
  lockouts: number;
  /** Logins refused unchecked because their (client id, address) pair was on back-off. */
  lockedOutLogins: number;
  /** Logins checked after a delay because their address was past its failure cap. */
  delayedLogins: number;
  /** Retain flags removed from device publishes and wills (the broker keeps no device message). */
  retainStripped: number;
  /** Session-store calls answered without LevelDB, for client ids known to hold nothing there (broker/session-store.ts; 0 without `level`). */
  sessionStoreSkips: number;
  /** Messages written to LevelDB for offline persistent sessions (one per session), once the write finished. */
  sessionStoreQueued: number;
  /** Logins served by the device lane (broker/device-lane.ts), which never touches the session store. */
  laneLogins: number;
}

export interface Broker {
  ports: { tcp: number; tls: number; ws: number };
  /** PEM of the CA devices should trust for the TLS listener. */
  caCert: string;
  /** Whether devices are let in now (see `BrokerOptions.requireService` and `requireIngest`). */
  admittingDevices(): boolean;
  /**
   * Hands every device PUBLISH that passed the ACL to `sink` before it is
   * acknowledged: aedes sends the PUBACK (and forwards the message to any
   * subscriber) only once the sink resolves; if it rejects, the device is
   * disconnected without the PUBACK and resends later. Returns `detach`.
   * One sink at a time.
   */
  attachIngest(sink: DevicePublishSink): () => void;
  stats(): BrokerStats;
  close(): Promise<void>;
}

const port = z.number().int().min(0).max(65535);
const optionsSchema = z.object({
  host: z.string().min(1),
  tcpPort: port,
  tlsPort: port,
  wsPort: port,
  maxPacketSize: z.number().int().min(256).max(256 * 1024 * 1024),
  lockout: z.object({
    maxFailures: z.number().int().min(1), windowMs: z.number().int().min(1), lockMs: z.number().int().min(1),
    maxLockMs: z.number().int().min(1).optional(), addressMaxFailures: z.number().int().min(1).optional(),
    addressDelayMs: z.number().int().min(0).optional(), maxAddressDelayMs: z.number().int().min(0).optional(),
  }),
  dataDir: z.string().min(1),
  persistence: z.enum(['memory', 'level']).optional(),
  requireService: z.string().min(1).optional(),
  requireIngest: z.boolean().optional(),
});

// MQTT 3.1.1 CONNACK return codes (MQTT-3.2.2.3).
const identifierRejected = 2;
const badUsernameOrPassword = 4;
const notAuthorized = 5;
const serverUnavailable = 3;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** Every topic a device may publish to (core/topics.ts). */
const deviceTopicsFilter = 'mimamori/v1/homes/#';

/**
 * Deletes retained messages on device topics that an earlier version (which
 * kept the retain flag) stored, so they are not replayed after this restart.
 */
async function purgeRetainedDeviceMessages(aedes: Aedes): Promise<number> {
  const { persistence } = aedes as unknown as {
    persistence: { createRetainedStream(pattern: string): AsyncIterable<PublishPacket>; storeRetained(packet: PublishPacket): Promise<void> };
  };
  let purged = 0;
  const topics: string[] = [];
  for await (const packet of persistence.createRetainedStream(deviceTopicsFilter)) topics.push(packet.topic);
  for (const topic of topics) {
    // An empty retained payload deletes the topic's retained message (MQTT-3.3.1-10).
    await persistence.storeRetained({ cmd: 'publish', topic, payload: Buffer.alloc(0), qos: 0, retain: true, dup: false });
    purged++;
  }
  return purged;
}

/** Drops keys whose value is undefined (zod leaves them; exactOptionalPropertyTypes refuses them). */
function withoutUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/**
 * The client ids with session state in aedes-persistence-level's keys (`subscriptions:<id>:…`,
 * `outgoing:<id>:…`, `outgoing-id:<id>:…`, `incoming:<id>:…`; the id URI-encoded, so the next
 * ':' ends it), read once at start by the session store's shortcut.
 */
async function* sessionHolders(db: Level): AsyncIterable<string> {
  for (const prefix of ['subscriptions:', 'outgoing:', 'outgoing-id:', 'incoming:']) {
    for await (const key of db.keys({ gte: prefix, lt: `${prefix.slice(0, -1)};` })) {
      const end = key.indexOf(':', prefix.length);
      if (end > prefix.length) yield decodeURIComponent(key.slice(prefix.length, end));
    }
  }
}

async function openLevelPersistence(dataDir: string): Promise<{ persistence: CleanSessionShortcut; close(): Promise<void> }> {
  const path = join(dataDir, 'broker');
  mkdirSync(path, { recursive: true });
  const db = new Level(path);
  try {
    await db.open();
  } catch (err) {
    throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `cannot open the broker's session store at ${path} (is another hub running on the same data folder?): ${(err as Error).message}`);
  }
  // The package's main export wraps the store in a callback adapter that aedes 1.x refuses; its async class is what aedes expects.
  const require = createRequire(import.meta.url);
  const AsyncLevelPersistence = require('aedes-persistence-level/asyncPersistence.js') as new (db: Level) => AedesPersistence;
  // Clean sessions (what devices use) skip LevelDB once their id is known to hold nothing there (broker/session-store.ts).
  const persistence = new CleanSessionShortcut(new AsyncLevelPersistence(db), undefined, () => sessionHolders(db));
  return { persistence, close: () => persistence.destroy() };
}

/**
 * mqtt-packet, aedes's packet writer, builds on its first write a table of
 * 65,536 two-byte Buffers (one per message id) that it keeps for the life
 * of the process: 6.3 MB of V8 heap (measured in a heap snapshot of the
 * broker, 66k `Buffer` objects) to save one two-byte allocation per PUBACK.
 * The switch is on the module aedes itself loads, so it is resolved from
 * aedes's folder.
 */
function dropMessageIdTable(): void {
  const fromAedes = createRequire(createRequire(import.meta.url).resolve('aedes'));
  const writer = (fromAedes('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } }).writeToStream;
  writer.cacheNumbers = false;
}

/**
 * Starts the broker. Port 0 picks a free port; the bound ports are in
 * `broker.ports`.
 *
 * @example
 * const broker = await createBroker({ ...config.broker, host: config.host, dataDir: config.dataDir, store, logger, clock: systemClock });
 */
export async function createBroker(opts: BrokerOptions): Promise<Broker> {
  const parsed = optionsSchema.safeParse(opts);
  if (!parsed.success) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `broker options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { store, clock } = opts;
  const log = opts.logger;
  dropMessageIdTable();
  const tls = loadOrCreateTls({ dataDir: opts.dataDir, keyFile: opts.tlsKeyFile, certFile: opts.tlsCertFile, host: opts.host, now: clock.now() });

  const counters: Omit<BrokerStats, 'clients' | 'sessionStoreSkips' | 'sessionStoreQueued'> = {
    connections: 0, publishes: 0, authFailures: 0, aclDenials: { publish: 0, subscribe: 0 },
    clientIdRejections: 0, oversizedPackets: 0, lockouts: 0, lockedOutLogins: 0, delayedLogins: 0, retainStripped: 0, laneLogins: 0,
  };
  const identities = new WeakMap<Client, { identity: Identity; username: string }>();
  const wills = new WeakMap<Client, PublishPacket>();
  /** Connected client id → username, so a live session cannot be taken over by another login. */
  const owners = new Map<string, string>();
  const securityClock = opts.securityClock ?? systemClock;
  // Floods (bad passwords, oversized packets, refused publishes) log 10 lines a minute per kind, then a count.
  const flood = createLogLimiter({ logger: log, clock: securityClock });
  const throttle: LoginThrottlePort = opts.loginThrottle ?? createLoginThrottle({ ...withoutUndefined(opts.lockout), clock: securityClock });
  const checkLogin = createLoginCheck({ store, clock });
  /** Clients of the required service that have subscribed (normally one). */
  const gateKeepers = new Set<Client>();
  /** Connected devices, on aedes or on the lane (closed when the hub stops admitting them). */
  const deviceClients = new Set<{ close(): void }>();
  /** Client ids that logged in on aedes with a persistent session or a will (memory sessions only; see the lane). */
  const sessionIds = new Set<string>();
  /** Set once close() starts: aedes is then disconnecting everyone itself. */
  let closing: Promise<void> | undefined;
  /** The in-process ingest, when one is attached. */
  let ingestSink: DevicePublishSink | undefined;
  const devicesAdmitted = () => (opts.requireService === undefined && !opts.requireIngest) || gateKeepers.size > 0 || ingestSink !== undefined;
  const isRequiredService = (client: Client) => {
    const who = identities.get(client)?.identity;
    return who?.type === 'service' && who.name === opts.requireService;
  };

  const level = opts.persistence === 'level' && !opts.cluster ? await openLevelPersistence(opts.dataDir) : undefined;

  /**
   * Device messages are never retained: a retained event would come back to
   * every new subscriber and after every restart, and once its id is pruned
   * from de-duplication an old help press would open a new alert. The flag
   * is stripped rather than the publish refused, because MQTT 3.1.1 can only
   * refuse a publish by disconnecting, and devices that retain by default
   * (Tasmota state, zigbee2mqtt options) would then never be heard at all.
   */
  function stripRetain(packet: { retain?: boolean; topic: string }, clientId: string): void {
    if (!packet.retain) return;
    packet.retain = false;
    counters.retainStripped++;
    log.debug({ clientId, topic: packet.topic }, 'retain flag removed from a device message');
  }

  /**
   * The login, for aedes's clients and the device lane alike: the throttle per (client id,
   * address), the credential check, the hub's readiness for devices, the client-id rules and
   * the will's topic.
   */
  async function admitLogin(c: { clientId: string; address: string | undefined; username: string | undefined; password: Buffer | undefined; clean: boolean; will?: PublishPacket | undefined }): Promise<{ ok: true; identity: Identity; username: string } | { ok: false; returnCode: number; message: string }> {
    const { clientId, address, username, password } = c;
    try {
      // Throttled per (client id, address): failures from elsewhere never refuse this device here.
      // The throttle may be the cluster's shared one (cluster/, on Redis): every answer is awaited.
      const admission = await throttle.admit(clientId, address);
      if (!admission.allow) {
        counters.lockedOutLogins++;
        flood.warn('login locked out', { clientId, address, retryAt: admission.retryAt }, 'login refused: this client id failed repeatedly from this address');
        return { ok: false, returnCode: notAuthorized, message: 'locked out' };
      }
      if (admission.delayMs > 0) {
        counters.delayedLogins++;
        log.debug({ clientId, address, delayMs: admission.delayMs }, 'login delayed: many failures from this address');
      }
      const result = await afterDelay(securityClock, admission.delayMs, () => checkLogin(username, password));
      if (!result.ok) {
        counters.authFailures++;
        const outcome = await throttle.recordFailure(clientId, address);
        if (outcome.backoffUntil !== undefined) {
          counters.lockouts++;
          flood.warn('login back-off', { clientId, address, failures: outcome.failures, until: outcome.backoffUntil }, 'login back-off for this client id from this address');
        }
        flood.warn('login refused', { clientId, address, username, reason: result.reason }, 'login refused');
        return { ok: false, returnCode: badUsernameOrPassword, message: 'bad username or password' };
      }
      const who = result.identity;
      const user = username ?? '';
      if (who.type === 'device' && !devicesAdmitted()) {
        log.debug({ clientId }, 'device login deferred: the hub is not ready yet');
        return { ok: false, returnCode: serverUnavailable, message: 'server unavailable' };
      }
      const idCheck = checkClientId(who, clientId, c.clean);
      const owner = owners.get(clientId);
      const reason = !idCheck.allowed ? idCheck.reason : owner !== undefined && owner !== user ? 'client id is in use by another login' : undefined;
      if (reason !== undefined) {
        counters.clientIdRejections++;
        log.warn({ clientId, username: user, reason }, 'login refused: client id not allowed');
        return { ok: false, returnCode: identifierRejected, message: reason };
      }
      const willCheck = c.will === undefined ? undefined : canPublish(who, c.will.topic);
      if (c.will && willCheck && !willCheck.allowed) {
        counters.aclDenials.publish++;
        log.warn({ clientId, username: user, topic: c.will.topic, reason: willCheck.reason }, 'login refused: will topic not allowed');
        return { ok: false, returnCode: notAuthorized, message: 'will topic not allowed' };
      }
      // aedes keeps this same object as the client's will.
      if (c.will && who.type === 'device') stripRetain(c.will, clientId);
      await throttle.recordSuccess(clientId, address);
      return { ok: true, identity: who, username: user };
    } catch (err) {
      log.error({ clientId, err }, 'login check failed');
      return { ok: false, returnCode: serverUnavailable, message: 'server unavailable' };
    }
  }

  type Who = { identity: Identity; username: string };
  /**
   * The ACL for a publish, on aedes's path and the lane's alike: undefined when allowed, else the
   * error to close the connection with (MQTT 3.1.1 has no negative PUBACK), counted and logged.
   */
  function refusePublish(clientId: string, who: Who | undefined, topic: string): Error | undefined {
    const decision = who ? canPublish(who.identity, topic) : { allowed: false as const, reason: 'not authenticated' };
    if (decision.allowed) return undefined;
    counters.aclDenials.publish++;
    flood.warn('publish refused', { clientId, username: who?.username, topic, reason: decision.reason }, 'publish refused; disconnecting');
    return new Error(`publish to ${topic} not allowed`);
  }
  /** The ACL for a subscription, on both paths; a refusal is counted and logged (SUBACK 0x80, MQTT-3.9.3). */
  function maySubscribe(clientId: string, who: Who | undefined, topic: string): boolean {
    const decision = who ? canSubscribe(who.identity, topic) : { allowed: false as const, reason: 'not authenticated' };
    if (decision.allowed) return true;
    counters.aclDenials.subscribe++;
    flood.warn('subscribe refused', { clientId, username: who?.username, topic, reason: decision.reason }, 'subscribe refused');
    return false;
  }
  /** Hands a device message to the attached ingest; a failure is logged and passed on, so nothing is acknowledged. */
  function toIngest(sink: DevicePublishSink, clientId: string, topic: string, payload: Buffer): Promise<void> {
    return sink(topic, payload).catch((err: unknown) => {
      log.warn({ clientId, topic, err: (err as Error).message }, 'ingest could not take a message; not acknowledged, disconnecting');
      throw err;
    });
  }
  // Not acknowledged: the device keeps the event and resends it when the hub is back.
  const notReceiving = () => new Error('server unavailable: the hub is not receiving');

  const remoteAddress = (client: Client): string | undefined => (client.conn as { remoteAddress?: string }).remoteAddress;

  const handlers: AedesOptions = {
    preConnect(client, packet, done) {
      if (packet.will) wills.set(client, packet.will as PublishPacket);
      done(null, true);
    },
    authenticate(client, username, password, done) {
      const will = wills.get(client);
      admitLogin({ clientId: client.id, address: remoteAddress(client), username, password, clean: client.clean, will }).then((result) => {
        if (!result.ok) { done(authError(result.message, result.returnCode), false); return; }
        identities.set(client, { identity: result.identity, username: result.username });
        // A device on the lane with this id gives way to the new login (MQTT-3.1.4-2).
        lane.get(client.id)?.close();
        done(null, true);
      }, (err: unknown) => done(err as AuthenticateError, false));
    },
    authorizePublish(client, packet, done) {
      // A null client is the broker itself (e.g. a will checked when it was registered).
      if (!client) { done(null); return; }
      const who = identities.get(client);
      if (who?.identity.type === 'device' && !devicesAdmitted()) { done(notReceiving()); return; }
      const refused = refusePublish(client.id, who, packet.topic);
      if (refused) { done(refused); return; }
      if (who?.identity.type !== 'device') { done(null); return; }
      stripRetain(packet, client.id);
      if (ingestSink === undefined) { done(null); return; }
      // MQTT 3.1.1 QoS 1: the PUBACK means the hub has it. aedes writes it once this callback runs.
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      toIngest(ingestSink, client.id, packet.topic, payload).then(() => done(null), (err: unknown) => done(err as Error));
    },
    authorizeSubscribe(client, sub, done) {
      done(null, maySubscribe(client.id, identities.get(client), sub.topic) ? sub : null);
    },
  };

  const aedes = await Aedes.createBroker({ ...handlers, ...(level ? { persistence: level.persistence } : {}), ...(opts.cluster as Record<string, unknown> | undefined ?? {}) });
  const aedesClients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
  const retainedStore = (aedes as unknown as { persistence: { createRetainedStream(pattern: string): AsyncIterable<PublishPacket> } }).persistence;
  /**
   * Devices on a clean session without a will are served by the broker's own lean connection
   * (broker/device-lane.ts: a socket and one small object each, instead of aedes's client); the
   * same login, ACL, ingest and emitter as aedes's clients. Everyone else goes to aedes.
   */
  const lane: DeviceLane = new DeviceLane({
    maxPacketSize: opts.maxPacketSize,
    bus: {
      subscribe: (topic, fn, done) => aedes.subscribe(topic, fn as Parameters<Aedes['subscribe']>[1], done),
      unsubscribe: (topic, fn, done) => aedes.unsubscribe(topic, fn as Parameters<Aedes['unsubscribe']>[1], done),
      retained: (topic) => retainedStore.createRetainedStream(topic),
    },
    // Not in a cluster (a session there may live on another node), and only ids holding no session
    // state or will: aedes discards those at a clean login.
    accepts: (clientId) => !opts.cluster && (level ? level.persistence.holdsNothing(clientId) : !sessionIds.has(clientId)),
    login: (c) => admitLogin({ ...c, clean: true }),
    onReady(client) {
      // The same id on aedes (a persistent session, say) gives way to this login (MQTT-3.1.4-2).
      aedesClients[client.id]?.close();
      owners.set(client.id, client.username);
      deviceClients.add(client);
      counters.laneLogins++;
      log.debug({ clientId: client.id, username: client.username }, 'client connected');
    },
    onClose(client) {
      deviceClients.delete(client);
      if (lane.get(client.id) === undefined && aedesClients[client.id] === undefined && owners.get(client.id) === client.username) owners.delete(client.id);
      log.debug({ clientId: client.id }, 'client disconnected');
    },
    publish: (client, topic, payload, qos, retain) => devicePublish(client, topic, payload, qos, retain),
    maySubscribe: (client, topic) => maySubscribe(client.id, client, topic),
    handOff(socket, head) {
      socket.unshift(head);
      aedes.handle(socket);
    },
    onProtocolError: (socket, clientId, reason) => flood.warn('protocol error', { clientId, address: socket.remoteAddress, reason }, 'connection closed: MQTT protocol error'),
  });
  /**
   * A device PUBLISH on the lane: the ACL, then the ingest (nothing is acknowledged before it
   * has the message), then aedes's emitter for any subscriber — what aedes's path does.
   */
  function devicePublish(client: LaneClient, topic: string, payload: Buffer, qos: number, retain: boolean): Promise<void> {
    if (!devicesAdmitted()) return Promise.reject(notReceiving());
    const refused = refusePublish(client.id, client, topic);
    if (refused) return Promise.reject(refused);
    counters.publishes++;
    const packet = { cmd: 'publish' as const, topic, payload, qos: qos as 0 | 1 | 2, retain, dup: false };
    stripRetain(packet, client.id);
    const forward = () => new Promise<void>((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
    if (ingestSink === undefined) return forward();
    return toIngest(ingestSink, client.id, topic, payload).then(() => {
      forward().catch((err: unknown) => log.warn({ clientId: client.id, topic, err: (err as Error).message }, 'a device message could not be passed to subscribers'));
    });
  }

  const purged = await purgeRetainedDeviceMessages(aedes);
  if (purged > 0) log.warn({ purged }, 'removed retained device messages kept by an earlier version');
  aedes.on('clientReady', (client) => {
    // With sessions in memory: ids that may hold a session or will stay with aedes until a clean login without a will discards it.
    if (!client.clean || wills.has(client)) sessionIds.add(client.id); else sessionIds.delete(client.id);
    const who = identities.get(client);
    if (who) owners.set(client.id, who.username);
    if (who?.identity.type === 'device') deviceClients.add(client);
    log.debug({ clientId: client.id, username: who?.username }, 'client connected');
  });
  aedes.on('subscribe', (_subs, client) => {
    if (client && opts.requireService !== undefined && isRequiredService(client) && !gateKeepers.has(client)) {
      gateKeepers.add(client);
      if (gateKeepers.size === 1) log.info({ service: opts.requireService }, 'devices admitted');
    }
  });
  const shutOutDevices = () => { if (!devicesAdmitted()) for (const c of [...deviceClients]) c.close(); };
  aedes.on('clientDisconnect', (client) => {
    deviceClients.delete(client);
    if (gateKeepers.delete(client) && gateKeepers.size === 0 && !closing) {
      log.warn({ service: opts.requireService }, 'the hub service left: devices are disconnected until it is back');
      shutOutDevices();
    }
    if (owners.get(client.id) === identities.get(client)?.username && lane.get(client.id) === undefined) owners.delete(client.id);
    log.debug({ clientId: client.id }, 'client disconnected');
  });
  aedes.on('publish', (_packet, client) => { if (client) counters.publishes++; });
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'connection error before CONNECT'));

  let listeners;
  try {
    listeners = await openListeners({
      host: opts.host, tcpPort: opts.tcpPort, tlsPort: opts.tlsPort, wsPort: opts.wsPort, tls, maxPacketSize: opts.maxPacketSize,
      onConnection: (conn, req) => {
        counters.connections++;
        // WebSocket streams go to aedes; TCP and TLS sockets to the lane, which hands on what is not for it.
        if (req === undefined) lane.handle(conn as Socket); else aedes.handle(conn, req);
      },
      onOversize: (info, conn) => {
        counters.oversizedPackets++;
        const clientId = (conn as unknown as { client?: Client }).client?.id;
        flood.warn('oversized packet', { clientId, address: conn.remoteAddress, announced: info.announced, limit: info.limit }, 'packet larger than maxPacketSize; connection closed');
      },
      onSocketError: (err, listener) => log.debug({ listener, err: err.message }, 'socket error'),
    });
  } catch (err) {
    lane.close();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await level?.close();
    throw err;
  }
  log.info({ host: opts.host, ports: listeners.ports, persistence: opts.persistence ?? 'memory' }, 'MQTT broker listening');

  return {
    ports: listeners.ports,
    caCert: tls.ca,
    admittingDevices: devicesAdmitted,
    attachIngest(sink) {
      if (ingestSink !== undefined) throw new MimamoriError('MIMAMORI_ERR_CONFLICT', 'an ingest is already attached to the broker');
      ingestSink = sink;
      log.info('ingest attached: devices admitted');
      return () => {
        if (ingestSink !== sink) return;
        ingestSink = undefined;
        if (!closing) { log.warn('the ingest left: devices are disconnected until it is back'); shutOutDevices(); }
      };
    },
    stats: () => ({ ...counters, aclDenials: { ...counters.aclDenials }, clients: aedes.connectedClients + lane.size, sessionStoreSkips: level?.persistence.stats().skipped ?? 0, sessionStoreQueued: level?.persistence.stats().queued ?? 0 }),
    close() {
      closing ??= (async () => {
        lane.close();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await listeners.close();
        await level?.close();
        flood.flush();
        log.info('MQTT broker closed');
      })();
      return closing;
    },
  };
}
