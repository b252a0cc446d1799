/**
 * Video signalling across a cluster (dashboards/video-exchange.ts) over
 * Redis: a caregiver's browser on node A and the resident's tablet on node
 * B set up a call through it.
 *
 * Envelopes travel by pub/sub: one channel per node (`video:node:<id>`) and
 * one for every node (`video:all`); Redis keeps each publisher's order, so
 * an offer arrives before its candidates. Pub/sub keeps nothing: a node that
 * is cut off misses what was sent meanwhile, as a browser losing its socket
 * would (the call ends or is set up again).
 *
 * A call's claim on its home (`video:home:<home>` = call id,
 * `video:call:<call>` = node) lives `claimTtlMs` and is renewed by the
 * holding node every third of it: a node that dies frees its homes for new
 * calls within `claimTtlMs` instead of leaving them "busy" for ever.
 */
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import { videoEnvelope, type VideoEnvelope, type VideoExchange } from '../dashboards/index.js';
import { connectPubSub, redisScript } from './redis-connection.js';

export interface RedisVideoExchangeOptions {
  redisUrl: string;
  /** This node's name, unique in the cluster. */
  nodeId: string;
  /** Prefix of every key and channel (default `mimamori:`). */
  keyPrefix?: string;
  /** How long a call's claim on its home outlives its node's last renewal (default 30 000 ms). */
  claimTtlMs?: number;
  logger?: Logger;
}

export interface RedisVideoExchange extends VideoExchange {
  /** Messages on the exchange's channels that were not envelopes, dropped. */
  dropped(): number;
}

const wire = z.object({ from: z.string().min(1).max(200), envelope: z.unknown() });

const claimLua = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[3]) then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;
const renewLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0`;
const releaseLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('DEL', KEYS[2])
return 1`;

/** Connects (a publishing and a subscribing connection) and resolves once subscribed. */
export async function createRedisVideoExchange(opts: RedisVideoExchangeOptions): Promise<RedisVideoExchange> {
  const log = opts.logger;
  const prefix = `${opts.keyPrefix ?? 'mimamori:'}video:`;
  const ttl = opts.claimTtlMs ?? 30_000;
  const nodeId = opts.nodeId;
  const { pub, sub } = await connectPubSub(opts.redisUrl, { name: `mimamori-video-${nodeId}`, logger: log });
  const claim = redisScript(pub, 'mimamoriVideoClaim', claimLua);
  const renew = redisScript(pub, 'mimamoriVideoRenew', renewLua);
  const release = redisScript(pub, 'mimamoriVideoRelease', releaseLua);
  const homeKey = (home: string) => `${prefix}home:${home}`;
  const callKey = (call: string) => `${prefix}call:${call}`;
  const nodeChannel = (node: string) => `${prefix}node:${node}`;
  const allChannel = `${prefix}all`;
  const held = new Map<string, string>(); // home → call, claims this node holds
  const listeners = new Set<(e: VideoEnvelope) => void>();
  let dropped = 0;

  sub.on('message', (channel: string, message: string) => {
    let envelope: VideoEnvelope | undefined;
    let reason = 'not JSON';
    try {
      const w = wire.parse(JSON.parse(message));
      if (channel === allChannel && w.from === nodeId) return; // our own broadcast
      const checked = videoEnvelope.safeParse(w.envelope);
      if (checked.success) envelope = checked.data;
      else reason = checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    } catch (err) {
      reason = (err as Error).message.slice(0, 200);
    }
    if (!envelope) {
      dropped++;
      log?.warn({ channel, reason }, 'video envelope dropped');
      return;
    }
    for (const fn of [...listeners]) {
      try { fn(envelope); } catch (err) { log?.warn({ err: (err as Error).message, kind: envelope.kind }, 'video envelope listener threw'); }
    }
  });
  // Subscribed again by ioredis after a reconnect (autoResubscribe).
  await sub.subscribe(nodeChannel(nodeId), allChannel);

  // Renewal in real time: it is I/O keeping a claim alive, not a rule.
  const renewal = setInterval(() => {
    for (const [home, call] of held) {
      renew([homeKey(home), callKey(call)], [call, ttl]).then((ok) => {
        if (ok !== 1 && held.get(home) === call) held.delete(home);
      }, (err: unknown) => log?.warn({ err: (err as Error).message, home }, 'video call claim not renewed'));
    }
  }, Math.max(100, Math.floor(ttl / 3)));
  renewal.unref();

  const publish = (channel: string, e: VideoEnvelope) => pub.publish(channel, JSON.stringify({ from: nodeId, envelope: e })).then(() => undefined);

  return {
    nodeId,
    broadcast: (e) => publish(allChannel, e),
    send: (node, e) => publish(nodeChannel(node), e),
    receive(fn) {
      listeners.add(fn);
      return () => { listeners.delete(fn); };
    },
    async claimHome(homeId, callId) {
      const ok = (await claim([homeKey(homeId), callKey(callId)], [callId, nodeId, ttl])) === 1;
      if (ok) held.set(homeId, callId);
      return ok;
    },
    async releaseHome(homeId, callId) {
      if (held.get(homeId) === callId) held.delete(homeId);
      await release([homeKey(homeId), callKey(callId)], [callId]);
    },
    async nodeOfCall(callId) {
      return (await pub.get(callKey(callId))) ?? undefined;
    },
    dropped: () => dropped,
    async close() {
      clearInterval(renewal);
      listeners.clear();
      for (const [home, call] of [...held]) await release([homeKey(home), callKey(call)], [call]).catch(() => undefined);
      held.clear();
      sub.disconnect();
      pub.disconnect();
    },
  };
}
