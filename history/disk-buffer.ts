/**
 * The history path's outage buffer: batches of InfluxDB line protocol that
 * could not be written yet, kept on disk until InfluxDB answers again.
 *
 * Layout: `{dir}/{seq:16 digits}.lp` segment files, each an append-only run
 * of complete lines (every batch ends in "\n" and is fdatasync'd before
 * `append` resolves). Segments are drained oldest first and deleted once
 * written. A crash can at worst leave a torn last line, which is dropped on
 * read. Re-sending a segment after a crash is harmless: every point's series
 * and timestamp are deterministic, so InfluxDB overwrites instead of adding.
 */
import { mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { LineBatch } from './line-batch.js';

export interface DiskBufferOptions {
  dir: string;
  /** Upper bound on all segments together; the oldest are dropped (counted, logged) beyond it. */
  maxBytes: number;
  logger: Logger;
  /** A segment is sealed and a new one started past this size. Default: maxBytes / 8, at most 4 MiB. */
  segmentBytes?: number;
}

/** One sealed segment handed to the drainer; `batch` starts after what was already delivered. */
export interface BufferedSegment {
  readonly id: string;
  /** The segment's lines as read from disk (the bytes are posted as they are). */
  readonly batch: LineBatch;
}

export interface DiskBufferStats {
  /** Bytes on disk in all segments. */
  bytes: number;
  /** Points (lines) waiting in all segments. */
  points: number;
  segments: number;
  /** Points dropped because the buffer was full. */
  dropped: number;
}

export interface DiskBuffer {
  /** Appends one batch (its bytes as they are, or lines); resolves once it is durably on disk. */
  append(batch: LineBatch | readonly string[]): Promise<void>;
  /**
   * Seals and lends out the oldest segment (undefined when empty). Give it
   * back with `remove` once its lines are written, or `release` if not.
   */
  takeOldest(): Promise<BufferedSegment | undefined>;
  /** Deletes a segment whose lines are now in InfluxDB. */
  remove(id: string): Promise<void>;
  /** Returns a lent segment unwritten; `delivered` lines of it were written and are skipped next time. */
  release(id: string, delivered: number): void;
  stats(): DiskBufferStats;
  close(): Promise<void>;
}

interface Segment {
  seq: number;
  file: string;
  bytes: number;
  /** Lines in the file (complete ones). */
  points: number;
  /** Lines at the start already written to InfluxDB (in memory only: re-sending them is idempotent). */
  delivered: number;
  leased: boolean;
}

const segmentName = /^(\d{16})\.lp$/;
const name = (seq: number) => `${String(seq).padStart(16, '0')}.lp`;

/** Opens (creating if needed) the buffer in `dir`, picking up segments left by an earlier run. */
export async function openDiskBuffer(opts: DiskBufferOptions): Promise<DiskBuffer> {
  const { dir, logger } = opts;
  if (!Number.isFinite(opts.maxBytes) || opts.maxBytes <= 0) throw new RangeError('maxBytes must be a positive number');
  const segmentBytes = opts.segmentBytes ?? Math.max(1, Math.min(4 * 1024 * 1024, Math.floor(opts.maxBytes / 8)));
  await mkdir(dir, { recursive: true });

  const segments: Segment[] = [];
  for (const entry of (await readdir(dir)).sort()) {
    const m = segmentName.exec(entry);
    if (!m) continue;
    const file = join(dir, entry);
    const { size } = await stat(file);
    segments.push({ seq: Number(m[1]), file, bytes: size, points: await countLines(file), delivered: 0, leased: false });
  }
  let nextSeq = (segments.at(-1)?.seq ?? 0) + 1;
  /** The segment being appended to; segments found at start-up are never appended to again. */
  let active: { segment: Segment; fd: FileHandle } | undefined;
  let dropped = 0;
  let closed = false;
  // Appends, seals and drops touch the same files: one at a time.
  let lock: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = lock.then(work, work);
    lock = run.catch(() => undefined);
    return run;
  };

  if (segments.length > 0) {
    logger.info({ segments: segments.length, points: segments.reduce((n, s) => n + s.points, 0) }, 'history buffer found points from an earlier run');
  }

  async function seal(): Promise<void> {
    if (!active) return;
    const { fd } = active;
    active = undefined;
    await fd.close();
  }

  async function startSegment(): Promise<{ segment: Segment; fd: FileHandle }> {
    const segment: Segment = { seq: nextSeq++, file: '', bytes: 0, points: 0, delivered: 0, leased: false };
    segment.file = join(dir, name(segment.seq));
    const fd = await open(segment.file, 'a');
    // The new directory entry must survive a power cut too, not just the bytes.
    await syncDir(dir);
    segments.push(segment);
    return { segment, fd };
  }

  async function enforceBound(): Promise<void> {
    let total = segments.reduce((n, s) => n + s.bytes, 0);
    let droppedNow = 0;
    let segmentsNow = 0;
    while (total > opts.maxBytes) {
      const victim = segments.find((s) => !s.leased);
      if (!victim) break;
      if (active?.segment === victim) await seal();
      segments.splice(segments.indexOf(victim), 1);
      await unlink(victim.file).catch(() => undefined);
      total -= victim.bytes;
      droppedNow += victim.points - victim.delivered;
      segmentsNow++;
    }
    if (segmentsNow > 0) {
      dropped += droppedNow;
      logger.error({ droppedPoints: droppedNow, droppedSegments: segmentsNow, maxBytes: opts.maxBytes, droppedTotal: dropped }, 'history buffer full: dropped the oldest buffered points');
    }
  }

  return {
    append(input) {
      const batch = input instanceof LineBatch ? input : LineBatch.of(input);
      if (batch.count === 0) return Promise.resolve();
      return exclusive(async () => {
        if (closed) throw new Error('disk buffer is closed');
        if (active && active.segment.bytes >= segmentBytes) await seal();
        active ??= await startSegment();
        const data = batch.bytes();
        let written = 0;
        while (written < data.length) {
          const { bytesWritten } = await active.fd.write(data, written, data.length - written);
          written += bytesWritten;
        }
        await active.fd.datasync();
        active.segment.bytes += data.length;
        active.segment.points += batch.count;
        await enforceBound();
      });
    },

    takeOldest() {
      return exclusive(async () => {
        const segment = segments.find((s) => !s.leased);
        if (!segment) return undefined;
        if (active?.segment === segment) await seal();
        segment.leased = true;
        const { batch, torn } = LineBatch.parse(await readFile(segment.file));
        if (torn > 0) logger.warn({ segment: name(segment.seq) }, 'history buffer: dropped a torn last line (crash while writing)');
        return { id: String(segment.seq), batch: batch.slice(segment.delivered) };
      });
    },

    remove(id) {
      return exclusive(async () => {
        const i = segments.findIndex((s) => String(s.seq) === id);
        if (i < 0) return;
        const [segment] = segments.splice(i, 1);
        await unlink(segment!.file).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
      });
    },

    release(id, delivered) {
      const segment = segments.find((s) => String(s.seq) === id);
      if (!segment) return;
      segment.leased = false;
      segment.delivered += delivered;
    },

    stats() {
      let bytes = 0;
      let points = 0;
      for (const s of segments) {
        bytes += s.bytes;
        points += s.points - s.delivered;
      }
      return { bytes, points, segments: segments.length, dropped };
    },

    close() {
      return exclusive(async () => {
        closed = true;
        await seal();
      });
    },
  };
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  }
  return n;
}

async function syncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
