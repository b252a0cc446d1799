/** The operator's backup passphrase (moved from cli/backup.ts: the hub's daily backup reads it too). */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { MimamoriError } from '../core/errors.js';

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
