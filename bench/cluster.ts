/**
 * The cluster as deployed (issue 13): 1, 2 and 3 hub processes in cluster
 * mode (bench/cluster-node.js: `startHub` with `MIMAMORI_DATABASE_URL` and
 * `MIMAMORI_REDIS_URL` set) on one real PostgreSQL and one real
 * redis-server, writing history to one influxd — started by the bench, a
 * fresh database and a fresh redis-server for each cluster size.
 *
 * The load is the whole-path load (bench/wholepath.ts: QoS 1 devices from
 * load generator processes, many publishes in flight, offered rate stepped
 * up until a step is not sustained), with the devices spread over the
 * nodes' brokers — a device's messages reach its home's owner through the
 * inbox in PostgreSQL — and after the steps every event sent must be in
 * InfluxDB exactly once.
 * Per cluster size it reports the sustained events/s, CPU µs per event of
 * the hub processes, of redis-server and of PostgreSQL, and each node's RSS
 * and homes. All of it runs on this one machine: 3 hub processes, Redis,
 * PostgreSQL, influxd and the generators share its cores, so the figures
 * show what a node costs per event, not how far more machines would scale.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newSecret } from '../core/ids.js';
import { createPgStore } from '../core/store-pg.js';
import { silentLogger } from '../core/logger.js';
import { startManagedInfluxd } from '../history/index.js';
import { startPostgres } from '../test/support/postgres.js';
import { startRedis } from '../test/support/redis.js';
import type { Teardown } from '../test/support/wait.js';
import { withDeadline } from './broker.js';
import type { BenchRow } from './types.js';
import { addLoadDevices, countPoints, cpuMicrosOf, startGenerators, stepLoad, stepRate, summarise, waitFor, type Step } from './wholepath.js';

export interface ClusterBenchOptions {
  /** Cluster sizes to measure, e.g. [1, 2, 3]. */
  nodes: number[];
  rates: number[];
  stepSeconds: number;
  devices: number;
  /** Devices per home: more, smaller homes spread more evenly over the nodes. */
  perHome: number;
  generators: number;
  dir: string;
}

interface Node { id: string; child: ChildProcess; port: number; written: number; owned: number; rss: number }

export interface ClusterRun {
  nodes: number;
  homes: number;
  steps: Step[];
  sustained: number;
  /** Hub processes, redis-server, PostgreSQL: CPU µs per event over all the steps. */
  cpu: { hubs: number; redis: number; postgres: number };
  /** Per node at the end of the steps. */
  perNode: Array<{ id: string; homes: number; rssMB: number }>;
  sent: number; acked: number; points: number; distinctIds: number;
}

/** Every process named `postgres` (the postmaster and its backends). */
function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try { if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry)); } catch { /* gone meanwhile */ }
  }
  return pids;
}

/** CPU µs of processes that may end meanwhile (a backend closing): those gone are left out. */
function cpuOfSome(pids: number[]): number {
  let total = 0;
  for (const pid of pids) { try { total += cpuMicrosOf([pid]); } catch { /* gone */ } }
  return total;
}

async function startNode(dir: string, id: string, args: string[]): Promise<Node> {
  const script = fileURLToPath(new URL('./cluster-node.js', import.meta.url));
  const child = fork(script, [join(dir, id), id, ...args], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const node: Node = { id, child, port: 0, written: 0, owned: 0, rss: 0 };
  try {
    await withDeadline(new Promise<void>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; port?: number; written?: number; owned?: number; rss?: number }) => {
        if (m.ready) { node.port = m.port!; resolve(); return; }
        node.written = m.written ?? node.written; node.owned = m.owned ?? node.owned; node.rss = m.rss ?? node.rss;
      });
      child.once('exit', (code) => reject(new Error(`cluster node ${id} exited with ${code} while starting`)));
    }), 120_000, `cluster node ${id} to start`);
  } catch (err) { child.kill('SIGKILL'); throw err; }
  child.removeAllListeners('exit');
  return node;
}

async function stopNode(n: Node): Promise<void> {
  if (n.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => n.child.once('exit', () => resolve()));
  n.child.send({ stop: true });
  await withDeadline(exited, 60_000, `cluster node ${n.id} to stop`).catch(() => { n.child.kill('SIGKILL'); });
}

async function runCluster(size: number, o: ClusterBenchOptions, t: Teardown, pgUrl: (name: string) => Promise<string>, influxUrl: string): Promise<ClusterRun> {
  const dir = join(o.dir, `n${size}`);
  mkdirSync(dir, { recursive: true });
  const redis = await startRedis(t);
  const dbUrl = await pgUrl(`bench_cluster_${size}_${process.pid}`);
  const influxDb = `wp_cluster_${size}`;
  const secret = newSecret();
  const store = await createPgStore(dbUrl);
  let devices;
  try { devices = await addLoadDevices(store, o.devices, secret, o.perHome); } finally { await store.close(); }
  const homes = Math.ceil(o.devices / o.perHome);
  const nodes: Node[] = [];
  try {
    // One after another: the first migrates the database.
    for (let i = 0; i < size; i++) nodes.push(await startNode(dir, `bench-${i + 1}`, [dbUrl, redis.url, influxUrl, influxDb]));
    await waitFor(() => nodes.reduce((a, n) => a + n.owned, 0) === homes && nodes.every((n) => n.owned > 0), 120_000, `${homes} homes to be spread over ${size} node(s)`);
    const spread = devices.map((d, i) => ({ ...d, port: nodes[i % size]!.port }));
    const gens = await startGenerators(dir, nodes[0]!.port, spread, o.generators, Date.now() - 10 * 60_000);
    const written = () => nodes.reduce((a, n) => a + n.written, 0);
    const hubPids = nodes.map((n) => n.child.pid!);
    try {
      const before = { hubs: cpuMicrosOf(hubPids), redis: cpuMicrosOf([redis.pid]), postgres: cpuOfSome(postgresPids()), written: written() };
      const steps = await stepLoad(gens, written, () => cpuMicrosOf(hubPids), o, `cluster of ${size}`);
      const after = { hubs: cpuMicrosOf(hubPids), redis: cpuMicrosOf([redis.pid]), postgres: cpuOfSome(postgresPids()), written: written() };
      const perNode = nodes.map((n) => ({ id: n.id, homes: n.owned, rssMB: n.rss / 2 ** 20 }));
      const totals = await gens.stop();
      for (const n of nodes) await stopNode(n);
      const events = Math.max(1, after.written - before.written);
      return {
        nodes: size, homes, steps, sustained: summarise(steps), perNode, sent: totals.sent, acked: totals.acked,
        cpu: { hubs: (after.hubs - before.hubs) / events, redis: (after.redis - before.redis) / events, postgres: (after.postgres - before.postgres) / events },
        ...(await countPoints(influxUrl, influxDb)),
      };
    } finally {
      await gens.stop().catch(() => undefined);
    }
  } finally {
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGKILL');
    await redis.stop();
  }
}

export async function benchCluster(o: ClusterBenchOptions): Promise<{ rows: BenchRow[]; runs: ClusterRun[] }> {
  mkdirSync(o.dir, { recursive: true });
  const teardowns: Array<() => unknown> = [];
  const t: Teardown = { teardown: (fn) => { teardowns.push(fn); } };
  try {
    const pg = await withDeadline(startPostgres(t), 60_000, 'PostgreSQL to start');
    const influxd = await withDeadline(startManagedInfluxd({ dataDir: join(o.dir, 'influx'), logger: silentLogger() }), 60_000, 'influxd to start');
    t.teardown(() => influxd.close());
    const runs: ClusterRun[] = [];
    for (const size of o.nodes) runs.push(await runCluster(size, o, t, (name) => pg.createDatabase(name), influxd.url));
    const one = runs.find((r) => r.nodes === 1);
    const rows: BenchRow[] = [];
    for (const r of runs) {
      const top = r.steps.filter((s) => s.sustained).at(-1);
      const stepsText = r.steps.map((s) => `${stepRate(s)} ${s.sustained ? 'kept up' : `NOT kept up (${s.written} of ${s.offered} in InfluxDB)`}`).join(', ');
      const once = r.points === r.acked && r.distinctIds === r.points;
      rows.push({
        name: `cluster of ${r.nodes} hub process(es) on PostgreSQL + Redis: whole path sustained (${o.devices} devices spread over the nodes, ${r.homes} homes)`,
        value: r.sustained, unit: 'events/s',
        ...(one && r !== one ? { reference: { name: 'the same load on a cluster of 1 in this run', value: one.sustained }, ratio: r.sustained / Math.max(1, one.sustained) } : {}),
        target: `exactly once into InfluxDB: ${once ? 'met' : 'NOT met'} (${r.sent} sent, ${r.acked} acknowledged, ${r.points} points, ${r.distinctIds} distinct ids)`,
        notes: `steps of ${o.stepSeconds} s: ${stepsText}; homes per node ${r.perNode.map((n) => n.homes).join('/')}; all on one ${'2-core'} machine with Redis, PostgreSQL and influxd`,
      });
      rows.push({
        name: `cluster of ${r.nodes}: CPU per event over the steps (hub processes | redis-server | PostgreSQL)`,
        value: r.cpu.hubs, unit: 'µs/event',
        notes: `redis-server ${r.cpu.redis.toFixed(1)} µs/event, PostgreSQL ${r.cpu.postgres.toFixed(1)} µs/event; hub processes at the top sustained step ${top ? top.cpuMicrosPerEvent.toFixed(0) : '–'} µs/event; each message is stored once, by the node its device is connected to, and run by its home's owner from the inbox in PostgreSQL (docs/scale.md); every node shares the same 2 cores here`,
      });
      rows.push({
        name: `cluster of ${r.nodes}: RSS per node after the steps`, value: r.perNode.reduce((a, n) => a + n.rssMB, 0) / r.perNode.length, unit: 'MB',
        notes: r.perNode.map((n) => `${n.id}: ${n.rssMB.toFixed(0)} MB, ${n.homes} homes`).join('; '),
      });
    }
    return { rows, runs };
  } finally {
    for (const fn of teardowns.reverse()) { try { await fn(); } catch { /* best effort */ } }
  }
}
