// Shared test fixtures for the rule engine: a virtual clock, a Tokyo day, hand-built readings.
import { randomUUID } from 'node:crypto';
import { VirtualClock } from '../../core/clock.js';
import type { HomeEvent, HomeHeartbeat, Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { silentLogger } from '../../core/logger.js';
import type { Store } from '../../core/store.js';
import { createRuleEngine, type RuleEngine } from '../../rules/engine.js';
import type { WatermarkSettings } from '../../rules/watermark.js';

/** Local midnight starting Saturday 2026-11-21 in Tokyo. */
export const DAY0 = Date.parse('2026-11-21T00:00:00+09:00');
export const MIN = 60_000;
export const HOUR = 3_600_000;

/** Epoch ms of "HH:MM" on day `day` (0 = 2026-11-21) in Tokyo. */
export function at(hhmm: string, day = 0): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return DAY0 + day * 24 * HOUR + h * HOUR + m * MIN;
}

const base = (home: string, device: string, t: number) => ({ id: randomUUID(), ts: new Date(t).toISOString(), home, device, at: t });

export const motion = (t: number, device = 'motion-living', home = 'h1', occupied = true): HomeEvent => ({ ...base(home, device, t), kind: 'motion', occupied });
export const door = (t: number, open: boolean, device = 'door-front', home = 'h1', name = 'front'): HomeEvent => ({ ...base(home, device, t), kind: 'door', open, door: name });
export const water = (t: number, flowing: boolean, device = 'water-meter', home = 'h1'): HomeEvent => ({ ...base(home, device, t), kind: 'water', flowing });
export const gas = (t: number, flowing: boolean, device = 'gas-meter', home = 'h1'): HomeEvent => ({ ...base(home, device, t), kind: 'gas', flowing });
export const kettle = (t: number, state: 'on' | 'off' = 'on', device = 'kettle', home = 'h1'): HomeEvent => ({ ...base(home, device, t), kind: 'kettle', state });
export const power = (t: number, watts: number, device = 'power-meter', home = 'h1'): HomeEvent => ({ ...base(home, device, t), kind: 'power', watts });
export const button = (t: number, press: 'help' | 'ok', device = 'button', home = 'h1'): HomeEvent => ({ ...base(home, device, t), kind: 'button', press });
export const climate = (t: number, celsius = 21, device = 'climate', home = 'h1'): HomeEvent => ({ ...base(home, device, t), kind: 'climate', celsius });
export function heartbeat(t: number, device = 'motion-living', battery?: number, home = 'h1'): HomeHeartbeat {
  const hb: HomeHeartbeat = { kind: 'heartbeat', home, device, at: t };
  if (battery !== undefined) hb.battery = battery;
  return hb;
}

export interface Harness {
  clock: VirtualClock;
  engine: RuleEngine;
  findings: Finding[];
  /** Moves the clock to the reading's time (firing due timers) and ingests it. */
  feed(...readings: Reading[]): void;
  /** Findings of one rule type, as "state:severity" strings. */
  of(type: string): string[];
}

/**
 * An engine on a virtual clock starting at `start`, recording every finding.
 * The watermark is off unless `watermark` is given: rule tests feed a day's
 * readings from before the clock's start and let homes fall silent on purpose.
 */
export async function harness(opts: { start?: number; rules?: unknown; store?: Store; rulesFor?: (home: string) => unknown; watermark?: Partial<WatermarkSettings> } = {}): Promise<Harness> {
  const clock = new VirtualClock(opts.start ?? at('06:00'));
  const engineOpts: Parameters<typeof createRuleEngine>[0] = { clock, logger: silentLogger(), watermark: opts.watermark ?? false };
  if (opts.store) engineOpts.store = opts.store;
  if (opts.rulesFor) engineOpts.rulesFor = opts.rulesFor;
  else if (opts.rules !== undefined) engineOpts.rulesFor = () => opts.rules;
  const engine = await createRuleEngine(engineOpts);
  const findings: Finding[] = [];
  engine.findings.subscribe((f) => findings.push(f));
  return {
    clock, engine, findings,
    feed(...readings) {
      for (const r of readings) { clock.advanceTo(r.at); engine.ingest(r); }
    },
    of(type) { return findings.filter((f) => f.type === type).map((f) => `${f.state}:${f.severity}`); },
  };
}

/** Readings of an ordinary day: up at 07:00, busy until 21:30, motion every 40 minutes, heartbeats every 30 minutes all day. */
export function normalDay(day = 0, home = 'h1'): Reading[] {
  const out: Reading[] = [];
  out.push(motion(at('07:00', day), 'motion-bedroom', home), kettle(at('07:10', day), 'on', 'kettle', home), kettle(at('07:14', day), 'off', 'kettle', home));
  out.push(water(at('07:20', day), true, 'water-meter', home), water(at('07:25', day), false, 'water-meter', home));
  for (let t = at('07:30', day); t <= at('21:30', day); t += 40 * MIN) {
    out.push(motion(t, 'motion-living', home));
  }
  for (let t = at('00:00', day); t < at('24:00', day); t += 30 * MIN) {
    for (const d of ['motion-bedroom', 'motion-living', 'kettle', 'water-meter']) out.push(heartbeat(t + MIN, d, 80, home));
  }
  out.push(water(at('19:00', day), true, 'water-meter', home), water(at('19:20', day), false, 'water-meter', home));
  out.sort((a, b) => a.at - b.at);
  return out;
}
