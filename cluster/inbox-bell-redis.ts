/**
 * The inbox bell (docs/scale.md, "Ingest by ownership"): the node whose
 * ingest committed readings to the inbox rings with the homes they belong
 * to, and every node hears it; the homes' owner then reads its rows at once
 * instead of at its next poll. The bell only wakes — the rows are in
 * PostgreSQL — so a lost or garbled ring costs time (the poll), never a
 * reading. Rings are Redis pub/sub messages of home ids, one line each.
 */
import type { Logger } from '../core/logger.js';
import { idSchema } from '../core/events.js';
import { connectPubSub } from './redis-connection.js';

export interface RedisInboxBellOptions {
  redisUrl: string;
  nodeId: string;
  /** Prefix of the channel (default `mimamori:`). */
  keyPrefix?: string;
  logger?: Logger;
}

export interface RedisInboxBell {
  /** Tells every node that `homes` have new inbox rows (fire and forget: a failure is logged, the poll covers it). */
  ring(homes: Iterable<string>): void;
  /** Rings from any node, this one included: the homes named. */
  onRing(fn: (homes: readonly string[]) => void): () => void;
  /** Rings that named no valid home, ignored. */
  ignored(): number;
  close(): Promise<void>;
}

/** Connects (a publishing and a subscribing connection) and resolves once subscribed. */
export async function createRedisInboxBell(opts: RedisInboxBellOptions): Promise<RedisInboxBell> {
  const channel = `${opts.keyPrefix ?? 'mimamori:'}inbox`;
  const log = opts.logger;
  const { pub, sub } = await connectPubSub(opts.redisUrl, { name: `mimamori-inbox-${opts.nodeId}`, logger: log });
  const listeners = new Set<(homes: readonly string[]) => void>();
  let ignored = 0;
  let failing = false;
  sub.on('message', (_channel: string, message: string) => {
    const homes = message.split('\n').filter((h) => idSchema.safeParse(h).success);
    if (homes.length === 0) { ignored++; return; }
    for (const fn of [...listeners]) {
      try { fn(homes); } catch (err) { log?.warn({ err: (err as Error).message }, 'inbox bell listener threw'); }
    }
  });
  await sub.subscribe(channel);
  return {
    ring(homes) {
      const text = [...homes].join('\n');
      if (text === '') return;
      pub.publish(channel, text).then(() => { failing = false; }, (err: unknown) => {
        // Once per outage: the owners' polls find the rows meanwhile.
        if (!failing) log?.warn({ err: (err as Error).message }, 'inbox bell not rung; owners will find the rows at their next poll');
        failing = true;
      });
    },
    onRing(fn) {
      listeners.add(fn);
      return () => { listeners.delete(fn); };
    },
    ignored: () => ignored,
    async close() {
      listeners.clear();
      sub.disconnect();
      pub.disconnect();
    },
  };
}
