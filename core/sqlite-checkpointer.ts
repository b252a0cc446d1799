/**
 * WAL checkpoints off the event loop. In WAL mode SQLite copies the log back
 * into the database file (a checkpoint) inside whichever COMMIT finds the log
 * past `wal_autocheckpoint` pages, with an fsync of each file — on the hub's
 * one event loop, in the ingest's batch commit, while every device waits for
 * its PUBACK. The whole path measured 15% of the hub's busy time there at
 * 20,000 events/s (docs/bench.md, session 30).
 *
 * A worker thread with a connection of its own runs a PASSIVE checkpoint
 * every `everyMs`: it copies what has committed, never waits for the writer
 * and never makes it wait, and SQLite starts the log over at the next write
 * once all of it is copied. The store's own connection keeps an automatic
 * checkpoint as a backstop, set far enough out (`backstopPages`) that it runs
 * only if the worker falls behind or stops. What is committed is as durable
 * as before (synchronous = NORMAL: the log is the database until it is copied).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointerOptions {
  /** How often the worker checkpoints. Default 200 ms. */
  everyMs?: number;
  /** Told once when a checkpoint fails (the backstop then keeps the log bounded). */
  onError?: (message: string) => void;
}

export interface Checkpointer {
  /** Pages the store's own connection lets the log grow to before it checkpoints itself. */
  backstopPages: number;
  /** Stops the worker after its current checkpoint and closes its connection. */
  stop(): Promise<void>;
}

/** The worker: CommonJS, evaluated, so it loads the same better-sqlite3 as the store without a file of its own. */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
// SQLite's errors lose their text crossing threads: each is sent as a message of its own.
const said = (err) => parentPort.postMessage({ error: String((err && err.message) || err) });
let db;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 1000');
} catch (err) { said(err); }
if (db === undefined) parentPort.close();
else {
  let told = false;
  const timer = setInterval(() => {
    try { db.pragma('wal_checkpoint(PASSIVE)'); told = false; }
    catch (err) { if (!told) { told = true; said(err); } }
  }, workerData.everyMs);
  parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
}
`;

/**
 * Starts the checkpointer for the SQLite database file at `path` (in WAL mode,
 * opened by the caller).
 *
 * @example
 * const cp = startCheckpointer('/var/lib/mimamori/mimamori.db');
 * db.pragma(`wal_autocheckpoint = ${cp.backstopPages}`);
 * // … on close: await cp.stop(); db.close();
 */
export function startCheckpointer(path: string, opts: CheckpointerOptions = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(workerSource, { eval: true, workerData: { path, driver, everyMs: opts.everyMs ?? 200 } });
  // It must never keep the process alive, nor take it down.
  worker.unref();
  worker.on('message', (m: { error?: string }) => { if (m.error !== undefined) opts.onError?.(m.error); });
  worker.on('error', (err: unknown) => opts.onError?.(String((err as Error | undefined)?.message ?? err)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    backstopPages: 4000,
    stop() {
      stopping ??= (async () => {
        // Held while it stops: the store's close waits for its connection to be gone.
        worker.ref();
        worker.postMessage('stop');
        await exited;
      })();
      return stopping;
    },
  };
}
