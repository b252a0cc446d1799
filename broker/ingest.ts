/**
 * The hub's entry point for device data. It validates every event and
 * heartbeat once, drops duplicates, keeps what it refuses in a dead-letter
 * table, and hands valid readings to the rest of the hub as an Observable.
 *
 * Two ways in:
 * - attached to the broker in-process (`broker`, what the hub does): the
 *   device's own PUBACK waits until the batch holding its message has
 *   committed, so nothing acknowledged can be lost, and many messages from
 *   many devices are in flight at once;
 * - as an authenticated MQTT client (`url`), one message at a time, for a
 *   broker in another process.
 *
 * With `history`, each fresh reading is also kept in an outbox (same
 * transaction as its event id) until the history writer has it in InfluxDB
 * or its disk buffer; a restart replays what was not confirmed, so a kill -9
 * loses no point and, as InfluxDB overwrites a point with the same series and
 * time, doubles none.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Observable, Subject, type SchedulerLike } from 'rxjs';
import { scheduleEvery } from '../core/clock.js';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { defaultEventTimeBounds, eventTimeProblem, parseDeviceEvent, parseHeartbeat, toHomeEvent, toHomeHeartbeat, type EventTimeBounds, type Reading, type RejectReason } from '../core/events.js';
import { createLogLimiter } from '../core/log-limiter.js';
import type { Logger } from '../core/logger.js';
import type { DeviceStore } from '../core/store.js';
import { allEventsFilter, allHeartbeatsFilter, parseDeviceTopic } from '../core/topics.js';
import { createIngestBatcher } from './ingest-batch.js';

/** Takes one device PUBLISH; resolves once it is safe to acknowledge, rejects if it is not. */
export type DevicePublishSink = (topic: string, payload: Buffer) => Promise<void>;

/** What the in-process ingest attaches to (the broker's `attachIngest`). */
export interface IngestAttachPoint {
  attachIngest(sink: DevicePublishSink): () => void;
}

/** Where readings go for history (the history writer): `flush` resolves once all written so far is durable. */
export interface IngestHistory {
  writeReading(r: Reading): void;
  flush(): Promise<void>;
}

/** As an MQTT client of a broker in another process. */
export interface IngestClientOptions {
  /** e.g. `mqtt://127.0.0.1:1883` or `mqtts://…` (with `ca`). */
  url: string;
  username: string;
  password: string;
  /** PEM of the CA that signed the broker's certificate, for mqtts:// and wss://. */
  ca?: string;
  /** Default `mimamori-ingest`. */
  clientId?: string;
}

export interface IngestOptionsBase {
  store: DeviceStore;
  logger: Logger;
  clock: SchedulerLike;
  /**
   * How far an event's or heartbeat's `ts` may be from `clock`: default 5 min
   * ahead, 7 days behind (docs/protocol.md, "Event time"). `maxAgeMs` may not
   * exceed the de-duplication window, so every accepted event is de-duplicated.
   */
  eventTime?: Partial<EventTimeBounds>;
  /** Keeps fresh readings in the outbox until this has them durably (see the file comment). */
  history?: IngestHistory;
  /** How often the outbox is confirmed against `history.flush()` (default 1 s, on `clock`). */
  confirmEveryMs?: number;
  /** Messages per SQLite transaction at most (default 1000). */
  maxBatch?: number;
  /**
   * Event ids past the de-duplication window are forgotten every minute (on `clock`), at most
   * this many a statement with a turn of the event loop between (default 1000).
   */
  pruneChunk?: number;
  /**
   * Cluster mode (docs/scale.md, "Ingest by ownership"): each fresh reading is
   * committed to the inbox for its home's owner, with its event id, before the
   * device's PUBACK — whichever node the device is connected to, and whether or
   * not any node owns the home at that moment. Nothing is emitted on `readings`
   * and nothing is written to history here: the owner's inbox reader does both.
   * `handOff` is called after each commit with the homes that got new rows.
   * No outbox replay at start either (the inbox is the owners' to replay).
   */
  handOff?: (homes: ReadonlySet<string>) => void;
}

export type IngestOptions = IngestOptionsBase & ({ broker: IngestAttachPoint } | IngestClientOptions);

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
  /** Readings from an earlier run's outbox written to history again at start. */
  replayed: number;
}

export interface Ingest {
  /**
   * Valid, de-duplicated events and heartbeats. Nothing is processed or
   * acknowledged until the first subscriber arrives. Completes on close().
   */
  readings: Observable<Reading>;
  stats(): IngestStats;
  /** Resolves when every message taken so far has been committed (or refused) and answered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const commonSchema = z.object({
  eventTime: z.object({
    maxFutureMs: z.number().min(0).optional(),
    maxAgeMs: z.number().positive().optional(),
  }).optional(),
  confirmEveryMs: z.number().int().min(1).optional(),
  maxBatch: z.number().int().min(1).max(100_000).optional(),
  pruneChunk: z.number().int().min(1).max(100_000).optional(),
});
const clientSchema = commonSchema.extend({
  url: z.string().regex(/^(mqtts?|wss?):\/\//, 'must start with mqtt://, mqtts://, ws:// or wss://'),
  username: z.string().min(1),
  password: z.string().min(1),
  clientId: z.string().min(1).max(128).optional(),
});

const hour = 3600_000;
/** How long an event id is remembered for de-duplication. */
export const dedupRetentionMs = 7 * 24 * hour;
/** How often event ids past the de-duplication window are pruned. */
const pruneEveryMs = 60_000;
/**
 * Statements per prune at most: 200,000 ids a minute at the default chunk, 288 million a day —
 * more than 10,000 homes' normal load brings (115 million) — in about 0.3 s of SQLite a minute.
 */
const pruneChunksPerRun = 200;
/** Dead-letter payloads are kept up to this many characters. */
const maxStoredPayload = 64 * 1024;

/**
 * Starts ingesting: attached to `broker` in-process, or as an MQTT client of
 * `url`. With a client, resolves once connected and subscribed and rejects
 * with a MimamoriError when the broker refuses the login. With `history`,
 * first replays what an earlier run left unconfirmed in the outbox.
 *
 * @example
 * const ingest = await createIngest({ broker, store, logger, clock: systemClock, history });
 * ingest.readings.subscribe((r) => engine.ingest(r));
 */
export async function createIngest(opts: IngestOptions): Promise<Ingest> {
  const attachTo = 'broker' in opts ? opts.broker : undefined;
  const parsed = attachTo ? commonSchema.safeParse(opts) : clientSchema.safeParse(opts);
  if (!parsed.success) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `ingest options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { store, clock, logger: log, history } = opts;
  // A device sending garbage fills the dead-letter table, not the log: 10 lines a minute, then a count.
  const flood = createLogLimiter({ logger: log, clock });
  const bounds: EventTimeBounds = { ...defaultEventTimeBounds, ...parsed.data.eventTime };
  if (bounds.maxAgeMs > dedupRetentionMs) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `ingest options: eventTime.maxAgeMs (${bounds.maxAgeMs} ms) may not exceed the de-duplication window (${dedupRetentionMs} ms): an older event's id may already be forgotten`);
  }
  const subject = new Subject<Reading>();
  // Messages can arrive before the caller subscribes (queued ones right after CONNACK);
  // hold them (unacknowledged, so nothing is lost) until someone listens.
  let listening!: () => void;
  const someoneListens = new Promise<void>((resolve) => { listening = resolve; });
  const readings = new Observable<Reading>((subscriber) => {
    const sub = subject.subscribe(subscriber);
    listening();
    return sub;
  });
  const counters: IngestStats = { connected: false, received: 0, events: 0, heartbeats: 0, duplicates: 0, rejected: {}, pruned: 0, replayed: 0 };

  // Readings an earlier run acknowledged but history never confirmed: written again (an overwrite if it had them).
  const handOff = opts.handOff;
  if (history && !handOff) {
    const left = await store.listIngestOutbox();
    if (left.length > 0) {
      for (const row of left) history.writeReading(JSON.parse(row.text) as Reading);
      await history.flush();
      await store.clearIngestOutbox(left[left.length - 1]!.seq);
      counters.replayed = left.length;
      log.info({ replayed: left.length }, 'readings from before a crash written to history again');
    }
  }

  // Cluster mode: the homes that got inbox rows in this turn, handed off once the batch's emits are done.
  let handOffHomes = new Set<string>();
  const handOffNow = () => { const homes = handOffHomes; handOffHomes = new Set(); handOff?.(homes); };
  const batcher = createIngestBatcher<Reading>({
    store, now: () => clock.now(), maxBatch: parsed.data.maxBatch, forOwner: handOff !== undefined,
    emit: (reading) => {
      if (reading.kind === 'heartbeat') counters.heartbeats++; else counters.events++;
      if (!handOff) { subject.next(reading); return; }
      if (handOffHomes.size === 0) queueMicrotask(handOffNow);
      handOffHomes.add(reading.home);
    },
  });

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

  /** Validates one message and commits it with its batch; resolves when it may be acknowledged. */
  async function handle(topic: string, payload: Buffer): Promise<void> {
    await someoneListens;
    const where = parseDeviceTopic(topic);
    counters.received++;
    if (!where || where.channel === 'commands') {
      await reject(topic, payload, 'bad_topic', 'not a device events or heartbeat topic');
      return;
    }
    const origin = { home: where.home, device: where.device };
    let reading: Reading;
    let eventId: string | undefined;
    if (where.channel === 'heartbeat') {
      const hb = parseHeartbeat(payload);
      if (!hb.ok) { await reject(topic, payload, hb.reason, hb.detail, origin); return; }
      const late = eventTimeProblem(Date.parse(hb.value.ts), clock.now(), bounds);
      if (late) { await reject(topic, payload, late.reason, late.detail, origin); return; }
      reading = toHomeHeartbeat(hb.value, where.home, where.device);
    } else {
      const event = parseDeviceEvent(payload);
      if (!event.ok) { await reject(topic, payload, event.reason, event.detail, origin); return; }
      // A timestamp from the year 2300 would pin "last sign of life" there; one from last month
      // may be a resend whose id was already forgotten. Both are refused, kept and explained.
      const late = eventTimeProblem(Date.parse(event.value.ts), clock.now(), bounds);
      if (late) { await reject(topic, payload, late.reason, late.detail, origin); return; }
      reading = toHomeEvent(event.value, where.home, where.device);
      eventId = event.value.id;
    }
    // The edge agent resends after a lost PUBACK; the event id makes that harmless.
    const fresh = await batcher.submit({
      homeId: where.home, deviceId: where.device, value: reading,
      ...(eventId !== undefined ? { eventId, eventAt: reading.at } : {}),
      ...(history || handOff ? { outbox: JSON.stringify(reading) } : {}),
    });
    if (!fresh) {
      counters.duplicates++;
      log.debug({ topic, id: eventId }, 'duplicate event dropped');
    }
  }

  let pending = 0;
  let idleWaiters: Array<() => void> = [];
  /** Every message goes through here: counted until answered, so close() and idle() can wait for it. */
  const accept: DevicePublishSink = (topic, payload) => {
    pending++;
    return handle(topic, payload).finally(() => {
      if (--pending === 0) { const w = idleWaiters; idleWaiters = []; for (const f of w) f(); }
    });
  };
  const idle = () => (pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => { idleWaiters.push(resolve); }));

  // The outbox is confirmed against history in the background, never on the acknowledgement path.
  let confirmed = 0;
  let confirming: Promise<void> | undefined;
  const confirmOutbox = (): Promise<void> => {
    confirming ??= (async () => {
      try {
        const upTo = batcher.emittedUpTo();
        if (!history || handOff || upTo <= confirmed) return;
        await history.flush();
        await store.clearIngestOutbox(upTo);
        confirmed = upTo;
      } catch (err) {
        log.error({ err }, 'could not confirm the ingest outbox; it is kept and tried again');
      } finally {
        confirming = undefined;
      }
    })();
    return confirming;
  };
  const stopConfirming = history && !handOff ? scheduleEvery(clock, parsed.data.confirmEveryMs ?? 1000, () => { void confirmOutbox(); }) : () => undefined;

  // Old event ids go every minute, a short statement at a time, and at most `pruneChunksPerRun` of
  // them a minute: ids go by whole days, and at 10,000 homes' normal load a day holds 115 million.
  // Deleting an hour of them (4.8 million) in one statement held SQLite — and with it the event
  // loop: every PUBACK, rule and alert — for about 25 s before migration 27 (docs/store.md).
  const pruneChunk = parsed.data.pruneChunk ?? 1000;
  let pruning: Promise<void> | undefined;
  const pruneOld = async (): Promise<void> => {
    const olderThan = clock.now() - dedupRetentionMs;
    let removed = 0;
    try {
      for (let chunk = 1; ; chunk++) {
        const n = await store.pruneSeenEvents(olderThan, pruneChunk);
        removed += n;
        counters.pruned += n;
        if (n < pruneChunk || closing || chunk >= pruneChunksPerRun) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      log.error({ err }, 'pruning old event ids failed');
    }
    if (removed > 0) log.debug({ removed }, 'pruned old event ids');
  };
  // A minute that comes while a prune is under way is one more prune after it, from that time.
  let pruneAgain = false;
  const startPrune = (): void => {
    if (pruning !== undefined) { pruneAgain = true; return; }
    pruning = pruneOld().finally(() => {
      pruning = undefined;
      if (pruneAgain && !closing) { pruneAgain = false; startPrune(); }
    });
  };
  const stopPruning = scheduleEvery(clock, pruneEveryMs, startPrune);
  const stopTimers = () => { stopPruning(); stopConfirming(); };

  let closing: Promise<void> | undefined;
  /** The ingest's face for either way in; `disconnect` stops new messages, then in-flight ones finish. */
  const ingestHandle = (disconnect: () => Promise<void>, where: object): Ingest => ({
    readings, idle,
    stats: () => Object.assign({}, counters, { rejected: { ...counters.rejected } }),
    close() {
      closing ??= (async () => {
        stopTimers();
        while (pruning !== undefined) await pruning;
        await disconnect();
        await idle();
        await confirmOutbox();
        counters.connected = false;
        subject.complete();
        flood.flush();
        log.info(where, 'ingest closed');
      })();
      return closing;
    },
  });

  if (attachTo) {
    const detach = attachTo.attachIngest(accept);
    counters.connected = true;
    log.info('ingest attached to the broker');
    return ingestHandle(async () => detach(), {});
  }

  const o = opts as IngestOptionsBase & IngestClientOptions;
  const clientId = o.clientId ?? 'mimamori-ingest';
  const mqttOptions: IClientOptions = {
    clientId, username: o.username, password: o.password,
    protocolVersion: 4, clean: true, reconnectPeriod: 1000, connectTimeout: 10_000,
    ...(o.ca ? { ca: o.ca, rejectUnauthorized: true } : {}),
  };
  const client: MqttClient = mqtt.connect(o.url, mqttOptions);
  // Acknowledge (PUBACK) only after the message is de-duplicated, stored or emitted:
  // a crash in between means the broker redelivers it, and the event id absorbs the repeat.
  client.handleMessage = (packet, callback) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    accept(packet.topic, payload).then(() => callback(), (err: unknown) => {
      log.error({ topic: packet.topic, err }, 'ingest could not process a message; it stays unacknowledged');
      callback(err as Error);
    });
  };
  client.on('connect', (connack) => {
    counters.connected = true;
    log.info({ clientId, sessionPresent: connack.sessionPresent }, 'ingest connected');
  });
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
    stopTimers();
    await client.endAsync(true);
    throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `ingest cannot connect to the broker at ${o.url} as ${o.username}: ${(err as Error).message}`);
  }

  return ingestHandle(() => client.endAsync(), { clientId });
}
