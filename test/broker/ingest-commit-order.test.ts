/**
 * The ingest's batches on a store whose transactions may commit (or answer)
 * out of order, as PostgreSQL's pool may. The ingest confirms its history
 * outbox by position: once history has flushed, `clearIngestOutbox(upTo)`
 * drops every row up to the last one emitted (`emittedUpTo`). That is only
 * safe while every row below it has been emitted too — a committed batch
 * whose answer is still on its way must not have its rows dropped before
 * its readings reach history, or a crash then loses readings the devices
 * were told are safe.
 */
import t from 'tap';
import { createSqlStore } from '../../core/store.js';
import { createIngestBatcher } from '../../broker/ingest-batch.js';
import { gate, outOfOrderPort } from '../support/out-of-order-port.js';

t.test('no outbox row is confirmed before its reading is emitted, when a later batch answers first', async (t) => {
  const { port } = await outOfOrderPort(t);
  // The first batch commits, but its answer is held back (a slow pool connection); later ones answer at once.
  const slowAnswer = gate();
  const log: string[] = [];
  let batches = 0;
  const store = createSqlStore({
    ...port,
    tx: async (work) => {
      const n = ++batches;
      log.push(`begin ${n}`);
      const out = await port.tx(work);
      if (n === 1) await slowAnswer.wait();
      log.push(`end ${n}`);
      return out;
    },
  });
  t.teardown(() => store.close());
  const emitted: string[] = [];
  const batcher = createIngestBatcher<string>({ store, now: () => 1_000, emit: (v) => emitted.push(v) });
  const item = (id: string) => ({ homeId: 'h1', deviceId: 'pir', eventId: id, outbox: id, value: id });

  const first = batcher.submit(item('e1'));
  await slowAnswer.reached;
  const second = batcher.submit(item('e2'));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));

  // What the ingest's confirmation would drop now (broker/ingest.ts confirmOutbox): every row up to emittedUpTo().
  const upTo = batcher.emittedUpTo();
  const dropped = (await store.listIngestOutbox()).filter((r) => r.seq <= upTo).map((r) => r.text);
  t.same(dropped.filter((text) => !emitted.includes(text)), [], 'every row the confirmation would drop has been emitted');

  slowAnswer.open();
  t.same(await Promise.all([first, second]), [true, true]);
  t.same(emitted, ['e1', 'e2'], 'emitted in arrival order');
  t.same(log, ['begin 1', 'end 1', 'begin 2', 'end 2'], 'the later batch waited for the one under way');
  t.equal(batcher.emittedUpTo(), Math.max(...(await store.listIngestOutbox()).map((r) => r.seq)), 'confirmed up to the last row');
});
