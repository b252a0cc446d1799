/** Shared set-up for the broker tests: a real store, a real broker on free loopback ports, real MQTT.js clients. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect as netConnect } from 'node:net';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';
import { VirtualClock } from '../../core/clock.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { createSqliteStore, type Store } from '../../core/store.js';
import { createBroker, type Broker, type BrokerOptions } from '../../broker/index.js';

export const start = Date.parse('2026-11-21T07:00:00+09:00');

export interface LogCapture { logger: Logger; lines: string[] }

/** A real pino logger whose output is kept in memory for assertions. */
export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString('utf8')); cb(); } });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

export interface Harness {
  broker: Broker; store: Store; clock: VirtualClock; dataDir: string; logs: LogCapture;
  url(kind?: 'tcp' | 'ws'): string;
  restart(overrides?: Partial<BrokerOptions>): Promise<Broker>;
  close(): Promise<void>;
}

/** Starts a broker on port 0 for all listeners, with a fresh store and data folder. */
export async function startBroker(overrides: Partial<BrokerOptions> = {}, shared: { store?: Store; dataDir?: string } = {}): Promise<Harness> {
  const dataDir = shared.dataDir ?? mkdtempSync(join(tmpdir(), 'mimamori-broker-'));
  const store = shared.store ?? createSqliteStore(':memory:');
  const clock = new VirtualClock(start);
  const logs = captureLogs();
  const options = (): BrokerOptions => ({
    host: '127.0.0.1', tcpPort: 0, tlsPort: 0, wsPort: 0, maxPacketSize: 4096,
    lockout: { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 },
    dataDir, store, logger: logs.logger, clock, securityClock: clock, ...overrides,
  });
  let broker: Broker;
  try {
    broker = await createBroker(options());
  } catch (err) {
    // A refused configuration leaves no folder behind.
    if (!shared.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const h: Harness = {
    broker, store, clock, dataDir, logs,
    url(kind = 'tcp') {
      return kind === 'tcp' ? `mqtt://127.0.0.1:${h.broker.ports.tcp}` : `ws://127.0.0.1:${h.broker.ports.ws}/mqtt`;
    },
    async restart(more = {}) {
      await h.broker.close();
      h.broker = await createBroker({ ...options(), ...more });
      return h.broker;
    },
    async close() {
      await endAllClients();
      await h.broker.close();
      if (!shared.store) await store.close();
      if (!shared.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Every test client, so a failing test cannot leave one keeping the process alive. */
const openClients = new Set<MqttClient>();

/** Ends every client `connect` made (called by Harness.close). */
export async function endAllClients(): Promise<void> {
  await Promise.all([...openClients].filter((c) => !c.disconnecting && !c.disconnected).map((c) => c.endAsync(true).catch(() => undefined)));
  openClients.clear();
}

/**
 * Connects once (no retries); resolves with the client or rejects with the broker's refusal.
 * `from` binds the client's socket to another loopback address (e.g. `127.0.0.2`) for `mqtt://` URLs.
 */
export function connect(url: string, opts: IClientOptions & { from?: string } = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const { from, ...rest } = opts;
    const options: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...rest };
    const u = new URL(url);
    const client = from === undefined
      ? mqtt.connect(url, options)
      : new MqttClient(() => netConnect({ host: u.hostname, port: Number(u.port), localAddress: from }), options);
    openClients.add(client);
    client.once('end', () => openClients.delete(client));
    // Only these listeners go once settled: removeAllListeners would take mqtt.js's own too
    // (its 'close' one sets `connected` false; without it a client whose broker went away
    // stays "connected" and end() never calls back).
    const onConnect = () => done();
    const onError = (err: Error) => done(err);
    const onClose = () => done(new Error('connection closed before CONNACK'));
    const done = (err?: Error) => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
      // Late errors (a connack timeout after we gave up) must not crash the test process.
      client.on('error', () => undefined);
      if (err) { client.end(true); reject(err); } else { resolve(client); }
    };
    client.once('connect', onConnect);
    client.once('error', onError);
    client.once('close', onClose);
  });
}

/** Waits for a client's connection to close (bounded). */
export function closed(client: MqttClient, ms = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    if (!client.connected) { resolve(true); return; }
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}

/** Collects messages a client receives, and waits for a count of them (bounded). */
export function inbox(client: MqttClient): { messages: Array<{ topic: string; payload: string }>; waitFor(n: number, ms?: number): Promise<void> } {
  const messages: Array<{ topic: string; payload: string }> = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic, payload) => { messages.push({ topic, payload: payload.toString('utf8') }); waiters.forEach((w) => w()); });
  return {
    messages,
    waitFor(n, ms = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n} messages, got ${messages.length}`)), ms);
        const check = () => { if (messages.length >= n) { clearTimeout(timer); resolve(); } };
        waiters.push(check);
        check();
      });
    },
  };
}

/** Polls `cond` until true (for real I/O), failing after `ms`. */
export { until } from '../support/wait.js';

export const ts = '2026-11-21T07:12:00+09:00';
