/**
 * One hub node of an in-process test cluster: `startHub` in cluster mode on a
 * shared PostgreSQL database and redis-server, with its own data folder and
 * free ports, no HTTP, and InfluxDB at an address nobody listens on (history
 * buffers; the alert path never waits on it). Leases are wall-clock (Redis
 * expiry): 6 s, long enough that a busy machine stalling a node does not move
 * its homes.
 */
import type { Test } from 'tap';
import type { Clock } from '../../core/clock.js';
import { parseConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { startHub, type Hub } from '../../hub/index.js';
import { tempDir } from '../support/wait.js';

export interface ClusterNodeOptions { databaseUrl: string; redisUrl: string; influxUrl: string; nodeId: string; clock: Clock }

export function startClusterNode(t: Test, o: ClusterNodeOptions): Promise<Hub> {
  const config = parseConfig({
    dataDir: tempDir(t), logLevel: 'silent', host: '127.0.0.1', databaseUrl: o.databaseUrl,
    broker: { tcpPort: 0, tlsPort: 0, wsPort: 0 }, http: { port: 0, hooksPort: 0 },
    influx: { url: o.influxUrl, flushIntervalMs: 50 }, demo: { homes: 0 },
    cluster: { redisUrl: o.redisUrl, nodeId: o.nodeId, leaseMs: 6000, heartbeatMs: 500 },
  });
  return startHub({ config, logger: silentLogger(), clock: o.clock, http: false });
}
