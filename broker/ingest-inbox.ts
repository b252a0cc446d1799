/**
 * The other half of the ingest in a cluster (docs/scale.md, "Ingest by
 * ownership"): the node that received a device message committed it to the
 * inbox (`createIngest({ handOff })`) before the device's PUBACK; the home's
 * owner reads it here, runs it (rules, history, notifier) and deletes it
 * once history has it durably.
 *
 * - A node reads only rows of homes whose fence names it (`takeInbox`), so a
 *   reading is run by the home's owner and by no one else, whichever node the
 *   device is connected to.
 * - A home with no owner for a while (a rebalance, a node's death) loses
 *   nothing: its rows wait, and the next owner reads them when it gains the
 *   home, in the order they were committed.
 * - A home's rows are run oldest first (by position), and one node's rows of a
 *   home commit in the order that node received them (the store commits them
 *   in turn per home): a device's "water on, water off" is never run the other
 *   way round. A read takes every waiting row, not the rows after the last one
 *   it read, so a row that commits late is read late, never skipped.
 * - A row taken by an owner that died before history confirmed it is written
 *   to history again by the next owner (`gained`; an overwrite if it had it).
 *   It is not run by the rules again: like the single hub after a kill -9,
 *   the rules get each reading at most once.
 * - `wake()` reads within `gatherMs` (the bell: this node's ingest, or another
 *   node's ring); a poll every `pollMs` covers a lost ring.
 */
import type { SchedulerLike } from 'rxjs';
import { scheduleEvery } from '../core/clock.js';
import type { Reading } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { DeviceStore, InboxRow } from '../core/store.js';
import type { IngestHistory } from './ingest.js';

export interface InboxReaderOptions {
  store: Pick<DeviceStore, 'takeInbox' | 'retakeInbox' | 'returnInbox' | 'clearInbox'>;
  /** This node's id: the fence owner its rows are read for. */
  node: string;
  /** Runs a reading now; false when its home is not running here after all (the row goes back to waiting). */
  run: (reading: Reading) => boolean;
  history: IngestHistory;
  clock: SchedulerLike;
  logger: Logger;
  /** How often the inbox is read without a ring (default 1 s). */
  pollMs?: number;
  /** How often what was run is confirmed against history and deleted (default 1 s). */
  confirmEveryMs?: number;
  /** Rows per read at most (default 1000). */
  maxBatch?: number;
  /**
   * How long a wake waits for more rings before reading (default 5 ms, real
   * time: a batching delay on the way to the database, not a rule's timer).
   * Under load one read then takes the rows of many ingest batches.
   */
  gatherMs?: number;
}

export interface InboxReaderStats {
  /** Rows read and run. */
  run: number;
  /** Rows read for a home that was not running here, put back. */
  returned: number;
  /** Rows of a former owner written to history again on gaining their home. */
  replayed: number;
  /** Rows deleted once history had them. */
  cleared: number;
  /** Rows that did not parse (kept out of the rules, deleted). */
  unreadable: number;
}

export interface InboxReader {
  /** Reads the inbox now (or right after the read in progress). */
  wake(): void;
  /**
   * Reads the inbox now and resolves once a read that began after this call
   * has ended: every row committed before it has been run (or put back). A
   * home taken on waits for this before its deadlines are armed. Resolves on a
   * failed read too (the rows wait for the next): deadlines are not held on a
   * database that does not answer.
   */
  readNow(): Promise<void>;
  /** This node now holds `home`'s fence: what a former owner took and did not confirm goes to history, then the home's rows are read. */
  gained(home: string): Promise<void>;
  stats(): InboxReaderStats;
  /** Resolves when no read is in progress or due. */
  idle(): Promise<void>;
  /** Stops reading; what was run is confirmed first. */
  close(): Promise<void>;
}

/** Starts reading: once now, then on every wake and poll. */
export function createInboxReader(opts: InboxReaderOptions): InboxReader {
  const { store, node, history, logger: log } = opts;
  const maxBatch = opts.maxBatch ?? 1000;
  const counters: InboxReaderStats = { run: 0, returned: 0, replayed: 0, cleared: 0, unreadable: 0 };
  let toClear: number[] = [];
  let closed = false;
  let reading: Promise<void> | undefined;
  let again = false;
  /** Takes begun so far; a `readNow` waits for the end of a read with a take begun after it. */
  let takes = 0;
  let readWaiters: Array<{ after: number; resolve: () => void }> = [];

  const parse = (row: InboxRow): Reading | undefined => {
    try {
      const r = JSON.parse(row.text) as Reading;
      if (r && typeof r === 'object' && r.home === row.homeId) return r;
    } catch { /* reported below */ }
    counters.unreadable++;
    log.error({ seq: row.seq, home: row.homeId }, 'inbox row is not a reading of its home; deleted unread');
    return undefined;
  };

  async function readAll(): Promise<void> {
    do {
      again = false;
      takes++;
      const rows = await store.takeInbox(node, maxBatch);
      const back: number[] = [];
      for (const row of rows) {
        const r = parse(row);
        if (r === undefined) { toClear.push(row.seq); continue; }
        if (opts.run(r)) { counters.run++; toClear.push(row.seq); } else back.push(row.seq);
      }
      if (back.length > 0) {
        counters.returned += back.length;
        await store.returnInbox(node, back);
      }
      // A full read may have left more; a read of only returned rows would take the same rows again.
      if (rows.length === maxBatch && back.length < rows.length) again = true;
    } while (again && !closed);
  }

  const gatherMs = opts.gatherMs ?? 5;
  function wake(): void {
    if (closed) return;
    if (reading) { again = true; return; }
    reading = new Promise<void>((resolve) => { setTimeout(resolve, gatherMs); })
      .then(readAll)
      .catch((err: unknown) => { log.error({ err }, 'inbox not read; tried again at the next ring or poll'); })
      .finally(() => {
        reading = undefined;
        const done = readWaiters.filter((w) => takes > w.after);
        readWaiters = readWaiters.filter((w) => takes <= w.after);
        for (const w of done) w.resolve();
        if (readWaiters.length > 0) wake();
      });
  }

  let confirming: Promise<void> | undefined;
  const confirm = (): Promise<void> => {
    confirming ??= (async () => {
      const seqs = toClear;
      if (seqs.length === 0) return;
      toClear = [];
      try {
        await history.flush();
        counters.cleared += await store.clearInbox(seqs);
      } catch (err) {
        toClear = seqs.concat(toClear);
        log.error({ err }, 'inbox rows not confirmed; kept and tried again');
      }
    })().finally(() => { confirming = undefined; });
    return confirming;
  };

  const stopPoll = scheduleEvery(opts.clock, opts.pollMs ?? 1000, wake);
  const stopConfirm = scheduleEvery(opts.clock, opts.confirmEveryMs ?? 1000, () => { void confirm(); });
  wake();

  return {
    wake,
    readNow() {
      if (closed) return Promise.resolve();
      const done = new Promise<void>((resolve) => { readWaiters.push({ after: takes, resolve }); });
      wake();
      return done;
    },
    async gained(home) {
      const rows = await store.retakeInbox(node, home);
      for (const row of rows) {
        const r = parse(row);
        if (r !== undefined) { history.writeReading(r); counters.replayed++; }
        toClear.push(row.seq);
      }
      if (rows.length > 0) log.info({ home, replayed: rows.length }, 'readings a former owner took written to history again');
      wake();
    },
    stats: () => ({ ...counters }),
    async idle() {
      while (reading) await reading;
    },
    async close() {
      closed = true;
      stopPoll();
      stopConfirm();
      while (reading) await reading;
      for (const w of readWaiters.splice(0)) w.resolve();
      await confirm();
      await confirm();
    },
  };
}
