/**
 * The hub's part in backups (moved from cli/backup.ts): the run file through
 * which `mimamori backup` finds the hub's managed influxd, and the daily
 * backup at `backup.dailyAt` (docs/backup.md).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { scheduleAt, type Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import { localTime, parseClockTime } from '../core/time.js';
import { readPassphrase, runBackup, type InfluxBackupSource } from '../backup/index.js';

/** Where a running hub says how to reach its managed influxd (removed when it stops). */
export const influxdRunFile = (dataDir: string) => join(dataDir, 'influxd.json');

/** Records the managed influxd's addresses for `mimamori backup` run beside the hub; returns the remover. */
export function writeInfluxdRunFile(dataDir: string, influxd: { url: string; rpcAddress: string }): () => void {
  const file = influxdRunFile(dataDir);
  writeFileSync(file, `${JSON.stringify({ url: influxd.url, rpcAddress: influxd.rpcAddress, pid: process.pid })}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/**
 * Why no backup is taken while the store is in PostgreSQL: a backup archive
 * holds the SQLite store file. Said by `mimamori backup` and recorded as the
 * daily backup's failed run, in English and Japanese.
 */
export const storeInPostgresNote = 'the store is in PostgreSQL (MIMAMORI_DATABASE_URL); a mimamori backup copies the SQLite store. Back PostgreSQL up with pg_dump (docs/store.md).\n'
  + 'ストアは PostgreSQL にあります（MIMAMORI_DATABASE_URL）。mimamori のバックアップは SQLite のストアを複製します。PostgreSQL は pg_dump でバックアップしてください。';

/** When the next daily backup is due after `now` (HH:MM in `timeZone`). */
export function nextDailyRun(now: number, hhmm: string, timeZone: string): number {
  const l = localTime(now, timeZone);
  const sinceMidnight = (l.minuteOfDay * 60 + l.second) * 1000 + (now % 1000);
  let delay = parseClockTime(hhmm) * 60_000 - sinceMidnight;
  if (delay <= 0) delay += 86_400_000;
  return now + delay;
}

export interface DailyBackups {
  /** Resolves when no backup is running. */
  idle(): Promise<void>;
  stop(): void;
}

/**
 * The hub's daily backup at `config.backup.dailyAt`; a no-op without a time
 * or targets. A run never overlaps the previous one; a failure is logged and
 * recorded in the backup history, and the next day's run still happens. With
 * the store in PostgreSQL each run is recorded as failed with
 * `storeInPostgresNote` (the archive would hold no store).
 */
export function scheduleDailyBackups(opts: { config: Config; store: Store; clock: Clock; logger: Logger; influx?: InfluxBackupSource; env?: NodeJS.ProcessEnv }): DailyBackups {
  const { config, store, clock, logger } = opts;
  const { dailyAt, targets } = config.backup;
  let running: Promise<void> = Promise.resolve();
  if (!dailyAt || targets.length === 0) return { idle: () => running, stop: () => undefined };
  let cancel = () => undefined as void;
  let stopped = false;
  const arm = () => {
    const at = nextDailyRun(clock.now(), dailyAt, config.backup.timezone);
    cancel = scheduleAt(clock, at, () => {
      if (stopped) return;
      running = running.then(async () => {
        if (config.databaseUrl) {
          const at = clock.now();
          await store.saveBackup({ id: newId(at), startedAt: at, finishedAt: at, status: 'failed', targets: targets.map((dir) => ({ dir, ok: false })), verified: false, error: storeInPostgresNote });
          logger.error('daily backup not taken: the store is in PostgreSQL; back it up with pg_dump');
          return;
        }
        let passphrase: string;
        try {
          passphrase = readPassphrase(config.dataDir, config.backup.passphraseFile, opts.env ?? process.env, true);
        } catch (err) {
          // Recorded like any failed run, so operators see it in the backup history.
          const at = clock.now();
          await store.saveBackup({ id: newId(at), startedAt: at, finishedAt: at, status: 'failed', targets: targets.map((dir) => ({ dir, ok: false })), verified: false, error: (err as Error).message });
          logger.error({ err: (err as Error).message }, 'daily backup not taken');
          return;
        }
        try {
          await runBackup({
            dataDir: config.dataDir, store, targets, keep: config.backup.keep, passphrase, clock, logger,
            ...(opts.influx ? { influx: opts.influx } : {}), ...(config.backup.scratchDir ? { scratchDir: config.backup.scratchDir } : {}),
          });
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'daily backup not taken');
        }
      });
      if (!stopped) arm();
    });
  };
  arm();
  logger.info({ dailyAt, timezone: config.backup.timezone, targets: targets.length }, 'daily backups scheduled');
  return { idle: () => running, stop: () => { stopped = true; cancel(); } };
}
