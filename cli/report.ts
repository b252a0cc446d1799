/**
 * `mimamori report --home H --month YYYY-MM [--lang ja|en] --out FILE.pdf`:
 * the monthly report of one home from the command line — the kept one when
 * it exists, otherwise made and kept exactly as the web app does
 * (dashboards/monthly-reports.ts). Activity comes from the configured
 * InfluxDB, the running hub's managed influxd, or one started on the data
 * folder for the duration. The read is access-logged as `cli:<user>`.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../core/clock.js';
import { loadConfig, type Config } from '../core/config.js';
import { MimamoriError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import { openStore, sqliteFile } from '../core/store-open.js';
import { startManagedInfluxd } from '../history/index.js';
import { findJapaneseFont, type HistoryQuery } from '../dashboards/index.js';
import { createMonthlyReports } from '../dashboards/index.js';
import { runningInfluxd } from './backup.js';
import { createInfluxClient, createInfluxHistoryQuery } from '../history/index.js';
import type { CliIo } from './main.js';

const usage = '  mimamori report --home ID --month YYYY-MM [--lang ja|en] --out FILE.pdf';

/** Where the month's activity is read from; `close` stops an influxd started for this command. */
async function historyForCli(config: Config, logger: Logger): Promise<{ history?: HistoryQuery; from: string; close(): Promise<void> }> {
  const none = async () => undefined;
  const client = (url: string) => createInfluxHistoryQuery(createInfluxClient({ url, database: config.influx.database, username: config.influx.username, password: config.influx.password }));
  if (config.influx.url) return { history: client(config.influx.url), from: 'configured InfluxDB', close: none };
  const running = await runningInfluxd(config.dataDir);
  if (running) return { history: client(running.url), from: 'the running hub\'s influxd', close: none };
  if (!existsSync(join(config.dataDir, 'influxdb'))) return { from: 'none: no InfluxDB data in the data folder', close: none };
  const influxd = await startManagedInfluxd({ dataDir: config.dataDir, influxdPath: config.influx.influxdPath, logger });
  return { history: client(influxd.url), from: 'influxd started on the data folder', close: () => influxd.close() };
}

/** `mimamori report …`; bad options are exit code 2, failures exit code 1 with a readable line. */
export async function reportCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { home: { type: 'string' }, month: { type: 'string' }, lang: { type: 'string', default: 'ja' }, out: { type: 'string' } } }));
  } catch (err) { io.err(`mimamori report: ${(err as Error).message}\n\n${usage}`); return 2; }
  if (!values.home || !values.month || !values.out) { io.err(`mimamori report: give --home, --month and --out / --home・--month・--out を指定してください\n\n${usage}`); return 2; }
  if (values.lang !== 'ja' && values.lang !== 'en') { io.err(`mimamori report: --lang is ja or en / --lang は ja か en です\n\n${usage}`); return 2; }
  const language = values.lang;
  const config = loadConfig(env);
  const logger = createLogger({ level: env.MIMAMORI_LOG_LEVEL ?? 'warn' });
  const viewer = `cli:${userInfo().username}`;
  let store: Store | undefined;
  let source: Awaited<ReturnType<typeof historyForCli>> | undefined;
  try {
    // The configured store: PostgreSQL with MIMAMORI_DATABASE_URL, else the data folder's SQLite file (which must exist).
    if (!config.databaseUrl && !existsSync(sqliteFile(config.dataDir))) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `no store in ${config.dataDir}; set MIMAMORI_DATA_DIR / データフォルダにストアがありません`);
    store = await openStore(config);
    source = await historyForCli(config, logger);
    const font = findJapaneseFont();
    const reports = createMonthlyReports({ store, history: source.history, dir: join(config.dataDir, 'reports'), fontPath: font, clock: systemClock });
    const { record, made } = await reports.obtain({ homeId: values.home, month: values.month, language, by: viewer });
    await writeFile(values.out, await reports.read(record), { mode: 0o600 });
    await store.recordAccess({ at: systemClock.now(), viewerId: viewer, homeId: record.homeId, what: 'monthly report (PDF, command line)' });
    io.out(JSON.stringify({ out: values.out, report: record.id, home: record.homeId, month: record.month, language: record.language, made, pages: record.pages, sha256: record.sha256, history: source.from }));
    return 0;
  } catch (err) {
    const e = err as MimamoriError;
    io.err(`mimamori report: ${e.code ? `${e.code} ` : ''}${e.message}`);
    return 1;
  } finally {
    await source?.close();
    await store?.close();
  }
}
