/**
 * Shared set-up for the history tests: temp folders, a real managed influxd
 * per test file, a log capture and reading factories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { InfluxDB } from 'influx';
import { createLogger, silentLogger, type Logger } from '../../core/logger.js';
import type { HomeEvent, Reading } from '../../core/events.js';
import { startManagedInfluxd, type ManagedInfluxd } from '../../rules/managed-influxd.js';

interface Teardown { teardown(fn: () => unknown): void }

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: Teardown, prefix = 'mimamori-history-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a real influxd under `dataDir`, stopped when the test ends. */
export async function startInflux(t: Teardown, dataDir: string, httpPort?: number): Promise<ManagedInfluxd> {
  const influxd = await startManagedInfluxd({ dataDir, logger: silentLogger(), ...(httpPort === undefined ? {} : { httpPort }) });
  t.teardown(() => influxd.close());
  return influxd;
}

/** An influx client for reading back what the writer wrote. */
export function client(url: string, database: string): InfluxDB {
  const u = new URL(url);
  return new InfluxDB({ host: u.hostname, port: Number(u.port), database });
}

/** A logger whose JSON lines are kept in `lines`. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}

/** Polls `check` until it holds: for waiting on real I/O (sockets, processes), never on timers. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const baseTime = Date.parse('2026-11-21T07:00:00+09:00');

/** A motion event `i` ms after baseTime (ids unique per i). */
export function motion(i: number, home = 'home-1', device = 'pir-1'): HomeEvent {
  const at = baseTime + i;
  return { kind: 'motion', id: `m-${i}`, ts: new Date(at).toISOString(), occupied: i % 2 === 0, room: 'kitchen', home, device, at };
}

export function readings(n: number, home = 'home-1'): Reading[] {
  return Array.from({ length: n }, (_, i) => motion(i, home));
}

/** A loopback URL where nothing listens (a port probed free and closed again). */
export async function deadUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

/** Number of points in `measurement` (raw RP) that have `field`. */
export async function countPoints(influx: InfluxDB, measurement: string, field: string, where = ''): Promise<number> {
  const rows = await influx.query<{ n: number }>(`SELECT count("${field}") AS n FROM "raw"."${measurement}" ${where}`);
  return rows[0]?.n ?? 0;
}
