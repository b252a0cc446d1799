/**
 * The hub's entry point for device data: an authenticated MQTT client with a
 * persistent session that validates every event and heartbeat once, drops
 * duplicates, keeps what it refuses in a dead-letter table, and hands valid
 * readings to the rest of the hub as an Observable.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Observable, Subject, type SchedulerLike } from 'rxjs';
import { scheduleEvery } from '../core/clock.js';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { defaultEventTimeBounds, eventTimeProblem, parseDeviceEvent, parseHeartbeat, toHomeEvent, toHomeHeartbeat, type EventTimeBounds, type Reading, type RejectReason } from '../core/events.js';
import { createLogLimiter } from '../core/log-limiter.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import { allEventsFilter, allHeartbeatsFilter, parseDeviceTopic } from '../core/topics.js';

export interface IngestOptions {
  /** e.g. `mqtt://127.0.0.1:1883` or `mqtts://…` (with `ca`). */
  url: string;
  username: string;
  password: string;
  /** PEM of the CA that signed the broker's certificate, for mqtts:// and wss://. */
  ca?: string;
  /** Fixed so the broker keeps this client's session; default `mimamori-ingest`. */
  clientId?: string;
  store: Store;
  logger: Logger;
  clock: SchedulerLike;
  /**
   * How far an event's or heartbeat's `ts` may be from `clock`: default 5 min
   * ahead, 7 days behind (docs/protocol.md, "Event time"). `maxAgeMs` may not
   * exceed the de-duplication window, so every accepted event is de-duplicated.
   */
  eventTime?: Partial<EventTimeBounds>;
}

/** Why the ingest refused a message: the event contract's reasons plus a topic that is not a device topic. */
export type IngestRejectReason = RejectReason | 'bad_topic';

export interface IngestStats {
  connected: boolean;
  /** Messages received, valid or not. */
  received: number;
  events: number;
  heartbeats: number;
  duplicates: number;
  rejected: Partial<Record<IngestRejectReason, number>>;
  /** Old de-duplication records removed so far. */
  pruned: number;
}

export interface Ingest {
  /**
   * Valid, de-duplicated events and heartbeats. Nothing is processed or
   * acknowledged until the first subscriber arrives. Completes on close().
   */
  readings: Observable<Reading>;
  stats(): IngestStats;
  close(): Promise<void>;
}

const optionsSchema = z.object({
  url: z.string().regex(/^(mqtts?|wss?):\/\//, 'must start with mqtt://, mqtts://, ws:// or wss://'),
  username: z.string().min(1),
  password: z.string().min(1),
  clientId: z.string().min(1).max(128).optional(),
  eventTime: z.object({
    maxFutureMs: z.number().min(0).optional(),
    maxAgeMs: z.number().positive().optional(),
  }).optional(),
});

const hour = 3600_000;
/** How long an event id is remembered for de-duplication. */
export const dedupRetentionMs = 7 * 24 * hour;
/** Dead-letter payloads are kept up to this many characters. */
const maxStoredPayload = 64 * 1024;

/**
 * Connects to the broker and starts ingesting. Resolves once connected and
 * subscribed; rejects with a MimamoriError when the broker refuses the login.
 *
 * @example
 * const { username, secret } = await provisionService(store, 'ingest');
 * const ingest = await createIngest({ url: 'mqtt://127.0.0.1:1883', username, password: secret, store, logger, clock: systemClock });
 * ingest.readings.subscribe((r) => engine.ingest(r));
 */
export async function createIngest(opts: IngestOptions): Promise<Ingest> {
  const parsed = optionsSchema.safeParse(opts);
  if (!parsed.success) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `ingest options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { store, clock, logger: log } = opts;
  // A device sending garbage fills the dead-letter table, not the log: 10 lines a minute, then a count.
  const flood = createLogLimiter({ logger: log, clock });
  const bounds: EventTimeBounds = { ...defaultEventTimeBounds, ...parsed.data.eventTime };
  if (bounds.maxAgeMs > dedupRetentionMs) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `ingest options: eventTime.maxAgeMs (${bounds.maxAgeMs} ms) may not exceed the de-duplication window (${dedupRetentionMs} ms): an older event's id may already be forgotten`);
  }
  const subject = new Subject<Reading>();
  // Queued messages of the persistent session arrive right after CONNACK, before the caller
  // can subscribe; hold them (unacknowledged, so nothing is lost) until someone listens.
  let listening!: () => void;
  const someoneListens = new Promise<void>((resolve) => { listening = resolve; });
  const readings = new Observable<Reading>((subscriber) => {
    const sub = subject.subscribe(subscriber);
    listening();
    return sub;
  });
  const counters: IngestStats = { connected: false, received: 0, events: 0, heartbeats: 0, duplicates: 0, rejected: {}, pruned: 0 };

  async function reject(topic: string, payload: Buffer, reason: IngestRejectReason, detail: string, origin?: { home: string; device: string }): Promise<void> {
    counters.rejected[reason] = (counters.rejected[reason] ?? 0) + 1;
    // The payload and the parser's detail (which can quote it) go to the dead-letter table, never to the log.
    flood.warn('device message refused', { topic, reason }, 'device message refused');
    const text = payload.toString('utf8');
    await store.recordRejected({
      at: clock.now(), topic, reason, detail,
      payload: text.length > maxStoredPayload ? text.slice(0, maxStoredPayload) : text,
      ...(origin ? { homeId: origin.home, deviceId: origin.device } : {}),
    });
  }

  async function handle(topic: string, payload: Buffer): Promise<void> {
    await someoneListens;
    counters.received++;
    const where = parseDeviceTopic(topic);
    if (!where || where.channel === 'commands') {
      await reject(topic, payload, 'bad_topic', 'not a device events or heartbeat topic');
      return;
    }
    const origin = { home: where.home, device: where.device };
    if (where.channel === 'heartbeat') {
      const hb = parseHeartbeat(payload);
      if (!hb.ok) { await reject(topic, payload, hb.reason, hb.detail, origin); return; }
      const late = eventTimeProblem(Date.parse(hb.value.ts), clock.now(), bounds);
      if (late) { await reject(topic, payload, late.reason, late.detail, origin); return; }
      counters.heartbeats++;
      subject.next(toHomeHeartbeat(hb.value, where.home, where.device));
      return;
    }
    const event = parseDeviceEvent(payload);
    if (!event.ok) { await reject(topic, payload, event.reason, event.detail, origin); return; }
    // A timestamp from the year 2300 would pin "last sign of life" there; one from last month
    // may be a resend whose id was already forgotten. Both are refused, kept and explained.
    const late = eventTimeProblem(Date.parse(event.value.ts), clock.now(), bounds);
    if (late) { await reject(topic, payload, late.reason, late.detail, origin); return; }
    // The edge agent resends after a lost PUBACK; the event id makes that harmless.
    if (!(await store.markEventSeen(where.home, where.device, event.value.id, clock.now()))) {
      counters.duplicates++;
      log.debug({ topic, id: event.value.id }, 'duplicate event dropped');
      return;
    }
    counters.events++;
    subject.next(toHomeEvent(event.value, where.home, where.device));
  }

  const clientId = opts.clientId ?? 'mimamori-ingest';
  const mqttOptions: IClientOptions = {
    clientId, username: opts.username, password: opts.password,
    protocolVersion: 4, clean: true, reconnectPeriod: 1000, connectTimeout: 10_000,
    ...(opts.ca ? { ca: opts.ca, rejectUnauthorized: true } : {}),
  };
  const client: MqttClient = mqtt.connect(opts.url, mqttOptions);
  let inFlight: Promise<void> = Promise.resolve();
  // Acknowledge (PUBACK) only after the message is de-duplicated, stored or emitted:
  // a crash in between means the broker redelivers it, and the event id absorbs the repeat.
  client.handleMessage = (packet, callback) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    inFlight = handle(packet.topic, payload).then(() => callback(), (err: unknown) => {
      log.error({ topic: packet.topic, err }, 'ingest could not process a message; it stays unacknowledged');
      callback(err as Error);
    });
  };
  client.on('connect', (connack) => {
    counters.connected = true;
    log.info({ clientId, sessionPresent: connack.sessionPresent }, 'ingest connected');
  });
  let closing: Promise<void> | undefined;
  client.on('close', () => { if (counters.connected && !closing) log.warn({ clientId }, 'ingest disconnected; reconnecting'); counters.connected = false; });
  client.on('error', (err) => log.warn({ clientId, err: err.message }, 'ingest connection error'));

  const subscribe = () => client.subscribeAsync([allEventsFilter, allHeartbeatsFilter], { qos: 1 });
  try {
    await new Promise<void>((resolve, reject) => {
      const onConnect = () => { cleanup(); resolve(); };
      const onError = (err: Error) => { cleanup(); reject(err); };
      const cleanup = () => { client.off('connect', onConnect); client.off('error', onError); };
      client.on('connect', onConnect);
      client.on('error', onError);
    });
    // MQTT.js rejects when a SUBACK carries 0x80 (refused); it resubscribes by itself after a reconnect.
    await subscribe();
  } catch (err) {
    await client.endAsync(true);
    throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `ingest cannot connect to the broker at ${opts.url} as ${opts.username}: ${(err as Error).message}`);
  }

  const stopPruning = scheduleEvery(clock, hour, () => {
    const olderThan = clock.now() - dedupRetentionMs;
    store.pruneSeenEvents(olderThan).then((n) => { counters.pruned += n; if (n > 0) log.debug({ removed: n }, 'pruned old event ids'); },
      (err: unknown) => log.error({ err }, 'pruning old event ids failed'));
  });

  return {
    readings,
    stats: () => ({ ...counters, rejected: { ...counters.rejected } }),
    close() {
      closing ??= (async () => {
        stopPruning();
        await client.endAsync();
        await inFlight.catch(() => undefined);
        counters.connected = false;
        subject.complete();
        flood.flush();
        log.info({ clientId }, 'ingest closed');
      })();
      return closing;
    },
  };
}
