/**
 * The whole path as deployed, against mosquitto, in one run (issue 12):
 *
 * (a) the hub as `mimamori start` runs it (startHub: broker with level
 *     persistence and the in-process ingest, rules, the history writer to a
 *     real influxd, the notifier with the real twilio client against the
 *     local Twilio server);
 * (b) mosquitto with a password file and ACL plus a plain MQTT subscriber
 *     (bench/ref-subscriber.js, its own process) writing the same points to
 *     the same influxd (another database).
 *
 * Load generators (bench/load-child.js) run in their own processes and keep
 * many QoS 1 publishes in flight. The offered load is stepped up; a step is
 * sustained, after a warm-up at 200 events/s, when the points InfluxDB accepted keep up with the events
 * offered (the backlog at the end of the step is under 1.5 s of load and did
 * not grow over the step's second half). After the steps every event sent
 * must be in InfluxDB exactly once (count = events sent, distinct ids =
 * count). Then, on the hub, alert latency from a help button's publish to
 * the local Twilio server receiving the twilio client's request, while the
 * generators carry the normal load of `homes` homes (8 devices each, one
 * event per device per minute) and the engine holds those homes' state.
 * Every step is bounded in time and fails with its name.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { parseConfig } from '../core/config.js';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { eventTopic } from '../core/topics.js';
import { newSecret } from '../core/ids.js';
import type { Reading } from '../core/events.js';
import type { Store } from '../core/store.js';
import { hashSecret } from '../broker/index.js';
import { startHub } from '../hub/index.js';
import { startManagedInfluxd } from '../history/index.js';
import { startMosquittoWith, withDeadline } from './broker.js';
import { addAlertHome, percentile, seedHistory } from './e2e.js';
import type { BenchRow } from './types.js';

export interface WholePathOptions {
  /** Offered events/s, stepped up until a step is not sustained. */
  rates: number[];
  stepSeconds: number;
  /** Connected devices carrying the load (8 per home), split over `generators` processes. */
  devices: number;
  generators: number;
  /** Homes whose normal load (and state in the engine) the alert measurement runs under. */
  homes: number;
  alerts: number;
  /** Resolved alerts of history written into the hub's store before the alerts are measured (e2e.ts `seedHistory`). */
  historyAlerts?: number;
  dir: string;
}

export interface Device { username: string; password: string; topic: string; port?: number }
export interface Step {
  rate: number; offered: number; sent: number; acked: number; written: number; backlog: number; backlogMid: number; cpuMicrosPerEvent: number; sustained: boolean;
  /** The second try of a rate the first try did not sustain. */
  again?: boolean;
}
interface PathResult { steps: Step[]; sustained: number; sent: number; acked: number; points: number; distinctIds: number }

const window = 64;
const ticksPerSecond = 100; // /proc/*/stat clock ticks (USER_HZ) on Linux

export function cpuMicrosOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return (ticks * 1e6) / ticksPerSecond;
}

export function influxQuery(url: string, q: string, db?: string): Promise<unknown> {
  const u = new URL(url);
  const body = new URLSearchParams({ q, ...(db ? { db } : {}) }).toString();
  return new Promise((resolve, reject) => {
    const req = request({ hostname: u.hostname, port: u.port, path: '/query', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`influx query answered ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Points of the load's homes in `db`, and how many distinct event ids they hold. */
export async function countPoints(url: string, db: string): Promise<{ points: number; distinctIds: number }> {
  const r = await influxQuery(url, `SELECT count("watts") AS points, count(distinct("id")) AS ids FROM "event" WHERE "home" =~ /^wp/ AND time > 0`, db) as { results: Array<{ series?: Array<{ values: number[][] }> }> };
  const row = r.results[0]?.series?.[0]?.values[0];
  return { points: Number(row?.[1] ?? 0), distinctIds: Number(row?.[2] ?? 0) };
}

export interface Generators { children: ChildProcess[]; setRate(rate: number): void; totals(): { due: number; sent: number; acked: number }; stop(): Promise<{ sent: number; acked: number }> }

/** Starts the load generator processes against `port`, each with its share of the devices; resolves once all are connected. */
export async function startGenerators(dir: string, port: number, devices: Device[], count: number, t0: number): Promise<Generators> {
  const script = fileURLToPath(new URL('./load-child.js', import.meta.url));
  const latest: Array<{ due: number; sent: number; acked: number }> = [];
  const children: ChildProcess[] = [];
  const ready: Array<Promise<void>> = [];
  for (let g = 0; g < count; g++) {
    const file = join(dir, `load-${g}.json`);
    writeFileSync(file, JSON.stringify({ port, window, t0, devices: devices.filter((_, i) => i % count === g) }), { mode: 0o600 });
    const child = fork(script, [file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(child);
    latest.push({ due: 0, sent: 0, acked: 0 });
    ready.push(new Promise<void>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; due?: number; sent?: number; acked?: number }) => {
        if (m.ready) resolve();
        else latest[g] = { due: m.due ?? 0, sent: m.sent ?? 0, acked: m.acked ?? 0 };
      });
      child.once('exit', (code) => reject(new Error(`load generator ${g} exited with ${code}`)));
    }));
  }
  const kill = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); };
  try { await withDeadline(Promise.all(ready), 180_000, `${devices.length} devices to connect (first logins)`); } catch (err) { kill(); throw err; }
  for (const c of children) c.removeAllListeners('exit');
  let stopped: Promise<{ sent: number; acked: number }> | undefined;
  return {
    children,
    setRate: (rate) => { for (const c of children) c.send({ rate: rate / count }); },
    totals: () => latest.reduce((a, b) => ({ due: a.due + b.due, sent: a.sent + b.sent, acked: a.acked + b.acked }), { due: 0, sent: 0, acked: 0 }),
    stop() {
      stopped ??= withDeadline(Promise.all(children.map((c, g) => new Promise<{ sent: number; acked: number }>((resolve) => {
        c.once('message', (m: { sent: number; acked: number }) => resolve(m));
        c.once('exit', () => resolve(latest[g]!));
        c.send({ stop: true });
      }))), 30_000, 'the load generators to stop').finally(kill)
        .then((finals) => finals.reduce((a, b) => ({ sent: a.sent + b.sent, acked: a.acked + b.acked }), { sent: 0, acked: 0 }));
      return stopped;
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` (polling every 100 ms) or fails after `ms` with `what`. */
export async function waitFor(done: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) throw new Error(`bench step timed out after ${ms} ms: ${what}`);
    await sleep(100);
  }
}

/** True once everything offered was sent, acknowledged and is in InfluxDB. */
export function drained(gens: Generators, written: () => number): () => boolean {
  return () => { const t = gens.totals(); return t.sent === t.due && t.acked === t.sent && written() >= t.sent; };
}

/** Steps the offered load up on one pipeline until a rate is not sustained in two tries; then drains and stops offering. */
export async function stepLoad(gens: Generators, written: () => number, cpuMicros: () => number, opts: Pick<WholePathOptions, 'rates' | 'stepSeconds'>, name: string): Promise<Step[]> {
  // Warm-up (JIT, InfluxDB's new shard, the first batches) at a low rate, until all of it is in InfluxDB.
  gens.setRate(Math.min(200, opts.rates[0] ?? 200));
  await sleep(3000);
  gens.setRate(0);
  await waitFor(drained(gens, written), 120_000, `${name}: the warm-up to reach InfluxDB`);
  const steps: Step[] = [];
  const step = async (rate: number, again: boolean): Promise<Step> => {
    const before = { ...gens.totals(), written: written(), cpu: cpuMicros() };
    gens.setRate(rate);
    await sleep((opts.stepSeconds * 1000) / 2);
    const mid = gens.totals().due - written();
    await sleep((opts.stepSeconds * 1000) / 2);
    const end = { ...gens.totals(), written: written(), cpu: cpuMicros() };
    gens.setRate(0);
    const offered = end.due - before.due;
    const done = end.written - before.written;
    const backlog = end.due - end.written;
    const sustained = backlog <= 1.5 * rate + 500 && backlog <= mid + 0.25 * rate && done >= 0.9 * offered;
    // Drain before the next step: everything offered so far must reach InfluxDB.
    await waitFor(drained(gens, written), 120_000, `${name}: the backlog after ${rate} events/s to drain`);
    return { rate, offered, sent: end.sent - before.sent, acked: end.acked - before.acked, written: done, backlog, backlogMid: mid, cpuMicrosPerEvent: done > 0 ? (end.cpu - before.cpu) / done : NaN, sustained, ...(again ? { again } : {}) };
  };
  for (const rate of opts.rates) {
    let s = await step(rate, false);
    steps.push(s);
    // A step missed once may be a stall of the machine, not the pipeline's limit (a full
    // --quick run: the hub missed 1,000/s with 84% written and so stopped at 500/s; run
    // alone minutes later it kept up to 8,000/s): the step is run once more, and both
    // are reported. Missed twice, the ladder stops.
    if (!s.sustained) { s = await step(rate, true); steps.push(s); }
    if (!s.sustained) break;
  }
  return steps;
}

/** A step's rate as printed: `1000/s`, or `1000/s again` for its second try. */
export const stepRate = (s: Step): string => `${s.rate}/s${s.again ? ' again' : ''}`;

export function summarise(steps: Step[]): number {
  return steps.filter((s) => s.sustained).reduce((m, s) => Math.max(m, s.rate), 0);
}

/** `count` devices, `perHome` to a home, sharing one secret (one hash for the bench; logins still verify each). */
export async function addLoadDevices(store: Store, count: number, secret: string, perHome = 8): Promise<Device[]> {
  const secretHash = await hashSecret(secret);
  const devices: Device[] = [];
  for (let h = 0; devices.length < count; h++) {
    await store.createHome({ id: `wp${h}`, name: `load ${h}`, timezone: 'Asia/Tokyo' });
    for (let d = 0; d < perHome && devices.length < count; d++) {
      await store.addDevice({ homeId: `wp${h}`, deviceId: `d${d}`, kind: 'power', secretHash });
      devices.push({ username: `wp${h}/d${d}`, password: secret, topic: eventTopic(`wp${h}`, `d${d}`) });
    }
  }
  return devices;
}

/** Background readings so the engine holds the state of `homes` homes × 8 sensors. */
function seedHomes(ingest: (r: Reading) => void, homes: number): void {
  const now = Date.now();
  for (let i = 0; i < homes * 8; i++) {
    const at = now - 60_000 + (i % 60_000);
    ingest({ kind: 'power', watts: 100, home: `bg-${Math.floor(i / 8)}`, device: `s${i % 8}`, at, id: `bg-${i}`, ts: new Date(at).toISOString() });
  }
}

export async function benchWholePath(opts: WholePathOptions): Promise<{ rows: BenchRow[]; steps: { hub: Step[]; mosquitto: Step[] } }> {
  mkdirSync(opts.dir, { recursive: true });
  const influxd = await withDeadline(startManagedInfluxd({ dataDir: join(opts.dir, 'influx'), logger: silentLogger() }), 60_000, 'influxd to start');
  try {
    const secret = newSecret();
    const t0 = Date.now() - 10 * 60_000;

    // (a) the hub as deployed.
    const config = parseConfig({
      dataDir: join(opts.dir, 'hub'), logLevel: 'silent', broker: { tcpPort: 0, tlsPort: 0, wsPort: 0 }, http: { port: 0, hooksPort: 0 }, demo: { homes: 0 },
      influx: { url: influxd.url, database: 'wp_hub' },
    });
    const hub = await withDeadline(startHub({ config, logger: silentLogger(), clock: systemClock, http: false }), 120_000, 'the hub to start');
    let hubResult: PathResult;
    let alert: { p50: number; p99: number; count: number; normalRate: number };
    let devices: Device[];
    try {
      devices = await addLoadDevices(hub.store, opts.devices, secret);
      const gens = await startGenerators(opts.dir, hub.broker.ports.tcp, devices, opts.generators, t0);
      try {
        const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
        const steps = await stepLoad(gens, () => hub.history.stats().written, cpu, opts, 'hub');

        // Alert latency while the generators carry `homes` homes' normal load and the engine holds their state,
        // with a year of history in the store: reads on the alert path must not grow with it.
        const normalRate = Math.max(1, Math.round((opts.homes * 8) / 60));
        gens.setRate(normalRate);
        if (opts.historyAlerts) await withDeadline(seedHistory(hub.store, { homes: 120, alerts: opts.historyAlerts, from: Date.now() - 365 * 86_400_000 }), 600_000, 'the history to be written');
        seedHomes((r) => hub.engine.ingest(r), opts.homes);
        const latencies: number[] = [];
        for (let i = 0; i < opts.alerts; i++) {
          const { home, phone, username, secret: password } = await addAlertHome(hub.store, i);
          const client = await withDeadline(mqtt.connectAsync(hub.mqttUrl, { username, password, reconnectPeriod: 0 }), 30_000, 'a help button to connect');
          const arrived = new Promise<number>((resolve) => {
            const off = hub.localTwilio!.onMessage((m) => { if (m.to === phone && m.status === 'queued') { off(); resolve(performance.now()); } });
          });
          const t = performance.now();
          await client.publishAsync(eventTopic(home, 'help'), JSON.stringify({ id: `help-${i}`, ts: new Date().toISOString(), kind: 'button', press: 'help' }), { qos: 1 });
          latencies.push((await withDeadline(arrived, 30_000, `alert ${i} to reach the local Twilio server`)) - t);
          await client.endAsync();
        }
        gens.setRate(0);
        latencies.sort((a, b) => a - b);
        alert = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length, normalRate };
        await waitFor(drained(gens, () => hub.history.stats().written), 120_000, 'hub: the normal load to drain');
        const totals = await gens.stop();
        await withDeadline(hub.history.flush(), 60_000, 'the hub history writer to flush');
        hubResult = { steps, sustained: summarise(steps), sent: totals.sent, acked: totals.acked, ...(await countPoints(influxd.url, 'wp_hub')) };
      } finally {
        await gens.stop().catch(() => undefined);
      }
    } finally {
      await hub.close();
    }

    // (b) mosquitto + a plain subscriber writing the same points to the same influxd.
    await influxQuery(influxd.url, 'CREATE DATABASE wp_ref');
    const service = { username: 'service-ref', password: newSecret() };
    const mosqDir = join(opts.dir, 'mosquitto');
    mkdirSync(mosqDir, { recursive: true });
    const mosq = await withDeadline(startMosquittoWith(mosqDir, [service, ...devices], [
      `user ${service.username}`, 'topic read mimamori/v1/#', '',
      ...devices.flatMap((d) => [`user ${d.username}`, `topic write ${d.topic}`, '']),
    ]), 60_000, 'mosquitto to start');
    let ref: PathResult;
    try {
      const sub = fork(fileURLToPath(new URL('./ref-subscriber.js', import.meta.url)), [mosq.url, service.username, service.password, influxd.url, 'wp_ref'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      let written = 0;
      try {
        await withDeadline(new Promise<void>((resolve, reject) => {
          sub.on('message', (m: { ready?: boolean; written?: number }) => { if (m.ready) resolve(); if (m.written !== undefined) written = m.written; });
          sub.once('exit', (code) => reject(new Error(`the reference subscriber exited with ${code}`)));
        }), 30_000, 'the reference subscriber to subscribe');
        const gens = await startGenerators(opts.dir, mosq.port, devices, opts.generators, t0);
        try {
          const steps = await stepLoad(gens, () => written, () => cpuMicrosOf([mosq.child.pid!, sub.pid!]), opts, 'mosquitto');
          const totals = await gens.stop();
          sub.removeAllListeners('exit');
          await withDeadline(new Promise<void>((resolve) => { sub.once('exit', () => resolve()); sub.send({ stop: true }); }), 60_000, 'the reference subscriber to flush and stop');
          ref = { steps, sustained: summarise(steps), sent: totals.sent, acked: totals.acked, ...(await countPoints(influxd.url, 'wp_ref')) };
        } finally {
          await gens.stop().catch(() => undefined);
        }
      } finally {
        if (sub.exitCode === null) sub.kill('SIGKILL');
      }
    } finally {
      mosq.child.kill('SIGTERM');
    }

    const common = Math.min(hubResult.sustained, ref.sustained);
    const at = (r: PathResult) => r.steps.find((s) => s.rate === common && s.sustained)?.cpuMicrosPerEvent ?? NaN;
    const stepsText = (r: PathResult) => r.steps.map((s) => `${stepRate(s)}: ${s.sustained ? 'kept up' : `NOT kept up (of ${s.offered} offered: ${s.sent} sent, ${s.acked} acknowledged, ${s.written} in InfluxDB)`} (${s.cpuMicrosPerEvent.toFixed(0)} µs/event)`).join(', ');
    const once = (r: PathResult) => r.points === r.acked && r.distinctIds === r.points;
    const ratio = hubResult.sustained / ref.sustained;
    return {
      steps: { hub: hubResult.steps, mosquitto: ref.steps },
      rows: [
        {
          name: `whole path sustained, QoS 1 devices → broker → ingest → rules → InfluxDB (${opts.devices} devices, ${opts.generators} generator processes, ${window} in flight per connection)`,
          value: hubResult.sustained, unit: 'events/s',
          reference: { name: 'mosquitto 2 (password file + ACL) + a plain subscriber writing the same points to the same influxd', value: ref.sustained }, ratio,
          target: ref.sustained === 0
            ? `≥ 0.8× the reference: not measurable — the reference did not keep up with the lowest offered rate (the machine is too busy; see the steps)`
            : `≥ 0.8× the reference: ${ratio >= 0.8 ? 'met' : 'NOT met'}${ref.steps.every((s) => s.sustained) ? ' (the reference kept up at every offered rate: its figure is a lower bound, the ratio an upper bound)' : ''}`,
          notes: `highest offered rate (of ${opts.rates.join(', ')}) whose ${opts.stepSeconds} s step ended with < 1.5 s of events not yet in InfluxDB and no growth (a step missed is run once more); hub ${stepsText(hubResult)}; mosquitto ${stepsText(ref)}`,
        },
        {
          name: `CPU per event at ${common} events/s (the highest rate both sustained)`, value: at(hubResult), unit: 'µs/event',
          reference: { name: 'mosquitto + subscriber processes', value: at(ref) }, ratio: at(hubResult) / at(ref),
          notes: 'hub: the whole hub process (broker, ingest, rules, history writer, notifier); reference: mosquitto + subscriber; influxd and the generators are counted in neither; ratio = hub / reference (lower is better)',
        },
        {
          name: 'exactly once into InfluxDB: points of the load in the database', value: hubResult.points, unit: 'points',
          reference: { name: 'events acknowledged to the generators', value: hubResult.acked }, ratio: hubResult.points / Math.max(1, hubResult.acked),
          target: `count = events acknowledged, no duplicate ids: ${once(hubResult) ? 'met' : 'NOT met'}`,
          notes: `hub: ${hubResult.sent} sent, ${hubResult.acked} acknowledged, ${hubResult.points} points, ${hubResult.distinctIds} distinct ids; reference: ${ref.sent} sent, ${ref.acked} acknowledged, ${ref.points} points, ${ref.distinctIds} distinct ids (${once(ref) ? 'exactly once' : 'NOT exactly once'})`,
        },
        {
          name: `alert latency p99, help button publish → the twilio client's request at the local Twilio server, while ${opts.homes} homes' normal load flows${opts.historyAlerts ? `, ${opts.historyAlerts.toLocaleString('en-US')} resolved alerts of history` : ''}`, value: alert.p99, unit: 'ms',
          target: `< 250 ms: ${alert.p99 < 250 ? 'met' : 'NOT met'}`,
          notes: `p50 ${alert.p50.toFixed(1)} ms over ${alert.count} sequential alerts; normal load = ${opts.homes} homes × 8 devices × 1 event/min = ${alert.normalRate} events/s through MQTT from ${opts.devices} connected devices; the engine holds ${opts.homes} homes' state`,
        },
      ],
    };
  } finally {
    await influxd.close();
  }
}
