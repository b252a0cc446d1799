/**
 * `mimamori backup`, `mimamori backup list`, `mimamori restore` and
 * `mimamori audit verify` (docs/backup.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../core/config.js';
import { loadConfig } from '../core/config.js';
import { systemClock } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createSqliteStore, type BackupRecord } from '../core/store.js';
import { openStore } from '../core/store-open.js';
import { readPassphrase, restoreArchive, runBackup, type InfluxBackupSource } from '../backup/index.js';
import { startManagedInfluxd } from '../history/index.js';
import { describeTrailReports, verifyTrails } from './audit.js';
import type { CliIo } from './cli-io.js';
import { influxdRunFile, nextDailyRun, scheduleDailyBackups, storeInPostgresNote, writeInfluxdRunFile, type DailyBackups } from '../hub/index.js';

// The run file and the daily backup are the hub's (hub/backups.ts), the passphrase backup/'s; exported here as before.
export { influxdRunFile, nextDailyRun, readPassphrase, scheduleDailyBackups, writeInfluxdRunFile, type DailyBackups };

/** The running hub's managed influxd when its run file names one that answers; undefined otherwise (no hub, or a stale file). */
export async function runningInfluxd(dataDir: string): Promise<{ url: string; rpcAddress: string } | undefined> {
  const runFile = influxdRunFile(dataDir);
  if (!existsSync(runFile)) return undefined;
  try {
    const run = JSON.parse(readFileSync(runFile, 'utf8')) as { url: string; rpcAddress: string };
    const ping = await fetch(`${run.url}/ping`, { signal: AbortSignal.timeout(2000) });
    return ping.status === 204 ? run : undefined;
  } catch {
    return undefined; // a stale run file from a hub that stopped
  }
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
  const running = await runningInfluxd(config.dataDir);
  if (running) return { source: { ...base, rpcAddress: running.rpcAddress }, close: none };
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
    io.err(`mimamori backup: ${storeInPostgresNote}`);
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
