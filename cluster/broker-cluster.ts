/**
 * What makes several aedes brokers one MQTT address space: a shared message
 * emitter (`mqemitter-redis`: a publish on any node reaches subscribers on
 * every node) and a shared persistence (`aedes-persistence-redis`:
 * retained messages, subscriptions of persistent sessions, queued QoS 1
 * messages and wills live in Redis), so a device may connect to any node.
 *
 * Both libraries keep their keys and channels unprefixed: give each
 * cluster a Redis database of its own (`redis://host:port/2`).
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Logger } from '../core/logger.js';
import { Redis } from 'ioredis';
import { connectRedis, parseRedisUrl, redactUrl } from './redis-connection.js';

export interface BrokerClusterOptions {
  redisUrl: string;
  /** The broker's id in the cluster (aedes `id`; this node's id). */
  nodeId: string;
  logger?: Logger;
}

/** aedes options: spread them into `Aedes.createBroker({ ...handlers, ...cluster.aedesOptions })`. */
export interface BrokerCluster {
  aedesOptions: { id: string; mq: unknown; persistence: unknown };
  /**
   * Releases the Redis connections. Call after the aedes broker closed
   * (aedes closes the emitter itself; this closes what it left open).
   */
  close(): Promise<void>;
}

/** What mqemitter-redis is to us: its state events, close, and its two ioredis connections. */
interface RedisConn { sendCommand(command: { promise: Promise<unknown> }, ...rest: unknown[]): unknown }
interface Emitter { state: { on(event: 'error', fn: (err: Error) => void): void }; close(cb: () => void): void; subConn: RedisConn; pubConn: RedisConn }
interface StreamingPersistence {
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>;
  destroy(): Promise<void>;
}

/**
 * Checks that Redis answers (a clear error now rather than a broker that
 * hangs later), then builds the emitter and the persistence.
 */
export async function createBrokerCluster(opts: BrokerClusterOptions): Promise<BrokerCluster> {
  const address = parseRedisUrl(opts.redisUrl);
  const probe = await connectRedis(opts.redisUrl, { name: `mimamori-broker-probe-${opts.nodeId}` });
  probe.disconnect();

  const require = createRequire(import.meta.url);
  const mqemitterRedis = require('mqemitter-redis') as (o: { connectionString: string }) => Emitter;
  // The package's main export wraps the store in a callback adapter that aedes 1.x refuses; its async class is what aedes expects,
  // except that aedes 1.2 calls `.pipe()` on the retained messages, which this class yields as an async iterable.
  const AsyncRedisPersistence = require('aedes-persistence-redis/asyncPersistence.js') as new (o: Record<string, unknown>) => StreamingPersistence;
  class RedisPersistence extends AsyncRedisPersistence {
    override createRetainedStreamCombi(patterns: string[]) { return Readable.from(super.createRetainedStreamCombi(patterns)); }
  }

  const mq = mqemitterRedis({ connectionString: opts.redisUrl });
  let closing = false;
  // mqemitter-redis sends some commands (QUIT on close among them) without
  // a handler: when the connection ends under them — a busy machine closing
  // the broker — their rejection would be unhandled and end the process.
  // Every command gets a handler here; callers that have their own still
  // see the rejection.
  for (const conn of [mq.subConn, mq.pubConn]) {
    const send = conn.sendCommand.bind(conn);
    conn.sendCommand = (command, ...rest) => {
      command.promise.catch((err: Error) => {
        if (!closing) opts.logger?.warn({ redis: redactUrl(opts.redisUrl), err: err.message }, 'MQTT cluster emitter: a Redis command failed');
      });
      return send(command, ...rest);
    };
  }
  let lastError = '';
  mq.state.on('error', (err) => {
    // ioredis retries by itself; log each different failure once.
    if (err.message === lastError) return;
    lastError = err.message;
    opts.logger?.warn({ redis: redactUrl(opts.redisUrl), err: err.message }, 'MQTT cluster emitter: Redis error');
  });
  // The persistence's connection, made here as the library would make it: its `destroy` throws before it
  // disconnects when aedes never set it up (a node closed part-way through its start), and the connection
  // would then retry for ever and keep the process alive.
  const conn = new Redis({
    host: address.host, port: address.port, db: address.db,
    ...(address.username === undefined ? {} : { username: address.username }),
    ...(address.password === undefined ? {} : { password: address.password }),
    ...(address.tls ? { tls: {} } : {}),
  });
  const persistence = new RedisPersistence({ conn });
  let closed: Promise<void> | undefined;
  return {
    aedesOptions: { id: opts.nodeId, mq, persistence },
    close() {
      closing = true;
      closed ??= (async () => {
        await new Promise<void>((resolve) => { mq.close(resolve); });
        try {
          await persistence.destroy();
        } catch (err) {
          opts.logger?.warn({ err: (err as Error).message }, 'MQTT cluster persistence did not close cleanly');
        }
        conn.disconnect();
      })();
      return closed;
    },
  };
}
