/**
 * The cluster inbox reader (broker/ingest-inbox.ts) on a real SQLite store
 * (the same SQL runs on PostgreSQL: test/store/contract.ts): it runs the
 * rows of the homes whose fence names its node, in order; puts back the
 * rows of a home not running here; deletes rows only once history flushed;
 * writes a former owner's unconfirmed rows to history on gaining the home,
 * without running them; keeps rows when history cannot confirm. Virtual
 * time drives the poll and the confirmation.
 */
import t, { type Test } from 'tap';
import { VirtualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { createSqliteStore } from '../../core/store.js';
import type { Reading } from '../../core/events.js';
import { createInboxReader } from '../../broker/index.js';

const at = Date.parse('2026-11-21T09:00:00+09:00');
const reading = (home: string, i: number): Reading => ({ kind: 'motion', occupied: true, id: `m-${i}`, ts: '2026-11-21T09:00:00+09:00', home, device: 'pir', at: at + i });

async function setup(t: Test) {
  const store = createSqliteStore(':memory:');
  t.teardown(() => store.close());
  for (const h of ['h1', 'h2']) await store.createHome({ id: h, name: h, timezone: 'Asia/Tokyo' });
  const put = (rs: Reading[]) => store.commitIngestBatch(rs.map((r) => ({ homeId: r.home, deviceId: r.device, eventId: (r as { id: string }).id, outbox: JSON.stringify(r) })), at, { forOwner: true });
  return { store, put };
}

t.test('runs its homes\' rows in order, puts back a home not running, clears only after history flushed', async (t) => {
  const { store, put } = await setup(t);
  const clock = new VirtualClock(at);
  await store.fenceHome({ home: 'h1', owner: 'A', token: 1 }, at);
  await store.fenceHome({ home: 'h2', owner: 'A', token: 1 }, at);
  await put([reading('h1', 1), reading('h2', 2), reading('h1', 3)]);
  const ran: string[] = [];
  const written: Reading[] = [];
  let flushes = 0;
  let h2Running = false;
  const reader = createInboxReader({
    store, node: 'A', clock, logger: silentLogger(),
    history: { writeReading: (r) => written.push(r), flush: async () => { flushes++; } },
    run: (r) => { if (r.home === 'h2' && !h2Running) return false; ran.push(`${r.home}:${(r as { id: string }).id}`); return true; },
  });
  await reader.idle();
  t.same(ran, ['h1:m-1', 'h1:m-3'], 'h1\'s rows run, oldest first');
  t.match(reader.stats(), { run: 2, returned: 1 }, 'h2\'s row put back: h2 is not running here yet');
  t.equal(flushes, 0, 'nothing confirmed before the confirmation interval');

  h2Running = true;
  clock.advanceBy(1000); // the poll and the confirmation
  await reader.idle();
  t.same(ran, ['h1:m-1', 'h1:m-3', 'h2:m-2'], 'the poll finds h2\'s row once h2 runs');
  await reader.close();
  t.ok(flushes >= 1, 'history flushed before rows were deleted');
  t.equal(reader.stats().cleared, 3, 'every row run is deleted');
  t.same(await store.takeInbox('A', 10), [], 'nothing left');
  t.equal(written.length, 0, 'the reader writes history only for a former owner\'s rows (running a reading writes it)');
});

t.test('a former owner\'s unconfirmed rows go to history, not to the rules; unreadable rows are dropped with a count', async (t) => {
  const { store, put } = await setup(t);
  const clock = new VirtualClock(at);
  await store.fenceHome({ home: 'h1', owner: 'B', token: 1 }, at);
  await put([reading('h1', 1), reading('h1', 2)]);
  await store.commitIngestBatch([{ homeId: 'h1', deviceId: 'pir', eventId: 'bad', outbox: '{"not":"a reading"}' }], at, { forOwner: true });
  t.equal((await store.takeInbox('B', 10)).length, 3, 'node B took the rows, then died');
  await store.fenceHome({ home: 'h1', owner: 'A', token: 2 }, at);
  await put([reading('h1', 4)]);
  const ran: string[] = [];
  const written: string[] = [];
  let failFlush = true;
  const reader = createInboxReader({
    store, node: 'A', clock, logger: silentLogger(),
    history: { writeReading: (r) => written.push((r as { id: string }).id), flush: async () => { if (failFlush) throw new Error('influxd down and the buffer full'); } },
    run: (r) => { ran.push((r as { id: string }).id); return true; },
  });
  await reader.gained('h1');
  await reader.idle();
  t.same(written, ['m-1', 'm-2'], 'B\'s readings written to history again');
  t.same(ran, ['m-4'], 'only the waiting row is run by the rules');
  t.match(reader.stats(), { replayed: 2, unreadable: 1, run: 1 });
  clock.advanceBy(1000);
  await reader.idle();
  t.equal(reader.stats().cleared, 0, 'history did not confirm: nothing deleted');
  failFlush = false;
  await reader.close();
  t.equal(reader.stats().cleared, 4, 'kept and confirmed later: all four rows deleted');
  t.same(await store.retakeInbox('A', 'h1'), []);
});

t.test('readNow resolves once a read begun after it has ended, also when that read fails', async (t) => {
  const { store, put } = await setup(t);
  const clock = new VirtualClock(at);
  await store.fenceHome({ home: 'h1', owner: 'A', token: 1 }, at);
  const ran: string[] = [];
  let failTake = false;
  const failing = { ...store, takeInbox: (node: string, limit: number) => (failTake ? Promise.reject(new Error('database gone')) : store.takeInbox(node, limit)) };
  const reader = createInboxReader({
    store: failing, node: 'A', clock, logger: silentLogger(),
    history: { writeReading: () => {}, flush: async () => {} },
    run: (r) => { ran.push((r as { id: string }).id); return true; },
  });
  t.teardown(() => reader.close());
  // The read at start may be in progress: a row committed now is in the read readNow waits for, whichever.
  await put([reading('h1', 1)]);
  await reader.readNow();
  t.same(ran, ['m-1'], 'the row committed before the call was run');
  await put([reading('h1', 2)]);
  await reader.readNow();
  t.same(ran, ['m-1', 'm-2'], 'again with no read in progress');
  failTake = true;
  await reader.readNow();
  t.same(ran, ['m-1', 'm-2'], 'a failed read resolves it too: nothing run, the row waits');
  failTake = false;
  await put([reading('h1', 3)]);
  await reader.readNow();
  t.same(ran, ['m-1', 'm-2', 'm-3']);
});
