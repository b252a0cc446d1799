/**
 * The day the hub is down (issue 15, docs/backup.md):
 *
 *   mimamori start --reference BACKUP [--passphrase-file FILE] [--access-log DIR]
 *       serves the web app read-only from a backup archive: no broker, no
 *       rules, no notifier, no influxd; every page marked, every write refused,
 *       every read access-logged in the reference hub's own log;
 *   mimamori contacts-pdf [--home ID] --out FILE [--from-backup BACKUP …]
 *       prints the emergency contact list from the hub's store or a backup.
 */
import { writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { systemClock } from '../core/clock.js';
import { loadConfig } from '../core/config.js';
import { MimamoriError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createSqliteStore, type Store } from '../core/store.js';
import { openReferenceCopy, type ReferenceCopy } from '../backup/index.js';
import { createWebApp, findJapaneseFont, type WebApp } from '../dashboards/index.js';
import { seedKeyFrom } from '../dashboards/index.js';
import { collectContactSheet, renderContactSheet, type SheetSource } from '../dashboards/index.js';
import type { AlertResponder } from '../notifier/index.js';
import { readPassphrase } from './backup.js';
import type { CliIo } from './cli-io.js';

export interface ReferenceHubOptions {
  archive: string;
  passphrase: string;
  logger: Logger;
  host: string;
  /** 0 for any free port. */
  port: number;
  /** Where the reference access log is kept (default beside the copy, see backup/reference.ts). */
  accessLogDir?: string;
  /** Folder for the private copy (default a new folder in the OS temp folder). */
  workDir?: string;
  fontPath?: string;
}

export interface ReferenceHub {
  url: string;
  web: WebApp;
  copy: ReferenceCopy;
  /** Stops serving, removes the copy; the access log stays at `copy.accessLogPath`. */
  close(): Promise<void>;
}

const refused = async (): Promise<never> => { throw new MimamoriError('MIMAMORI_ERR_READ_ONLY', 'the reference hub sends nothing and changes nothing / 参照専用のため操作できません'); };
/** Alert buttons have nobody to tell and nothing to change in a reference copy. */
const noResponder: AlertResponder = { acknowledge: refused, onMyWay: refused, arrived: refused, resolve: refused, bindReply: refused, bindReplyFrom: refused };

/** Opens `archive` read-only and serves the web app from it (nothing else runs). */
export async function startReferenceHub(opts: ReferenceHubOptions): Promise<ReferenceHub> {
  const copy = await openReferenceCopy({
    archive: opts.archive, passphrase: opts.passphrase, logger: opts.logger,
    ...(opts.accessLogDir ? { accessLogDir: opts.accessLogDir } : {}), ...(opts.workDir ? { workDir: opts.workDir } : {}),
  });
  try {
    const timezone = (await copy.store.listHomes())[0]?.timezone;
    const web = await createWebApp({
      store: copy.store, clock: systemClock, wallClock: systemClock, logger: opts.logger.child({ part: 'reference-web' }),
      responder: noResponder, engine: { setAway: refused, lastSignOfLife: () => undefined, awayUntil: () => undefined }, publishButton: refused,
      photosDir: join(copy.dataDir, 'photos'), ...(opts.fontPath ? { fontPath: opts.fontPath } : {}),
      // The key that opens the accounts' sealed TOTP seeds travels in the backup (dashboards/totp.ts).
      totpSeedKey: seedKeyFrom(existsSync(join(copy.dataDir, 'totp-seed.secret')) ? readFileSync(join(copy.dataDir, 'totp-seed.secret'), 'utf8').trim() : randomBytes(32).toString('base64url')),
      readOnly: { backupId: copy.manifest.id, backupAt: copy.backupAt, ...(copy.manifest.hub ? { hub: copy.manifest.hub } : {}), ...(timezone ? { timezone } : {}) },
    });
    const url = await web.listen(opts.host, opts.port);
    let closed = false;
    return {
      url, web, copy,
      async close() {
        if (closed) return;
        closed = true;
        await web.close();
        await copy.close();
      },
    };
  } catch (err) {
    await copy.close();
    throw err;
  }
}

const usage = `  mimamori start --reference BACKUP.mmbk [--passphrase-file FILE] [--access-log DIR]
  mimamori contacts-pdf [--home ID] --out FILE.pdf [--from-backup BACKUP.mmbk [--passphrase-file FILE] [--access-log DIR]]`;

const errorLine = (cmd: string, err: unknown) => {
  const e = err as MimamoriError;
  return `mimamori ${cmd}: ${e.code ? `${e.code} ` : ''}${e.message}`;
};

/** `mimamori start --reference BACKUP`: runs until SIGINT/SIGTERM. */
export async function referenceStartCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { reference: { type: 'string' }, 'passphrase-file': { type: 'string' }, 'access-log': { type: 'string' } } }));
  } catch (err) { io.err(`mimamori start: ${(err as Error).message}\n\n${usage}`); return 2; }
  if (!values.reference) { io.err(`mimamori start: give --reference BACKUP\n\n${usage}`); return 2; }
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  let hub: ReferenceHub;
  try {
    const passphrase = readPassphrase(config.dataDir, values['passphrase-file'] ?? config.backup.passphraseFile, env, false);
    hub = await startReferenceHub({ archive: values.reference, passphrase, logger, host: config.host, port: config.http.port, ...(values['access-log'] ? { accessLogDir: values['access-log'] } : {}) });
  } catch (err) { io.err(errorLine('start --reference', err)); return 1; }
  const when = new Date(hub.copy.backupAt).toISOString();
  io.err(`\n  Reference hub (read-only) / 参照専用ハブ: ${hub.url}/\n  Backup of / バックアップ: ${when} (${hub.copy.manifest.id})\n  Emergency contact list / 緊急連絡先一覧: ${hub.url}/operator/contacts.pdf\n  Access log / 閲覧記録: ${hub.copy.accessLogPath}\n  Ctrl-C to stop / 停止は Ctrl-C\n`);
  return new Promise<number>((resolve) => {
    const stop = async () => {
      await hub.close();
      io.err(`Stopped; the copy was removed. The access log stays at ${hub.copy.accessLogPath} / 停止しました（閲覧記録は残っています）`);
      resolve(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  });
}

/** `mimamori contacts-pdf`: the emergency contact list from the hub's store or from a backup; the read is access-logged. */
export async function contactsPdfCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { home: { type: 'string' }, out: { type: 'string' }, 'from-backup': { type: 'string' }, 'passphrase-file': { type: 'string' }, 'access-log': { type: 'string' } } }));
  } catch (err) { io.err(`mimamori contacts-pdf: ${(err as Error).message}\n\n${usage}`); return 2; }
  if (!values.out) { io.err(`mimamori contacts-pdf: give --out FILE.pdf\n\n${usage}`); return 2; }
  const config = loadConfig(env);
  const logger = createLogger({ level: env.MIMAMORI_LOG_LEVEL ?? 'warn' });
  const viewer = `cli:${userInfo().username}`;
  let copy: ReferenceCopy | undefined;
  let store: Store | undefined;
  try {
    let source: SheetSource;
    let hubId: string;
    if (values['from-backup']) {
      const passphrase = readPassphrase(config.dataDir, values['passphrase-file'] ?? config.backup.passphraseFile, env, false);
      copy = await openReferenceCopy({ archive: values['from-backup'], passphrase, logger, ...(values['access-log'] ? { accessLogDir: values['access-log'] } : {}) });
      store = copy.store;
      source = { kind: 'backup', at: copy.backupAt, id: copy.manifest.id };
      hubId = copy.manifest.hub ?? '?';
    } else {
      if (!existsSync(join(config.dataDir, 'mimamori.db'))) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `no store in ${config.dataDir}; set MIMAMORI_DATA_DIR or give --from-backup BACKUP`);
      store = createSqliteStore(join(config.dataDir, 'mimamori.db'));
      source = { kind: 'live', at: systemClock.now() };
      hubId = hostname();
    }
    const homes = await collectContactSheet(store, values.home === undefined ? undefined : [values.home]);
    if (values.home !== undefined && homes.length === 0) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `no home ${values.home} / お宅 ${values.home} がありません`);
    const font = findJapaneseFont();
    const pdf = await renderContactSheet({ homes, source, hubId, ...(font ? { fontPath: font } : {}) });
    await writeFile(values.out, pdf, { mode: 0o600 });
    const at = systemClock.now();
    for (const h of homes) await store.recordAccess({ at, viewerId: viewer, homeId: h.home.id, what: 'emergency contact list (PDF, command line)' });
    io.out(JSON.stringify({ out: values.out, homes: homes.map((h) => h.home.id), source: source.kind, ...(copy ? { backup: copy.manifest.id, accessLog: copy.accessLogPath } : {}) }));
    return 0;
  } catch (err) {
    io.err(errorLine('contacts-pdf', err));
    return 1;
  } finally {
    if (copy) await copy.close(); else await store?.close();
  }
}
