/**
 * Connected devices: memory per connected device and logins per second,
 * for the project's broker (its own process, level persistence as the hub
 * runs it, logins checked against the SQLite store) and for mosquitto
 * (password file + ACL) in the same run, and for aedes alone (the library
 * our broker is built on, nothing of ours: the floor under our figures).
 * Devices are opened by login generators in their own processes
 * (bench/login-child.ts: bare sockets, a hand-made MQTT 3.1.1 CONNECT, clean
 * session, 32 logins in flight in all, from 200 loopback source addresses), so the generator costs next to
 * nothing and the broker can be given as many devices as one process may
 * hold sockets for; the brokers' RSS is read from /proc after a GC at each
 * step, giving the curve of bytes per device.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createSqliteStore } from '../core/store.js';
import { provisionDevice } from '../broker/index.js';
import { startMosquittoWith, withDeadline } from './broker.js';
import type { BenchRow } from './types.js';
import type { LoginCommand, LoginDevice, LoginReply } from './login-child.js';

type Device = LoginDevice;

/** File descriptors one generator process holds at most (this machine: 20,000 per process, a hard limit). */
const perGenerator = 9_000;

/**
 * Login generators in their own processes (bench/login-child.js): each holds
 * up to `perGenerator` devices, and `concurrency` logins are in flight in all.
 */
class Generators {
  private readonly children: ChildProcess[];
  /** Settles once every generator has started (so no login is timed with a process start in it). */
  readonly ready: Promise<unknown>;
  constructor(devices: number, private readonly concurrency: number) {
    this.children = Array.from({ length: Math.max(1, Math.ceil(devices / perGenerator)) }, () =>
      spawn(process.execPath, [fileURLToPath(new URL('./login-child.js', import.meta.url))], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    this.ready = Promise.all(this.children.map((c) => this.reply(c)));
  }
  private reply(child: ChildProcess): Promise<LoginReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`a login generator exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (r: LoginReply) => { child.off('exit', onExit); if ('error' in r) reject(new Error(r.error)); else resolve(r); });
    });
  }
  private ask(child: ChildProcess, command: LoginCommand): Promise<LoginReply> {
    const r = this.reply(child);
    child.send(command);
    return r;
  }
  /**
   * Opens `devices` spread over the generators, one generator at a time with all the logins in
   * flight (two generators at once would compete with the broker for this machine's two cores and
   * slow the reference down more than ours); logins/s over the whole set.
   */
  async open(port: number, devices: Device[]): Promise<number> {
    const size = Math.ceil(devices.length / this.children.length);
    const t0 = performance.now();
    for (const [i, c] of this.children.entries()) {
      const slice = devices.slice(i * size, (i + 1) * size);
      if (slice.length > 0) await this.ask(c, { open: slice, port, concurrency: this.concurrency });
    }
    return devices.length / ((performance.now() - t0) / 1000);
  }
  /** Closes every connection the generators hold. */
  async close(): Promise<void> {
    await Promise.all(this.children.map((c) => this.ask(c, { close: true })));
  }
  stop(): void {
    for (const c of this.children) c.kill('SIGTERM');
  }
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Memory at one step; `heap` only where the broker reports it (ours). */
interface Point {
  devices: number;
  /** RSS growth over the idle broker / devices (includes the fixed cost of the first connections). */
  bytesPerDevice: number;
  /** RSS growth since the previous step / devices added: what one more device costs. */
  marginalBytesPerDevice: number;
  /** V8 heap growth since the previous step / devices added (ours only). */
  marginalHeapPerDevice?: number;
}
interface Curve { points: Point[]; coldLogins: number; warmLogins: number; stepLogins: number[]; allFirstLogins: number }
interface MemorySample { heapUsed: number }

/** Steps through `steps` connected devices on one broker; `gc` asks it to collect first (and reports its heap, if it can). */
async function measure(port: number, pid: number, devices: Device[], steps: number[], gc: () => Promise<MemorySample | undefined>): Promise<Curve> {
  const generators = new Generators(steps[steps.length - 1]!, 32);
  try {
    await generators.ready;
    const base = { rss: (await gc(), rssOf(pid)) };
    const points: Point[] = [];
    let open = 0;
    let coldLogins = 0;
    const stepLogins: number[] = [];
    let firstSeconds = 0;
    let prev = { devices: 0, rss: base.rss, heap: (await gc())?.heapUsed };
    for (const n of steps) {
      const perSecond = await generators.open(port, devices.slice(open, n));
      if (open === 0) coldLogins = perSecond;
      stepLogins.push(perSecond);
      firstSeconds += (n - open) / perSecond;
      open = n;
      const heap = (await gc())?.heapUsed;
      const rss = rssOf(pid);
      const added = n - prev.devices;
      points.push({
        devices: n, bytesPerDevice: (rss - base.rss) / n, marginalBytesPerDevice: (rss - prev.rss) / added,
        ...(heap !== undefined && prev.heap !== undefined ? { marginalHeapPerDevice: (heap - prev.heap) / added } : {}),
      });
      prev = { devices: n, rss, heap };
    }
    // Everyone again at once, as after a network blip: the login cache's case.
    await generators.close();
    const warmLogins = await generators.open(port, devices.slice(0, open));
    await generators.close();
    return { points, coldLogins, warmLogins, stepLogins, allFirstLogins: open / firstSeconds };
  } finally {
    generators.stop();
  }
}

/**
 * Starts a broker child (`script` in bench/, with `args`) with an IPC channel
 * for GC requests: bench/broker-child.js is ours with level persistence, as
 * the hub runs it; bench/aedes-child.js is aedes alone.
 */
async function startChild(script: string, args: string[], what: string): Promise<{ port: number; child: ChildProcess; gc: () => Promise<MemorySample> }> {
  // MIMAMORI_BENCH_PROFILE_DIR: a CPU profile of the broker child (node --cpu-prof), to see where a login's time goes.
  const profile = process.env.MIMAMORI_BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MIMAMORI_BENCH_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, ['--expose-gc', ...profile, fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await withDeadline(new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { port: number }).port); });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  }), 60_000, `${what} to start`);
  const gc = () => withDeadline(new Promise<MemorySample>((resolve) => { child.once('message', (m: MemorySample) => resolve(m)); child.send('gc'); }), 30_000, `a GC in ${what}`);
  return { port, child, gc };
}

/** Runs the connection steps on one broker child, stopping it after. */
async function measureChild(b: { port: number; child: ChildProcess; gc: () => Promise<MemorySample> }, devices: Device[], steps: number[], deadlineMs: number, what: string): Promise<Curve> {
  try { return await withDeadline(measure(b.port, b.child.pid!, devices, steps, b.gc), deadlineMs, `${what} connection steps`); } finally { b.child.kill('SIGTERM'); }
}

/** Memory per connected device and logins/s, ours against mosquitto. */
export async function benchConnections(opts: { devices: number; dir: string }): Promise<{ rows: BenchRow[]; curves: { ours: Curve; mosquitto: Curve; aedesAlone: Curve } }> {
  const storeFile = join(opts.dir, 'store.sqlite');
  const store = createSqliteStore(storeFile);
  const devices: Device[] = [];
  const homes = Math.ceil(opts.devices / 8);
  try {
    for (let h = 0; h < homes; h++) {
      await store.createHome({ id: `c${h}`, name: `home ${h}`, timezone: 'Asia/Tokyo' });
      for (let d = 0; d < 8 && devices.length < opts.devices; d++) {
        const creds = await provisionDevice(store, { homeId: `c${h}`, deviceId: `d${d}`, kind: 'power' });
        devices.push({ username: creds.username, password: creds.secret, clientId: creds.username });
      }
    }
  } finally {
    await store.close();
  }
  // Doubling from 1,000 (or half the devices) to all of them: the curve of memory per device. The
  // last step adds at least as many as the one before, so "one more device" is not read off a
  // small step's noise (a V8 heap page more or less).
  const steps: number[] = [];
  for (let n = Math.min(1000, Math.ceil(opts.devices / 2)); 2 * n <= opts.devices; n *= 2) steps.push(n);
  steps.push(opts.devices);

  // A step may take 60 ms a device before it counts as hung: room for a loaded machine (18,000 devices: 18 minutes).
  const stepsDeadline = Math.max(300_000, opts.devices * 60);
  const ours = await measureChild(await startChild('./broker-child.js', [join(opts.dir, 'broker'), storeFile, 'level'], 'our broker'), devices, steps, stepsDeadline, 'our broker');
  // The floor: aedes alone, the library our broker is built on, with no login check, no ACL and sessions in memory.
  const floor = await measureChild(await startChild('./aedes-child.js', [], 'aedes alone'), devices, steps, stepsDeadline, 'aedes alone');

  // mosquitto's ACL pattern gives each device its own topics, like ours.
  const m = await startMosquittoWith(opts.dir, devices.map((d) => ({ username: d.username, password: d.password })), ['pattern write mimamori/v1/homes/%u/#']);
  let theirs: Curve;
  try { theirs = await withDeadline(measure(m.port, m.child.pid!, devices, steps, async () => undefined), stepsDeadline, 'mosquitto connection steps'); } finally { m.child.kill('SIGTERM'); }

  const last = (c: Curve) => c.points[c.points.length - 1]!.bytesPerDevice;
  const slope = (c: Curve) => c.points[c.points.length - 1]!.marginalBytesPerDevice;
  const kb = (b: number | undefined) => (b === undefined ? '?' : (b / 1024).toFixed(1));
  const curve = (c: Curve) => c.points.map((p) => `${p.devices}: ${kb(p.bytesPerDevice)} KB (one more: ${kb(p.marginalBytesPerDevice)} KB${p.marginalHeapPerDevice === undefined ? '' : `, of it V8 heap ${kb(p.marginalHeapPerDevice)} KB`})`).join(', ');
  return {
    curves: { ours, mosquitto: theirs, aedesAlone: floor },
    rows: [
      {
        name: `memory per connected device (${opts.devices} devices, clean sessions, TCP)`, value: last(ours) / 1024, unit: 'KB/device',
        reference: { name: 'mosquitto, same devices', value: last(theirs) / 1024 }, ratio: last(ours) / last(theirs),
        target: `≤ 10 KB per device: ${last(ours) <= 10 * 1024 ? 'met' : 'NOT met'}`,
        notes: `RSS growth over the idle broker after a GC / devices; curve ours ${curve(ours)}; mosquitto ${curve(theirs)}; aedes alone ${curve(floor)}; ratio = ours / mosquitto (lower is better)`,
      },
      {
        name: `memory per additional connected device (RSS growth from ${ours.points.length > 1 ? ours.points[ours.points.length - 2]!.devices : 0} to ${opts.devices} devices)`, value: slope(ours) / 1024, unit: 'KB/device',
        reference: { name: 'mosquitto, same devices', value: slope(theirs) / 1024 }, ratio: slope(ours) / slope(theirs),
        target: `≤ 10 KB per device: ${slope(ours) <= 10 * 1024 ? 'met' : 'NOT met'}`,
        notes: 'what one more connected device costs once the broker is warm (the row above also carries the one-off growth of the first connections: V8 heap pages, scrypt thread buffers, LevelDB caches); ratio = ours / mosquitto (lower is better)',
      },
      {
        name: `device logins per second, first login of each of the ${opts.devices} devices (full secret check per login)`, value: ours.allFirstLogins, unit: 'logins/s',
        reference: { name: 'mosquitto, same devices', value: theirs.allFirstLogins }, ratio: ours.allFirstLogins / theirs.allFirstLogins,
        target: `≥ 0.5× mosquitto: ${ours.allFirstLogins / theirs.allFirstLogins >= 0.5 ? 'met' : 'NOT met'}`,
        notes: `every device's first login, over all the steps (the time of the logins only, not the GC between steps); 32 logins in flight from bare-socket generators in processes of their own (${Math.ceil(opts.devices / perGenerator)} of them, one after the other), from 200 loopback addresses; per step (${steps.join(', ')} devices): ours ${ours.stepLogins.map((r) => r.toFixed(0)).join(', ')}/s, mosquitto ${theirs.stepLogins.map((r) => r.toFixed(0)).join(', ')}/s, aedes alone ${floor.stepLogins.map((r) => r.toFixed(0)).join(', ')}/s`,
      },
      {
        name: `device logins per second, the first ${steps[0]} into a just-started broker`, value: ours.coldLogins, unit: 'logins/s',
        reference: { name: 'mosquitto, same devices', value: theirs.coldLogins }, ratio: ours.coldLogins / theirs.coldLogins,
        notes: `ours rises from step to step (the row above) while mosquitto's stays level: our broker's code is optimised by V8 as it runs, mosquitto's is compiled ahead; the row above is the figure for a hub whose devices all come back; aedes alone ${floor.coldLogins.toFixed(0)}/s (${(floor.coldLogins / theirs.coldLogins).toFixed(2)}× mosquitto)`,
      },
      {
        name: 'device logins per second, everyone again within a minute (login cache)', value: ours.warmLogins, unit: 'logins/s',
        reference: { name: 'mosquitto, same devices', value: theirs.warmLogins }, ratio: ours.warmLogins / theirs.warmLogins,
        target: `≥ 0.5× mosquitto: ${ours.warmLogins / theirs.warmLogins >= 0.5 ? 'met' : 'NOT met'}`,
        notes: `aedes alone ${floor.warmLogins.toFixed(0)}/s (${(floor.warmLogins / theirs.warmLogins).toFixed(2)}× mosquitto)`,
      },
      // What limits the rows above: the same devices on aedes with nothing of ours.
      {
        name: 'what limits these: aedes alone (no login check, no ACL, sessions in memory), first logins', value: floor.allFirstLogins, unit: 'logins/s',
        reference: { name: 'mosquitto, same devices', value: theirs.allFirstLogins }, ratio: floor.allFirstLogins / theirs.allFirstLogins,
        notes: `our broker does ${(ours.allFirstLogins / floor.allFirstLogins).toFixed(2)}× what aedes alone does; again within a minute: aedes alone ${floor.warmLogins.toFixed(0)}/s, ${(floor.warmLogins / theirs.warmLogins).toFixed(2)}× mosquitto, ours ${(ours.warmLogins / floor.warmLogins).toFixed(2)}× it`,
      },
      {
        name: `what limits these: aedes alone, memory per connected device (${opts.devices} devices)`, value: last(floor) / 1024, unit: 'KB/device',
        reference: { name: 'mosquitto, same devices', value: last(theirs) / 1024 }, ratio: last(floor) / last(theirs),
        notes: `ours ${kb(last(ours))} KB, ${(last(ours) / last(floor)).toFixed(2)}× aedes alone; one more device: aedes alone ${kb(slope(floor))} KB, ours ${kb(slope(ours))} KB; ratio = aedes alone / mosquitto (lower is better)`,
      },
    ],
  };
}
