/**
 * Runs InfluxDB 1.x (`influxd`, Debian package `influxdb`) as a child process
 * of the hub, with its data under the hub's data folder. It is configured only
 * through `INFLUXDB_*` environment variables, listens on loopback only, and is
 * killed when the hub exits, so no orphan `influxd` outlives the hub.
 *
 * Supervised: when influxd dies on its own it is started again on the same
 * port (so the history writer's URL stays valid and its disk buffer drains),
 * after a back-off that doubles from `restart.initialDelayMs` to
 * `restart.maxDelayMs`. If it dies `restart.troubleExits` times within
 * `restart.troubleWindowMs`, `onTrouble` tells the hub (which tells the
 * operator); once it has stayed up for `restart.stableMs`, `onRecovered`.
 * Real process I/O, so real timers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import { MimamoriError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface ManagedInfluxdOptions {
  /** The hub's data folder; InfluxDB keeps meta, data and wal under `{dataDir}/influxdb/`. */
  dataDir: string;
  /** Program name (looked up on PATH) or path of `influxd`. Default `influxd`. */
  influxdPath?: string;
  logger: Logger;
  /**
   * HTTP port to bind on 127.0.0.1; default a free one. Pass the port of an
   * earlier run to restart influxd under the same URL.
   */
  httpPort?: number;
  /** RPC port (backup/restore) to bind on 127.0.0.1; default a free one, kept across restarts. */
  rpcPort?: number;
  /** How long to wait for `/ping` to answer 204. Default 20 s. */
  startTimeoutMs?: number;
  /** How long `close()` waits after SIGTERM before SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  /** Restarting influxd when it dies (see the file comment). */
  restart?: Partial<RestartPolicy>;
  /** influxd keeps dying: called once per bout of trouble. */
  onTrouble?: (trouble: InfluxdTrouble) => void;
  /** influxd has stayed up for `restart.stableMs` after `onTrouble`. */
  onRecovered?: () => void;
}

export interface RestartPolicy {
  /** First wait before a restart (default 1 s); doubles per consecutive death. */
  initialDelayMs: number;
  /** Longest wait (default 60 s). */
  maxDelayMs: number;
  /** Up this long, the back-off starts over and trouble is over (default 60 s). */
  stableMs: number;
  /** Deaths within `troubleWindowMs` that count as "keeps dying" (default 3 in 10 minutes). */
  troubleExits: number;
  troubleWindowMs: number;
}

export interface InfluxdTrouble {
  /** Deaths within the trouble window. */
  exits: number;
  lastExit: { code: number | null; signal: NodeJS.Signals | null };
}

/** The health of the managed influxd, for the hub's status endpoint (no personal data). */
export interface InfluxdHealth {
  state: 'up' | 'restarting' | 'stopped';
  /** Times influxd was started again after dying. */
  restarts: number;
  /** Deaths since start. */
  exits: number;
  /** Whether it keeps dying (see `onTrouble`). */
  troubled: boolean;
}

export interface ManagedInfluxd {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:40123`; the same across restarts. */
  url: string;
  /** influxd's pid (the current one after a restart). */

  /** host:port of its RPC service, which `influxd backup` / `influxd restore -portable` talk to. */
  rpcAddress: string;
  pid: number;
  health(): InfluxdHealth;
  /** Stops supervising; SIGTERM, wait for exit (SIGKILL after `stopTimeoutMs`). Idempotent. */
  close(): Promise<void>;
}

/** One influxd process, unsupervised. */
interface InfluxdProcess {
  url: string;
  rpcAddress: string;
  pid: number;
  /** Resolves when it exits, however that happens. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  close(): Promise<void>;
}

const defaultRestart: RestartPolicy = { initialDelayMs: 1000, maxDelayMs: 60_000, stableMs: 60_000, troubleExits: 3, troubleWindowMs: 10 * 60_000 };

/** Lines of influxd output kept for the error message when it dies early. */
const tailLines = 30;
/** Attempts when a free port was taken by someone else between probe and bind. */
const portAttempts = 3;

/**
 * Starts a private `influxd` on two free loopback ports and resolves once its
 * `/ping` answers 204.
 *
 * @example
 * const influxd = await startManagedInfluxd({ dataDir: config.dataDir, logger });
 * const writer = await createHistoryWriter({ url: influxd.url, ... });
 * // …
 * await influxd.close();
 */
export async function startManagedInfluxd(opts: ManagedInfluxdOptions): Promise<ManagedInfluxd> {
  const program = resolveProgram(opts.influxdPath ?? 'influxd');
  const root = join(opts.dataDir, 'influxdb');
  for (const sub of ['meta', 'data', 'wal']) mkdirSync(join(root, sub), { recursive: true });
  const first = await startWithPortRetries(program, root, opts);
  // A restart binds the same ports, so the history writer's URL and a backup's run file stay valid.
  const rpcPort = Number(first.rpcAddress.split(':').pop());
  return supervise(first, () => startOnce(program, root, { ...opts, httpPort: Number(new URL(first.url).port), rpcPort }), opts);
}

/**
 * Watches one influxd after another: a death that `close()` did not ask for
 * schedules a restart with back-off, and repeated deaths call `onTrouble`.
 */
function supervise(first: InfluxdProcess, startAgain: () => Promise<InfluxdProcess>, opts: ManagedInfluxdOptions): ManagedInfluxd {
  const { logger } = opts;
  const policy = { ...defaultRestart, ...opts.restart };
  let current: InfluxdProcess | undefined = first;
  let closing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stableTimer: NodeJS.Timeout | undefined;
  let restarts = 0;
  let exits = 0;
  /** Deaths since influxd was last up for `stableMs`; sets the back-off. */
  let consecutive = 0;
  let deaths: number[] = [];
  let troubled = false;

  function watch(proc: InfluxdProcess): void {
    clearTimeout(stableTimer);
    stableTimer = setTimeout(() => {
      consecutive = 0;
      if (troubled) {
        troubled = false;
        logger.info({ restarts }, 'managed influxd has stayed up again / influxd が安定して動作しています');
        opts.onRecovered?.();
      }
    }, policy.stableMs);
    stableTimer.unref();
    void proc.exited.then((exit) => {
      if (closing || current !== proc) return;
      current = undefined;
      clearTimeout(stableTimer);
      exits++;
      const now = Date.now();
      deaths = [...deaths.filter((at) => at > now - policy.troubleWindowMs), now];
      if (!troubled && deaths.length >= policy.troubleExits) {
        troubled = true;
        logger.error({ exits: deaths.length, ...exit }, 'managed influxd keeps dying; history is buffered on disk / influxd が繰り返し停止しています');
        opts.onTrouble?.({ exits: deaths.length, lastExit: exit });
      }
      scheduleRestart();
    });
  }

  function scheduleRestart(): void {
    const delayMs = Math.min(policy.initialDelayMs * 2 ** Math.min(consecutive, 30), policy.maxDelayMs);
    consecutive++;
    logger.warn({ delayMs, restarts }, 'managed influxd is down; restarting after a back-off / influxd を再起動します');
    timer = setTimeout(() => {
      if (closing) return;
      startAgain().then((proc) => {
        if (closing) { void proc.close(); return; }
        restarts++;
        current = proc;
        logger.info({ url: proc.url, restarts }, 'managed influxd restarted / influxd を再起動しました');
        watch(proc);
      }, (err: unknown) => {
        if (closing) return;
        logger.error({ err: (err as Error).message }, 'managed influxd did not start again; trying later');
        scheduleRestart();
      });
    }, delayMs);
  }

  watch(first);
  return {
    url: first.url,
    rpcAddress: first.rpcAddress,
    get pid() { return (current ?? first).pid; },
    health: () => ({ state: closing ? 'stopped' : current ? 'up' : 'restarting', restarts, exits, troubled }),
    close() {
      closing ??= (async () => {
        clearTimeout(timer);
        clearTimeout(stableTimer);
        await current?.close();
      })();
      return closing;
    },
  };
}

async function startWithPortRetries(program: string, root: string, opts: ManagedInfluxdOptions): Promise<InfluxdProcess> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= portAttempts; attempt++) {
    try {
      return await startOnce(program, root, opts);
    } catch (err) {
      lastError = err as Error;
      // Another process may grab a probed port before influxd binds it; only
      // that case is worth another try.
      if (!(err instanceof PortTakenError)) throw err;
      opts.logger.warn({ attempt }, 'influxd could not bind its ports; retrying with new ones');
    }
  }
  throw lastError ?? new Error('influxd did not start');
}

class PortTakenError extends Error {}

async function startOnce(program: string, root: string, opts: ManagedInfluxdOptions): Promise<InfluxdProcess> {
  const { logger } = opts;
  const [probedHttpPort, probedRpcPort] = await freePorts(2);
  const httpPort = opts.httpPort ?? probedHttpPort;
  const rpcPort = opts.rpcPort ?? probedRpcPort;
  const env: NodeJS.ProcessEnv = {};
  // Inherit nothing InfluxDB-specific from the parent: this instance is
  // described entirely below.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INFLUXDB_')) env[k] = v;
  Object.assign(env, {
    // An empty config file, so /etc/influxdb/influxdb.conf and ~/.influxdb are never read.
    INFLUXDB_CONFIG_PATH: '/dev/null',
    INFLUXDB_META_DIR: join(root, 'meta'),
    INFLUXDB_DATA_DIR: join(root, 'data'),
    INFLUXDB_DATA_WAL_DIR: join(root, 'wal'),
    INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${httpPort}`,
    INFLUXDB_BIND_ADDRESS: `127.0.0.1:${rpcPort}`,
    INFLUXDB_REPORTING_DISABLED: 'true',
    INFLUXDB_HTTP_LOG_ENABLED: 'false',
    INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
    // The _internal statistics database costs disk writes on a Pi's SD card and nobody reads it.
    INFLUXDB_MONITOR_STORE_ENABLED: 'false',
    INFLUXDB_GRAPHITE_0_ENABLED: 'false',
    INFLUXDB_COLLECTD_0_ENABLED: 'false',
    INFLUXDB_OPENTSDB_0_ENABLED: 'false',
    INFLUXDB_UDP_0_ENABLED: 'false',
    INFLUXDB_LOGGING_FORMAT: 'logfmt',
  });

  const url = `http://127.0.0.1:${httpPort}`;
  // influxd runs under a small sh supervisor that holds the read end of a pipe from this
  // process: however the hub ends — close(), a crash, SIGKILL — the pipe closes and the
  // supervisor stops influxd. It leads its own process group so SIGKILL reaches influxd too.
  const child = spawn('/bin/sh', ['-c', supervisor, 'mimamori-influxd', program], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdin?.on('error', () => undefined); // EPIPE once the supervisor is gone
  let influxdPid: number | undefined;
  const tail: string[] = [];
  const onLine = (line: string) => {
    if (line.length === 0) return;
    const announced = /^mimamori-influxd-pid (\d+)$/.exec(line);
    if (announced) { influxdPid = Number(announced[1]); return; }
    tail.push(line);
    if (tail.length > tailLines) tail.shift();
    logger.debug({ influxd: line }, 'influxd output');
  };
  pipeLines(child.stdout, onLine);
  pipeLines(child.stderr, onLine);

  // If the hub exits (normally, or via process.exit) its influxd goes with it at once.
  const killOnExit = () => { killGroup(child, 'SIGKILL'); };
  process.on('exit', killOnExit);

  let exited = false;
  const exitPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      process.removeListener('exit', killOnExit);
      resolve({ code, signal });
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const polling = { stop: false };
  const outcome = await Promise.race([
    waitForPing(url, startTimeoutMs, polling).then((ok) => (ok ? { kind: 'ready' as const } : { kind: 'timeout' as const })),
    exitPromise.then((e) => ({ kind: 'exited' as const, ...e })),
    spawnError.then((error) => ({ kind: 'spawn-error' as const, error })),
  ]);
  polling.stop = true;

  if (outcome.kind === 'ready') {
    logger.info({ url, influxdPid: influxdPid ?? child.pid, dataDir: root }, 'managed influxd is up');
    let closing: Promise<void> | undefined;
    child.once('exit', (code, signal) => {
      if (!closing) logger.warn({ code, signal, tail: tail.slice(-5) }, 'managed influxd exited unexpectedly');
    });
    return {
      url,
      rpcAddress: `127.0.0.1:${rpcPort}`,
      /** influxd's own pid (its supervisor's until influxd has announced itself). */
      get pid() { return influxdPid ?? child.pid!; },
      exited: exitPromise,
      close() {
        closing ??= stop(child, () => exited, exitPromise, opts.stopTimeoutMs ?? 10_000, logger);
        return closing;
      },
    };
  }

  // Startup failed: never leave a half-started process behind.
  if (!exited && outcome.kind !== 'spawn-error') await stop(child, () => exited, exitPromise, 2000, logger);
  process.removeListener('exit', killOnExit);
  if (outcome.kind === 'spawn-error') {
    const code = (outcome.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') throw missingInfluxd(program);
    throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `could not start ${program}: ${outcome.error.message}`);
  }
  const output = tail.join('\n');
  if (/address already in use/i.test(output)) throw new PortTakenError(output);
  if (outcome.kind === 'timeout') {
    throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `influxd did not answer ${url}/ping within ${startTimeoutMs} ms / influxd が ${startTimeoutMs} ms 以内に応答しませんでした. Last output:\n${output}`);
  }
  throw new MimamoriError(
    'MIMAMORI_ERR_UNAVAILABLE',
    `influxd exited during start-up (code ${outcome.code ?? 'none'}, signal ${outcome.signal ?? 'none'}) / influxd が起動中に終了しました. Last output:\n${output || '(no output)'}`,
    { code: outcome.code, signal: outcome.signal, tail: [...tail] },
  );
}

async function stop(
  child: ChildProcess,
  hasExited: () => boolean,
  exitPromise: Promise<unknown>,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  if (hasExited()) return;
  // Closing the pipe is the supervisor's cue: it sends influxd SIGTERM and waits for it.
  child.stdin?.end();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exitPromise.then(() => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    logger.warn({ influxdPid: child.pid, timeoutMs }, 'influxd ignored SIGTERM; sending SIGKILL');
    killGroup(child, 'SIGKILL');
    await exitPromise;
  }
  logger.info({ influxdPid: child.pid }, 'managed influxd stopped');
}

/**
 * The supervisor: starts influxd with the environment it was given, reports
 * its pid, and stops it (SIGTERM, then waits) when its standard input — the
 * pipe from the hub — reaches end of file.
 */
const supervisor = [
  'exec 3<&0',
  '"$1" </dev/null & p=$!',
  'echo "mimamori-influxd-pid $p"',
  '( cat <&3 >/dev/null; kill -TERM "$p" 2>/dev/null ) & w=$!',
  'exec 3<&-',
  // wait collects influxd's status even when it has already exited (no polling race).
  'wait "$p"; s=$?',
  'kill "$w" 2>/dev/null',
  'exit "${s:-0}"',
].join('\n');

/** Signals the supervisor's whole process group (it, influxd, its pipe watcher). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function missingInfluxd(program: string): MimamoriError {
  return new MimamoriError(
    'MIMAMORI_ERR_MISSING_DEPENDENCY',
    `influxd not found (${program}). Install it with \`sudo apt-get install influxdb\`, or set MIMAMORI_INFLUX_URL to an existing InfluxDB 1.x. / ` +
      `influxd が見つかりません (${program})。\`sudo apt-get install influxdb\` でインストールするか、既存の InfluxDB 1.x を MIMAMORI_INFLUX_URL で指定してください。`,
  );
}

/** A bare name is looked up on PATH (plus the Debian package's /usr/bin); a path is checked as is. */
export function resolveProgram(name: string): string {
  const candidates = name.includes('/') || isAbsolute(name)
    ? [name]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin'].map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; try the next one
    }
  }
  throw missingInfluxd(name);
}

function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line.trimEnd());
  });
  stream.on('end', () => { if (rest) onLine(rest.trimEnd()); });
}

/** Free loopback ports, each probed by binding port 0. All are held until every one is known, so they differ. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<import('node:net').Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** Polls `/ping` until it answers 204 or the time is up (real I/O, so real timers). */
async function waitForPing(url: string, timeoutMs: number, polling: { stop: boolean }): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !polling.stop) {
    if (await pingOnce(url)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function pingOnce(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(`${url}/ping`, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 204);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
