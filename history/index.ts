/**
 * History, the folder's front door (docs/history.md): everything the hub
 * keeps in InfluxDB 1.x — the writer with its disk buffer (the alert path
 * never waits on it), the schema (retention policies and the hourly rollup),
 * the queries people's pages and the family's digest read, and `influxd`
 * run as a managed child when no external InfluxDB is configured.
 *
 * `createHistory` starts it all with **one** InfluxDB client, shared by the
 * writer (schema) and the queries.
 *
 * @example
 * const history = await createHistory({ dataDir, influx: config.influx, store }, clock, logger);
 * readings$.subscribe((r) => history.writer.writeReading(r));
 * const points = await history.queries.activity('home-1', from, to);
 * await history.close();
 */
import { join } from 'node:path';
import type { InfluxDB } from 'influx';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Reading } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import type { ActivityPoint, HistoryQuery } from '../dashboards/index.js';
import type { SummarizeDay } from '../notifier/index.js';
import { createHistoryWriter, type HistoryWriter } from './history-writer.js';
import { createDaySummarizer, createInfluxHistoryQuery, createRoutineHistory } from './history-queries.js';
import { createInfluxClient } from './influx-client.js';
import { ensureSchema } from './influx-schema.js';
import { startManagedInfluxd, type InfluxdTrouble, type ManagedInfluxd } from './managed-influxd.js';

export { createHistoryWriter, type HistoryWriter, type HistoryWriterOptions, type HistoryStats, type AlertRecord, type NotificationRecord } from './history-writer.js';
export { ensureSchema, pointTime, readingLine } from './influx-schema.js';
export { resolveProgram, startManagedInfluxd, type InfluxdHealth, type InfluxdTrouble, type ManagedInfluxd } from './managed-influxd.js';
export { createInfluxHistoryQuery, createDaySummarizer, createRoutineHistory } from './history-queries.js';
export { createInfluxClient } from './influx-client.js';
export { dayBounds } from '../core/time.js';

export interface HistoryConfig {
  /** The hub's data folder: the disk buffer (`history-buffer/`) and a managed influxd's data (`influxdb/`). */
  dataDir: string;
  /** The `influx` section of the hub's configuration: no `url` means the hub runs influxd itself. */
  influx: Config['influx'];
  /** Where the digest's day summary reads homes, attendance and alerts. */
  store: Pick<Store, 'getHome' | 'listAttendance' | 'listAlerts'>;
  /** A managed influxd that keeps dying (`onTrouble`), and that runs again (`onRecovered`). */
  onInfluxdTrouble?: (trouble: InfluxdTrouble) => void;
  onInfluxdRecovered?: () => void;
}

/** What people's pages, the digest and the learned routines read back. */
export interface HistoryQueries {
  /** Activity (events, not heartbeats) of a home in [from, to), oldest first: the web app's `HistoryQuery`. */
  activity(homeId: string, from: number, to: number): Promise<ActivityPoint[]>;
  /** Events counted per quarter hour by InfluxDB (charts over busy weeks): the web app's `HistoryQuery.activityCounts`. */
  activityCounts: HistoryQuery['activityCounts'];
  /** The facts of one local day for the family's digest (first kettle, outings, day-care, what was noticed). */
  summarizeDay: SummarizeDay;
  /** Recorded readings of a home's last 28 days, to learn a routine again that has no saved state. */
  routineReadings(home: string): Promise<Reading[]>;
}

export interface History {
  writer: HistoryWriter;
  queries: HistoryQueries;
  /** The InfluxDB HTTP URL in use (the managed influxd's, or the configured one). */
  url: string;
  /** The supervised influxd, when the hub runs its own. */
  influxd?: ManagedInfluxd;
  /** Closes the writer (what is queued is written or buffered), then stops a managed influxd. */
  close(): Promise<void>;
}

/**
 * Starts history: a managed influxd when no InfluxDB URL is configured, the
 * schema (a failure is logged; history is buffered on disk until InfluxDB
 * answers), the writer, the queries. On a failure part-way, what had started
 * is closed again.
 */
export async function createHistory(config: HistoryConfig, clock: Clock, log: Logger): Promise<History> {
  const { influx: cfg } = config;
  let influxd: ManagedInfluxd | undefined;
  let url = cfg.url;
  if (!url) {
    influxd = await startManagedInfluxd({
      dataDir: config.dataDir, influxdPath: cfg.influxdPath, logger: log.child({ part: 'influxd' }),
      // Supervised: restarted with back-off; if it keeps dying the operator is told.
      onTrouble: (trouble) => config.onInfluxdTrouble?.(trouble),
      onRecovered: () => config.onInfluxdRecovered?.(),
    });
    url = influxd.url;
  }
  try {
    const influx: InfluxDB = createInfluxClient({ url, database: cfg.database, username: cfg.username, password: cfg.password });
    try {
      await ensureSchema(influx, cfg.database);
    } catch (err) {
      // The hub still runs: history is buffered on disk until InfluxDB answers.
      log.warn({ err: (err as Error).message }, 'InfluxDB schema not ready; history will be buffered');
    }
    const writerOpts: Parameters<typeof createHistoryWriter>[0] = {
      url, database: cfg.database, bufferDir: join(config.dataDir, 'history-buffer'), influx,
      logger: log.child({ part: 'history' }), batchSize: cfg.batchSize, flushIntervalMs: cfg.flushIntervalMs,
    };
    if (cfg.username) writerOpts.username = cfg.username;
    if (cfg.password) writerOpts.password = cfg.password;
    const writer = await createHistoryWriter(writerOpts);
    const activity = createInfluxHistoryQuery(influx);
    const queries: HistoryQueries = {
      activity: (homeId, from, to) => activity.activity(homeId, from, to),
      activityCounts: (homeId, from, to) => activity.activityCounts(homeId, from, to),
      summarizeDay: createDaySummarizer({ influx, store: config.store, database: cfg.database }),
      routineReadings: createRoutineHistory({ influx, now: () => clock.now() }),
    };
    const started = influxd;
    const history: History = {
      writer, queries, url,
      async close() {
        try { await writer.close(); } finally { await started?.close(); }
      },
    };
    if (influxd) history.influxd = influxd;
    return history;
  } catch (err) {
    await influxd?.close();
    throw err;
  }
}
