/**
 * Who lives in a simulated home: the resident's habits, as data. Each home
 * gets its own profile so a street of homes does not wake up in lock-step.
 */
import { z } from 'zod';
import { idSchema } from '../core/events.js';
import { formatClockTime, parseClockTime } from '../core/time.js';
import type { Random } from './random.js';

/** A habitual time of day: a mean "HH:MM" and a day-to-day spread. */
export interface TimeOfDay { mean: string; sdMinutes: number }

/** One resident's routine. Times are wall-clock times in `timezone`. */
export interface HomeProfile {
  home: string;
  /** IANA zone, e.g. `Asia/Tokyo`. */
  timezone: string;
  wake: TimeOfDay;
  sleep: TimeOfDay;
  /** Minutes between getting up and sitting down to breakfast. */
  breakfastAfterWakeMinutes: number;
  lunch: TimeOfDay;
  dinner: TimeOfDay;
  /** Kettle habits: probability of boiling water at breakfast, plus other daily uses (afternoon tea, …). */
  kettleUses: { breakfast: number; extra: Array<{ at: TimeOfDay; probability: number }> };
  /** Probability that a cooked meal uses the gas stove. */
  cooksWithGas: number;
  /** Weekdays (0 = Sunday) on which the resident goes to day-care (通所介護). */
  dayCareDays: number[];
  /** Mean number of outings (shopping, clinic, walks) per week on non-day-care days. */
  outingsPerWeek: number;
  /** True: bath most evenings at `bath`; false: every other day at `bath` (often mid-afternoon). */
  bathEvening: boolean;
  bath: TimeOfDay;
  /** Mean toilet visits per night (Poisson). */
  nightToiletVisits: number;
  /** Mean minutes between daytime toilet visits. */
  toiletEveryMinutes: number;
  /** Electricity drawn with nobody doing anything (fridge, standby). */
  baseLoadWatts: number;
  /** Seasons: wake up to this many minutes later in mid-winter (and earlier in mid-summer); absent = no seasonal change. */
  seasonalWakeMinutes?: number;
  /** A slow trend: from local date `from` (YYYY-MM-DD), `perWeek` more night toilet visits per night each week. */
  nightToiletTrend?: { from: string; perWeek: number };
  /** A slow trend: from local date `from`, outings per week change by `perWeek` each week (negative: fewer). */
  outingsTrend?: { from: string; perWeek: number };
  /** Mean visits per week by a friend, neighbour or helper while the resident is home (door, movement, the kettle). */
  visitorsPerWeek?: number;
  /**
   * The latest a day's wake-up may be drawn (default 08:45). A late riser
   * (`wake` ≈ 10:30, `wakeLatest` 12:00) stays in bed — the bed mat pressed —
   * until then; on day-care days she still gets up in time for the bus.
   */
  wakeLatest?: string;
  /** An afternoon nap on the bed (bed mat pressed, one bedroom movement going in): chance per day, when, how long. */
  nap?: { probability: number; at: TimeOfDay; minutes: [number, number] };
  /** Sitting still in the chair (TV, reading) for a long spell: mean spells per day at home and their length. */
  sitting?: { perDay: number; minutes: [number, number] };
  /** What the home's sensors are like; absent = every standard device, heartbeats, no mats, no faults. */
  sensors?: SensorProfile;
}

/**
 * Sensor realism, copied from what real recordings show (docs/simulator.md):
 * devices that report only on change, pressure mats that chatter, a
 * tap or flush reed that sticks "on", the hub losing power for hours.
 */
export interface SensorProfile {
  /** false: no device sends heartbeats (most real PIR, reed and mat sensors report only on change). Default true. */
  heartbeats?: boolean;
  /** Standard devices this home does not have: a motion-only home has no kettle or meters, an object-only home no motion sensors. */
  without?: HomeDeviceId[];
  /** A bed pressure mat (`bed-mat`, motion in the bedroom, pressed while in bed); `chatterPerHour` brief release/press flickers an hour while pressed. */
  bedMat?: { chatterPerHour: number };
  /** A seat pressure mat on the favourite chair (`seat-mat`, motion in the living room, pressed while sitting). */
  seatMat?: { chatterPerHour: number };
  /** The water sensor (a tap or flush reed) sticks "on" after a use: chance per day, and for how many hours. */
  latchedWater?: { perDay: number; hours: [number, number] };
  /** Recording gaps (hub or power off, nothing at all arrives): mean gaps per month and their length in hours. */
  gaps?: { perMonth: number; hours: [number, number] };
}

/** The devices every simulated home has, with stable ids. */
export const homeDevices = [
  { device: 'kettle', kind: 'kettle', battery: false },
  { device: 'water-meter', kind: 'water', battery: true },
  { device: 'gas-meter', kind: 'gas', battery: true },
  { device: 'power-meter', kind: 'power', battery: false },
  { device: 'front-door', kind: 'door', battery: true },
  { device: 'motion-living', kind: 'motion', battery: true },
  { device: 'motion-kitchen', kind: 'motion', battery: true },
  { device: 'motion-bedroom', kind: 'motion', battery: true },
  { device: 'motion-bath', kind: 'motion', battery: true },
  { device: 'help-button', kind: 'button', battery: true },
  { device: 'climate-living', kind: 'climate', battery: true },
] as const;

export type HomeDeviceId = (typeof homeDevices)[number]['device'];
const homeDeviceIds = homeDevices.map((d) => d.device) as [HomeDeviceId, ...HomeDeviceId[]];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');
const timeOfDay = z.object({ mean: hhmm, sdMinutes: z.number().min(0).max(180) });
const probability = z.number().min(0).max(1);
/** `[lo, hi]` within bounds, lo ≤ hi. */
const range = (min: number, max: number) => z.tuple([z.number().min(min).max(max), z.number().min(min).max(max)]).refine(([lo, hi]) => lo <= hi, 'expected [low, high]');

/** Validates a profile passed in by a caller (the demo, a test, a file). */
export const homeProfileSchema = z.object({
  home: idSchema,
  timezone: z.string().refine((tz) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; } }, 'unknown time zone'),
  wake: timeOfDay,
  sleep: timeOfDay,
  breakfastAfterWakeMinutes: z.number().min(0).max(180),
  lunch: timeOfDay,
  dinner: timeOfDay,
  kettleUses: z.object({ breakfast: probability, extra: z.array(z.object({ at: timeOfDay, probability })).max(6) }),
  cooksWithGas: probability,
  dayCareDays: z.array(z.number().int().min(0).max(6)).max(7),
  outingsPerWeek: z.number().min(0).max(14),
  bathEvening: z.boolean(),
  bath: timeOfDay,
  nightToiletVisits: z.number().min(0).max(6),
  toiletEveryMinutes: z.number().min(45).max(480),
  baseLoadWatts: z.number().min(0).max(5000),
  seasonalWakeMinutes: z.number().min(-90).max(90).optional(),
  nightToiletTrend: z.object({ from: z.iso.date(), perWeek: z.number().min(-2).max(2) }).optional(),
  outingsTrend: z.object({ from: z.iso.date(), perWeek: z.number().min(-5).max(5) }).optional(),
  visitorsPerWeek: z.number().min(0).max(14).optional(),
  wakeLatest: hhmm.optional(),
  nap: z.object({ probability, at: timeOfDay, minutes: range(10, 240) }).optional(),
  sitting: z.object({ perDay: z.number().min(0).max(4), minutes: range(30, 8 * 60) }).optional(),
  sensors: z.object({
    heartbeats: z.boolean().optional(),
    without: z.array(z.enum(homeDeviceIds)).optional(),
    bedMat: z.object({ chatterPerHour: z.number().min(0).max(120) }).optional(),
    seatMat: z.object({ chatterPerHour: z.number().min(0).max(120) }).optional(),
    latchedWater: z.object({ perDay: probability, hours: range(0.5, 20) }).optional(),
    gaps: z.object({ perMonth: z.number().min(0).max(30), hours: range(0.5, 96) }).optional(),
  }).optional(),
});

/** Pressure mats a home may have (`sensors.bedMat`, `sensors.seatMat`): held states reported as motion in their room. */
export const matDevices = [
  { device: 'bed-mat', kind: 'motion', battery: true, room: 'bedroom' },
  { device: 'seat-mat', kind: 'motion', battery: true, room: 'living' },
] as const;

/** A device of a simulated home. */
export interface ProfileDevice { device: string; kind: string; battery: boolean }

/**
 * The devices of this home: the standard ones it has (all of them unless
 * `sensors.without` says otherwise), then its mats. A profile without
 * `sensors` gets exactly `homeDevices`.
 */
export function profileDevices(profile: HomeProfile): readonly ProfileDevice[] {
  const s = profile.sensors;
  if (s === undefined) return homeDevices;
  const without = new Set<string>(s.without ?? []);
  return [
    ...homeDevices.filter((d) => !without.has(d.device)),
    ...(s.bedMat ? [matDevices[0]] : []),
    ...(s.seatMat ? [matDevices[1]] : []),
  ];
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const around = (rng: Random, meanMinute: number, sd: number, lo: number, hi: number): string =>
  formatClockTime(clamp(Math.round(rng.normal(meanMinute, sd)), lo, hi));

/**
 * A plausible, varied routine for `home`: early risers and late sleepers,
 * some with day-care two or three days a week, some who bathe in the
 * afternoon. Deterministic for a given `rng`.
 */
export function defaultProfile(home: string, rng: Random): HomeProfile {
  const wake = around(rng, 6 * 60 + 15, 25, 5 * 60 + 15, 7 * 60 + 45);
  const bathEvening = rng.chance(0.75);
  const dayCareDays = rng.chance(0.7) ? rng.shuffle([1, 2, 3, 4, 5, 6]).slice(0, rng.int(1, 3)).sort((a, b) => a - b) : [];
  const extra = [{ at: { mean: around(rng, 15 * 60, 20, 14 * 60 + 15, 15 * 60 + 45), sdMinutes: Math.round(rng.uniform(15, 30)) }, probability: round2(rng.uniform(0.6, 0.9)) }];
  if (rng.chance(0.4)) extra.push({ at: { mean: around(rng, 19 * 60 + 45, 15, 19 * 60 + 15, 20 * 60 + 15), sdMinutes: 15 }, probability: round2(rng.uniform(0.2, 0.5)) });
  return {
    home,
    timezone: 'Asia/Tokyo',
    wake: { mean: wake, sdMinutes: Math.round(rng.uniform(10, 25)) },
    sleep: { mean: around(rng, 21 * 60 + 15, 30, 20 * 60 + 30, 22 * 60 + 45), sdMinutes: Math.round(rng.uniform(10, 25)) },
    breakfastAfterWakeMinutes: Math.round(rng.uniform(15, 45)),
    lunch: { mean: around(rng, 12 * 60, 15, 11 * 60 + 30, 12 * 60 + 30), sdMinutes: 15 },
    dinner: { mean: around(rng, 18 * 60, 20, 17 * 60 + 15, 18 * 60 + 45), sdMinutes: 20 },
    kettleUses: { breakfast: round2(rng.uniform(0.85, 1)), extra },
    cooksWithGas: round2(rng.uniform(0.3, 0.9)),
    dayCareDays,
    outingsPerWeek: round2(rng.uniform(1, 5)),
    bathEvening,
    bath: bathEvening
      ? { mean: around(rng, 19 * 60 + 30, 25, 18 * 60 + 45, 20 * 60 + 30), sdMinutes: 20 }
      : { mean: around(rng, 15 * 60 + 45, 20, 15 * 60 + 15, 16 * 60 + 30), sdMinutes: 20 },
    nightToiletVisits: round2(rng.uniform(0.3, 2)),
    toiletEveryMinutes: Math.round(rng.uniform(120, 200)),
    baseLoadWatts: Math.round(rng.uniform(80, 180)),
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** A day's draw of a habitual time, as minutes after local midnight, clamped to [lo, hi]. */
export function drawMinute(rng: Random, t: TimeOfDay, lo: number, hi: number): number {
  return clamp(rng.normal(parseClockTime(t.mean), t.sdMinutes), lo, hi);
}
