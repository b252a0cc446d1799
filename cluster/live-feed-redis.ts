/**
 * The web app's live feed (dashboards/live-feed.ts) across a cluster, over
 * Redis pub/sub: an event published on any node reaches the open pages on
 * every node — a family member's browser may be connected to node A while
 * node B owns the home and raises its alert.
 *
 * Each event travels once through Redis, including back to the node that
 * published it, so every subscriber gets it exactly once, in publish order
 * per publishing node. Pub/sub keeps nothing: a node that is disconnected
 * misses what was published meanwhile, like a page that was closed (pages
 * reload their state when they reconnect). A message that is not a live
 * event is logged and dropped; it never stops the ones after it.
 */
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import type { LiveEvent, LiveFeed } from '../dashboards/index.js';
import { connectPubSub } from './redis-connection.js';

export interface RedisLiveFeedOptions {
  redisUrl: string;
  /** A name for this node's connections (shown by Redis `CLIENT LIST`). */
  nodeId: string;
  /** Prefix of every channel (default `mimamori:`). */
  keyPrefix?: string;
  logger?: Logger;
}

export interface RedisLiveFeed extends LiveFeed {
  /** Sends `e` to every node's subscribers of its home and of `'*'`; resolves once Redis has it. */
  publish(e: LiveEvent): Promise<void>;
  /** Messages on the feed's channels that were not live events, dropped. */
  dropped(): number;
  close(): Promise<void>;
}

const liveEventSchema = z.object({
  type: z.string().min(1).max(100),
  homeId: z.string().min(1).max(200),
  alertId: z.string().max(200).optional(),
  at: z.number().finite(),
});

/** Connects (a publishing and a subscribing connection) and resolves once subscribed. */
export async function createRedisLiveFeed(opts: RedisLiveFeedOptions): Promise<RedisLiveFeed> {
  const log = opts.logger;
  const prefix = `${opts.keyPrefix ?? 'mimamori:'}live:`;
  const { pub, sub } = await connectPubSub(opts.redisUrl, { name: `mimamori-live-${opts.nodeId}`, logger: log });
  const byHome = new Map<string, Set<(e: LiveEvent) => void>>();
  let dropped = 0;

  function deliver(e: LiveEvent): void {
    for (const fn of [...(byHome.get(e.homeId) ?? []), ...(byHome.get('*') ?? [])]) {
      try { fn(e); } catch (err) { log?.warn({ err: (err as Error).message, type: e.type }, 'live subscriber threw'); }
    }
  }

  sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
    let parsed: z.ZodSafeParseResult<z.infer<typeof liveEventSchema>> | undefined;
    try { parsed = liveEventSchema.safeParse(JSON.parse(message)); } catch { parsed = undefined; }
    if (!parsed?.success || channel !== prefix + parsed.data.homeId) {
      dropped++;
      log?.warn({ channel, reason: parsed?.success === false ? parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : 'not JSON, or on another home\'s channel' }, 'live feed message dropped');
      return;
    }
    const e: LiveEvent = { type: parsed.data.type, homeId: parsed.data.homeId, at: parsed.data.at };
    if (parsed.data.alertId !== undefined) e.alertId = parsed.data.alertId;
    deliver(e);
  });
  // Subscribed again by ioredis after a reconnect (autoResubscribe).
  await sub.psubscribe(`${prefix}*`);

  return {
    async publish(e) {
      const event = liveEventSchema.parse(e);
      await pub.publish(prefix + event.homeId, JSON.stringify(event));
    },
    subscribe(home, fn) {
      const set = byHome.get(home) ?? new Set();
      set.add(fn);
      byHome.set(home, set);
      return () => {
        set.delete(fn);
        if (set.size === 0 && byHome.get(home) === set) byHome.delete(home);
      };
    },
    dropped: () => dropped,
    async close() {
      byHome.clear();
      sub.disconnect();
      pub.disconnect();
    },
  };
}
