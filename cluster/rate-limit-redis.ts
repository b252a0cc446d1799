/**
 * The per-person message budget (notifier/rate-limit.ts) shared by every
 * node of a cluster through Redis: a caregiver who looks after homes owned
 * by different nodes still gets at most `max` messages per window, counted
 * once. Same rules as the in-memory limiter (one contract suite runs
 * against both); each `take` is one Lua script, so two nodes taking the
 * last place at once never both get it.
 *
 * `at` is the notifier's clock, as for the in-memory limiter; a key's
 * expiry in Redis only collects what is already outside the window.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { RateLimiterPort } from '../notifier/index.js';
import { connectRedis, redisScript } from './redis-connection.js';

export interface RedisRateLimiterOptions {
  redisUrl: string;
  /** Keeps separate budgets apart (e.g. `people` for the notifier's per-person budget). */
  name: string;
  max: number;
  windowMs: number;
  /** Prefix of every key (default `mimamori:`). */
  keyPrefix?: string;
  logger?: Logger;
}

export interface RedisRateLimiter extends RateLimiterPort {
  take(key: string, at: number, opts?: { force?: boolean; max?: number }): Promise<boolean>;
  nextFreeAt(key: string, at: number, max?: number): Promise<number>;
  close(): Promise<void>;
}

/** KEYS: the key's sent times. ARGV: at, windowMs, max, force (1/0), a unique member. */
const takeLua = `local at = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - tonumber(ARGV[2]))
local ok = ARGV[4] == '1' or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3])
if ok then
  redis.call('ZADD', KEYS[1], at, ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** KEYS: the key's sent times. ARGV: at, windowMs, max. */
const nextFreeLua = `local at = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local recent = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', at - windowMs), '+inf', 'WITHSCORES')
local n = #recent / 2
if n < max then return at end
return tonumber(recent[(n - max) * 2 + 2]) + windowMs`;

/** Connects and returns the shared limiter. */
export async function createRedisRateLimiter(opts: RedisRateLimiterOptions): Promise<RedisRateLimiter> {
  const redis: Redis = await connectRedis(opts.redisUrl, { name: `mimamori-budget-${opts.name}`, logger: opts.logger });
  const takeScript = redisScript(redis, 'mimamoriBudgetTake', takeLua);
  const nextFreeScript = redisScript(redis, 'mimamoriBudgetNextFree', nextFreeLua);
  const base = `${opts.keyPrefix ?? 'mimamori:'}budget:${opts.name}:`;
  let sequence = 0;
  const unique = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  return {
    async take(key, at, o = {}) {
      const taken = await takeScript([base + key], [at, opts.windowMs, o.max ?? opts.max, o.force === true ? 1 : 0, `${at}:${unique}-${++sequence}`]);
      return taken === 1;
    },
    async nextFreeAt(key, at, max) {
      return Number(await nextFreeScript([base + key], [at, opts.windowMs, max ?? opts.max]));
    },
    async close() {
      redis.disconnect();
    },
  };
}
