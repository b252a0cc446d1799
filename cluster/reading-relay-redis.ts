/**
 * Readings made inside a hub (the tablet page's buttons) for a home another
 * node runs, handed to that node over Redis pub/sub: a resident's tablet may
 * be connected to any node, but only the home's owner runs its rules.
 * Device messages do not need this: every node's ingest hears them through
 * the broker cluster. Each reading is validated again where it arrives; a
 * message that is not one is logged and dropped.
 */
import { z } from 'zod';
import { deviceEventSchema, idSchema, type HomeEvent } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { connectPubSub } from './redis-connection.js';

export interface RedisReadingRelayOptions {
  redisUrl: string;
  nodeId: string;
  /** Prefix of the channel (default `mimamori:`). */
  keyPrefix?: string;
  logger?: Logger;
}

export interface RedisReadingRelay {
  /** Sends `r` to every node (the one running its home takes it); resolves once Redis has it. */
  forward(r: HomeEvent): Promise<void>;
  /** Readings forwarded by any node, this one included. */
  onReading(fn: (r: HomeEvent) => void): () => void;
  /** Messages that were not readings, dropped. */
  dropped(): number;
  close(): Promise<void>;
}

const relayed = z.object({ home: idSchema, device: idSchema, at: z.number().finite(), event: deviceEventSchema });

/** Connects (a publishing and a subscribing connection) and resolves once subscribed. */
export async function createRedisReadingRelay(opts: RedisReadingRelayOptions): Promise<RedisReadingRelay> {
  const channel = `${opts.keyPrefix ?? 'mimamori:'}readings`;
  const log = opts.logger;
  const { pub, sub } = await connectPubSub(opts.redisUrl, { name: `mimamori-relay-${opts.nodeId}`, logger: log });
  const listeners = new Set<(r: HomeEvent) => void>();
  let dropped = 0;
  sub.on('message', (_channel: string, message: string) => {
    let parsed: z.ZodSafeParseResult<z.infer<typeof relayed>> | undefined;
    try { parsed = relayed.safeParse(JSON.parse(message)); } catch { parsed = undefined; }
    if (!parsed?.success) {
      dropped++;
      log?.warn({ channel, reason: parsed ? parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : 'not JSON' }, 'relayed reading dropped');
      return;
    }
    const { home, device, at, event } = parsed.data;
    const r = { ...event, home, device, at } as HomeEvent;
    for (const fn of [...listeners]) {
      try { fn(r); } catch (err) { log?.warn({ err: (err as Error).message, home }, 'relayed reading listener threw'); }
    }
  });
  await sub.subscribe(channel);
  return {
    async forward(r) {
      const { home, device, at, ...event } = r;
      await pub.publish(channel, JSON.stringify({ home, device, at, event }));
    },
    onReading(fn) {
      listeners.add(fn);
      return () => { listeners.delete(fn); };
    },
    dropped: () => dropped,
    async close() {
      listeners.clear();
      sub.disconnect();
      pub.disconnect();
    },
  };
}
