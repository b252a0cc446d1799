/**
 * The history path: readings, findings, alerts and notifications into
 * InfluxDB 1.x, batched. The alert path never waits on it: `write*` only
 * queue a line in memory. When InfluxDB is down or slow, batches go to the
 * disk buffer and a retry loop with backoff drains it, oldest first, once
 * InfluxDB answers again. A point InfluxDB refuses (400) is isolated by
 * splitting its batch, logged and counted, and never blocks the others.
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { Subscription } from 'rxjs';
import type { InfluxDB } from 'influx';
import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import type { Reading } from '../core/events.js';
import type { Finding } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import { openDiskBuffer } from './disk-buffer.js';
import { createInfluxClient } from './influx-client.js';
import { LineBatch } from './line-batch.js';
import {
  alertLine, callQualityLine, ensureSchema, findingLine, notificationLine, rawRetentionPolicy, readingLine,
  type AlertRecord, type CallQualityRecord, type NotificationRecord,
} from './influx-schema.js';

export type { AlertRecord, NotificationRecord };

export interface HistoryWriterOptions {
  /** InfluxDB 1.x base URL, e.g. `http://127.0.0.1:8086` (the managed influxd's `url`). */
  url: string;
  /** The client for the schema (createInfluxClient); default: one of the writer's own for `url`. */
  influx?: InfluxDB;
  database: string;
  username?: string;
  password?: string;
  /** Folder for the outage buffer (e.g. `{dataDir}/history-buffer`). */
  bufferDir: string;
  logger: Logger;
  /** Points per write request. Default 5000 (InfluxDB's recommended batch). */
  batchSize?: number;
  /**
   * Write requests under way at once. Default 2: InfluxDB takes in one batch while the next is
   * sent, and a hub busy with its broker answers one response while the other is on its way
   * (session 30: the whole path kept up at 32,000 events/s with 2, not with 1).
   */
  writesInFlight?: number;
  /** Queued points are written at least this often. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Bound on the disk buffer; the oldest points are dropped beyond it. Default 128 MiB. */
  maxBufferBytes?: number;
  /** Timers for the flush interval and retry backoff. Default: real time. */
  clock?: Clock;
  /** A write that has not answered by then counts as failed (and is buffered). Default 10 s. */
  requestTimeoutMs?: number;
  /** First retry delay after a failed write; doubles up to `retryMaxMs`. Default 1 s. */
  retryInitialMs?: number;
  /** Default 60 s. */
  retryMaxMs?: number;
}

export interface HistoryStats {
  /** Points InfluxDB accepted (a point re-sent after a partial failure can count twice). */
  written: number;
  /** Points waiting in the disk buffer. */
  buffered: number;
  /** Write attempts that failed for a passing reason (refused, timed out, 5xx, auth, database missing). */
  failures: number;
  /** Points queued in memory, not yet written or buffered. */
  pendingInMemory: number;
  /** Size of the disk buffer. */
  bufferBytes: number;
  /** Points InfluxDB refused as bad data (400), or that could not be encoded. Logged, then dropped. */
  rejected: number;
  /** Points lost because the disk buffer was full or unwritable, or written after close. */
  dropped: number;
}

export interface HistoryWriter {
  /** Queues a sensor event or heartbeat. Never blocks, never throws. */
  writeReading(r: Reading): void;
  /** Queues a finding (raised or cleared). Never blocks, never throws. */
  writeFinding(f: Finding): void;
  /** Queues an alert state change. Never blocks, never throws. */
  writeAlert(a: AlertRecord): void;
  /** Queues a notification attempt. Never blocks, never throws. */
  writeNotification(n: NotificationRecord): void;
  /** Queues a video call's quality report. Never blocks, never throws. */
  writeCallQuality(q: CallQualityRecord): void;
  /**
   * Resolves when everything queued so far is in InfluxDB or durably in the
   * disk buffer; also tries to drain the disk buffer right away.
   */
  flush(): Promise<void>;
  stats(): HistoryStats;
  /** Writes or buffers what is queued, stops timers. The disk buffer stays for the next run. */
  close(): Promise<void>;
}

const optionsSchema = z.object({
  url: z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http: or https: URL'),
  database: z.string().min(1),
  username: z.string().optional(),
  password: z.string().optional(),
  bufferDir: z.string().min(1),
  batchSize: z.number().int().min(1).default(5000),
  writesInFlight: z.number().int().min(1).max(8).default(2),
  flushIntervalMs: z.number().int().min(1).default(1000),
  maxBufferBytes: z.number().int().min(1).default(128 * 1024 * 1024),
  requestTimeoutMs: z.number().int().min(1).default(10_000),
  retryInitialMs: z.number().int().min(1).default(1000),
  retryMaxMs: z.number().int().min(1).default(60_000),
});

/** What became of one write request. */
type Outcome =
  | { kind: 'ok' }
  | { kind: 'retry'; reason: string; missingDatabase?: boolean }
  | { kind: 'bad'; reason: string };

/**
 * Creates the history writer. Does not wait for InfluxDB: the schema is
 * ensured before the first write that reaches it, and points found in the
 * disk buffer from an earlier run start draining at once.
 *
 * @example
 * const history = await createHistoryWriter({ url: influxd.url, database: 'mimamori', bufferDir: join(dataDir, 'history-buffer'), logger });
 * readings$.subscribe((r) => history.writeReading(r));
 */
export async function createHistoryWriter(opts: HistoryWriterOptions): Promise<HistoryWriter> {
  const parsed = optionsSchema.safeParse(opts);
  if (!parsed.success) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `history writer: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const o = parsed.data;
  const logger = opts.logger.child({ component: 'history' });
  const clock = opts.clock ?? systemClock;

  const base = new URL(o.url);
  const basePath = base.pathname.replace(/\/$/, '');
  const secure = base.protocol === 'https:';
  // A socket per write under way, and one for the schema's queries.
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: o.writesInFlight + 1 }) : new HttpAgent({ keepAlive: true, maxSockets: o.writesInFlight + 1 });
  const writePath = `${basePath}/write?${new URLSearchParams({ db: o.database, rp: rawRetentionPolicy.name, precision: 'n' })}`;
  const authHeader = o.username !== undefined ? { authorization: `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}` } : {};
  // The writer uses the influx client for the schema only (createHistory hands in the one client the hub has).
  const influx = opts.influx ?? createInfluxClient({ url: o.url, database: o.database, username: o.username, password: o.password, requestTimeoutMs: o.requestTimeoutMs, agent });

  const buffer = await openDiskBuffer({ dir: o.bufferDir, maxBytes: o.maxBufferBytes, logger });

  /** Points encoded as they are queued: the batch being filled, and full ones waiting to be written. */
  let pending = new LineBatch();
  const full: LineBatch[] = [];
  let written = 0;
  let failures = 0;
  let rejected = 0;
  let dropped = 0;
  let schemaReady = false;
  let outage = false;
  let closed = false;
  let stopDraining = false;
  let flushRequested = false;
  let chain: Promise<void> = Promise.resolve();
  let draining: Promise<void> | undefined;
  let retry: Subscription | undefined;
  let retryDelay = o.retryInitialMs;
  let tick: Subscription | undefined;

  function post(body: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      const send = secure ? httpsRequest : httpRequest;
      const req = send({
        protocol: base.protocol, hostname: base.hostname, port: base.port, path: writePath, method: 'POST', agent,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...authHeader },
        timeout: o.requestTimeoutMs,
      }, (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('error', (err) => resolve({ kind: 'retry', reason: err.message }));
        res.on('end', () => resolve(classify(res.statusCode ?? 0, text)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${o.requestTimeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'retry', reason: err.code ?? err.message }));
      req.end(body);
    });
  }

  /**
   * Writes `batch`, splitting on 400 until each bad point stands alone.
   * Returns how many leading points are done (written or rejected); fewer
   * than all means InfluxDB is unavailable and the rest must wait.
   */
  async function deliver(batch: LineBatch): Promise<number> {
    if (!schemaReady) {
      try {
        await ensureSchema(influx, o.database);
        schemaReady = true;
      } catch (err) {
        noteFailure((err as Error).message);
        return 0;
      }
    }
    const outcome = await post(batch.body());
    if (outcome.kind === 'ok') {
      written += batch.count;
      noteRecovery();
      return batch.count;
    }
    if (outcome.kind === 'retry') {
      if (outcome.missingDatabase) schemaReady = false;
      noteFailure(outcome.reason);
      return 0;
    }
    if (batch.count === 1) {
      rejected++;
      logger.error({ point: describePoint(batch.line(0)), reason: outcome.reason, rejectedTotal: rejected }, 'InfluxDB refused a history point; dropped it');
      return 1;
    }
    // InfluxDB writes the good points of a 400 batch anyway; re-sending them
    // is an idempotent overwrite, so halving is safe.
    const mid = Math.ceil(batch.count / 2);
    const left = await deliver(batch.slice(0, mid));
    if (left < mid) return left;
    return mid + (await deliver(batch.slice(mid)));
  }

  function noteFailure(reason: string): void {
    failures++;
    if (!outage) {
      outage = true;
      logger.warn({ reason, url: o.url }, 'InfluxDB unavailable; buffering history on disk / InfluxDB に書き込めないため履歴をディスクに退避します');
    } else {
      logger.debug({ reason }, 'InfluxDB still unavailable');
    }
  }

  function noteRecovery(): void {
    if (!outage) return;
    outage = false;
    logger.info({ buffered: buffer.stats().points }, 'InfluxDB reachable again; draining the history buffer / InfluxDB が復旧しました');
  }

  async function toDisk(batch: LineBatch): Promise<void> {
    try {
      await buffer.append(batch);
    } catch (err) {
      dropped += batch.count;
      logger.error({ err: (err as Error).message, points: batch.count, droppedTotal: dropped }, 'could not write the history buffer; points lost');
    }
  }

  /** The next batch to write: the oldest full one, or with `partial` the one being filled. */
  function takeBatch(partial: boolean): LineBatch | undefined {
    const next = full.shift();
    if (next !== undefined) return next;
    if (!partial || pending.count === 0) return undefined;
    const batch = pending;
    pending = new LineBatch(batch.byteLength + 1024);
    return batch;
  }

  /**
   * Writes (or buffers) what is queued in memory, batches in order with up to
   * `writesInFlight` under way: everything, or with `fullBatchesOnly` just the
   * full batches. A batch that fails goes to the disk buffer whatever became of
   * the one after it: points carry their own time, so the order they reach
   * InfluxDB in changes nothing.
   */
  async function flushPending(fullBatchesOnly: boolean): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for (let batch = takeBatch(!fullBatchesOnly); batch !== undefined; batch = takeBatch(!fullBatchesOnly)) {
      // While older points wait on disk, newer ones queue behind them.
      if (draining || buffer.stats().segments > 0) {
        await toDisk(batch);
        if (!draining && !retry) void drain();
        continue;
      }
      const b = batch;
      const write = (async () => {
        const done = await deliver(b);
        if (done < b.count) {
          await toDisk(done === 0 ? b : b.slice(done));
          scheduleRetry();
        }
      })();
      inFlight.add(write);
      // Either way: a write that threw must leave the set, and must not become an unhandled rejection
      // here (it reaches enqueueFlush's catch through the race or the final wait).
      void write.then(() => inFlight.delete(write), () => inFlight.delete(write));
      if (inFlight.size >= o.writesInFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  function enqueueFlush(fullBatchesOnly = false): Promise<void> {
    const run = chain.then(() => flushPending(fullBatchesOnly)).catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, 'history flush failed');
    });
    chain = run;
    return run;
  }

  function scheduleRetry(): void {
    if (closed || retry) return;
    const delay = retryDelay;
    retryDelay = Math.min(retryDelay * 2, o.retryMaxMs);
    retry = clock.schedule(() => {
      retry = undefined;
      void drain();
    }, delay);
  }

  /** Drains the disk buffer oldest first until it is empty or a write fails. */
  function drain(): Promise<void> {
    if (retry) {
      retry.unsubscribe();
      retry = undefined;
    }
    draining ??= (async () => {
      try {
        while (!stopDraining) {
          const segment = await buffer.takeOldest();
          if (!segment) {
            retryDelay = o.retryInitialMs;
            return;
          }
          const lines = segment.batch;
          let done = 0;
          while (done < lines.count && !stopDraining) {
            const chunk = lines.slice(done, done + o.batchSize);
            const n = await deliver(chunk);
            done += n;
            if (n < chunk.count) break;
          }
          if (done < lines.count) {
            buffer.release(segment.id, done);
            if (!stopDraining) scheduleRetry();
            return;
          }
          await buffer.remove(segment.id);
        }
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'history buffer drain failed');
        scheduleRetry();
      } finally {
        draining = undefined;
      }
    })();
    return draining;
  }

  function queue(encode: () => string): void {
    if (closed) {
      dropped++;
      logger.warn('history point written after close; dropped');
      return;
    }
    let lineText: string;
    try {
      lineText = encode();
    } catch (err) {
      rejected++;
      logger.error({ reason: (err as Error).message }, 'history point could not be encoded; dropped');
      return;
    }
    pending.add(lineText);
    if (pending.count < o.batchSize) return;
    full.push(pending);
    pending = new LineBatch(pending.byteLength + 1024);
    if (!flushRequested) {
      flushRequested = true;
      queueMicrotask(() => {
        flushRequested = false;
        void enqueueFlush(true);
      });
    }
  }

  function armTick(): void {
    tick = clock.schedule(() => {
      if (closed) return;
      if (pending.count > 0 || full.length > 0) void enqueueFlush();
      armTick();
    }, o.flushIntervalMs);
  }
  armTick();
  if (buffer.stats().segments > 0) void drain();

  return {
    writeReading: (r) => queue(() => readingLine(r)),
    writeFinding: (f) => queue(() => findingLine(f)),
    writeAlert: (a) => queue(() => alertLine(a)),
    writeNotification: (n) => queue(() => notificationLine(n)),
    writeCallQuality: (q) => queue(() => callQualityLine(q)),

    async flush() {
      await enqueueFlush();
      if (!closed && buffer.stats().segments > 0) await drain();
    },

    stats() {
      const b = buffer.stats();
      return { written, buffered: b.points, failures, pendingInMemory: full.reduce((n, waiting) => n + waiting.count, pending.count), bufferBytes: b.bytes, rejected, dropped: dropped + b.dropped };
    },

    async close() {
      if (closed) return;
      closed = true;
      tick?.unsubscribe();
      retry?.unsubscribe();
      retry = undefined;
      await enqueueFlush();
      stopDraining = true;
      await draining;
      await buffer.close();
      agent.destroy();
      const s = buffer.stats();
      logger.info({ written, buffered: s.points, rejected, dropped: dropped + s.dropped }, 'history writer closed');
    },
  };
}

function classify(status: number, body: string): Outcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  let reason = body.trim();
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') reason = parsed.error;
  } catch {
    // not JSON: keep the text
  }
  reason = `${status} ${reason}`.slice(0, 500);
  if (status === 404 && /database not found/i.test(reason)) return { kind: 'retry', reason, missingDatabase: true };
  // 400: bad line protocol or a field-type conflict; 413: too big for one request. Splitting fixes both.
  if (status === 400 || status === 413) return { kind: 'bad', reason };
  // 5xx, auth and anything else: not the data's fault, so keep it and retry.
  return { kind: 'retry', reason };
}

/** A refused point for the log: its series (ids only) and `id`, never free-text fields. */
function describePoint(text: string): { series: string; id?: string } {
  const space = text.search(/(?<!\\) /);
  const series = space < 0 ? text.slice(0, 120) : text.slice(0, space);
  const id = /[ ,]id="((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  return id === undefined ? { series } : { series, id };
}
