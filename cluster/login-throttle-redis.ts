/**
 * The login throttle (core/login-throttle.ts) shared by every node of a
 * cluster through Redis: a device or a person trying passwords against
 * node A and then node B meets one count, not one per node. The rules are
 * the in-memory throttle's, to the millisecond (the same contract suite
 * runs against both): per (principal, address) back-off doubling to a cap,
 * and a per-address delay past a cap of failures across principals.
 *
 * Each operation is one Lua script, so two nodes counting the same pair at
 * once never lose a failure. Time is the caller's wall clock, passed into
 * the scripts; key expiry in Redis only collects what is stale anyway.
 */
import type { Redis } from 'ioredis';
import type { SchedulerLike } from 'rxjs';
import { loginThrottleSettings, maxThrottleDoublings, type Admission, type FailureOutcome, type LoginThrottleOptions, type LoginThrottlePort } from '../core/login-throttle.js';
import type { Logger } from '../core/logger.js';
import { connectRedis, redisScript } from './redis-connection.js';

export interface RedisLoginThrottleOptions extends Omit<LoginThrottleOptions, 'maxEntries'> {
  redisUrl: string;
  /** Keeps the web sign-in's and the broker's counts apart (e.g. `web`, `mqtt`). */
  name: string;
  /** Prefix of every key (default `mimamori:`). */
  keyPrefix?: string;
  logger?: Logger;
}

export interface RedisLoginThrottle extends LoginThrottlePort {
  admit(principal: string, address: string | undefined): Promise<Admission>;
  recordFailure(principal: string, address: string | undefined): Promise<FailureOutcome>;
  recordSuccess(principal: string, address: string | undefined): Promise<void>;
  close(): Promise<void>;
}

// Lua's numbers are doubles: 2^30 × lockMs stays exact enough before the cap; results are whole ms.
/** KEYS: pair, address. ARGV: now, windowMs, addressMaxFailures, addressDelayMs, maxAddressDelayMs, maxDoublings. */
const admitLua = `local now = tonumber(ARGV[1])
local untilAt = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if untilAt > now then return {0, untilAt} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if excess <= 0 then return {1, 0} end
return {1, math.min(tonumber(ARGV[4]) * 2 ^ math.min(excess - 1, tonumber(ARGV[6])), tonumber(ARGV[5]))}`;

/**
 * KEYS: pair, address. ARGV: now, windowMs, maxFailures, lockMs, maxLockMs,
 * maxDoublings, addressMemory, a unique suffix. Returns {failures, backoffUntil or -1}.
 */
const recordFailureLua = `local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local maxFailures = tonumber(ARGV[3])
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local untilAt = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if failures > 0 and now - math.max(last, untilAt) >= windowMs then failures = 0; untilAt = 0 end
failures = failures + 1
local backoff = -1
if failures >= maxFailures then
  untilAt = now + math.min(tonumber(ARGV[4]) * 2 ^ math.min(failures - maxFailures, tonumber(ARGV[6])), tonumber(ARGV[5]))
  backoff = untilAt
end
redis.call('HSET', KEYS[1], 'failures', failures, 'last', now, 'until', untilAt)
redis.call('PEXPIRE', KEYS[1], math.max(untilAt - now, 0) + windowMs)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - windowMs)
redis.call('ZADD', KEYS[2], now, ARGV[1] .. ':' .. ARGV[8])
local kept = redis.call('ZCARD', KEYS[2])
local memory = tonumber(ARGV[7])
if kept > memory then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, kept - memory - 1) end
redis.call('PEXPIRE', KEYS[2], windowMs)
return {failures, backoff}`;

/** Connects and returns the shared throttle. `clock` must be the wall clock (see core/clock.ts `WallClock`). */
export async function createRedisLoginThrottle(opts: RedisLoginThrottleOptions): Promise<RedisLoginThrottle> {
  const settings = loginThrottleSettings(opts);
  const clock: SchedulerLike = opts.clock;
  const redis: Redis = await connectRedis(opts.redisUrl, { name: `mimamori-throttle-${opts.name}`, logger: opts.logger });
  const admitScript = redisScript(redis, 'mimamoriThrottleAdmit', admitLua);
  const failureScript = redisScript(redis, 'mimamoriThrottleFailure', recordFailureLua);
  const base = `${opts.keyPrefix ?? 'mimamori:'}throttle:${opts.name}:`;
  // The principal goes last and whole, so no principal/address pair can spell another's key.
  const keys = (principal: string, address: string | undefined) => [`${base}pair:${address ?? '?'}\u0000${principal}`, `${base}address:${address ?? '?'}`];
  let sequence = 0;
  const unique = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

  return {
    async admit(principal, address) {
      const [allowed, value] = (await admitScript(keys(principal, address), [
        clock.now(), settings.windowMs, settings.addressMaxFailures, settings.addressDelayMs, settings.maxAddressDelayMs, maxThrottleDoublings,
      ])) as [number, number];
      return allowed === 1 ? { allow: true, delayMs: value } : { allow: false, retryAt: value };
    },
    async recordFailure(principal, address) {
      const [failures, backoff] = (await failureScript(keys(principal, address), [
        clock.now(), settings.windowMs, settings.maxFailures, settings.lockMs, settings.maxLockMs, maxThrottleDoublings,
        settings.addressMemory, `${unique}-${++sequence}`,
      ])) as [number, number];
      return backoff < 0 ? { failures } : { failures, backoffUntil: backoff };
    },
    async recordSuccess(principal, address) {
      await redis.del(keys(principal, address)[0]!);
    },
    async close() {
      redis.disconnect();
    },
  };
}
