/**
 * A real PostgreSQL 15 (Debian's `postgresql` package) for tests: initdb in a
 * temp folder, the server on a free loopback port with its unix socket in
 * that folder, torn down (server stopped, folder removed) when the test ends.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres`
 * user (`runuser -u postgres --`) with the folder handed to that user.
 * `createDatabase` gives each test its own empty database on the one server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, until, type Teardown } from './wait.js';

export const postgresBin = process.env.MIMAMORI_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/** Whether the Debian PostgreSQL 15 programs are installed (`node scripts/setup.mjs --for test` installs them). */
export const postgresInstalled = existsSync(join(postgresBin, 'initdb')) && existsSync(join(postgresBin, 'postgres'));

export interface TestPostgres {
  /** Superuser URL of the `postgres` database on 127.0.0.1. */
  url: string;
  port: number;
  /** Creates an empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

let databases = 0;

/** Starts PostgreSQL for this test (or suite); stopped and removed at teardown. */
export async function startPostgres(t: Teardown): Promise<TestPostgres> {
  const pgUser = process.getuid?.() === 0 ? userIds('postgres') : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'mimamori-pg-'));
  if (pgUser) chownSync(dir, pgUser.uid, pgUser.gid);
  const asPg = (program: string, args: string[]): [string, string[]] =>
    (pgUser ? ['runuser', ['-u', 'postgres', '--', join(postgresBin, program), ...args]] : [join(postgresBin, program), args]);
  const data = join(dir, 'data');
  const [initCmd, initArgs] = asPg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) { rmSync(dir, { recursive: true, force: true }); throw new Error(`initdb failed: ${init.stderr || init.error?.message}`); }

  const port = await freePort();
  const [cmd, args] = asPg('postgres', ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB', '-c', 'max_connections=40']);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // The postmaster's own pid (runuser may stand between us): SIGINT is PostgreSQL's fast shutdown.
    const pidFile = join(data, 'postmaster.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : child.pid;
    try { if (pid) process.kill(pid, 'SIGINT'); } catch { /* already gone */ }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  t.teardown(stop);
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
      const c = new pg.Client({ connectionString: url });
      try { await c.connect(); await c.end(); return true; } catch { await c.end().catch(() => {}); return false; }
    }, 30_000, 'PostgreSQL to accept connections');
  } catch (err) { await stop(); throw err; }

  return {
    url, port, stop,
    async createDatabase(name = `mimamori_test_${process.pid}_${++databases}`) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try { await c.query(`CREATE DATABASE ${name}`); } finally { await c.end(); }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
  };
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new Error(`PostgreSQL will not run as root and there is no "${name}" user: install the postgresql package (node scripts/setup.mjs --for test)`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
