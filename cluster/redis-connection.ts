/**
 * Connections to the cluster's Redis from one URL
 * (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS). Every
 * building block opens its own connections (pub/sub needs a connection of
 * its own anyway) and closes them in its `close()`.
 *
 * Commands fail at once while the link is down instead of queueing: a lease
 * that cannot be renewed must be seen as lost on time, and a caller of the
 * login throttle gets an error it can answer rather than a hang.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { MimamoriError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** The parts of a Redis URL, as the libraries that take options rather than a URL want them. */
export interface RedisAddress { host: string; port: number; username?: string; password?: string; db: number; tls: boolean }

/** Parses and checks a Redis URL; a bad one is a configuration error that names what is wrong. */
export function parseRedisUrl(url: string): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `not a Redis URL: "${url}" (expected redis://host:port[/db])`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `Redis URL must start with redis:// or rediss://, not ${u.protocol}//`);
  }
  if (!u.hostname) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `Redis URL has no host: "${url}"`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `Redis URL database must be 0–15, not "${dbText}"`);
  const address: RedisAddress = { host: u.hostname.replace(/^\[|\]$/g, ''), port, db, tls: u.protocol === 'rediss:' };
  if (u.username) address.username = decodeURIComponent(u.username);
  if (u.password) address.password = decodeURIComponent(u.password);
  return address;
}

/** ioredis options for an address (no offline queue: commands fail while disconnected). */
export function redisOptions(address: RedisAddress, name: string): RedisOptions {
  return {
    host: address.host, port: address.port, db: address.db,
    ...(address.username === undefined ? {} : { username: address.username }),
    ...(address.password === undefined ? {} : { password: address.password }),
    ...(address.tls ? { tls: {} } : {}),
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Reconnect forever, at most every 2 s: Redis coming back is the normal way out of an outage.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
}

/**
 * Opens one connection and waits until it is ready. Errors after that are
 * logged (at most once per outage), never thrown at the event loop.
 */
export async function connectRedis(url: string, o: { name: string; logger?: Logger | undefined }): Promise<Redis> {
  const redis = new Redis(redisOptions(parseRedisUrl(url), o.name));
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    o.logger?.warn({ connection: o.name, err: err.message }, 'Redis connection lost; retrying');
  });
  redis.on('ready', () => {
    if (down) o.logger?.info({ connection: o.name }, 'Redis connection back');
    down = false;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `cannot reach Redis at ${redactUrl(url)}: ${(err as Error).message}`);
  }
  return redis;
}

/**
 * A publishing and a subscribing connection (a subscribed connection can do
 * nothing else), named `<name>-pub` and `<name>-sub`; the first is closed
 * again if the second cannot be opened.
 */
export async function connectPubSub(url: string, o: { name: string; logger?: Logger | undefined }): Promise<{ pub: Redis; sub: Redis }> {
  const pub = await connectRedis(url, { name: `${o.name}-pub`, logger: o.logger });
  try {
    return { pub, sub: await connectRedis(url, { name: `${o.name}-sub`, logger: o.logger }) };
  } catch (err) {
    pub.disconnect();
    throw err;
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** A Lua script run with EVALSHA (ioredis loads it on first use and after a Redis restart). */
export type RedisScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/** Defines `lua` on `redis` under `name`; the returned function takes any number of keys. */
export function redisScript(redis: Redis, name: string, lua: string): RedisScript {
  redis.defineCommand(name, { lua });
  const command = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[name]!.bind(redis);
  return (keys, args) => command(keys.length, ...keys, ...args);
}
