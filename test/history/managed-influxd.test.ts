import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMimamoriError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { startManagedInfluxd } from '../../history/managed-influxd.js';
import { VirtualClock } from '../../core/clock.js';
import { createHistoryWriter } from '../../history/history-writer.js';
import { baseTime, captureLogger, client, countPoints, readings, tempDir, until } from './fixtures/helpers.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function ping(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`${url}/ping`, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
}

/** Local addresses of the TCP sockets `pid` listens on (from /proc). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const row of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      const local = cols[1], state = cols[3], inode = cols[9];
      if (state !== '0A' || !inodes.has(inode ?? '')) continue;
      const [hex, port] = (local ?? '').split(':');
      const ip = hex && hex.length === 8 ? [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.') : `[${hex}]`;
      out.push(`${ip}:${parseInt(port ?? '0', 16)}`);
    }
  }
  return out.sort();
}

t.test('starts influxd under dataDir, answers /ping, listens on loopback only, stops cleanly', async (t) => {
  const dataDir = tempDir(t);
  const { logger, lines } = captureLogger();
  const influxd = await startManagedInfluxd({ dataDir, logger });
  t.teardown(() => influxd.close());
  t.match(influxd.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.equal(await ping(influxd.url), 204);
  for (const sub of ['meta', 'data', 'wal']) t.ok(existsSync(join(dataDir, 'influxdb', sub)), `${sub} dir under dataDir/influxdb`);
  t.ok(existsSync(join(dataDir, 'influxdb', 'meta', 'meta.db')), 'meta store written under dataDir, not /var/lib/influxdb');

  const listening = listeningAddresses(influxd.pid);
  t.equal(listening.length, 2, `exactly HTTP and RPC listeners: ${listening.join(', ')}`);
  t.ok(listening.every((a) => a.startsWith('127.0.0.1:')), 'all on 127.0.0.1');
  t.ok(listening.includes(new URL(influxd.url).host), 'HTTP is one of them');

  t.ok(lines.some((l) => l.level === 20 && typeof l.influxd === 'string' && /Listening on HTTP/.test(l.influxd as string)), 'influxd output piped at debug level');

  const listenersBefore = process.listenerCount('exit');
  await influxd.close();
  t.notOk(alive(influxd.pid), 'no influxd process left behind');
  t.equal(process.listenerCount('exit'), listenersBefore - 1, 'exit hook removed on close');
  await influxd.close(); // idempotent
});

t.test('a missing binary gives a clear MIMAMORI_ERR_MISSING_DEPENDENCY', async (t) => {
  const dataDir = tempDir(t);
  for (const influxdPath of ['/nonexistent/influxd', 'no-such-influxd-binary']) {
    const err = await startManagedInfluxd({ dataDir, influxdPath, logger: silentLogger() }).then(() => undefined, (e: unknown) => e);
    t.ok(isMimamoriError(err, 'MIMAMORI_ERR_MISSING_DEPENDENCY'), `${influxdPath}: missing dependency`);
    t.match((err as Error).message, /apt-get install influxdb/);
    t.match((err as Error).message, /MIMAMORI_INFLUX_URL/);
  }
});

t.test('an influxd that dies during start-up reports its exit and last output', async (t) => {
  const dataDir = tempDir(t);
  const fake = join(dataDir, 'fake-influxd');
  writeFileSync(fake, '#!/bin/sh\necho "run: open server: listen tcp: boom, config is broken" >&2\nexit 3\n');
  chmodSync(fake, 0o755);
  const listenersBefore = process.listenerCount('exit');
  const err = await startManagedInfluxd({ dataDir, influxdPath: fake, logger: silentLogger() }).then(() => undefined, (e: unknown) => e);
  t.ok(isMimamoriError(err, 'MIMAMORI_ERR_UNAVAILABLE'));
  t.match((err as Error).message, /exited during start-up \(code 3/);
  t.match((err as Error).message, /boom, config is broken/);
  t.equal(process.listenerCount('exit'), listenersBefore, 'no exit hook left behind');
});

t.test('influxd does not outlive a hub that exits without closing it', async (t) => {
  const dataDir = tempDir(t);
  const script = fileURLToPath(new URL('./fixtures/parent-exits.ts', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, script, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => { out += chunk; });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 0, 'hub process exited');
  const { pid } = JSON.parse(out.trim()) as { pid: number };
  await until(() => !alive(pid), 5000, 'influxd to die with its parent');
  t.notOk(alive(pid), 'influxd killed by the exit hook');
});

t.test('influxd does not outlive a hub killed with SIGKILL (no exit hook runs)', async (t) => {
  const dataDir = tempDir(t);
  const script = fileURLToPath(new URL('./fixtures/parent-killed.ts', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, script, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => { out += chunk; });
  await until(() => out.includes('\n'), 20_000, 'the child to report influxd');
  const { pid } = JSON.parse(out.trim()) as { pid: number };
  t.ok(alive(pid), 'influxd is running');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  await until(() => !alive(pid), 10_000, 'influxd to stop after its hub was killed');
  t.notOk(alive(pid), 'influxd stopped: its supervisor saw the pipe close');
});

t.test('restarting on the same dataDir and port keeps the data', async (t) => {
  const dataDir = tempDir(t);
  const first = await startManagedInfluxd({ dataDir, logger: silentLogger() });
  const port = Number(new URL(first.url).port);
  await post(first.url, '/query', 'q=CREATE DATABASE keepme');
  await first.close();
  const second = await startManagedInfluxd({ dataDir, logger: silentLogger(), httpPort: port });
  t.teardown(() => second.close());
  t.equal(second.url, first.url);
  const body = await post(second.url, '/query', 'q=SHOW DATABASES');
  t.match(body, /keepme/);
});

function post(url: string, path: string, form: string): Promise<string> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }).then((r) => r.text());
}

t.test('supervision: influxd killed with SIGKILL is restarted on the same URL; history buffered meanwhile is written exactly once; repeated deaths tell the operator', async (t) => {
  const dataDir = tempDir(t);
  const troubles: Array<{ exits: number }> = [];
  // A 3 s first back-off leaves a clear window in which the writer must buffer.
  const influxd = await startManagedInfluxd({
    dataDir, logger: silentLogger(), restart: { initialDelayMs: 3000, maxDelayMs: 6000, troubleExits: 2 },
    onTrouble: (trouble) => troubles.push({ exits: trouble.exits }),
  });
  t.teardown(() => influxd.close());
  const url = influxd.url;
  const clock = new VirtualClock(baseTime);
  const w = await createHistoryWriter({ url, database: 'mimamori', bufferDir: tempDir(t), logger: silentLogger(), clock, batchSize: 50 });
  t.teardown(() => w.close());
  const all = readings(150);
  for (const r of all.slice(0, 100)) w.writeReading(r);
  await w.flush();
  t.equal(w.stats().written, 100);
  t.same(influxd.health(), { state: 'up', restarts: 0, exits: 0, troubled: false });

  const firstPid = influxd.pid;
  process.kill(firstPid, 'SIGKILL');
  await until(() => influxd.health().state === 'restarting', 10_000, 'the supervisor to see influxd die');
  for (const r of all.slice(100)) w.writeReading(r);
  await w.flush();
  t.equal(w.stats().buffered, 50, 'written while influxd is down: kept on disk');
  await until(() => influxd.health().state === 'up', 30_000, 'influxd to be restarted');
  t.equal(influxd.url, url, 'the same URL after the restart');
  t.not(influxd.pid, firstPid, 'a new influxd');
  t.equal(await ping(url), 204);
  await w.flush();
  t.equal(w.stats().buffered, 0, 'the buffer drained');
  t.equal(await countPoints(client(url, 'mimamori'), 'event', 'id'), 150, 'every point exactly once, none lost');
  t.same(troubles, [], 'one death is not trouble yet');

  process.kill(influxd.pid, 'SIGKILL');
  await until(() => influxd.health().restarts === 2 && influxd.health().state === 'up', 40_000, 'the second restart');
  t.same(troubles, [{ exits: 2 }], 'the second death within the window tells the operator, once');
  t.same(influxd.health(), { state: 'up', restarts: 2, exits: 2, troubled: true });
  await influxd.close();
  t.equal(influxd.health().state, 'stopped');
  t.notOk(alive(influxd.pid), 'close() is not followed by a restart');
});
