/** Cluster configuration: MIMAMORI_REDIS_URL joins a cluster; PostgreSQL is required; `start --cluster` needs the Redis URL. */
import t from 'tap';
import { clusterMode, loadConfig } from '../../core/config.js';
import { MimamoriError } from '../../core/errors.js';
import { main } from '../../cli/main.js';
import { capture } from '../support/cli-io.js';

t.test('a cluster needs PostgreSQL; SQLite is refused with a clear error in English and Japanese', async (t) => {
  const err = (() => { try { loadConfig({ MIMAMORI_REDIS_URL: 'redis://127.0.0.1:6379/2' }); } catch (e) { return e; } return undefined; })();
  t.ok(err instanceof MimamoriError, 'refused');
  t.equal((err as MimamoriError).code, 'MIMAMORI_ERR_CONFIG');
  t.match((err as Error).message, /cluster mode needs PostgreSQL: set MIMAMORI_DATABASE_URL/);
  t.match((err as Error).message, /PostgreSQL が必要です/);
});

t.test('Redis and PostgreSQL URLs together join a cluster; without Redis the hub stays single', async (t) => {
  const c = loadConfig({ MIMAMORI_REDIS_URL: 'redis://127.0.0.1:6379/2', MIMAMORI_DATABASE_URL: 'postgres://u@127.0.0.1/db', MIMAMORI_NODE_ID: 'node-1', MIMAMORI_LEASE_MS: '3000', MIMAMORI_HEARTBEAT_MS: '1000' });
  t.equal(clusterMode(c), true);
  t.same(c.cluster, { redisUrl: 'redis://127.0.0.1:6379/2', nodeId: 'node-1', leaseMs: 3000, heartbeatMs: 1000 });
  t.equal(clusterMode(loadConfig({ MIMAMORI_DATABASE_URL: 'postgres://u@127.0.0.1/db' })), false, 'PostgreSQL alone: one hub');
  t.throws(() => loadConfig({ MIMAMORI_REDIS_URL: 'http://x', MIMAMORI_DATABASE_URL: 'postgres://u@h/db' }), /redis:\/\/ or rediss:\/\//, 'a non-Redis URL is refused');
  t.throws(() => loadConfig({ MIMAMORI_REDIS_URL: 'redis://h', MIMAMORI_DATABASE_URL: 'postgres://u@h/db', MIMAMORI_LEASE_MS: '1000', MIMAMORI_HEARTBEAT_MS: '800' }), /at least twice/, 'a lease shorter than two heartbeats is refused');
  t.throws(() => loadConfig({ MIMAMORI_REDIS_URL: 'redis://h', MIMAMORI_DATABASE_URL: 'postgres://u@h/db', MIMAMORI_NODE_ID: 'a b' }), /cluster.nodeId/, 'a node id with a space is refused');
});

t.test('mimamori start --cluster without MIMAMORI_REDIS_URL says what to set, and starts nothing', async (t) => {
  const io = capture();
  t.equal(await main(['start', '--cluster'], { MIMAMORI_DEMO_HOMES: '0' }, io), 2);
  t.match(io.stderr.join('\n'), /set MIMAMORI_REDIS_URL .* and MIMAMORI_DATABASE_URL/);
  t.match(io.stderr.join('\n'), /MIMAMORI_REDIS_URL と MIMAMORI_DATABASE_URL を設定してください/);
});
