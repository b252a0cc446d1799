/**
 * The durable job scheduler in virtual time, on a real SQLite file and a real
 * PostgreSQL: due order, re-arming earlier, cancel, retry with back-off, a
 * restart that resumes, and two schedulers on one store that never run a job
 * twice — a dead owner's job is taken once its lease has run out. Nothing
 * waits on wall-clock time: the clock moves from one timer to the next and
 * each step waits for `idle()`.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore, type Store } from '../../core/store.js';
import { createPgStore } from '../../core/store-pg.js';
import { createJobScheduler, retryDelay, type Job, type JobScheduler } from '../../jobs/index.js';
import { postgresInstalled, startPostgres } from '../support/postgres.js';
import { tempDir } from '../support/wait.js';
import { ownershipOf } from '../support/ownership.js';

const t0 = Date.parse('2026-12-01T09:00:00+09:00');
const min = 60_000;

function sqliteStore(t: Test): { store: Store; file: string } {
  const file = join(tempDir(t, 'mimamori-jobs-'), 'hub.db');
  const store = createSqliteStore(file, { now: () => t0 });
  t.teardown(() => store.close());
  return { store, file };
}

/** The time of the clock's next timer (RxJS's virtual actions keep their absolute time in `delay`). */
const nextTimer = (clock: VirtualClock): number | undefined => (clock.actions[0] as { delay?: number } | undefined)?.delay;

/** Moves the clock timer by timer up to `to`, letting the schedulers finish each step. */
async function runTo(clock: VirtualClock, schedulers: JobScheduler[], to: number): Promise<void> {
  const settle = async () => { for (let i = 0; i < 3; i++) for (const s of schedulers) await s.idle(); };
  await settle();
  for (let next = nextTimer(clock); next !== undefined && next <= to; next = nextTimer(clock)) {
    clock.advanceTo(next);
    await settle();
  }
  clock.advanceTo(to);
  await settle();
}

interface Ran { key: string; at: number; by: string }

function scheduler(store: Store, clock: VirtualClock, owner: string, ran: Ran[], o: { fail?: (job: Job) => boolean; hang?: Set<string> } = {}): JobScheduler {
  const s = createJobScheduler({ store, clock, logger: silentLogger(), owner, leaseMs: 10 * min, retry: { firstMs: min, maxMs: 8 * min } });
  s.register('step', async (job) => {
    ran.push({ key: job.key, at: clock.now(), by: owner });
    if (o.hang?.has(job.key)) await new Promise(() => {}); // a node that died mid-run: never finishes
    if (o.fail?.(job)) throw new Error(`failed ${job.key}`);
  });
  return s;
}

t.test('jobs run at their due time, by due time then key, once each, and are gone after', async (t) => {
  const { store } = sqliteStore(t);
  const clock = new VirtualClock(t0);
  const ran: Ran[] = [];
  const s = scheduler(store, clock, 'n1', ran);
  t.teardown(() => s.close());
  await s.schedule({ key: 'c', kind: 'step', homeId: 'h1', dueAt: t0 + 30 * min });
  await s.schedule({ key: 'b', kind: 'step', homeId: 'h1', dueAt: t0 + 20 * min });
  await s.schedule({ key: 'a', kind: 'step', homeId: 'h1', dueAt: t0 + 20 * min });
  await s.schedule({ key: 'z', kind: 'other', homeId: 'h1', dueAt: t0 + 5 * min });
  await runTo(clock, [s], t0 + 19 * min);
  t.same(ran, [], 'nothing before it is due; a kind without a handler here is not taken');
  await runTo(clock, [s], t0 + 60 * min);
  t.same(ran.map((r) => [r.key, (r.at - t0) / min]), [['a', 20], ['b', 20], ['c', 30]]);
  t.same((await s.list()).map((j) => j.key), ['z'], 'completed jobs are deleted; the other kind waits for its owner');
});

t.test('re-scheduling a key replaces it; an earlier job re-arms the timer; cancel', async (t) => {
  const { store } = sqliteStore(t);
  const clock = new VirtualClock(t0);
  const ran: Ran[] = [];
  const s = scheduler(store, clock, 'n1', ran);
  t.teardown(() => s.close());
  await s.schedule({ key: 'late', kind: 'step', homeId: 'h1', dueAt: t0 + 60 * min });
  await runTo(clock, [s], t0 + 1 * min);
  await s.schedule({ key: 'early', kind: 'step', homeId: 'h1', dueAt: t0 + 10 * min });
  await s.schedule({ key: 'moved', kind: 'step', homeId: 'h1', dueAt: t0 + 40 * min });
  await s.schedule({ key: 'moved', kind: 'step', homeId: 'h1', dueAt: t0 + 15 * min, payload: { n: 2 } });
  await s.schedule({ key: 'gone', kind: 'step', homeId: 'h1', dueAt: t0 + 12 * min });
  t.equal(await s.cancel('gone'), true);
  t.equal(await s.cancel('gone'), false);
  await runTo(clock, [s], t0 + 59 * min);
  t.same(ran.map((r) => [r.key, (r.at - t0) / min]), [['early', 10], ['moved', 15]], 'the earlier job ran on time; the moved one once, at its new time; the cancelled one never');
  await runTo(clock, [s], t0 + 61 * min);
  t.same(ran.map((r) => r.key), ['early', 'moved', 'late']);
});

t.test('a failing job is retried with a doubling back-off, its attempts and error kept, until it succeeds', async (t) => {
  const { store } = sqliteStore(t);
  const clock = new VirtualClock(t0);
  const ran: Ran[] = [];
  const s = scheduler(store, clock, 'n1', ran, { fail: (j) => j.attempts < 4 });
  t.teardown(() => s.close());
  await s.schedule({ key: 'flaky', kind: 'step', homeId: 'h1', dueAt: t0 + 10 * min });
  await runTo(clock, [s], t0 + 10 * min);
  const after1 = await s.get('flaky');
  t.same([after1?.attempts, after1?.lastError, after1?.dueAt, after1?.owner], [1, 'failed flaky', t0 + 11 * min, undefined]);
  await runTo(clock, [s], t0 + 60 * min);
  // Back-off 1, 2, 4, then 8 minutes (the cap): runs at 10, 11, 13, 17, 25.
  t.same(ran.map((r) => (r.at - t0) / min), [10, 11, 13, 17, 25]);
  t.equal(await s.get('flaky'), undefined, 'the fifth run succeeded');
  t.same([0, 1, 2, 3, 4, 10].map((a) => retryDelay(a, min, 8 * min) / min), [1, 2, 4, 8, 8, 8]);
});

t.test('a restart resumes from the store: overdue jobs run at once, later ones on time', async (t) => {
  const { store } = sqliteStore(t);
  const clock = new VirtualClock(t0);
  const ran: Ran[] = [];
  const first = scheduler(store, clock, 'n1', ran);
  await first.schedule({ key: 'a', kind: 'step', homeId: 'h1', dueAt: t0 + 10 * min });
  await first.schedule({ key: 'b', kind: 'step', homeId: 'h1', dueAt: t0 + 90 * min });
  await first.close();
  await runTo(clock, [], t0 + 30 * min);
  t.same(ran, [], 'nothing runs while no scheduler is up');
  const second = scheduler(store, clock, 'n1', ran);
  t.teardown(() => second.close());
  await runTo(clock, [second], t0 + 30 * min);
  t.same(ran.map((r) => [r.key, (r.at - t0) / min]), [['a', 30]], 'the overdue job ran on start');
  await runTo(clock, [second], t0 + 120 * min);
  t.same(ran.map((r) => [r.key, (r.at - t0) / min]), [['a', 30], ['b', 90]]);
});

t.test('runNow: held while it runs, deleted after, kept when the work scheduled the key again', async (t) => {
  const { store } = sqliteStore(t);
  const clock = new VirtualClock(t0);
  const ran: Ran[] = [];
  const s = scheduler(store, clock, 'n1', ran);
  t.teardown(() => s.close());
  const seen = await s.runNow({ key: 'x', kind: 'step', homeId: 'h1' }, async () => (await s.get('x'))?.owner);
  t.equal(seen, 'n1', 'the job row is held by this node while the work runs');
  t.equal(await s.get('x'), undefined);
  await s.runNow({ key: 'y', kind: 'step', homeId: 'h1' }, async () => { await s.schedule({ key: 'y', kind: 'step', homeId: 'h1', dueAt: t0 + 5 * min }); });
  t.same([(await s.get('y'))?.dueAt, (await s.get('y'))?.owner], [t0 + 5 * min, undefined], 'the next step stays, free');
  await runTo(clock, [s], t0 + 10 * min);
  t.same(ran.map((r) => [r.key, (r.at - t0) / min]), [['y', 5]], 'and runs on time — not at once by the timer while held');
});

/** Two schedulers on one store: each job once; a job held by a dead node is taken when its lease runs out. */
async function twoNodes(t: Test, storeA: Store, storeB: Store): Promise<void> {
  const clock = new VirtualClock(t0);
  const ran: Ran[] = [];
  const a = scheduler(storeA, clock, 'node-a', ran);
  const b = scheduler(storeB, clock, 'node-b', ran);
  t.teardown(async () => { await a.close(); await b.close(); });
  for (let i = 0; i < 30; i++) await (i % 2 ? a : b).schedule({ key: `j${String(i).padStart(2, '0')}`, kind: 'step', homeId: `h${i % 3}`, dueAt: t0 + (1 + (i % 5)) * min });
  await runTo(clock, [a, b], t0 + 10 * min);
  t.equal(ran.length, 30, 'every job ran');
  t.equal(new Set(ran.map((r) => r.key)).size, 30, 'none twice');
  t.same(await a.list(), [], 'all completed');

  // node-c claims a job and dies inside it (its handler never returns): node-a takes it after the lease.
  ran.length = 0;
  const c = scheduler(storeA, clock, 'node-c', ran, { hang: new Set(['stuck']) });
  await c.schedule({ key: 'stuck', kind: 'step', homeId: 'h1', dueAt: t0 + 20 * min });
  await b.close(); await a.close(); // only the doomed node is up when it falls due
  clock.advanceTo(t0 + 20 * min);
  for (let i = 0; i < 10_000 && ran.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
  t.same(ran.map((r) => [r.key, r.by]), [['stuck', 'node-c']], 'node-c took it and hangs');
  void c.close(); // c is "dead": its timer stops at once; its run never finishes (so this never resolves)
  const holder = await storeA.getJob('stuck');
  t.same([holder?.owner, holder?.leaseUntil], ['node-c', t0 + 30 * min]);
  const a2 = scheduler(storeA, clock, 'node-a', ran);
  t.teardown(() => a2.close());
  await runTo(clock, [a2], t0 + 29 * min);
  t.equal(ran.length, 1, 'not taken while the lease is live');
  await runTo(clock, [a2], t0 + 31 * min);
  t.same(ran.map((r) => [r.key, (r.at - t0) / min, r.by]), [['stuck', 20, 'node-c'], ['stuck', 30, 'node-a']], 'taken when the lease ran out');
  t.equal(await storeA.getJob('stuck'), undefined);
}

t.test('two schedulers on one SQLite file', async (t) => {
  const { store } = sqliteStore(t);
  await twoNodes(t, store, store);
});

if (postgresInstalled) {
  t.test('two schedulers, each with its own pool, on one PostgreSQL', async (t) => {
    const server = await startPostgres(t);
    const url = await server.createDatabase();
    const a = await createPgStore(url, { now: () => t0, poolSize: 3 });
    const b = await createPgStore(url, { now: () => t0, poolSize: 3 });
    t.teardown(async () => { await a.close(); await b.close(); });
    await twoNodes(t, a, b);
  });
}

/**
 * Two nodes in a cluster (issue 13): each claims only the jobs of the homes it holds; a home let go
 * is nobody's until the next owner's fence; the gain runs its due jobs at once, not at a later timer; a
 * stalled former owner — still believing in its old token — claims nothing and its writes are refused.
 */
async function jobsFollowOwnership(t: Test, storeA: Store, storeB: Store): Promise<void> {
  const clock = new VirtualClock(t0);
  const ran: Ran[] = [];
  const own = { a: ownershipOf(storeA, 'node-a'), b: ownershipOf(storeB, 'node-b') };
  const node = (store: Store, name: 'a' | 'b') => {
    const s = createJobScheduler({ store, clock, logger: silentLogger(), owner: `node-${name}/1`, ownership: own[name], leaseMs: 10 * min, pollMs: min });
    s.register('step', async (job, run) => {
      ran.push({ key: job.key, at: clock.now(), by: name });
      t.same(run.fence, { home: job.homeId, owner: `node-${name}`, token: own[name].tokenOf(job.homeId) }, `${job.key}: the run carries its home's fence`);
    });
    return s;
  };
  const a = node(storeA, 'a');
  const b = node(storeB, 'b');
  t.teardown(async () => { await a.close(); await b.close(); });
  await own.a.gain('h0', 1, t0);
  await own.a.gain('h1', 1, t0);
  await own.b.gain('h2', 1, t0);
  for (let i = 0; i < 9; i++) await (i % 2 ? a : b).schedule({ key: `j${i}`, kind: 'step', homeId: `h${i % 3}`, dueAt: t0 + (1 + (i % 4)) * min });
  await runTo(clock, [a, b], t0 + 5 * min);
  t.same(ran.map((r) => `${r.key}:${r.by}`).sort(), ['j0:a', 'j1:a', 'j2:b', 'j3:a', 'j4:a', 'j5:b', 'j6:a', 'j7:a', 'j8:b'], 'each job ran once, on the node holding its home');

  // A lets h1 go at +10; its job due at +12 waits for the next owner, whose gain at +20 runs it at once.
  ran.length = 0;
  await a.schedule({ key: 'moving', kind: 'step', homeId: 'h1', dueAt: t0 + 12 * min });
  await runTo(clock, [a, b], t0 + 10 * min);
  await own.a.lose('h1', clock.now());
  await runTo(clock, [a, b], t0 + 20.5 * min);
  t.same(ran, [], 'nobody runs the job of a home nobody holds');
  t.ok(nextTimer(clock)! > clock.now(), 'and no timer spins on it (the next is a later look)');
  await own.b.gain('h1', 2, clock.now());
  await runTo(clock, [a, b], t0 + 20.5 * min);
  t.same(ran.map((r) => [r.key, (r.at - t0) / min, r.by]), [['moving', 20.5, 'b']], 'the new owner ran it at its gain, not at its next look');

  // A stalls believing it still holds h0 (token 1); B takes h0 over with token 2. A's claims find nothing, its sends are refused.
  ran.length = 0;
  await own.b.gain('h0', 2, clock.now());
  await a.schedule({ key: 'after', kind: 'step', homeId: 'h0', dueAt: t0 + 25 * min });
  await runTo(clock, [a, b], t0 + 26 * min);
  t.same(ran.map((r) => [r.key, r.by]), [['after', 'b']], 'only the node with the higher token ran it (B found A\'s job at its next look)');
  const { alert } = await storeA.openAlert({ homeId: 'h0', rule: 'help', severity: 'critical', message: 'm', finding: {}, openedAt: clock.now() });
  const send = (key: string) => async (run: { fence?: { home: string; owner: string; token: number } }) => storeA.claimSendKeys([{ key, alertId: alert.id, channel: 'sms', createdAt: clock.now() }], run.fence);
  t.same(a.fenceOf('h0'), { home: 'h0', owner: 'node-a', token: 1 }, 'A still believes in token 1');
  await t.rejects(a.runNow({ key: 'stale', kind: 'step', homeId: 'h0' }, send('from-a')), { code: 'MIMAMORI_ERR_FENCED' }, 'the stalled node\'s send is refused');
  t.same(await b.runNow({ key: 'fresh', kind: 'step', homeId: 'h0' }, send('from-b')), ['from-b'], 'the owner\'s goes through');
  t.same((await storeA.listSendKeys(alert.id)).map((k) => k.key), ['from-b']);
}

t.test('jobs follow home ownership, on one SQLite file', async (t) => {
  const { store } = sqliteStore(t);
  await home(store, ['h0', 'h1', 'h2']);
  await jobsFollowOwnership(t, store, store);
});

if (postgresInstalled) {
  t.test('jobs follow home ownership, two pools on one PostgreSQL', async (t) => {
    const server = await startPostgres(t);
    const url = await server.createDatabase();
    const a = await createPgStore(url, { now: () => t0, poolSize: 3 });
    const b = await createPgStore(url, { now: () => t0, poolSize: 3 });
    t.teardown(async () => { await a.close(); await b.close(); });
    await home(a, ['h0', 'h1', 'h2']);
    await jobsFollowOwnership(t, a, b);
  });
}

async function home(store: Store, ids: string[]): Promise<void> {
  for (const id of ids) await store.createHome({ id, name: id, timezone: 'Asia/Tokyo', createdAt: t0 });
}
