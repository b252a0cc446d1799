/**
 * Backups (issue 15): one encrypted, authenticated archive (sealed-archive.ts)
 * holding a consistent snapshot of the hub —
 *
 *  - the SQLite store, through SQLite's online backup API (a second,
 *    read-only connection; the hub keeps running);
 *  - the InfluxDB history, through `influxd backup -portable` against the
 *    running influxd's RPC service (exact points, nanosecond times, field
 *    types, retention policies; restored with `influxd restore -portable`
 *    into a fresh influxd, which is restarted and given the hub's continuous
 *    query again — 1.6's portable format does not carry CQs);
 *  - every other file of the data folder (photos, Node-RED flows and their
 *    credentials, TLS keys, the hub's secrets, the history buffer, the local
 *    Twilio record) except the live databases' own folders (`influxdb/`,
 *    `broker/`: the broker's session store holds nothing a restore needs);
 *
 * written to one or more target folders (one may be a removable disk), each
 * verified by a test restore into a scratch folder, the newest `keep` (3)
 * kept per target, and recorded in the store's backup history with the trail's
 * chain heads (core/trail.ts). The passphrase is the operator's: it is passed
 * in, never stored by the hub.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { InfluxDB } from 'influx';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { MimamoriError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { createSqliteStore, type BackupRecord, type Store } from '../core/store.js';
import type { TrailHead, TrailKind } from '../core/trail.js';
import { ensureSchema, resolveProgram, startManagedInfluxd } from '../history/index.js';
import { createArchiveWriter, readArchive } from './sealed-archive.js';

export { readArchive } from './sealed-archive.js';

/** Archive names sort by time: `mimamori-20261201T223000123Z.mmbk`. */
const archivePattern = /^mimamori-\d{8}T\d{9}Z\.mmbk$/;
/** Top-level entries of the data folder that are not copied as files. */
const liveEntries = new Set(['mimamori.db', 'mimamori.db-wal', 'mimamori.db-shm', 'mimamori.db-journal', 'influxdb', 'broker', 'influxd.json']);

/** What an archive says it holds (its last entry). */
export interface BackupManifest {
  format: 1;
  id: string;
  createdAt: number;
  store: { file: string; schemaVersion: number; tables: Record<string, number> };
  influx: { database: string; files: string[] } | { skipped: string };
  /** Every file entry with its size and SHA-256. */
  files: Array<{ path: string; size: number; sha256: string }>;
  /** The audit and access chains' heads in the store snapshot. */
  heads: Record<TrailKind, TrailHead>;
  /** The host name of the hub that took it (archives before the reference hub lack it). */
  hub?: string;
}

export interface InfluxBackupSource {
  /** host:port of influxd's RPC service (ManagedInfluxd.rpcAddress). */
  rpcAddress: string;
  database: string;
  influxdPath?: string;
}

export interface BackupOptions {
  dataDir: string;
  /** Where the run is recorded (the live store). */
  store: Store;
  /** The InfluxDB to back up; absent: the archive says it was skipped. */
  influx?: InfluxBackupSource;
  /** Folders the archive is written to; they must exist (a removable disk that is not mounted is reported, not created). */
  targets: string[];
  /** Generations kept per target. Default 3. */
  keep?: number;
  passphrase: string;
  /** Where the snapshot is staged and the test restore runs. Default the OS temp folder. */
  scratchDir?: string;
  /** Test-restore the archive (default true). */
  verify?: boolean;
  clock: Clock;
  logger: Logger;
  /** scrypt cost (tests may lower it). */
  kdf?: { N: number; r: number; p: number };
}

/**
 * Takes a backup now. Returns the history record (also saved in the store);
 * status `failed` with `error` when no target got a verified archive. Old
 * generations are removed only after the new archive passed its test restore.
 */
export async function runBackup(opts: BackupOptions): Promise<BackupRecord> {
  const { store, clock, logger } = opts;
  const startedAt = clock.now();
  const id = newId(startedAt);
  const keep = opts.keep ?? 3;
  const record: BackupRecord = { id, startedAt, status: 'running', targets: opts.targets.map((dir) => ({ dir: resolve(dir), ok: false })), verified: false };
  await store.saveBackup(record);
  const staging = await mkdtemp(join(opts.scratchDir ?? tmpdir(), 'mimamori-backup-'));
  try {
    if (!opts.passphrase) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'no backup passphrase given / バックアップのパスフレーズがありません');
    if (record.targets.length === 0) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'no backup target folder given / バックアップ先がありません');
    const dataDir = resolve(opts.dataDir);
    for (const t of record.targets) {
      if (isInside(t.dir, dataDir)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', `backup target ${t.dir} is inside the data folder; use a folder (or disk) apart from the hub's data / バックアップ先をデータフォルダの外にしてください`);
    }
    const file = `mimamori-${new Date(startedAt).toISOString().replace(/[-:.]/g, '')}.mmbk`;
    record.file = file;

    // 1. The snapshot: store, history, files.
    const snapshot = await takeSnapshot(opts, staging, dataDir);
    // 2. The archive, in the first target that takes it, then copied to the others.
    let primary: string | undefined;
    for (const t of record.targets) {
      try {
        await assertFolder(t.dir);
        if (primary === undefined) {
          const out = await writeArchive(join(t.dir, file), opts, snapshot, id, startedAt);
          primary = join(t.dir, file);
          record.size = out.size; record.sha256 = out.sha256;
          record.contents = { store: snapshot.manifestBase.store.tables, files: snapshot.files.length, influx: snapshot.manifestBase.influx };
          record.heads = snapshot.manifestBase.heads;
        } else {
          await copyVerified(primary, join(t.dir, file), record.sha256!);
        }
        t.ok = true;
      } catch (err) {
        t.error = (err as Error).message;
        logger.warn({ target: t.dir, err: t.error }, 'backup target not written');
      }
    }
    if (primary === undefined) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `no target took the archive: ${record.targets.map((t) => `${t.dir}: ${t.error ?? '?'}`).join('; ')}`);

    // 3. The test restore, from the written file.
    if (opts.verify !== false) {
      const scratch = join(staging, 'verify');
      const restored = await restoreArchive({ archive: primary, to: scratch, passphrase: opts.passphrase, logger, ...(opts.influx?.influxdPath ? { influxdPath: opts.influx.influxdPath } : {}) });
      record.verified = true;
      record.verifyNote = `test restore matched: ${restored.files} file(s), ${restored.rows} store row(s)${restored.influxMeasurements === undefined ? '' : `, ${restored.influxMeasurements} InfluxDB measurement(s)`}`;
      await rm(scratch, { recursive: true, force: true });
    }
    // 4. Rotation, only once the new generation is known good.
    for (const t of record.targets.filter((x) => x.ok)) {
      try { await rotate(t.dir, keep); } catch (err) { logger.warn({ target: t.dir, err: (err as Error).message }, 'old backups not rotated'); }
    }
    record.status = 'ok';
  } catch (err) {
    record.status = 'failed';
    record.error = (err as Error).message;
    logger.error({ err: record.error }, 'backup failed');
  } finally {
    record.finishedAt = clock.now();
    await rm(staging, { recursive: true, force: true });
    await store.saveBackup(record);
  }
  if (record.status === 'ok') logger.info({ file: record.file, size: record.size, targets: record.targets.filter((t) => t.ok).length, verified: record.verified }, 'backup written');
  return record;
}

interface Snapshot {
  entries: Array<{ path: string; source: string }>;
  files: string[];
  manifestBase: Omit<BackupManifest, 'files' | 'id' | 'createdAt' | 'format'>;
}

async function takeSnapshot(opts: BackupOptions, staging: string, dataDir: string): Promise<Snapshot> {
  // Store: the online backup API copies a consistent image while the hub writes.
  const dbCopy = join(staging, 'mimamori.db');
  const live = new Database(join(dataDir, 'mimamori.db'), { readonly: true, fileMustExist: true });
  try { await live.backup(dbCopy); } finally { live.close(); }
  const copy = createSqliteStore(dbCopy);
  const heads = await copy.trailHeads();
  const schemaVersion = await copy.schemaVersion();
  await copy.close();
  const tables = countRows(dbCopy);

  const entries: Snapshot['entries'] = [{ path: 'store/mimamori.db', source: dbCopy }];
  let influx: BackupManifest['influx'] = { skipped: 'no InfluxDB was given to back up' };
  if (opts.influx) {
    const dir = join(staging, 'influx');
    await run(resolveProgram(opts.influx.influxdPath ?? 'influxd'), ['backup', '-portable', '-host', opts.influx.rpcAddress, '-db', opts.influx.database, dir]);
    const names = (await readdir(dir)).sort();
    for (const n of names) entries.push({ path: `influx/${n}`, source: join(dir, n) });
    influx = { database: opts.influx.database, files: names };
  }
  const skip = new Set([...opts.targets.map((t) => resolve(t)), resolve(opts.scratchDir ?? tmpdir())]);
  const files = await listDataFiles(dataDir, skip);
  for (const rel of files) entries.push({ path: `files/${rel}`, source: join(dataDir, rel) });
  return { entries, files, manifestBase: { store: { file: 'store/mimamori.db', schemaVersion, tables }, influx, heads } };
}

async function writeArchive(target: string, opts: BackupOptions, snap: Snapshot, id: string, createdAt: number): Promise<{ size: number; sha256: string }> {
  const partial = `${target}.partial`;
  await rm(partial, { force: true });
  const writer = await createArchiveWriter(partial, opts.passphrase, { now: createdAt, ...(opts.kdf ? { kdf: opts.kdf } : {}) });
  try {
    const files: BackupManifest['files'] = [];
    for (const e of snap.entries) {
      const { size } = await stat(e.source);
      // Exactly the size seen now: a file that grows meanwhile (an append-only log) is cut there.
      const source: AsyncIterable<Buffer> = size > 0 ? createReadStream(e.source, { end: size - 1 }) : (async function* () { /* empty file */ })();
      const sha256 = await writer.addFile(e.path, size, source);
      files.push({ path: e.path, size, sha256 });
    }
    const manifest: BackupManifest = { format: 1, id, createdAt, hub: hostname(), ...snap.manifestBase, files };
    const out = await writer.finish(manifest);
    await rename(partial, target);
    return out;
  } catch (err) {
    await writer.abort();
    await rm(partial, { force: true });
    throw err;
  }
}

export interface RestoreOptions {
  archive: string;
  /** A folder that does not exist or is empty; it becomes a data folder `mimamori start` can run on. */
  to: string;
  passphrase: string;
  influxdPath?: string;
  logger: Logger;
  /** Restore the InfluxDB history too (default true); the reference hub reads the store only and starts no influxd. */
  history?: boolean;
}

export interface RestoreResult { manifest: BackupManifest; files: number; bytes: number; rows: number; influxMeasurements?: number }

/**
 * Restores an archive into an empty folder: the store, the data files, and
 * the InfluxDB history (into a fresh managed influxd under `{to}/influxdb`).
 * Every file's SHA-256 and every store table's row count must match the
 * manifest and the store must pass SQLite's integrity check. On any failure
 * — a wrong passphrase, an altered or damaged archive — everything written is
 * removed again and the error says why.
 */
export async function restoreArchive(opts: RestoreOptions): Promise<RestoreResult> {
  const to = resolve(opts.to);
  let existing: string[] | undefined;
  try { existing = await readdir(to); } catch { existing = undefined; }
  if (existing && existing.length > 0) throw new MimamoriError('MIMAMORI_ERR_CONFLICT', `${to} is not empty; restore into a new folder / 復元先のフォルダが空ではありません`);
  await mkdir(to, { recursive: true, mode: 0o700 });
  const influxStaging = join(to, '.restore-influx');
  try {
    let manifest: BackupManifest | undefined;
    const got = new Map<string, { size: number; sha256: string }>();
    let bytes = 0;
    for await (const entry of readArchive(opts.archive, opts.passphrase)) {
      if (entry.type === 'manifest') { manifest = entry.manifest as BackupManifest; continue; }
      const dest = destinationOf(entry.path, to, influxStaging);
      await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
      const hash = createHash('sha256');
      const out = createWriteStream(dest, { mode: 0o600, flags: 'wx' });
      await pipeline(entry.bytes, new Writable({
        write(chunk: Buffer, _e, done) { hash.update(chunk); out.write(chunk, done); },
        final(done) { out.end(done); },
      }));
      got.set(entry.path, { size: entry.size, sha256: hash.digest('hex') });
      bytes += entry.size;
    }
    if (!manifest || manifest.format !== 1) throw new MimamoriError('MIMAMORI_ERR_BACKUP_DAMAGED', 'the archive has no manifest / 目録がありません');
    for (const f of manifest.files) {
      const g = got.get(f.path);
      if (!g || g.sha256 !== f.sha256 || g.size !== f.size) throw new MimamoriError('MIMAMORI_ERR_BACKUP_DAMAGED', `${f.path} does not match the manifest / ${f.path} が目録と一致しません`);
    }
    if (got.size !== manifest.files.length) throw new MimamoriError('MIMAMORI_ERR_BACKUP_DAMAGED', 'the archive holds files its manifest does not list / 目録にないファイルがあります');

    const tables = checkStore(join(to, 'mimamori.db'), manifest.store.tables);
    const result: RestoreResult = { manifest, files: got.size, bytes, rows: Object.values(tables).reduce((a, b) => a + b, 0) };
    if ('files' in manifest.influx && opts.history !== false) result.influxMeasurements = await restoreInflux(to, influxStaging, manifest.influx.database, opts);
    return result;
  } catch (err) {
    await clearFolder(to, existing === undefined);
    throw err;
  } finally {
    await rm(influxStaging, { recursive: true, force: true });
  }
}

/**
 * `influxd restore -portable` into a fresh influxd on the restored data
 * folder, then a restart (shards restored live are only served after one),
 * the hub's schema (continuous query) and a look at what came back; returns
 * how many measurements the database has.
 */
async function restoreInflux(to: string, staging: string, database: string, opts: RestoreOptions): Promise<number> {
  const managed = { dataDir: to, logger: opts.logger, ...(opts.influxdPath ? { influxdPath: opts.influxdPath } : {}) };
  // 1.6 refuses to restore a database without shards ("DB metadata not changed"): a hub with no
  // history yet. Then there is nothing to restore; the schema below creates the empty database.
  const shards = (await readdir(staging)).filter((n) => /\.s\d+\.tar\.gz$/.test(n));
  if (shards.length > 0) {
    const fresh = await startManagedInfluxd(managed);
    try {
      await run(resolveProgram(opts.influxdPath ?? 'influxd'), ['restore', '-portable', '-host', fresh.rpcAddress, staging]);
      // The restore client returns once it has sent the shards; influxd imports them after
      // that (each shard disabled meanwhile). Stopping it before then loses points.
      await untilShardsServe(fresh.url, database);
    } finally {
      await fresh.close();
    }
  }
  const influxd = await startManagedInfluxd(managed);
  try {
    // InfluxDB 1.6's portable format carries databases, retention policies and shards but not
    // continuous queries: put back the one the hub defines (what it does at every start).
    const u = new URL(influxd.url);
    await ensureSchema(new InfluxDB({ host: u.hostname, port: Number(u.port), database }), database);
    const res = await fetch(`${influxd.url}/query?${new URLSearchParams({ q: `SHOW MEASUREMENTS ON "${database.replace(/"/g, '\\"')}"` })}`);
    const body = await res.json() as { results?: Array<{ error?: string; series?: Array<{ values?: unknown[][] }> }> };
    const r = body.results?.[0];
    if (!res.ok || r?.error) throw new MimamoriError('MIMAMORI_ERR_BACKUP_DAMAGED', `InfluxDB database ${database} did not come back: ${r?.error ?? res.status}`);
    return r?.series?.[0]?.values?.length ?? 0;
  } finally {
    await influxd.close();
  }
}

/** Waits (bounded, 2 min) until every retention policy of `database` answers a query over all its shards. */
async function untilShardsServe(url: string, database: string): Promise<void> {
  const q = async (query: string) => {
    const res = await fetch(`${url}/query?${new URLSearchParams({ db: database, q: query })}`);
    const body = await res.json() as { error?: string; results?: Array<{ error?: string; series?: Array<{ values?: unknown[][] }> }> };
    return { error: body.error ?? body.results?.find((r) => r.error)?.error, values: body.results?.[0]?.series?.[0]?.values ?? [] };
  };
  const ident = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    const rps = await q(`SHOW RETENTION POLICIES ON ${ident(database)}`);
    last = rps.error ?? '';
    if (!rps.error) {
      const names = rps.values.map((v) => String(v[0]));
      const counts = await Promise.all(names.map((rp) => q(`SELECT count(*) FROM ${ident(database)}.${ident(rp)}./.*/`)));
      const failed = counts.find((c) => c.error);
      if (!failed) return;
      last = failed.error ?? '';
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `InfluxDB did not finish importing the restored shards within 2 minutes: ${last}`);
}

/** Row counts of every table of a SQLite file. */
function countRows(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    return Object.fromEntries(names.map((n) => [n, Number((db.prepare(`SELECT COUNT(*) AS c FROM "${n}"`).get() as { c: number }).c)]));
  } finally {
    db.close();
  }
}

function checkStore(file: string, expected: Record<string, number>): Record<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const ok = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    if (ok !== 'ok') throw new MimamoriError('MIMAMORI_ERR_BACKUP_DAMAGED', `the restored store fails SQLite's integrity check: ${ok}`);
  } finally {
    db.close();
  }
  const tables = countRows(file);
  for (const [name, count] of Object.entries(expected)) {
    if (tables[name] !== count) throw new MimamoriError('MIMAMORI_ERR_BACKUP_DAMAGED', `table ${name}: ${tables[name] ?? 'missing'} rows restored, the manifest says ${count}`);
  }
  return tables;
}

/** Where an archive path lands; anything that could escape the folder is refused. */
function destinationOf(path: string, to: string, influxStaging: string): string {
  const parts = path.split('/');
  if (isAbsolute(path) || path.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) throw new MimamoriError('MIMAMORI_ERR_BACKUP_DAMAGED', `unsafe path ${JSON.stringify(path)} in the archive`);
  const [kind, ...rest] = parts;
  if (kind === 'store' && rest.length === 1 && rest[0] === 'mimamori.db') return join(to, 'mimamori.db');
  if (kind === 'influx' && rest.length === 1) return join(influxStaging, rest[0]!);
  if (kind === 'files' && rest.length > 0 && !liveEntries.has(rest[0]!)) return join(to, ...rest);
  throw new MimamoriError('MIMAMORI_ERR_BACKUP_DAMAGED', `unexpected entry ${JSON.stringify(path)} in the archive`);
}

/** Data files to back up, relative to the data folder, sorted; skips the live databases, nested node_modules and `skip`. */
async function listDataFiles(dataDir: string, skip: Set<string>): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    let items: Dirent[];
    try { items = await readdir(dir, { withFileTypes: true }); } catch { return; }
    for (const item of items.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, item.name);
      const rel = relative(dataDir, full);
      if ((dir === dataDir && liveEntries.has(item.name)) || item.name === 'node_modules' || skip.has(full)) continue;
      if (item.isDirectory()) await walk(full);
      else if (item.isFile()) out.push(rel.split(sep).join('/'));
    }
  };
  await walk(dataDir);
  return out;
}

/** Archives in a target folder, oldest first. */
export async function listArchives(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => archivePattern.test(n)).sort();
}

/** Keeps the newest `keep` archives in `dir`; removes older ones (and never anything else). */
export async function rotate(dir: string, keep: number): Promise<string[]> {
  const names = await listArchives(dir);
  const old = names.slice(0, Math.max(0, names.length - keep));
  for (const n of old) await unlink(join(dir, n));
  return old;
}

async function copyVerified(from: string, to: string, sha256: string): Promise<void> {
  const partial = `${to}.partial`;
  await copyFile(from, partial);
  const h = createHash('sha256');
  for await (const chunk of createReadStream(partial)) h.update(chunk as Buffer);
  if (h.digest('hex') !== sha256) { await rm(partial, { force: true }); throw new Error(`the copy in ${dirname(to)} does not match the archive`); }
  await rename(partial, to);
}

async function assertFolder(dir: string): Promise<void> {
  let s;
  try { s = await stat(dir); } catch { throw new Error(`${dir} does not exist (is the disk mounted?) / ${dir} がありません（ディスクは接続されていますか）`); }
  if (!s.isDirectory()) throw new Error(`${dir} is not a folder`);
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function clearFolder(dir: string, created: boolean): Promise<void> {
  if (created) { await rm(dir, { recursive: true, force: true }); return; }
  for (const n of await readdir(dir).catch(() => [] as string[])) await rm(join(dir, n), { recursive: true, force: true });
}

function run(program: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(program, args, { maxBuffer: 4 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `${program} ${args[0]} failed: ${(stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`));
      else resolvePromise();
    });
  });
}
