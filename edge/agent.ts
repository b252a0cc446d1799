/**
 * The store-and-forward edge agent: one per device. Every event and heartbeat
 * goes to the disk queue first; a sender publishes from the queue's head with
 * QoS 1 and removes an item only when the hub's PUBACK arrives. If the hub is
 * down, the home's internet is out or the agent restarts, nothing is lost —
 * at worst an item is sent twice, and the hub drops the copy by event id.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { deviceEventSchema, heartbeatSchema, idSchema, type DeviceEvent, type DeviceHeartbeat } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { eventTopic, heartbeatTopic } from '../core/topics.js';
import { openDiskQueue, type DiskQueue } from './disk-queue.js';

export interface EdgeAgentOptions {
  /** Broker URL, e.g. `mqtts://hub.local:8883` or `mqtt://127.0.0.1:1883`. */
  url: string;
  home: string;
  device: string;
  /** The device secret issued at provisioning; sent as the MQTT password, never logged. */
  secret: string;
  /** Directory of this device's disk queue (one directory per device). */
  queueDir: string;
  /** PEM of the hub's CA for `mqtts://`, or a path to a PEM file. */
  ca?: string;
  logger: Logger;
  /** Passed to MQTT.js last; `reconnectPeriod` is the first reconnect delay. */
  clientOptions?: Partial<mqtt.IClientOptions>;
  /** Publishes awaiting PUBACK at once (default 32). */
  maxInFlight?: number;
  /** Ceiling of the doubling reconnect delay (default 30 s). */
  maxReconnectMs?: number;
}

export interface EdgeAgent {
  /** Validates and queues an event; resolves once it is on disk. */
  publishEvent(e: DeviceEvent): Promise<void>;
  /** Validates and queues a heartbeat; resolves once it is on disk. */
  publishHeartbeat(h: DeviceHeartbeat): Promise<void>;
  /** Items queued and not yet acknowledged by the hub. */
  pending(): number;
  connected(): boolean;
  /** Resolves when everything queued so far has been acknowledged. */
  drained(): Promise<void>;
  /** Disconnects and closes the queue; unacknowledged items stay on disk for the next start. */
  close(): Promise<void>;
}

const optionsSchema = z.object({
  url: z.string().regex(/^(mqtts?|wss?|tcp|tls):\/\//, 'expected an mqtt://, mqtts://, ws:// or wss:// URL'),
  home: idSchema,
  device: idSchema,
  secret: z.string().min(1),
  queueDir: z.string().min(1),
  ca: z.string().optional(),
  maxInFlight: z.number().int().min(1).max(65_535).optional(),
  maxReconnectMs: z.number().positive().optional(),
});

/** What one queue line holds: the channel and the payload to publish. */
interface QueuedMessage { c: 'events' | 'heartbeat'; p: DeviceEvent | DeviceHeartbeat }

/**
 * Starts the agent for one device: opens its queue (resending whatever a
 * previous run left unacknowledged) and connects to the hub as
 * `{home}/{device}` with the device secret.
 *
 * @example
 * const agent = await createEdgeAgent({ url, home: 'home-01', device: 'kettle', secret, queueDir, logger });
 * await agent.publishEvent({ id: 'kettle-1', ts: '2026-11-21T07:12:00+09:00', kind: 'kettle', state: 'on' });
 */
export async function createEdgeAgent(opts: EdgeAgentOptions): Promise<EdgeAgent> {
  const parsed = optionsSchema.safeParse(opts);
  if (!parsed.success) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `edge agent: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { home, device, logger } = opts;
  const log = logger.child({ component: 'edge-agent', home, device });
  const maxInFlight = opts.maxInFlight ?? 32;
  const maxReconnectMs = opts.maxReconnectMs ?? 30_000;
  const firstReconnectMs = opts.clientOptions?.reconnectPeriod ?? 1000;
  const topics = { events: eventTopic(home, device), heartbeat: heartbeatTopic(home, device) };

  const queue: DiskQueue = await openDiskQueue(opts.queueDir, { logger: log });
  if (queue.size() > 0) log.info({ pending: queue.size() }, 'edge agent: resending items left from the previous run');

  const ca = opts.ca === undefined ? undefined : opts.ca.includes('-----BEGIN') ? opts.ca : readFileSync(opts.ca, 'utf8');
  const client = mqtt.connect(opts.url, {
    username: `${home}/${device}`,
    password: opts.secret,
    clientId: `${home}/${device}`,
    clean: true,
    connectTimeout: 10_000,
    ...(ca ? { ca, rejectUnauthorized: true } : {}),
    ...opts.clientOptions,
    reconnectPeriod: firstReconnectMs,
    // MQTT.js stops for good after a refused CONNACK unless told otherwise. The hub
    // refuses with 3 ("server unavailable") while its ingest is away, and a login
    // throttle may refuse a while: a device must keep trying (with its back-off),
    // or its home goes unwatched with events stuck in the queue.
    reconnectOnConnackError: true,
  });

  // Sender state, in absolute sequence numbers counted from the queue head at start:
  // [base, next) is published and waiting for PUBACK; `done` holds acknowledged ones
  // that cannot be removed yet because an older one is still outstanding.
  let base = 0;
  let next = 0;
  const done = new Set<number>();
  let closing = false;
  let reconnects = 0;
  let resendWindow = false;
  let waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];

  function settleWaiters(): void {
    if (queue.size() > 0 || waiters.length === 0) return;
    const ready = waiters;
    waiters = [];
    for (const w of ready) w.resolve();
  }

  function pump(): void {
    if (closing || !client.connected) return;
    const window = Math.min(queue.size(), maxInFlight);
    if (next - base >= window) return;
    const items = queue.peek(window);
    for (; next - base < items.length; next++) {
      const seq = next;
      if (done.has(seq)) continue;
      const msg = JSON.parse(items[seq - base] as string) as QueuedMessage;
      client.publish(topics[msg.c], JSON.stringify(msg.p), { qos: 1 }, (err) => onPuback(seq, err));
    }
  }

  function onPuback(seq: number, err: Error | undefined): void {
    if (closing || seq < base) return;
    if (err) {
      // The connection went away under this publish; send the window again once we are back.
      log.debug({ err: err.message }, 'edge agent: publish not acknowledged');
      resendWindow = true;
      return;
    }
    done.add(seq);
    let k = 0;
    while (done.delete(base + k)) k++;
    if (k === 0) return;
    base += k;
    queue.ack(k).catch((e: unknown) => log.error({ err: (e as Error).message }, 'edge agent: could not record an acknowledgement on disk'));
    settleWaiters();
    pump();
  }

  client.on('connect', () => {
    log.info({ pending: queue.size(), reconnects }, 'edge agent: connected to hub');
    reconnects = 0;
    client.options.reconnectPeriod = firstReconnectMs;
    if (resendWindow) {
      // MQTT.js resends what it still holds; re-publishing the rest of the window may duplicate, which the hub tolerates.
      resendWindow = false;
      next = base;
    }
    pump();
  });
  client.on('reconnect', () => {
    reconnects++;
    // Exponential backoff with jitter so a street of agents does not reconnect in lock-step after a hub restart.
    const delay = Math.min(maxReconnectMs, firstReconnectMs * 2 ** Math.min(reconnects, 16));
    client.options.reconnectPeriod = Math.round(delay * (0.8 + 0.4 * Math.random()));
  });
  client.on('offline', () => log.warn({ pending: queue.size() }, 'edge agent: hub unreachable; queueing on disk'));
  client.on('error', (err) => log.warn({ err: err.message }, 'edge agent: connection error'));

  async function enqueue(msg: QueuedMessage): Promise<void> {
    if (closing) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', 'edge agent is closed');
    await queue.push(JSON.stringify(msg));
    pump();
  }

  return {
    async publishEvent(e) {
      const r = deviceEventSchema.safeParse(e);
      if (!r.success) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `event: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      await enqueue({ c: 'events', p: r.data });
    },
    async publishHeartbeat(h) {
      const r = heartbeatSchema.safeParse(h);
      if (!r.success) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `heartbeat: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      await enqueue({ c: 'heartbeat', p: r.data });
    },
    pending: () => queue.size(),
    connected: () => client.connected,
    drained() {
      if (queue.size() === 0) return Promise.resolve();
      if (closing) return Promise.reject(new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', 'edge agent is closed'));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async close() {
      if (closing) return;
      closing = true;
      await client.endAsync(true);
      await queue.close();
      for (const w of waiters) w.reject(new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', 'edge agent closed before its queue drained'));
      waiters = [];
      log.info({ pending: queue.size() }, 'edge agent: closed');
    },
  };
}
