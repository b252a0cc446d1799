/**
 * The cluster's building blocks on Redis (docs/scale.md): home ownership
 * leases, and Redis-backed implementations of ports the single-process hub
 * keeps in memory. Nothing here is used unless a cluster is configured; the
 * single-process hub needs neither Redis nor this folder.
 */
export { createHomeLeases, rendezvousOwner, type HomeLeases, type HomeLeasesOptions, type LostReason } from './leases.js';
export { parseRedisUrl, redactUrl, type RedisAddress } from './redis-connection.js';
export { createRedisLoginThrottle, type RedisLoginThrottle, type RedisLoginThrottleOptions } from './login-throttle-redis.js';
export { createRedisRateLimiter, type RedisRateLimiter, type RedisRateLimiterOptions } from './rate-limit-redis.js';
export { createRedisLiveFeed, type RedisLiveFeed, type RedisLiveFeedOptions } from './live-feed-redis.js';
export { createBrokerCluster, type BrokerCluster, type BrokerClusterOptions } from './broker-cluster.js';
export { createRedisVideoExchange, type RedisVideoExchange, type RedisVideoExchangeOptions } from './video-exchange-redis.js';
export { createRedisInboxBell, type RedisInboxBell, type RedisInboxBellOptions } from './inbox-bell-redis.js';
