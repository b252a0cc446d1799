/**
 * One hub process of the cluster bench (bench/cluster.ts): `startHub` in
 * cluster mode on the parent's PostgreSQL and redis-server, on the system
 * clock, writing history to the parent's influxd. Over IPC it sends
 * `{ ready, port }` once up, then every 250 ms `{ written, owned, rss }`: the
 * points its history writer got accepted by InfluxDB, how many homes it
 * runs, and its resident set size. `{ stop: true }` closes it.
 *
 *   node cluster-node.js DATADIR NODEID DATABASE_URL REDIS_URL INFLUX_URL INFLUX_DB
 */
import { systemClock } from '../core/clock.js';
import { parseConfig } from '../core/config.js';
import { silentLogger } from '../core/logger.js';
import { startHub } from '../hub/index.js';

const [dataDir, nodeId, databaseUrl, redisUrl, influxUrl, influxDb] = process.argv.slice(2);
if (!dataDir || !nodeId || !databaseUrl || !redisUrl || !influxUrl || !influxDb) throw new Error('usage: cluster-node DATADIR NODEID DATABASE_URL REDIS_URL INFLUX_URL INFLUX_DB');
const config = parseConfig({
  dataDir, logLevel: 'silent', host: '127.0.0.1', databaseUrl,
  broker: { tcpPort: 0, tlsPort: 0, wsPort: 0 }, http: { port: 0, hooksPort: 0 }, demo: { homes: 0 },
  influx: { url: influxUrl, database: influxDb },
  // Short leases so the bench does not wait the default 20 s for the homes to spread.
  cluster: { redisUrl, nodeId, leaseMs: 4000, heartbeatMs: 1000 },
});
const hub = await startHub({ config, logger: silentLogger(), clock: systemClock, http: false });
const send = (m: unknown) => { if (process.connected) process.send!(m); };
send({ ready: true, port: hub.broker.ports.tcp });
const timer = setInterval(() => {
  send({ written: hub.history.stats().written, owned: hub.cluster?.runningHomes().length ?? 0, rss: process.memoryUsage.rss() });
}, 250);
let stopping = false;
process.on('message', (m: { stop?: boolean }) => {
  if (!m.stop || stopping) return;
  stopping = true;
  clearInterval(timer);
  void hub.history.flush().catch(() => undefined).then(() => hub.close()).then(() => process.exit(0), () => process.exit(1));
});
process.once('disconnect', () => { if (!stopping) process.exit(2); });
