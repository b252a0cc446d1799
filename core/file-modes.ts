/**
 * The data folder holds residents' names, phone numbers, addresses, photos,
 * secrets and history: only the hub's own user may read it. Folders are
 * 0700 and files 0600 — created so (the hub runs with umask 077, which
 * influxd and Node-RED inherit) and put right at start when something
 * (a copy, a restore, an older version) left them looser.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Logger } from './logger.js';

export const privateDirMode = 0o700;
export const privateFileMode = 0o600;
/** The umask that makes every new file 0600 and folder 0700. */
export const privateUmask = 0o077;

export interface TightenedModes { dirs: number; files: number; paths: string[] }

/**
 * Creates `dir` (0700) if needed and takes group and other permissions off
 * every folder and file in it (symbolic links are left alone). Logs what it
 * had to change, once, with up to ten of the paths.
 */
export function securePrivateDir(dir: string, logger?: Logger): TightenedModes {
  mkdirSync(dir, { recursive: true, mode: privateDirMode });
  const result: TightenedModes = { dirs: 0, files: 0, paths: [] };
  const visit = (path: string) => {
    let st;
    try { st = lstatSync(path); } catch { return; } // gone meanwhile (a temp file of a running part)
    if (st.isSymbolicLink()) return;
    const isDir = st.isDirectory();
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const wanted = isDir ? privateDirMode : mode & 0o700; // the owner's bits stay as they were
      try {
        chmodSync(path, wanted);
        if (isDir) result.dirs++; else result.files++;
        result.paths.push(relative(dir, path) || '.');
      } catch (err) {
        logger?.warn({ err: (err as Error).message, path: relative(dir, path) }, 'could not make a data file private');
      }
    }
    if (isDir) {
      let names: string[] = [];
      try { names = readdirSync(path); } catch { return; }
      for (const name of names) visit(join(path, name));
    }
  };
  visit(dir);
  if (result.dirs + result.files > 0) {
    logger?.warn({ dirs: result.dirs, files: result.files, paths: result.paths.slice(0, 10) }, `data folder permissions were looser than 0700/0600; fixed ${result.dirs} folder(s) and ${result.files} file(s)`);
  }
  return result;
}
