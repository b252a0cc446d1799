/**
 * Home ownership leases: in a cluster each home is run (its rules,
 * escalation and jobs) by exactly one hub process at a time, its owner.
 *
 * - Every node heartbeats into a member set in Redis (a sorted set scored
 *   by expiry in Redis's own time, so the nodes' clocks never matter); a
 *   node that stops heartbeating drops out after `leaseMs`.
 * - Homes are spread over the live members by rendezvous (highest random
 *   weight) hashing: each node computes the same winner for a home from the
 *   same member list, and a join or a death moves only the homes that
 *   should move.
 * - A node OWNS a home only while it holds the home's lease key
 *   (`SET NX PX`, renewed by a compare-and-set script). Each new owner gets
 *   a fencing token one higher than the last (`INCR`), so anything the
 *   owner writes elsewhere can carry the token and a late write from a
 *   former owner can be refused.
 * - A node that cannot renew in time stops by itself: it treats a lease as
 *   lost once `leaseMs` (less a drift margin) has passed since it sent its
 *   last successful renewal — before Redis lets the key expire — so two
 *   nodes never both believe they own a home.
 *
 * `onAcquired(home, token)` tells the owner to start the home's work,
 * `onLost(home, reason)` to stop it. A dead node's homes move to the others
 * within `moveWithinMs` (= `leaseMs + heartbeatMs` plus one round trip;
 * 20 s with the defaults).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { scheduleAt, scheduleEvery, systemClock, type Clock } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { connectRedis, redisScript } from './redis-connection.js';

export interface HomeLeasesOptions {
  /** The cluster's Redis (`redis://host:port[/db]`). */
  redisUrl: string;
  /** This node's id, unique in the cluster (letters, digits, `.`, `_`, `-`; at most 64). */
  nodeId: string;
  /** The homes to share out, asked every round (so new homes are picked up). */
  homes: () => Iterable<string> | Promise<Iterable<string>>;
  /** This node now owns `home`: start its rules, escalation and jobs; write with `token` where writes are fenced. */
  onAcquired: (home: string, token: number) => void;
  /** This node no longer owns `home`: stop its work at once (another node may own it shortly). */
  onLost: (home: string, reason: LostReason) => void;
  /** How often a node heartbeats, renews its leases and rebalances (default 5 s). */
  heartbeatMs?: number;
  /** How long a lease and a membership last without renewal (default 15 s; at least twice `heartbeatMs`). */
  leaseMs?: number;
  /** Prefix of every key (default `mimamori:`), so several clusters can share one Redis. */
  keyPrefix?: string;
  /** Real time: leases expire in Redis in real time, so a virtual clock would not do. */
  clock?: Clock;
  logger?: Logger;
}

/** Why a node stopped owning a home. */
export type LostReason =
  /** Another node is now the home's rightful owner (a join), or the home is gone; released on purpose. */
  | 'rebalanced'
  /** The lease could not be renewed in time (Redis unreachable, or this process was stalled). */
  | 'expired'
  /** The renewal found the lease held by someone else. */
  | 'taken'
  /** This node is shutting down. */
  | 'closed';

export interface HomeLeases {
  readonly nodeId: string;
  /** The longest a dead node's homes take to move to the others. */
  readonly moveWithinMs: number;
  /** The homes this node owns now, with their fencing tokens. */
  owned(): ReadonlyMap<string, number>;
  /** The live members this node saw in its last round, sorted. */
  members(): readonly string[];
  /** Who holds `home`'s lease in Redis now, if anyone. */
  holder(home: string): Promise<{ nodeId: string; token: number } | undefined>;
  /** Runs one round now (heartbeat, release, renew, acquire); resolves when it is done. */
  rebalance(): Promise<void>;
  /** Stops: every owned home is reported lost (`closed`) and released, and the node leaves the member set. */
  close(): Promise<void>;
}

const nodeIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The home's owner among `members` by rendezvous hashing: the member with the
 * highest hash of (member, home). Removing a member moves only its homes;
 * adding one takes to it only the homes it now wins.
 */
export function rendezvousOwner(home: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const member of members) {
    const weight = createHash('sha256').update(member).update('\u0000').update(home).digest().readBigUInt64BE(0);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && member < best)) { best = member; bestWeight = weight; }
  }
  return best;
}

// Redis time in ms, inside a script (effects replication, the default since Redis 5, allows TIME before writes).
const redisNow = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/** KEYS: members. ARGV: ttlMs, nodeId. Adds/refreshes the node, drops expired ones, returns the live members. */
const heartbeatLua = `${redisNow}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

/**
 * KEYS: lease, fence. ARGV: nodeId, leaseMs. Takes a free lease with the next
 * fencing token; a lease left by this node id's previous life is taken over
 * with a new token too (that life's late writes are then fenced). Returns the
 * token, or 0 when another node holds the lease.
 */
const acquireLua = `local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, ':', 1, true)
  if not sep or string.sub(cur, 1, sep - 1) ~= ARGV[1] then return 0 end
  redis.call('DEL', KEYS[1])
end
local token = redis.call('INCR', KEYS[2])
if not redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'NX', 'PX', ARGV[2]) then return 0 end
return token`;

/** KEYS: leases. ARGV: leaseMs, then each lease's expected value. Extends those still ours; 1 or 0 per key. */
const renewLua = `local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

/** KEYS: lease. ARGV: expected value. Deletes the lease only if it is still ours. */
const releaseLua = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Keys per renewal script call, so a node with many homes never blocks Redis for long. */
const renewBatch = 500;

/**
 * Joins the cluster as `nodeId` and starts sharing out homes: the first round
 * runs before this resolves, then one every `heartbeatMs`.
 *
 * @example
 * const leases = await createHomeLeases({
 *   redisUrl, nodeId: 'hub-a', homes: () => store.homeIds(),
 *   onAcquired: (home, token) => rules.startHome(home, token),
 *   onLost: (home) => rules.stopHome(home),
 * });
 */
export async function createHomeLeases(opts: HomeLeasesOptions): Promise<HomeLeases> {
  const heartbeatMs = opts.heartbeatMs ?? 5_000;
  const leaseMs = opts.leaseMs ?? 15_000;
  if (!nodeIdPattern.test(opts.nodeId)) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `cluster node id "${opts.nodeId}" must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 10) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `cluster heartbeatMs must be an integer of at least 10, not ${heartbeatMs}`);
  if (!Number.isInteger(leaseMs) || leaseMs < 2 * heartbeatMs) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `cluster leaseMs (${leaseMs}) must be an integer of at least twice heartbeatMs (${heartbeatMs}), so one missed renewal is survived`);
  }
  const { nodeId } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const prefix = opts.keyPrefix ?? 'mimamori:';
  const membersKey = `${prefix}members`;
  const leaseKey = (home: string) => `${prefix}lease:${home}`;
  const fenceKey = (home: string) => `${prefix}fence:${home}`;
  // Clocks run at slightly different rates; count a lease as ours a little less long than Redis keeps it.
  const driftMs = Math.ceil(leaseMs / 100) + 2;

  const redis: Redis = await connectRedis(opts.redisUrl, { name: `mimamori-leases-${nodeId}`, logger: log });
  const heartbeat = redisScript(redis, 'mimamoriHeartbeat', heartbeatLua);
  const acquire = redisScript(redis, 'mimamoriAcquire', acquireLua);
  const renew = redisScript(redis, 'mimamoriRenew', renewLua);
  const release = redisScript(redis, 'mimamoriRelease', releaseLua);

  /** Homes owned now: their token, and until when (local clock) the lease is surely still ours. */
  const held = new Map<string, { token: number; validUntil: number }>();
  let members: readonly string[] = [];
  /** Each home's winner under `members`; cleared when the member list changes. */
  let winners = new Map<string, string | undefined>();
  let closed = false;
  let round: Promise<void> | undefined;
  let failing = false;
  let cancelWatchdog: (() => void) | undefined;

  /** Calls the owner's callback; one that throws is logged and never stops the round. */
  function tell(event: 'acquired' | 'lost', home: string, call: () => void): void {
    try { call(); } catch (err) { log?.error({ event, home, err: (err as Error).message }, 'lease callback threw'); }
  }

  const leaseValue = (token: number) => `${nodeId}:${token}`;

  function winnerOf(home: string): string | undefined {
    if (!winners.has(home)) winners.set(home, rendezvousOwner(home, members));
    return winners.get(home);
  }

  /** Forgets `home` locally and reports it lost; the caller releases the key if it should. */
  function drop(home: string, reason: LostReason): { token: number } | undefined {
    const lease = held.get(home);
    if (!lease) return undefined;
    held.delete(home);
    log?.info({ node: nodeId, home, token: lease.token, reason }, 'home lease lost');
    tell('lost', home, () => opts.onLost(home, reason));
    return lease;
  }

  /** Drops every lease this node can no longer be sure of; re-arms for the next one due. */
  function expireOverdue(): void {
    cancelWatchdog?.();
    cancelWatchdog = undefined;
    const now = clock.now();
    for (const [home, lease] of held) if (lease.validUntil <= now) drop(home, 'expired');
    let next = Infinity;
    for (const lease of held.values()) next = Math.min(next, lease.validUntil);
    if (next !== Infinity && !closed) cancelWatchdog = scheduleAt(clock, next, expireOverdue);
  }

  async function runRound(): Promise<void> {
    const sentAt = clock.now();
    const live = (await heartbeat([membersKey], [leaseMs, nodeId])) as string[];
    if (closed) return;
    const sorted = [...live].sort();
    if (sorted.join('\u0000') !== members.join('\u0000')) {
      if (members.length > 0) log?.info({ node: nodeId, members: sorted }, 'cluster members changed');
      members = sorted;
      winners = new Map();
    }
    const homes = new Set(await opts.homes());
    if (closed) return;

    // Hand over what is no longer ours first, so the rightful owner can take it this round.
    const leaving = [...held.keys()].filter((home) => !homes.has(home) || winnerOf(home) !== nodeId);
    await Promise.all(leaving.map(async (home) => {
      const lease = drop(home, 'rebalanced');
      if (lease) await release([leaseKey(home)], [leaseValue(lease.token)]);
    }));

    const keeping = [...held.entries()];
    for (let i = 0; i < keeping.length; i += renewBatch) {
      const batch = keeping.slice(i, i + renewBatch);
      const renewSentAt = clock.now();
      const results = (await renew(batch.map(([home]) => leaseKey(home)), [leaseMs, ...batch.map(([, lease]) => leaseValue(lease.token))])) as number[];
      batch.forEach(([home, lease], j) => {
        // Dropped meanwhile (the watchdog, or a newer lease of the same home): nothing to update.
        if (held.get(home) !== lease) return;
        if (results[j] === 1) lease.validUntil = renewSentAt + leaseMs - driftMs;
        else drop(home, 'taken');
      });
    }

    const wanted = [...homes].filter((home) => !held.has(home) && winnerOf(home) === nodeId);
    await Promise.all(wanted.map(async (home) => {
      const acquireSentAt = clock.now();
      const token = Number(await acquire([leaseKey(home), fenceKey(home)], [nodeId, leaseMs]));
      if (token <= 0) return;
      // Closed while asking: give it straight back rather than leave it to expire.
      if (closed) { await release([leaseKey(home)], [leaseValue(token)]); return; }
      held.set(home, { token, validUntil: acquireSentAt + leaseMs - driftMs });
      log?.info({ node: nodeId, home, token }, 'home lease acquired');
      tell('acquired', home, () => opts.onAcquired(home, token));
    }));
    log?.trace({ node: nodeId, tookMs: clock.now() - sentAt, owned: held.size }, 'lease round');
  }

  /** One round at a time; a round that fails (Redis down) is logged once per outage and retried next period. */
  function startRound(): Promise<void> {
    if (round) return round;
    round = runRound().then(() => {
      if (failing) log?.info({ node: nodeId }, 'lease rounds work again');
      failing = false;
    }, (err: unknown) => {
      if (!failing) log?.warn({ node: nodeId, err: (err as Error).message }, 'lease round failed; owned homes are kept only until their leases run out');
      failing = true;
    }).finally(() => {
      round = undefined;
      if (!closed) expireOverdue();
    });
    return round;
  }

  await startRound();
  const stopTicking = scheduleEvery(clock, heartbeatMs, () => {
    expireOverdue();
    void startRound();
  });

  return {
    nodeId,
    moveWithinMs: leaseMs + heartbeatMs,
    owned: () => new Map([...held].map(([home, lease]) => [home, lease.token])),
    members: () => members,
    async holder(home) {
      const value = await redis.get(leaseKey(home));
      if (value === null) return undefined;
      const sep = value.indexOf(':');
      return { nodeId: value.slice(0, sep), token: Number(value.slice(sep + 1)) };
    },
    rebalance: () => (closed ? Promise.resolve() : startRound()),
    async close() {
      if (closed) return;
      closed = true;
      stopTicking();
      cancelWatchdog?.();
      await round;
      const homes = [...held.keys()];
      const releases = homes.map((home) => {
        const lease = drop(home, 'closed');
        return lease ? release([leaseKey(home)], [leaseValue(lease.token)]) : Promise.resolve();
      });
      try {
        await Promise.all(releases);
        await redis.zrem(membersKey, nodeId);
      } catch (err) {
        // Redis is down: the leases and the membership simply run out.
        log?.warn({ node: nodeId, err: (err as Error).message }, 'could not release leases on close; they expire by themselves');
      }
      redis.disconnect();
    },
  };
}
