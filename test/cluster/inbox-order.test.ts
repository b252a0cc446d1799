/**
 * The order in which a home's owner reads the cluster inbox (docs/scale.md,
 * "The inbox"), on a real PostgreSQL 15: a pool commits transactions in any
 * order, and a row's `seq` is drawn when it is inserted, not when it commits.
 *
 * - One node's ingest batches of one home commit in the order they arrived,
 *   so the owner runs a device's readings in the order it sent them, even when
 *   the earlier batch is held up inside PostgreSQL (here: by a row lock on its
 *   event id, as a resend on another node holds it).
 * - A row that commits after a row with a higher `seq` was already read is
 *   read all the same, once: the reader takes every waiting row, it keeps no
 *   "last seq read" that would step over it.
 * - A node that takes a home on (hub/cluster.ts, a real Redis) runs what
 *   waited in the inbox before the home's deadlines are armed: a deadline
 *   that fell while no node ran the home is judged with those readings.
 */
import t, { type Test } from 'tap';
import pg from 'pg';
import { VirtualClock } from '../../core/clock.js';
import { eventDay, type Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import { loadConfig } from '../../core/config.js';
import { systemClock } from '../../core/clock.js';
import { createSqlStore, type Store } from '../../core/store.js';
import { createPgStore, pgSqlDb } from '../../core/store-pg.js';
import type { SqlDb } from '../../core/store-sql.js';
import { createInboxReader } from '../../broker/index.js';
import { createRuleEngine } from '../../rules/engine.js';
import { createClusterParts } from '../../hub/cluster.js';
import { startRedis } from '../support/redis.js';
import { postgresInstalled, startPostgres } from '../support/postgres.js';
import { until } from '../support/wait.js';
import { gate } from '../support/out-of-order-port.js';
import { at, heartbeat, motion, water } from '../rules/helpers.js';

const skip = postgresInstalled ? false : 'PostgreSQL 15 not installed (node scripts/setup.mjs --for test)';

/** BIGINT as a JS number, as the store's own pool reads it. */
const types = { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser };

/**
 * A store on `url` over a pool of its own (one cluster node), counting the transactions it begins;
 * `afterOutbox` runs inside a transaction right after its inbox rows are inserted (their seqs drawn), before it commits.
 */
function node(t: Test, url: string, afterOutbox?: () => Promise<void>): { store: Store; began: () => number } {
  const pool = new pg.Pool({ connectionString: url, max: 4, types });
  const port = pgSqlDb(pool);
  let began = 0;
  const counted: SqlDb = {
    ...port,
    tx: (work) => {
      began++;
      if (!afterOutbox) return port.tx(work);
      return port.tx((q) => work({ ...q, all: async (sql, ...p) => { const rows = await q.all(sql, ...p); if (sql.startsWith('INSERT INTO ingest_outbox')) await afterOutbox(); return rows; } }));
    },
  };
  const store = createSqlStore(counted);
  t.teardown(() => store.close());
  return { store, began: () => began };
}

/** A transaction on its own connection that holds the event id `eventId` of `home`/`device` (uncommitted) until `release()`. */
async function holdEventId(t: Test, url: string, home: string, device: string, eventId: string, at: number): Promise<{ release(): Promise<void>; waiters(): Promise<number> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  await c.query('BEGIN');
  await c.query('INSERT INTO seen_ids (day, home_id, device_id, event_id) VALUES ($1, $2, $3, $4)', [eventDay(at), home, device, eventId]);
  const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]!.pid;
  return {
    async release() { await c.query('ROLLBACK'); },
    // Backends waiting on this transaction's lock: a batch inserting the same id is held up by it.
    async waiters() {
      const r = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_locks w JOIN pg_locks h ON h.transactionid = w.transactionid AND h.granted AND h.pid = $1 WHERE NOT w.granted', [pid]);
      return r.rows[0]!.n;
    },
  };
}

const item = (r: Reading) => ({ homeId: r.home, deviceId: r.device, ...(r.kind !== 'heartbeat' ? { eventId: r.id, eventAt: r.at } : {}), outbox: JSON.stringify(r) });

if (!postgresInstalled) t.pass(`skipped: ${String(skip)}`);
else {
  const server = await startPostgres(t);
  const database = async (fenced = true): Promise<string> => {
    const url = await server.createDatabase();
    const setup = await createPgStore(url); // migrates
    await setup.createHome({ id: 'h1', name: 'h1', timezone: 'Asia/Tokyo' });
    if (fenced) await setup.fenceHome({ home: 'h1', owner: 'A', token: 1 }, 0);
    await setup.close();
    return url;
  };

  t.test('a device\'s readings reach the owner\'s rules in the order they arrived, though the earlier batch commits late', async (t) => {
    const url = await database();
    const { store, began } = node(t, url);
    // She washes her hands at 21:10 (water on, then off 40 s later) and goes to bed at 21:15.
    const clock = new VirtualClock(at('21:10') + 41_000);
    const engine = await createRuleEngine({ clock, logger: silentLogger(), rulesFor: () => [{ type: 'flowWithoutMotion' }], watermark: false });
    t.teardown(() => engine.close());
    const findings: Finding[] = [];
    engine.findings.subscribe((f) => findings.push(f));
    const ran: string[] = [];
    const reader = createInboxReader({
      store, node: 'A', clock, logger: silentLogger(), gatherMs: 0,
      history: { writeReading: () => {}, flush: async () => {} },
      run: (r) => { ran.push(r.kind === 'water' ? `water ${r.flowing ? 'on' : 'off'}` : r.kind); engine.ingest(r); return true; },
    });
    t.teardown(() => reader.close());
    const read = async () => { reader.wake(); await reader.idle(); };

    await store.commitIngestBatch([item(motion(at('21:09')))], clock.now(), { forOwner: true });
    await read();
    const on = water(at('21:10'), true);
    const off = water(at('21:10') + 40_000, false);
    // The batch with "on" is held inside PostgreSQL, on its event id (as a resend of it on another node holds it).
    const held = await holdEventId(t, url, 'h1', on.device, on.id, on.at);
    const first = store.commitIngestBatch([item(on)], clock.now(), { forOwner: true });
    await until(async () => (await held.waiters()) === 1, 10_000, 'the first batch to wait on its event id');
    const before = began();
    const second = store.commitIngestBatch([item(off)], clock.now(), { forOwner: true });
    // "off" either committed on a connection of its own (nothing holds it) or waits for "on": the owner reads what is there now.
    if (began() > before) await second;
    await read();
    await held.release();
    t.same((await Promise.all([first, second])).map((r) => r.fresh), [[true], [true]], 'both batches committed');
    await read();
    t.same(ran, ['motion', 'water on', 'water off'], 'the owner ran them in the order they arrived');

    clock.advanceTo(at('21:15'));
    await store.commitIngestBatch([item(motion(at('21:15'), 'motion-bedroom'))], clock.now(), { forOwner: true });
    await read();
    clock.advanceTo(at('23:00'));
    t.same(findings.map((f) => `${f.type}:${f.state}:${f.severity}`), [], 'no "water running and nobody moving" while she sleeps');
  });

  t.test('a row that commits after a later row was read is read all the same, once', async (t) => {
    const url = await database();
    const a = node(t, url).store; // the owner
    // The node another device of the home is connected to: its batch has drawn its rows' seqs and is slow to commit.
    const slow = gate();
    const b = node(t, url, () => slow.wait()).store;
    const beat = heartbeat(at('09:00'), 'climate');
    const press = motion(at('09:00') + 1000, 'motion-hall');
    const late = motion(at('09:00') + 2000, 'motion-living');
    const fromB = b.commitIngestBatch([item(beat), item(press)], at('09:00'), { forOwner: true });
    await slow.reached;
    await a.commitIngestBatch([item(late)], at('09:00'), { forOwner: true });
    const first = await a.takeInbox('A', 100);
    t.same(first.map((r) => (JSON.parse(r.text) as Reading).device), ['motion-living'], 'only what has committed is read');
    slow.open();
    await fromB;
    const all = await a.takeInbox('A', 100);
    t.same(all.map((r) => (JSON.parse(r.text) as Reading).device), ['climate', 'motion-hall'], 'the rows committed since are read, though the heartbeat\'s seq is below one already read');
    t.ok(all[0]!.seq < first[0]!.seq, 'a "last seq read" cursor would have stepped over the heartbeat');
    t.same(await a.takeInbox('A', 100), [], 'and each row once');
  });

  /**
   * Node A ran h1 (her last movement at 08:00: no sign of life due at 11:00) and let it go; the clock
   * is at 11:00:05 and node B's engine is ready to take h1 on (`between` runs before the clock moves).
   */
  async function handover(t: Test, between: (store: Store) => Promise<void> = async () => {}) {
    const url = await database(false);
    const redis = await startRedis(t);
    const store = await createPgStore(url);
    t.teardown(() => store.close());
    const clock = new VirtualClock(at('08:00'));
    const rulesFor = () => [{ type: 'noSignOfLife' }];
    const a = await createRuleEngine({ clock, logger: silentLogger(), store, rulesFor, restoreAll: false });
    await a.loadHome('h1');
    a.ingest(motion(at('08:00')));
    t.equal(await a.releaseHome('h1'), true);
    await a.close();
    await between(store);
    clock.advanceTo(at('11:00') + 5000);
    const engine = await createRuleEngine({ clock, logger: silentLogger(), store, rulesFor, restoreAll: false });
    t.teardown(() => engine.close());
    const findings: Finding[] = [];
    engine.findings.subscribe((f) => findings.push(f));
    const loaded = loadConfig({}, { cluster: { nodeId: 'B' } });
    const config = { ...loaded, cluster: { ...loaded.cluster, redisUrl: redis.url } };
    return { store, clock, engine, findings, config };
  }

  t.test('a node taking a home on runs what waited in the inbox before a deadline that fell meanwhile is judged', async (t) => {
    // No node runs h1 (A died; its lease has not run out): she gets up at 10:59, and it waits in the inbox.
    // Node B takes h1 on, wired as hub/index.ts wires it.
    const { store, clock, engine, findings, config } = await handover(t, async (store) => {
      await store.commitIngestBatch([item(motion(at('10:59'), 'motion-bedroom'))], at('10:59'), { forOwner: true });
    });
    const cluster = await createClusterParts({ config, logger: silentLogger(), wallClock: systemClock });
    const reader = createInboxReader({
      store, node: 'B', clock, logger: silentLogger(),
      history: { writeReading: () => {}, flush: async () => {} },
      run: (r) => { if (!cluster.running(r.home)) return false; engine.ingest(r); return true; },
    });
    cluster.onRunning(() => reader.readNow());
    cluster.ownership.onGained((home) => { void reader.gained(home); });
    // The moment h1 runs here, the timers' next turn (a deadline due now fires at once, before a read of the inbox).
    cluster.onRunning(() => { clock.advanceBy(1); });
    await cluster.startLeases(async () => ['h1'], engine, store);
    await until(() => cluster.running('h1'), 30_000, 'node B to run h1');
    await cluster.idle();
    await reader.idle();
    clock.advanceBy(60_000);
    t.equal(engine.lastSignOfLife('h1'), at('10:59'), 'the reading that waited was run');
    t.same(findings.map((f) => `${f.type}:${f.state}`), [], 'no "no sign of life" for the hours she was up in');
    clock.advanceTo(at('13:59'));
    t.same(findings.map((f) => `${f.type}:${f.state}`), ['noSignOfLife:raised'], 'the deadline counts from 10:59');
    // Closed here, before the teardown stops Redis under them.
    await reader.close();
    await cluster.close();
    await cluster.broker.close(); // the hub closes it after its aedes broker; none here
  });

  t.test('a home taken on is not held for ever by an inbox read that never answers: its deadlines run after the bound', async (t) => {
    const { store, clock, engine, findings, config } = await handover(t);
    const warnings: string[] = [];
    const logger = { ...silentLogger(), child: () => logger, warn: (_o: unknown, msg?: string) => { if (msg !== undefined) warnings.push(msg); } };
    const cluster = await createClusterParts({ config, logger: logger as never, wallClock: systemClock, inboxHoldMaxMs: 200 });
    // The inbox read hangs: the database neither answers nor fails.
    cluster.onRunning(() => new Promise<void>(() => {}));
    await cluster.startLeases(async () => ['h1'], engine, store);
    await until(() => cluster.running('h1'), 30_000, 'node B to run h1');
    // The engine's timers turn with the virtual clock: a millisecond at each look.
    await until(() => { clock.advanceBy(1); return findings.length > 0; }, 10_000, 'the deadline that fell at 11:00 to be judged');
    t.same(findings.map((f) => `${f.type}:${f.state}`), ['noSignOfLife:raised'], 'no sign of life since 08:00: raised, not held back');
    t.equal(warnings.filter((w) => /the inbox was not read in time after taking the home on/.test(w)).length, 1, 'and the operator is told why, once');
    await cluster.close();
    await cluster.broker.close();
  });
}
