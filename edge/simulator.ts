/**
 * The resident-day simulator: a street of homes living ordinary, varied days
 * in their own time zone, with incidents injected where asked and written
 * down as ground truth. Same seed → the same readings, byte for byte.
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { idSchema, type HomeHeartbeat, type Reading } from '../core/events.js';
import { localTime, toLocalIso } from '../core/time.js';
import { climateReadings, deviceTraits, heartbeats, type DeviceTraits } from './device-telemetry.js';
import { defaultProfile, homeProfileSchema, profileDevices, type HomeProfile } from './home-profile.js';
import { defaultIncidentSpecs, incidentTypes, planIncidents, type Incident, type IncidentContext, type IncidentPlan, type IncidentSpec } from './incidents.js';
import { addDays, type LocalDate } from './local-days.js';
import { createRandom, type Random } from './random.js';
import { dayWindow, residentDay, type DayIncident, type DayWindow, type EventBody } from './resident-day.js';

export { defaultProfile, homeDevices, matDevices, profileDevices, type HomeProfile, type SensorProfile, type TimeOfDay } from './home-profile.js';
export { defaultIncidentTypes, incidentTypes, type Incident, type IncidentSpec, type IncidentType } from './incidents.js';

const DAY = 86_400_000;

export interface SimulationOptions {
  seed: number;
  /** How many homes (`home-01`, `home-02`, … with varied default profiles), or the profiles themselves. */
  homes: number | HomeProfile[];
  /** Ids for generated homes when `homes` is a number (default `home-01`, `home-02`, …). */
  homeIds?: string[];
  /** RFC 3339; the run covers [start, start + days). */
  start: string;
  days: number;
  /** `'none'` (the default): ordinary days only; `'default'`: one incident of each type; or explicit specs. */
  incidents?: 'none' | 'default' | IncidentSpec[];
  /** Minutes between a device's heartbeats; 30 unless set. */
  heartbeatMinutes?: number;
  /** Periods away from home (hospital stays, trips): out through the front door at `from`, back at `to`. */
  absences?: AbsenceSpec[];
  /** Visits (a helper, family, a responder): door, movement and the kettle while the visitor is there. */
  visits?: VisitSpec[];
  /** Recording gaps (the hub or the power off): nothing at all of that home in [from, to). Profiles may draw more (`sensors.gaps`). */
  gaps?: GapSpec[];
}

/** Nothing of `home` arrives in [`from`, `to`) (RFC 3339). */
export interface GapSpec { home: string; from: string; to: string }

/** The resident is away from `from` to `to` (RFC 3339); `reason` is for the ground truth only. */
export interface AbsenceSpec { home: string; from: string; to: string; reason?: 'hospital' | 'trip' | 'other' }
/** Someone visits at `at` (RFC 3339) for `minutes`. */
export interface VisitSpec { home: string; at: string; minutes: number }

/** A device of a simulated home. */
export interface SimulatedDevice { home: string; device: string; kind: string }

export interface Simulation {
  /** Every event and heartbeat, sorted by time, then home, then device. */
  readings: Reading[];
  /** Ground truth: the injected incidents, sorted by start. */
  incidents: Incident[];
  devices: SimulatedDevice[];
  /** Every recording gap (explicit and drawn), sorted by home, then start; times in the home's offset. */
  gaps: GapSpec[];
}

const incidentSpecSchema = z.object({
  home: z.string(), type: z.enum(incidentTypes), at: z.iso.datetime({ offset: true }),
  device: z.string().optional(), durationMinutes: z.number().positive().max(24 * 60).optional(),
  delayMinutes: z.number().min(0).max(12 * 60).optional(),
});
const optionsSchema = z.object({
  seed: z.number().finite(),
  homes: z.union([z.number().int().min(1).max(10_000), z.array(homeProfileSchema).min(1)]),
  homeIds: z.array(idSchema).optional(),
  start: z.iso.datetime({ offset: true }),
  days: z.number().positive().max(3660),
  incidents: z.union([z.literal('none'), z.literal('default'), z.array(incidentSpecSchema)]).optional(),
  heartbeatMinutes: z.number().min(1).max(24 * 60).optional(),
  absences: z.array(z.object({ home: z.string(), from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), reason: z.enum(['hospital', 'trip', 'other']).optional() })
    .refine((a) => Date.parse(a.to) > Date.parse(a.from), { message: 'to must be after from' })).optional(),
  visits: z.array(z.object({ home: z.string(), at: z.iso.datetime({ offset: true }), minutes: z.number().min(10).max(12 * 60) })).optional(),
  gaps: z.array(z.object({ home: z.string(), from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
    .refine((g) => Date.parse(g.to) > Date.parse(g.from), { message: 'to must be after from' })).optional(),
});

/** Everything fixed before the first reading is produced. */
interface Prepared {
  profiles: HomeProfile[];
  start: number;
  end: number;
  heartbeatMs: number;
  rng: Random;
  traits: Map<string, DeviceTraits>;
  climatePhase: Map<string, number>;
  plan: IncidentPlan;
  /** Each home's devices (ids). */
  devices: Map<string, Set<string>>;
  /** Each home's recording gaps, sorted. */
  gaps: Map<string, Array<{ from: number; to: number }>>;
}

function prepare(input: SimulationOptions): Prepared {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  const opts = input;
  const rng = createRandom(opts.seed);
  const profiles = typeof opts.homes === 'number'
    ? Array.from({ length: opts.homes }, (_, i) => {
      const home = opts.homeIds?.[i] ?? `home-${String(i + 1).padStart(2, '0')}`;
      return defaultProfile(home, rng.fork(`profile/${home}`));
    })
    : opts.homes.map((p) => structuredClone(p));
  if (new Set(profiles.map((p) => p.home)).size !== profiles.length) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'home ids must be unique');
  const start = Date.parse(opts.start);
  const end = start + Math.round(opts.days * DAY);
  const heartbeatMs = Math.round((opts.heartbeatMinutes ?? 30) * 60_000);
  const traits = new Map<string, DeviceTraits>();
  const climatePhase = new Map<string, number>();
  for (const p of profiles) {
    for (const d of profileDevices(p)) traits.set(`${p.home}/${d.device}`, deviceTraits(rng.fork(`device/${p.home}/${d.device}`), heartbeatMs, d.battery));
    climatePhase.set(p.home, rng.fork(`climate/${p.home}`).int(0, 3599) * 1000);
  }
  const byHome = new Map(profiles.map((p) => [p.home, p]));
  const tzOf = (home: string) => (byHome.get(home) as HomeProfile).timezone;
  const ctx: IncidentContext = {
    profiles, start, end, days: Math.ceil(opts.days), heartbeatMs, rng,
    traits: (home, device) => traits.get(`${home}/${device}`) as DeviceTraits,
    firstDate: (home) => localDateOf(start, tzOf(home)),
    windowStartFor: (home, at) => windowContaining(at, tzOf(home)).start,
  };
  const specs = opts.incidents === undefined || opts.incidents === 'none' ? [] : opts.incidents === 'default' ? defaultIncidentSpecs(ctx) : opts.incidents;
  const plan = planIncidents(specs, ctx);
  planAbsencesAndVisits(opts, plan, byHome);
  const devices = new Map(profiles.map((p) => [p.home, new Set(profileDevices(p).map((d) => d.device))]));
  return { profiles, start, end, heartbeatMs, rng, traits, climatePhase, plan, devices, gaps: planGaps(opts, profiles, start, end, rng, plan.incidents) };
}

/**
 * Explicit gaps plus those each profile draws (`sensors.gaps`, from its own
 * stream), per home and sorted. A drawn gap over one of the home's incidents is
 * dropped (after drawing, so every other draw stays as it was): an incident's
 * truth says what the home's sensors showed — "only heartbeats and room
 * climate" — and a gap would make that untrue (the hub cannot watch a home
 * whose data is not arriving; watermark.ts).
 */
function planGaps(opts: SimulationOptions, profiles: readonly HomeProfile[], start: number, end: number, rng: Random, incidents: readonly Incident[]): Map<string, Array<{ from: number; to: number }>> {
  const gaps = new Map<string, Array<{ from: number; to: number }>>(profiles.map((p) => [p.home, []]));
  for (const g of opts.gaps ?? []) {
    const list = gaps.get(g.home);
    if (!list) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `gap for unknown home ${JSON.stringify(g.home)}`);
    list.push({ from: Date.parse(g.from), to: Date.parse(g.to) });
  }
  for (const p of profiles) {
    const g = p.sensors?.gaps;
    if (g === undefined) continue;
    const gr = rng.fork(`gaps/${p.home}`);
    const n = gr.poisson((g.perMonth * (end - start)) / (30.44 * DAY));
    for (let i = 0; i < n; i++) {
      const from = Math.round(gr.uniform(start, end) / 1000) * 1000;
      const to = from + Math.round(gr.uniform(g.hours[0], g.hours[1]) * 3600) * 1000;
      if (incidents.some((x) => x.home === p.home && from < (x.end === undefined ? end : Date.parse(x.end)) && to > Date.parse(x.start))) continue;
      gaps.get(p.home)!.push({ from, to });
    }
  }
  for (const list of gaps.values()) list.sort((a, b) => a.from - b.from);
  return gaps;
}

/** Files absences (on every resident day they touch) and visits into the day plan. */
function planAbsencesAndVisits(opts: SimulationOptions, plan: IncidentPlan, byHome: Map<string, HomeProfile>): void {
  const add = (home: string, from: number, to: number, d: DayIncident) => {
    const profile = byHome.get(home);
    if (!profile) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `absence or visit for unknown home ${JSON.stringify(home)}`);
    for (let w = windowContaining(from, profile.timezone); w.start < to; w = dayWindow(addDays(w.date, 1), profile.timezone)) {
      const key = `${home}|${w.start}`;
      plan.byDay.set(key, [...(plan.byDay.get(key) ?? []), d]);
    }
  };
  const sec = (iso: string) => Math.round(Date.parse(iso) / 1000) * 1000;
  for (const a of opts.absences ?? []) add(a.home, sec(a.from), sec(a.to), { type: 'absent', from: sec(a.from), to: sec(a.to) });
  for (const v of opts.visits ?? []) {
    const at = sec(v.at), end = at + Math.round(v.minutes * 60_000);
    add(v.home, at, at + 1, { type: 'visitor', at, end });
  }
}

function localDateOf(at: number, timeZone: string): LocalDate {
  const l = localTime(at, timeZone);
  return { year: l.year, month: l.month, day: l.day };
}

/** The resident-day window (04:00 → 04:00) that contains `at`. */
function windowContaining(at: number, timeZone: string): DayWindow {
  const l = localTime(at, timeZone);
  const date = { year: l.year, month: l.month, day: l.day };
  return dayWindow(l.hour < 4 ? addDays(date, -1) : date, timeZone);
}

/** A reading waiting in the merge buffer, before it gets its id. */
interface Pending { at: number; home: string; device: string; ord: number; body?: EventBody; heartbeat?: HomeHeartbeat }

function windowReadings(p: Prepared, profile: HomeProfile, w: DayWindow): Pending[] {
  const { home } = profile;
  const dateKey = `${w.date.year}-${w.date.month}-${w.date.day}`;
  const rng = p.rng.fork(`day/${home}/${dateKey}`);
  const out: Pending[] = [];
  const devices = p.devices.get(home) as Set<string>;
  const gaps = p.gaps.get(home) ?? [];
  const keep = (device: string, at: number): boolean => {
    if (at < p.start || at >= p.end) return false;
    if (!devices.has(device) || gaps.some((g) => at >= g.from && at < g.to)) return false;
    const silent = p.plan.silentFrom.get(`${home}/${device}`);
    return silent === undefined || at < silent;
  };
  const events = residentDay(profile, w, rng, p.plan.byDay.get(`${home}|${w.start}`) ?? []);
  events.push(...climateReadings(profile, p.climatePhase.get(home) ?? 0, w.start, w.end, rng.fork('climate')));
  for (const e of events) if (keep(e.device, e.at)) out.push({ at: e.at, home, device: e.device, ord: out.length, body: e.body });
  for (const d of profile.sensors?.heartbeats === false ? [] : profileDevices(profile)) {
    const key = `${home}/${d.device}`;
    for (const hb of heartbeats(home, d.device, p.traits.get(key) as DeviceTraits, p.heartbeatMs, w.start, w.end, p.start, rng.fork(`hb/${d.device}`), p.plan.batteryFailures.get(key))) {
      if (keep(d.device, hb.at)) out.push({ at: hb.at, home, device: d.device, ord: out.length, heartbeat: hb });
    }
  }
  return out;
}

const byTime = (a: Pending, b: Pending): number =>
  a.at - b.at || (a.home < b.home ? -1 : a.home > b.home ? 1 : 0) || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0) || a.ord - b.ord;

function* run(p: Prepared): Generator<Reading> {
  const tz = new Map(p.profiles.map((h) => [h.home, h.timezone]));
  // Start one day early: the night before `start` belongs to the previous resident day.
  const cursor = p.profiles.map((profile) => ({ profile, date: addDays(localDateOf(p.start, profile.timezone), -1) }));
  const lastId = new Map<string, { at: number; n: number }>();
  const finish = (x: Pending): Reading => {
    if (x.heartbeat) return x.heartbeat;
    // Ids come from the time, not a counter, so a restarted simulation never
    // reuses an id the hub has already seen (it would drop the event).
    const key = `${x.home}/${x.device}`;
    const prev = lastId.get(key);
    const n = prev && prev.at === x.at ? prev.n + 1 : 0;
    lastId.set(key, { at: x.at, n });
    const id = `${x.device}-${x.at.toString(36)}${n > 0 ? `-${n}` : ''}`;
    return { home: x.home, device: x.device, at: x.at, id, ts: toLocalIso(x.at, tz.get(x.home) as string), ...(x.body as EventBody) } as Reading;
  };
  let buffer: Pending[] = [];
  for (;;) {
    let threshold = Infinity;
    let produced = false;
    for (const c of cursor) {
      const w = dayWindow(c.date, c.profile.timezone);
      if (w.start >= p.end) continue;
      produced = true;
      for (const x of windowReadings(p, c.profile, w)) buffer.push(x);
      threshold = Math.min(threshold, w.end);
      c.date = addDays(c.date, 1);
    }
    if (!produced) break;
    // Every later window of every home starts at or after `threshold`, so
    // everything before it is final and can go out in order.
    buffer.sort(byTime);
    let i = 0;
    while (i < buffer.length && (buffer[i] as Pending).at < threshold) yield finish(buffer[i++] as Pending);
    buffer = buffer.slice(i);
  }
  buffer.sort(byTime);
  for (const x of buffer) yield finish(x);
}

/**
 * Simulates `opts.days` days of every home. Returns all readings (sorted by
 * time, then home), the ground truth of injected incidents, and the devices.
 *
 * @example
 * const sim = simulate({ seed: 7, homes: 6, start: '2026-01-05T00:00:00+09:00', days: 14, incidents: 'default' });
 */
export function simulate(opts: SimulationOptions): Simulation {
  const p = prepare(opts);
  return {
    readings: [...run(p)],
    incidents: p.plan.incidents,
    devices: devicesOf(p.profiles),
    gaps: gapsOf(p),
  };
}

/** A lazy run: the readings as a generator, with the ground truth and devices known up front. */
export type SimulationStream = Generator<Reading> & {
  incidents: Incident[];
  devices: SimulatedDevice[];
  profiles: HomeProfile[];
  gaps: GapSpec[];
  /** The generator itself, so `for (const r of stream.readings)` reads like `simulate()`. */
  readings: Generator<Reading>;
};

/**
 * The same readings as `simulate(opts).readings`, produced lazily one day at
 * a time: memory stays flat for long runs and the live demo. The devices and
 * the incidents' ground truth are available before the first reading.
 */
export function simulateStream(opts: SimulationOptions): SimulationStream {
  const p = prepare(opts);
  const gen = run(p);
  return Object.assign(gen, { incidents: p.plan.incidents, devices: devicesOf(p.profiles), profiles: p.profiles, gaps: gapsOf(p), readings: gen });
}

function devicesOf(profiles: readonly HomeProfile[]): SimulatedDevice[] {
  return profiles.flatMap((h) => profileDevices(h).map((d) => ({ home: h.home, device: d.device, kind: d.kind })));
}

function gapsOf(p: Prepared): GapSpec[] {
  return p.profiles.flatMap((h) => (p.gaps.get(h.home) ?? []).map((g) => ({ home: h.home, from: toLocalIso(g.from, h.timezone), to: toLocalIso(g.to, h.timezone) })));
}
