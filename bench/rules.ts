/**
 * Rule engine throughput and memory: readings per second through
 * `engine.ingest` on one core, against a reference measured in the same run
 * over the same readings — a plain loop doing the least per-event work any
 * engine must do (find the home, find the device, update last-seen); and heap
 * bytes per home after GC with `homes` × `sensorsPerHome` devices known.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { VirtualClock } from '../core/clock.js';
import type { Reading } from '../core/events.js';
import { silentLogger } from '../core/logger.js';
import { createRuleEngine } from '../rules/engine.js';
import type { BenchRow } from './types.js';

const sensorKinds = ['motion', 'motion', 'door', 'kettle', 'water', 'power', 'climate', 'gas'] as const;
const hour = 3600_000;

/**
 * Reading `i` of a stream that visits every home in turn, and each home's
 * devices in turn. Per device, readings cycle (motion mostly occupied, water and the
 * kettle on then off) and every fourth is a heartbeat, so a home looks lived in:
 * a handful of findings a day, like real homes, not a storm.
 */
function makeReading(i: number, homes: number, sensors: number, at: number): Reading {
  const h = i % homes;
  const s = Math.floor(i / homes) % sensors;
  const k = Math.floor(i / (homes * sensors));
  const home = `home-${h}`;
  const device = `sensor-${s}`;
  if (k % 4 === 3) return { kind: 'heartbeat', home, device, at, battery: 80 };
  const on = k % 4 === 0;
  const base = { id: `r${i}`, ts: '', home, device, at };
  const localHour = Math.floor((at + 9 * hour) / hour) % 24;
  switch (sensorKinds[s % sensorKinds.length]!) {
    case 'motion': return { ...base, kind: 'motion', occupied: k % 4 !== 2 };
    // The front door is used in the daytime; at night the door sensor only sends heartbeats.
    case 'door': return localHour >= 8 && localHour < 20 ? { ...base, kind: 'door', open: on, door: 'front' } : { kind: 'heartbeat', home, device, at };
    case 'kettle': return { ...base, kind: 'kettle', state: on ? 'on' : 'off' };
    case 'water': return { ...base, kind: 'water', flowing: on };
    case 'gas': return { ...base, kind: 'gas', flowing: false };
    case 'power': return { ...base, kind: 'power', watts: 100 + (k % 7) * 100 };
    case 'climate': return { ...base, kind: 'climate', celsius: 21 };
  }
}

function findGc(): { gc: (() => void) | undefined; how: string } {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return { gc: g, how: 'global.gc (--expose-gc)' };
  try {
    setFlagsFromString('--expose-gc');
    const fromVm = runInNewContext('gc') as unknown;
    if (typeof fromVm === 'function') return { gc: fromVm as () => void, how: 'gc exposed at run time via v8.setFlagsFromString' };
  } catch { /* fall through */ }
  return { gc: undefined, how: 'gc not exposed: heap figure includes garbage (run node with --expose-gc)' };
}

/** Runs the rule-engine benchmark; see the file comment. */
export async function benchRules(opts: { homes: number; sensorsPerHome: number; events: number }): Promise<BenchRow[]> {
  const { homes, sensorsPerHome: sensors, events } = opts;
  const start = Date.parse('2026-11-21T06:00:00+09:00');
  // A pool of readings reused in rounds keeps the benchmark's own memory small at 2M events.
  const poolSize = Math.min(events, 500_000);
  // Each device reports about every 10 minutes: a lived-in home, not a storm of findings.
  const step = (10 * 60_000) / (homes * sensors);
  const span = Math.ceil(poolSize * step);
  const pool: Reading[] = [];
  for (let i = 0; i < poolSize; i++) pool.push(makeReading(i, homes, sensors, Math.floor(start + i * step)));
  /** Times `events` calls of `work` over the pool; for the engine the pool moves on by its own span after each pass (untimed), so its time only goes forward. */
  const measure = (work: (r: Reading) => void, moveOn: boolean): number => {
    let elapsed = 0;
    for (let done = 0; done < events;) {
      const count = Math.min(poolSize, events - done);
      const t0 = performance.now();
      for (let i = 0; i < count; i++) work(pool[i]!);
      elapsed += performance.now() - t0;
      done += count;
      if (moveOn) for (const r of pool) r.at += span;
    }
    return events / (elapsed / 1000);
  };

  // Reference: home lookup, device lookup, field update — nothing else.
  const ref = new Map<string, Map<string, { lastSeen: number }>>();
  const refRun = (): number => measure((r) => {
    let h = ref.get(r.home);
    if (h === undefined) { h = new Map(); ref.set(r.home, h); }
    const d = h.get(r.device);
    if (d === undefined) h.set(r.device, { lastSeen: r.at }); else if (r.at > d.lastSeen) d.lastSeen = r.at;
  }, false);

  const clock = new VirtualClock(start);
  const engine = await createRuleEngine({ clock, logger: silentLogger() });
  let findings = 0;
  engine.findings.subscribe(() => { findings++; });
  let n = 0;
  const engineRun = (): number => measure((r) => {
    // Time moves as the readings do, so due timers fire inside the measurement.
    if ((++n & 1023) === 0) clock.advanceTo(r.at);
    engine.ingest(r);
  }, true);
  // Warm up both, then measure (the engine's first pass creates the homes).
  refRun();
  engineRun();
  const reference = refRun();
  const throughput = engineRun();
  await engine.close();

  // Memory per home: heap after GC before and after `homes` homes × `sensors` devices are known.
  pool.length = 0;
  ref.clear();
  const { gc, how } = findGc();
  gc?.();
  const memClock = new VirtualClock(start);
  const memEngine = await createRuleEngine({ clock: memClock, logger: silentLogger() });
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let s = 0; s < sensors; s++) {
    for (let h = 0; h < homes; h++) memEngine.ingest(makeReading(h + s * homes, homes, sensors, start + s * 60_000));
  }
  memEngine.ingest({ kind: 'motion', occupied: true, home: 'home-0', device: 'sensor-0', at: start + 3600_000, id: 'x', ts: '' });
  gc?.();
  const perHome = (process.memoryUsage().heapUsed - before) / homes;
  await memEngine.close();

  return [
    {
      name: 'rules: readings through engine.ingest (one core)', value: Math.round(throughput), unit: 'events/s',
      reference: { name: 'plain loop: home + device Map lookup, last-seen update', value: Math.round(reference) },
      ratio: throughput / reference, target: `≥ 200000 events/s: ${throughput >= 200_000 ? 'met' : 'NOT met'}`,
      notes: `${events} readings over ${homes} homes × ${sensors} sensors, all six default rules, each device reporting every 10 min of clock time, clock advanced every 1024 readings; ${findings} findings raised/cleared`,
    },
    {
      name: 'rules: heap per home', value: Math.round(perHome), unit: 'bytes/home',
      target: `≤ 20480 bytes/home: ${perHome <= 20_480 ? 'met' : 'NOT met'}`,
      notes: `${homes} homes × ${sensors} sensors, default rules, one pending deadline each; ${how}`,
    },
  ];
}
