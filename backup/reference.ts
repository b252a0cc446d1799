/**
 * The read-only reference copy of a backup (issue 15): for the day the hub is
 * down, a backup archive is decrypted and verified (restoreArchive: the
 * passphrase's key check, every chunk's authentication, every file's SHA-256,
 * the store's integrity and row counts) into a private folder, and its store
 * is opened read-only twice over:
 *
 *  - SQLite itself: `readonly: true` and `query_only` (core/store.ts), and the
 *    file made mode 0400;
 *  - a guard in front of the Store port (`readOnlyStore`): reads go to the
 *    copy, sessions and the logs go to a separate writable store (the
 *    reference access log), and every other method — any write the port has
 *    now or gains later — fails with MIMAMORI_ERR_READ_ONLY before it reaches
 *    SQLite.
 *
 * Layout (default `workDir`: a new 0700 folder in the OS temp folder):
 *
 *   {workDir}/copy/                  the restored data folder (store, photos); removed by close()
 *   {workDir}/copy/mimamori.db       the store copy, 0400, never written
 *   {accessLogDir}/mimamori.db       the reference access log (default {workDir}/access-log):
 *                                    sign-ins, sessions, every read; kept after close()
 *
 * The access log is a mimamori store of its own, so its access and audit
 * records are hash-chained like the hub's and
 * `MIMAMORI_DATA_DIR={accessLogDir} mimamori audit verify` checks them.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { MimamoriError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createSqliteStore, type Store } from '../core/store.js';
import { migrations } from '../core/migrations.js';
import { restoreArchive, type BackupManifest } from './backup-and-restore.js';

export interface ReferenceCopyOptions {
  archive: string;
  passphrase: string;
  logger: Logger;
  /** A folder for the private copy (must not exist or be empty); default a new folder in the OS temp folder. */
  workDir?: string;
  /** Where the reference access log is kept; default `{workDir}/access-log`. */
  accessLogDir?: string;
}

export interface ReferenceCopy {
  manifest: BackupManifest;
  /** When the backup was taken (ms). */
  backupAt: number;
  /** The restored data folder (photos and other files live under it). */
  dataDir: string;
  /** The read-only store file. */
  storePath: string;
  /** The reference access log's store file. */
  accessLogPath: string;
  /** The guarded store: reads from the copy, sessions and logs to the access log, everything else refused. */
  store: Store;
  /** Closes both stores and removes the copy; the access log stays. */
  close(): Promise<void>;
}

/**
 * Methods that the reference hub serves from its own writable access log
 * rather than the backup: sign-in sessions, the sign-in throttle's records,
 * the audit of sign-ins, and the access log itself.
 */
export const referenceLogMethods: ReadonlySet<string> = new Set([
  'createSession', 'getSession', 'updateSession', 'listSessions', 'deleteSession',
  'recordLoginFailure', 'countLoginFailures', 'clearLoginFailures', 'audit', 'recordAccess',
]);
/** Methods that only read (served from the backup copy). Anything else is a write and is refused. */
const readMethod = /^(?:(?:get|list|find|count|load|read)[A-Z]\w*|trailHeads|schemaVersion)$/;

/**
 * A Store that never writes to `backup`: reads go to it, the methods in
 * `referenceLogMethods` go to `log`, and every other method rejects with
 * MIMAMORI_ERR_READ_ONLY. `close()` closes both.
 */
export function readOnlyStore(backup: Store, log: Store): Store {
  const refuse = (name: string) => async () => {
    throw new MimamoriError('MIMAMORI_ERR_READ_ONLY', `${name} refused: this is a reference copy of a backup / 参照専用のバックアップのため変更できません`);
  };
  let closed: Promise<void> | undefined;
  // A TOTP step is accepted once per account (dashboards/totp.ts), remembered in memory (the
  // copy is never written; steps used before the backup are long expired).
  const totpSteps = new Map<string, number>();
  const acceptTotpStep = async (id: string, step: number): Promise<boolean> => {
    const seen = totpSteps.get(id) ?? -Infinity;
    if (step <= seen) return false;
    totpSteps.set(id, step);
    return true;
  };
  return new Proxy(backup, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      if (prop === 'close') return () => (closed ??= Promise.all([backup.close(), log.close()]).then(() => undefined));
      if (prop === 'acceptTotpStep') return acceptTotpStep;
      if (referenceLogMethods.has(prop)) return (log[prop as keyof Store] as (...a: unknown[]) => unknown).bind(log);
      if (readMethod.test(prop)) return (value as (...a: unknown[]) => unknown).bind(target);
      return refuse(prop);
    },
  });
}

/**
 * Decrypts and verifies `archive` into a private folder and opens it
 * read-only. A wrong passphrase (MIMAMORI_ERR_BACKUP_WRONG_KEY) or an altered
 * archive (MIMAMORI_ERR_BACKUP_DAMAGED) is refused and leaves nothing behind.
 * Starts no influxd: the history is checked but not restored.
 */
export async function openReferenceCopy(opts: ReferenceCopyOptions): Promise<ReferenceCopy> {
  const madeWorkDir = opts.workDir === undefined;
  const workDir = opts.workDir ? resolve(opts.workDir) : await mkdtemp(join(tmpdir(), 'mimamori-reference-'));
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  await chmod(workDir, 0o700);
  const dataDir = join(workDir, 'copy');
  const storePath = join(dataDir, 'mimamori.db');
  let manifest: BackupManifest;
  try {
    ({ manifest } = await restoreArchive({ archive: opts.archive, to: dataDir, passphrase: opts.passphrase, logger: opts.logger, history: false }));
    await sealCopy(storePath);
    await chmod(storePath, 0o400);
  } catch (err) {
    if (madeWorkDir) await rm(workDir, { recursive: true, force: true });
    else await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const accessLogDir = resolve(opts.accessLogDir ?? join(workDir, 'access-log'));
  const accessLogPath = join(accessLogDir, 'mimamori.db');
  const backup = createSqliteStore(storePath, { readonly: true });
  const log = createSqliteStore(accessLogPath);
  const store = readOnlyStore(backup, log);
  opts.logger.info({ backup: manifest.id, copy: dataDir, accessLog: accessLogPath }, 'reference copy opened read-only');
  return {
    manifest, backupAt: manifest.createdAt, dataDir, storePath, accessLogPath, store,
    async close() {
      await store.close();
      // The access log elsewhere (--access-log): nothing of ours is left in a temp folder we made.
      const logOutside = relative(workDir, accessLogDir).startsWith('..');
      await rm(madeWorkDir && logOutside ? workDir : dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Makes the restored store readable without a writer: an older schema is
 * brought up to date (this is our private copy, never the archive), and a
 * WAL-mode file is switched to a rollback journal so that a read-only
 * connection needs no -wal/-shm files. After this nothing writes the file.
 */
async function sealCopy(storePath: string): Promise<void> {
  const latest = Math.max(...migrations.map((m) => m.version));
  const probe = new Database(storePath, { readonly: true, fileMustExist: true });
  let version: number;
  try { version = Number((probe.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0); } finally { probe.close(); }
  if (version > latest) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `the backup's store has schema version ${version}, newer than this mimamori (${latest}); use the mimamori version that took it / このバックアップは新しい版の mimamori で作られています`);
  if (version < latest) await createSqliteStore(storePath).close();
  const db = new Database(storePath, { fileMustExist: true });
  try { if (db.pragma('journal_mode', { simple: true }) !== 'delete') db.pragma('journal_mode = DELETE'); } finally { db.close(); }
}
