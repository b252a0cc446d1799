/**
 * A durable FIFO on disk for one edge agent: what a sensor reported is kept
 * until the hub has acknowledged it, across hub outages, power cuts and
 * restarts.
 *
 * Layout of `dir`:
 *   000000000001.seg, 000000000002.seg, …  append-only segments, one JSON string per line
 *   head                                   `{"segment":n,"offset":bytes}`: where the unacknowledged items start
 * Acknowledging rewrites only the tiny head file (write + fsync + rename) and
 * deletes segments that are entirely behind it, so an ack never rewrites the
 * backlog. A crash mid-append leaves a torn last line, which is ignored (and
 * cut off) on the next open.
 */
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';

/** The queue port the edge agent uses; implemented on disk and in memory. */
export interface DiskQueue {
  /** Appends an item; resolves once it is durable (written and fdatasync'ed). */
  push(item: string): Promise<void>;
  /** Up to `n` items from the head, oldest first, without removing them. */
  peek(n: number): string[];
  /**
   * Removes `count` items from the head. `peek` and `size` reflect it at once;
   * the promise resolves when the removal is durable.
   */
  ack(count: number): Promise<void>;
  /** Items pushed (durably) and not yet acknowledged. */
  size(): number;
  /** Waits for pending writes, then releases the files. */
  close(): Promise<void>;
}

export interface DiskQueueOptions {
  /** Start a new segment once the current one reaches this size (default 1 MiB). */
  segmentBytes?: number;
  logger?: Logger;
}

interface Entry { item: string; segment: number; end: number }
interface Head { segment: number; offset: number }

const segmentName = (n: number): string => `${String(n).padStart(12, '0')}.seg`;
const segmentPattern = /^(\d{12})\.seg$/;

/**
 * Opens (or creates) the queue in `dir`, recovering whatever a previous run
 * left there.
 *
 * @example
 * const q = await openDiskQueue('/var/lib/mimamori/edge/home-01/kettle');
 * await q.push(JSON.stringify(event)); // safe on disk now
 */
export async function openDiskQueue(dir: string, opts: DiskQueueOptions = {}): Promise<DiskQueue> {
  const segmentBytes = opts.segmentBytes ?? 1024 * 1024;
  if (!(segmentBytes > 0)) throw new RangeError('segmentBytes must be positive');
  await mkdir(dir, { recursive: true });
  const head = await readHead(dir);
  const segments = (await readdir(dir)).map((f) => segmentPattern.exec(f)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);

  const entries: Entry[] = [];
  let corrupt = 0;
  for (const n of segments) {
    const path = join(dir, segmentName(n));
    if (n < head.segment) { await rm(path, { force: true }); continue; }
    const bytes = await readFile(path);
    const goodEnd = bytes.lastIndexOf(0x0a) + 1; // after the last complete line
    if (goodEnd < bytes.length) {
      // A torn append: the crash happened mid-write. Cut it off so the next append starts on a clean line.
      const fh = await open(path, 'r+');
      try { await fh.truncate(goodEnd); await fh.datasync(); } finally { await fh.close(); }
      opts.logger?.warn({ segment: n, bytes: bytes.length - goodEnd }, 'edge queue: dropped a torn last line');
    }
    let pos = n === head.segment ? Math.min(head.offset, goodEnd) : 0;
    while (pos < goodEnd) {
      const nl = bytes.indexOf(0x0a, pos);
      const line = bytes.subarray(pos, nl).toString('utf8');
      pos = nl + 1;
      try {
        const item: unknown = JSON.parse(line);
        if (typeof item !== 'string') throw new Error('not a string');
        entries.push({ item, segment: n, end: pos });
      } catch {
        corrupt++;
      }
    }
  }
  if (corrupt > 0) opts.logger?.warn({ lines: corrupt }, 'edge queue: skipped corrupt lines');

  let tailSegment = Math.max(head.segment, segments[segments.length - 1] ?? 1);
  let tail: FileHandle = await open(join(dir, segmentName(tailSegment)), 'a');
  let tailSize = (await tail.stat()).size;
  if (!segments.includes(tailSegment)) segments.push(tailSegment);
  await syncDir(dir);

  let first = 0; // index of the head in `entries`
  let closed = false;
  let batch: Array<{ line: string; item: string; resolve: () => void; reject: (err: unknown) => void }> = [];
  let flushing: Promise<void> | undefined;
  let ackedHead: Head = head;
  let headWrite: Promise<void> = Promise.resolve();
  let wantedHead: Head | undefined;

  /** Group commit: everything pushed while a write is in flight goes out in the next write with one fdatasync. */
  async function flush(): Promise<void> {
    for (;;) {
      const group = batch;
      batch = [];
      let failure: unknown;
      try {
        await appendLines(group);
      } catch (err) {
        failure = err;
      }
      // Decide (synchronously, before any pusher resumes) whether this flush
      // goes on: a push arriving after this point starts a new one.
      const more = batch.length > 0;
      if (!more) flushing = undefined;
      for (const g of group) if (failure === undefined) g.resolve(); else g.reject(failure);
      if (!more) return;
    }
  }

  async function appendLines(group: typeof batch): Promise<void> {
    const buf = Buffer.from(group.map((g) => g.line).join(''), 'utf8');
    if (tailSize > 0 && tailSize + buf.length > segmentBytes) {
      await tail.close();
      tailSegment++;
      tail = await open(join(dir, segmentName(tailSegment)), 'a');
      tailSize = 0;
      segments.push(tailSegment);
      await syncDir(dir);
    }
    try {
      await tail.write(buf);
      await tail.datasync();
    } catch (err) {
      // Leave no half-written line behind for the next append to be glued onto.
      await tail.truncate(tailSize).catch(() => undefined);
      throw err;
    }
    let end = tailSize;
    for (const g of group) {
      end += Buffer.byteLength(g.line, 'utf8');
      entries.push({ item: g.item, segment: tailSegment, end });
    }
    tailSize = end;
  }

  async function writeHead(): Promise<void> {
    while (wantedHead && (wantedHead.segment !== ackedHead.segment || wantedHead.offset !== ackedHead.offset)) {
      const h = wantedHead;
      const tmp = join(dir, 'head.tmp');
      const fh = await open(tmp, 'w');
      try { await fh.writeFile(JSON.stringify(h)); await fh.datasync(); } finally { await fh.close(); }
      await rename(tmp, join(dir, 'head'));
      await syncDir(dir);
      ackedHead = h;
      for (const n of segments.filter((s) => s < h.segment)) await rm(join(dir, segmentName(n)), { force: true });
      segments.splice(0, segments.length, ...segments.filter((s) => s >= h.segment));
    }
  }

  return {
    push(item) {
      if (closed) return Promise.reject(new Error('queue is closed'));
      if (typeof item !== 'string') return Promise.reject(new TypeError('queue items are strings'));
      return new Promise<void>((resolve, reject) => {
        batch.push({ line: `${JSON.stringify(item)}\n`, item, resolve, reject });
        flushing ??= flush();
      });
    },
    peek(n) {
      return entries.slice(first, first + Math.max(0, n)).map((e) => e.item);
    },
    ack(count) {
      if (!Number.isInteger(count) || count < 0) return Promise.reject(new RangeError('ack count must be a non-negative integer'));
      if (count > entries.length - first) return Promise.reject(new RangeError(`cannot ack ${count} of ${entries.length - first} items`));
      if (count === 0) return headWrite;
      const last = entries[first + count - 1] as Entry;
      first += count;
      wantedHead = { segment: last.segment, offset: last.end };
      // Drop acknowledged entries from memory now and then, not on every ack.
      if (first > 1024 && first * 2 > entries.length) { entries.splice(0, first); first = 0; }
      headWrite = headWrite.then(writeHead, writeHead);
      return headWrite;
    },
    size: () => entries.length - first,
    async close() {
      if (closed) return;
      closed = true;
      await flushing;
      await headWrite.catch(() => undefined);
      await tail.close();
    },
  };
}

async function readHead(dir: string): Promise<Head> {
  try {
    const h = JSON.parse(await readFile(join(dir, 'head'), 'utf8')) as Partial<Head>;
    if (Number.isInteger(h.segment) && Number.isInteger(h.offset) && (h.segment as number) >= 1 && (h.offset as number) >= 0) {
      return { segment: h.segment as number, offset: h.offset as number };
    }
  } catch {
    // No head yet (a fresh queue) or a head from a crash before its rename: start at the oldest segment.
  }
  return { segment: 1, offset: 0 };
}

/** Makes a created, renamed or deleted file's directory entry durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } catch { /* some file systems refuse fsync on directories; nothing more we can do */ } finally { await fh.close(); }
}
