/**
 * `mimamori backup`, `mimamori backup list`, `mimamori restore` and
 * `mimamori audit verify`, and the hub's daily backup (docs/backup.md).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../core/config.js';
import { loadConfig } from '../core/config.js';
import { scheduleAt, systemClock, type Clock } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createSqliteStore, type BackupRecord, type Store } from '../core/store.js';
import { openStore } from '../core/store-open.js';
import { localTime, parseClockTime } from '../core/time.js';
import { restoreArchive, runBackup, type InfluxBackupSource } from '../backup/index.js';
import { startManagedInfluxd } from '../rules/managed-influxd.js';
import { describeTrailReports, verifyTrails } from './audit.js';
import type { CliIo } from './main.js';

/** Where a running hub says how to reach its managed influxd (removed when it stops). */
export const influxdRunFile = (dataDir: string) => join(dataDir, 'influxd.json');

/** Records the managed influxd's addresses for `mimamori backup` run beside the hub; returns the remover. */
export function writeInfluxdRunFile(dataDir: string, influxd: { url: string; rpcAddress: string }): () => void {
  const file = influxdRunFile(dataDir);
  writeFileSync(file, `${JSON.stringify({ url: influxd.url, rpcAddress: influxd.rpcAddress, pid: process.pid })}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** Minimum passphrase length for new backups (restores accept any). */
const minPassphrase = 12;

/**
 * The operator's passphrase: from `file` (first line) or the environment
 * variable MIMAMORI_BACKUP_PASSPHRASE. A file inside the data folder is
 * refused: a key kept next to the data protects nothing.
 */
export function readPassphrase(dataDir: string, file: string | undefined, env: NodeJS.ProcessEnv, forNewBackup: boolean): string {
  let pass: string | undefined;
  if (file) {
    const rel = relative(resolve(dataDir), resolve(file));
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new MimamoriError('MIMAMORI_ERR_CONFIG', `the passphrase file ${file} is inside the data folder; keep it elsewhere / パスフレーズのファイルをデータフォルダの外に置いてください`);
    }
    try { pass = readFileSync(file, 'utf8').split(/\r?\n/)[0]; } catch (err) { throw new MimamoriError('MIMAMORI_ERR_CONFIG', `cannot read the passphrase file ${file}: ${(err as Error).message}`); }
  } else {
    pass = env.MIMAMORI_BACKUP_PASSPHRASE;
  }
  if (!pass) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'no backup passphrase: give --passphrase-file FILE (or backup.passphraseFile) or set MIMAMORI_BACKUP_PASSPHRASE / バックアップのパスフレーズを指定してください');
  if (forNewBackup && [...pass].length < minPassphrase) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `the backup passphrase must have at least ${minPassphrase} characters / パスフレーズは ${minPassphrase} 文字以上にしてください`);
  return pass;
}

/**
 * The InfluxDB to back up from the command line: an external one through
 * `backup.influxRpc`; the running hub's managed influxd (its run file); or,
 * when no hub runs, a managed influxd started on the data folder for the
 * duration (`close`).
 */
async function influxForCli(config: Config, logger: Logger): Promise<{ source?: InfluxBackupSource; note?: string; close(): Promise<void> }> {
  const base = { database: config.influx.database, influxdPath: config.influx.influxdPath };
  const none = async () => undefined;
  if (config.influx.url) {
    return config.backup.influxRpc
      ? { source: { ...base, rpcAddress: config.backup.influxRpc }, close: none }
      : { note: 'an external InfluxDB without backup.influxRpc: history is not in this backup', close: none };
  }
  const runFile = influxdRunFile(config.dataDir);
  if (existsSync(runFile)) {
    try {
      const run = JSON.parse(readFileSync(runFile, 'utf8')) as { url: string; rpcAddress: string };
      const ping = await fetch(`${run.url}/ping`, { signal: AbortSignal.timeout(2000) });
      if (ping.status === 204) return { source: { ...base, rpcAddress: run.rpcAddress }, close: none };
    } catch {
      // a stale run file from a hub that stopped: start our own below
    }
  }
  if (!existsSync(join(config.dataDir, 'influxdb'))) return { note: 'no InfluxDB data in the data folder', close: none };
  const influxd = await startManagedInfluxd({ dataDir: config.dataDir, influxdPath: config.influx.influxdPath, logger });
  return { source: { ...base, rpcAddress: influxd.rpcAddress }, close: () => influxd.close() };
}

const usage = `  mimamori backup [--to DIR]… [--keep N] [--passphrase-file FILE] [--no-verify]
  mimamori backup list [--json]
  mimamori restore ARCHIVE --to DIR [--passphrase-file FILE]
  mimamori audit verify`;

/** `mimamori backup …`; a bad option or configuration is a message and exit code 1, not a stack trace. */
export async function backupCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  try {
    return await backup(args, env, io);
  } catch (err) {
    const e = err as MimamoriError;
    io.err(`mimamori backup: ${e.code ? `${e.code} ` : ''}${e.message}`);
    return 1;
  }
}

async function backup(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const config = loadConfig(env);
  const logger = createLogger({ level: env.MIMAMORI_LOG_LEVEL ?? 'warn' });
  if (args[0] === 'list') {
    const { values } = parseArgs({ args: args.slice(1), options: { json: { type: 'boolean' } } });
    const store = await openStore(config);
    try {
      const list = await store.listBackups();
      if (values.json) io.out(JSON.stringify(list, null, 2));
      else if (list.length === 0) io.out('no backups yet / バックアップはまだありません');
      else for (const b of list) io.out(describeBackup(b));
      return 0;
    } finally {
      await store.close();
    }
  }
  const { values } = parseArgs({ args, options: { to: { type: 'string', multiple: true }, keep: { type: 'string' }, 'passphrase-file': { type: 'string' }, 'no-verify': { type: 'boolean' } } });
  const targets = values.to?.length ? values.to : config.backup.targets;
  const keep = values.keep === undefined ? config.backup.keep : Number(values.keep);
  if (!Number.isInteger(keep) || keep < 1) { io.err('mimamori backup: --keep must be a whole number of at least 1'); return 2; }
  if (targets.length === 0) { io.err(`mimamori backup: give --to DIR or set backup.targets in the configuration\n\n${usage}`); return 2; }
  if (config.databaseUrl) {
    io.err('mimamori backup: the store is in PostgreSQL (MIMAMORI_DATABASE_URL); this command copies the SQLite store. Back PostgreSQL up with pg_dump (docs/store.md).\n'
      + 'ストアは PostgreSQL にあります（MIMAMORI_DATABASE_URL）。このコマンドは SQLite のストアを複製します。PostgreSQL は pg_dump でバックアップしてください。');
    return 2;
  }
  const passphrase = readPassphrase(config.dataDir, values['passphrase-file'] ?? config.backup.passphraseFile, env, true);
  const store = createSqliteStore(join(config.dataDir, 'mimamori.db'));
  const influx = await influxForCli(config, logger);
  try {
    if (influx.note) io.err(`note: ${influx.note}`);
    const record = await runBackup({
      dataDir: config.dataDir, store, targets, keep, passphrase, clock: systemClock, logger, verify: !values['no-verify'],
      ...(influx.source ? { influx: influx.source } : {}), ...(config.backup.scratchDir ? { scratchDir: config.backup.scratchDir } : {}),
    });
    io.out(describeBackup(record));
    for (const t of record.targets.filter((x) => !x.ok)) io.err(`not written to ${t.dir}: ${t.error ?? '?'}`);
    return record.status === 'ok' && record.targets.every((t) => t.ok) ? 0 : 1;
  } finally {
    await influx.close();
    await store.close();
  }
}

/** `mimamori restore ARCHIVE --to DIR` */
export async function restoreCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { to: { type: 'string' }, 'passphrase-file': { type: 'string' } } });
  const archive = positionals[0];
  if (!archive || !values.to) { io.err(`mimamori restore: give ARCHIVE and --to DIR\n\n${usage}`); return 2; }
  const config = loadConfig(env);
  const passphrase = readPassphrase(config.dataDir, values['passphrase-file'] ?? config.backup.passphraseFile, env, false);
  try {
    const r = await restoreArchive({ archive, to: values.to, passphrase, influxdPath: config.influx.influxdPath, logger: createLogger({ level: env.MIMAMORI_LOG_LEVEL ?? 'warn' }) });
    io.out(JSON.stringify({ restored: resolve(values.to), backup: r.manifest.id, createdAt: new Date(r.manifest.createdAt).toISOString(), files: r.files, storeRows: r.rows, influxMeasurements: r.influxMeasurements ?? null, heads: r.manifest.heads }));
    io.err(`Restored. Start the hub on it with MIMAMORI_DATA_DIR=${resolve(values.to)} mimamori start / 復元しました。`);
    return 0;
  } catch (err) {
    const e = err as MimamoriError;
    io.err(`mimamori restore: ${e.code ? `${e.code} ` : ''}${e.message}`);
    return 1;
  }
}

/** `mimamori audit verify` */
export async function auditCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (args[0] !== 'verify') { io.err(usage); return 2; }
  const store = await openStore(loadConfig(env));
  try {
    const reports = await verifyTrails(store);
    for (const line of describeTrailReports(reports)) io.out(line);
    return reports.every((r) => r.problems.length === 0) ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** One line per backup for `mimamori backup list`. */
export function describeBackup(b: BackupRecord): string {
  const mib = b.size === undefined ? '-' : `${(b.size / 1048576).toFixed(1)} MiB`;
  const where = `${b.targets.filter((t) => t.ok).length}/${b.targets.length} target(s)`;
  const verified = b.verified ? 'verified / 検証済み' : 'NOT verified / 未検証';
  const heads = b.heads ? ` audit#${b.heads.audit.seq}:${b.heads.audit.hash.slice(0, 12)} access#${b.heads.access.seq}:${b.heads.access.hash.slice(0, 12)}` : '';
  return `${new Date(b.startedAt).toISOString()} ${b.status} ${verified} ${b.file ?? '-'} ${mib} sha256:${b.sha256?.slice(0, 16) ?? '-'} ${where}${heads}${b.error ? ` error: ${b.error}` : ''}`;
}

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
 * recorded in the backup history, and the next day's run still happens.
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
