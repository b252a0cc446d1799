/**
 * A resident's learned normal day: per signal (first activity, first kettle
 * use, longest stay in the bathroom, night toilet visits, outings, restless
 * night time) a window of the last 28 ordinary days, kept separately for
 * day-care days and other days, plus the probability of some sign of life in
 * each hour of the day.
 *
 * Each reading updates today's accumulators in O(1); once a day (04:00 local,
 * the resident-day boundary) today's values are committed to the windows and
 * the summaries (median, MAD, quantiles) recomputed — a few hundred numbers.
 * Days with a critical finding, days mostly away and near-empty days are not
 * learned from, so an incident never becomes "normal". State is a few KB of
 * JSON per home.
 */
import { z } from 'zod';
import type { Reading } from '../core/events.js';
import { formatClockTime } from '../core/time.js';
import { activePeriod, awayMsBetween, isDayCareDay, type HomeContext } from './context.js';
import { ewmaStep, popcount, pushWindow, summarise, type SignalSummary } from './baseline-stats.js';
import type { ZoneClock } from './rules/rule.js';
import { doorPassageMs, endsOuting, noRoomMotion } from './presence.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The resident day runs 04:00 → 04:00 local, so a late night belongs to the day before. */
export const dayStartMinute = 4 * 60;
/** Night, in minutes after the day start: 23:00 → 04:00. */
export const nightFrom = 19 * 60;
export const nightTo = 24 * 60;
/** Closed front door, then the first movement this long after: the resident was out. */
const outingMinMs = 20 * MIN;
/**
 * A front door closing again this soon after the close that started an
 * outing is the same passage (a bouncing reed, a second try at the latch),
 * not a return.
 */
export { doorPassageMs } from './presence.js';

export const routineSignals = ['firstActivity', 'firstKettle', 'bathMinutes', 'nightToilet', 'outings', 'nightSlots', 'longestOuting'] as const;
/** A learned signal. Times are minutes after 04:00; counts are per day. */
export type RoutineSignal = (typeof routineSignals)[number];
export type DayType = 'dayCare' | 'other';

/** Floors for the spread: minutes for times and durations, counts for counts. */
const spreadFloor: Record<RoutineSignal, number> = { firstActivity: 10, firstKettle: 10, bathMinutes: 5, nightToilet: 0.5, outings: 0.5, nightSlots: 1, longestOuting: 15 };

export interface BaselineSettings {
  /** Days of learning before learned rules speak (default 14). */
  learningDays: number;
  /** Ordinary days per signal window (default 28): the horizon of drift adaptation. */
  windowDays: number;
  /** Days of history the trend rule compares (default 56). */
  trendDays: number;
}
export const defaultBaselineSettings: BaselineSettings = { learningDays: 14, windowDays: 28, trendDays: 56 };

export interface Profile {
  /** Days learned into this profile. */
  days: number;
  series: Record<RoutineSignal, number[]>;
  /** P(some sign of life in hour i after 04:00 | at home), and how many home-days it rests on. */
  hourP: number[];
  hourN: number[];
  /** Recomputed when a day is committed; not persisted. */
  summary: Partial<Record<RoutineSignal, SignalSummary>>;
}

/** Today's accumulators (epoch ms; minutes after the day start; NaN / -1 when not yet). */
export interface Today {
  start: number;
  end: number;
  dayType: DayType;
  firstActivity: number;
  firstKettle: number;
  bathOpen: number;
  bathMax: number;
  nightToilet: number;
  lastToiletAt: number;
  /** Bit i: a 10-minute slot of the night (23:00 + 10·i) with a sign of life. */
  nightSlots: number;
  outings: number;
  /** Longest outing that ended today, in minutes (0: none). */
  longestOut: number;
  /** Bit i: a sign of life in hour i after 04:00. */
  activeHours: number;
  /** Bit i: out of the home (front door closed, nothing inside) during hour i. */
  outHours: number;
  signs: number;
  /** A critical finding was raised today: not a day to learn from. */
  flagged: boolean;
}

export interface Baseline {
  days: number;
  today: Today | undefined;
  /** Front door closed and no movement inside since (epoch ms), -1 when inside. */
  doorClosedAt: number;
  profiles: Record<DayType, Profile>;
  /** Per-day history for trends (all ordinary days, oldest first). */
  trend: { nightToilet: number[]; outings: number[] };
}

function emptyProfile(): Profile {
  const series = {} as Record<RoutineSignal, number[]>;
  for (const s of routineSignals) series[s] = [];
  return { days: 0, series, hourP: new Array<number>(24).fill(0), hourN: new Array<number>(24).fill(0), summary: {} };
}

/** A baseline that knows nothing yet. */
export function createBaseline(): Baseline {
  return { days: 0, today: undefined, doorClosedAt: -1, profiles: { dayCare: emptyProfile(), other: emptyProfile() }, trend: { nightToilet: [], outings: [] } };
}

/** Start (epoch ms) of the resident day containing `at`: the last 04:00 on the home's clock at or before it (23- and 25-hour days included). */
export function dayStartOf(at: number, zone: ZoneClock): number {
  return zone.lastAt(at, dayStartMinute * MIN);
}

/** End (epoch ms) of the resident day that starts at `start`: the next 04:00, 23 or 25 hours ahead on the nights the clocks change. */
export function dayEndOf(start: number, zone: ZoneClock): number {
  return zone.nextAt(start, dayStartMinute * MIN);
}

/**
 * The profile hour of `at` in the resident day starting at `start`: whole hours
 * since its 04:00, the last one running to the day's end (a 25-hour day's last
 * two hours are one). What the learned hourly profile is indexed by, written
 * here and read by unusualInactivity.
 */
export function profileHour(at: number, start: number): number {
  return Math.min(23, Math.floor((at - start) / HOUR));
}

/** The kind of the resident day that starts at `start` (a scheduled or entered day-care day, or another). */
export function dayTypeOf(start: number, ctx: HomeContext, zone: ZoneClock): DayType {
  return isDayCareDay(ctx, start, dayEndOf(start, zone), localWeekday(start, zone)) ? 'dayCare' : 'other';
}

function newToday(start: number, ctx: HomeContext, zone: ZoneClock): Today {
  const end = dayEndOf(start, zone);
  return {
    start, end, dayType: dayTypeOf(start, ctx, zone),
    firstActivity: NaN, firstKettle: NaN, bathOpen: -1, bathMax: 0, nightToilet: 0, lastToiletAt: -1, nightSlots: 0,
    outings: 0, longestOut: 0, activeHours: 0, outHours: 0, signs: 0, flagged: false,
  };
}

/** Local weekday (0 = Sunday) at `at`. */
export function localWeekday(at: number, zone: ZoneClock): number {
  // The zone's offset at `at` is local time of day minus UTC time of day (mod a day).
  const utcMsOfDay = ((at % DAY) + DAY) % DAY;
  let offset = zone.msOfDay(at) - utcMsOfDay;
  if (offset > DAY / 2) offset -= DAY;
  if (offset < -DAY / 2) offset += DAY;
  return new Date(at + offset).getUTCDay();
}

/**
 * The profile that speaks for `type`: day-care days fall back to other days
 * until their own is ready (as many days as `isReady` asks of any profile).
 * A day-care profile standing in before that left the learned rules silent on
 * every day-care day in between.
 */
export function profileFor(b: Baseline, type: DayType, s: BaselineSettings = defaultBaselineSettings): Profile {
  const p = b.profiles[type];
  return type === 'dayCare' && p.days < Math.ceil(s.learningDays / 2) ? b.profiles.other : p;
}

/** Whether learned rules may speak: enough days overall and in the profile they use. */
export function isReady(b: Baseline, type: DayType, s: BaselineSettings = defaultBaselineSettings): boolean {
  return b.days >= s.learningDays && profileFor(b, type, s).days >= Math.ceil(s.learningDays / 2);
}

/** Learning progress for the family and the dashboard. */
export function learningProgress(b: Baseline, s: BaselineSettings = defaultBaselineSettings): { days: number; needed: number; ready: boolean; percent: number } {
  const ready = isReady(b, 'other', s);
  return { days: b.days, needed: s.learningDays, ready, percent: ready ? 100 : Math.min(99, Math.floor((100 * b.days) / s.learningDays)) };
}

function commit(b: Baseline, t: Today, ctx: HomeContext, s: BaselineSettings): void {
  const away = awayMsBetween(ctx, t.start, t.end) + popcount(t.outHours) * HOUR;
  if (t.flagged || t.signs < 5 || away > DAY / 2) return;
  const p = b.profiles[t.dayType];
  const values: Record<RoutineSignal, number> = {
    firstActivity: t.firstActivity, firstKettle: t.firstKettle, bathMinutes: t.bathMax > 0 ? t.bathMax : NaN,
    nightToilet: t.nightToilet, outings: t.outings, nightSlots: popcount(t.nightSlots),
    longestOuting: t.longestOut > 0 ? t.longestOut : NaN,
  };
  for (const sig of routineSignals) {
    pushWindow(p.series[sig], values[sig], s.windowDays);
    const sum = summarise(p.series[sig], spreadFloor[sig]);
    if (sum) p.summary[sig] = sum; else delete p.summary[sig];
  }
  for (let i = 0; i < 24; i++) {
    if ((t.outHours >>> i) & 1) continue;
    const hourStart = t.start + i * HOUR;
    if (activePeriod(ctx, hourStart + HOUR / 2) !== undefined) continue;
    p.hourP[i] = ewmaStep(p.hourP[i]!, p.hourN[i]!, (t.activeHours >>> i) & 1, s.windowDays);
    p.hourN[i] = Math.min(p.hourN[i]! + 1, 10_000);
  }
  p.days++;
  b.days++;
  pushWindow(b.trend.nightToilet, values.nightToilet, s.trendDays);
  if (t.dayType === 'other') pushWindow(b.trend.outings, values.outings, s.trendDays);
}

/**
 * Moves the baseline to the resident day containing `now`, committing the
 * days that ended. Returns true when a new day began.
 */
export function rollTo(b: Baseline, now: number, ctx: HomeContext, zone: ZoneClock, s: BaselineSettings = defaultBaselineSettings): boolean {
  const t = b.today;
  if (t !== undefined && now < t.end) return false;
  if (t !== undefined) {
    if (t.bathOpen >= 0) t.bathMax = Math.max(t.bathMax, (t.end - t.bathOpen) / MIN);
    if (b.doorClosedAt >= 0) markOut(t, b.doorClosedAt, t.end);
    commit(b, t, ctx, s);
  }
  // A gap of several days (hub off, a long trip) starts afresh at today.
  b.today = newToday(dayStartOf(now, zone), ctx, zone);
  if (t !== undefined && t.bathOpen >= 0 && b.today.start === t.end) b.today.bathOpen = b.today.start;
  return true;
}

function markOut(t: Today, from: number, to: number): void {
  const a = Math.max(0, Math.floor((from - t.start) / HOUR));
  const z = profileHour(Math.min(to, t.end) - 1, t.start);
  for (let i = a; i <= z; i++) t.outHours |= 1 << i;
}

export interface ObserveOptions {
  zone: ZoneClock; context: HomeContext; frontDoor: string; settings?: BaselineSettings;
  /** Whether `device` is a bed mat: what it reports is her in bed, alive but not up (`bedMatOf`). */
  inBed?: (device: string) => boolean;
  /** The home's marks: without `roomMotionKey` (no room motion sensor), a flow starting ends an outing (presence.ts, `endsOuting`). */
  marks?: Map<string, number> | undefined;
  /** When her waking hours begin, minutes after the day's start: before it, a sign followed by an empty hour is a trip in the night (`firstActivity`). */
  wakeFrom?: number | undefined;
}

/**
 * Folds one reading into today's accumulators (O(1)). `sign` is whether the
 * engine counted it as a sign of life (home-state.ts decides that once).
 */
export function observe(b: Baseline, r: Reading, sign: boolean, o: ObserveOptions): void {
  rollTo(b, r.at, o.context, o.zone, o.settings);
  const t = b.today!;
  if (r.at < t.start) return; // late reading from a day already committed
  const m = (r.at - t.start) / MIN;
  if (sign) {
    t.signs++;
    const hour = profileHour(r.at, t.start);
    // The hours of today with a sign before this one (its own hour too, if it had one).
    const earlier = t.activeHours & ((2 << hour) - 1);
    t.activeHours |= 1 << hour;
    // Up and about — getting up, the night's time out of bed — is a sign that is not the bed
    // mat: a mat that stirs as she turns over is her in bed (a restless sleeper was "up in 230
    // minutes' worth of the night", and "usually up by 04:15" though she gets up at 10).
    if (r.kind !== 'motion' || o.inBed === undefined || !o.inBed(r.device)) {
      if (Number.isNaN(t.firstActivity)) t.firstActivity = m;
      // Everything so far came in clock hours that ended before her waking hours begin, and a
      // whole clock hour with no sign at all followed: those were trips to the toilet in the
      // night, and she went back to bed — this is her getting up. (CASAS AL, an older woman up
      // two or three times a night, was "usually up by 04:26" though she gets up around 08:15,
      // and told "no sign of getting up yet" at dawn.)
      else if (o.wakeFrom !== undefined && earlier !== 0) {
        const last = 31 - Math.clz32(earlier);
        if ((last + 1) * 60 <= o.wakeFrom && hour - last >= 2) t.firstActivity = m;
      }
      if (m >= nightFrom) t.nightSlots |= 1 << Math.min(29, Math.floor((m - nightFrom) / 10));
    }
  }
  // A sign of her inside (presence.ts: movement, a cupboard or inner door opening, the kettle, a
  // button — or, with no room motion sensor, a flow starting — after the passage through the
  // front door) ends an outing.
  if (b.doorClosedAt >= 0 && endsOuting(r, r.kind === 'door' && isFrontDoor(r.door, r.device, o.frontDoor), b.doorClosedAt, noRoomMotion(o.marks))) endOuting(b, t, r.at);
  switch (r.kind) {
    case 'kettle':
      if (r.state === 'on' && Number.isNaN(t.firstKettle)) t.firstKettle = m;
      break;
    case 'motion': {
      const bath = r.room === 'bath' || r.room === 'toilet' || r.device.includes('bath') || r.device.includes('toilet');
      if (r.occupied) {
        if (bath) {
          if (t.bathOpen < 0) t.bathOpen = r.at;
          const night = m >= nightFrom || m < 30;
          if (night && (t.lastToiletAt < 0 || r.at - t.lastToiletAt > 15 * MIN)) t.nightToilet++;
          if (night) t.lastToiletAt = r.at;
        }
      } else if (bath && t.bathOpen >= 0) {
        t.bathMax = Math.max(t.bathMax, (r.at - t.bathOpen) / MIN);
        t.bathOpen = -1;
      }
      break;
    }
    case 'door':
      if (isFrontDoor(r.door, r.device, o.frontDoor)) {
        // Closing the door while out is coming home (the door cycle is the arrival, even
        // when no motion sensor sees the hall); closing it while inside is going out.
        if (!r.open) {
          if (b.doorClosedAt >= 0 && r.at - b.doorClosedAt >= doorPassageMs) endOuting(b, t, r.at);
          else b.doorClosedAt = r.at;
        }
      }
      break;
    default:
      break;
  }
}

function isFrontDoor(door: string | undefined, device: string, frontDoor: string): boolean {
  return door === frontDoor || device === frontDoor || (door === undefined && device.includes(frontDoor));
}

/** The resident came back at `at`: count the outing (if long enough) and mark its hours as out. */
function endOuting(b: Baseline, t: Today, at: number): void {
  const out = at - b.doorClosedAt;
  if (out >= outingMinMs) {
    t.outings++;
    t.longestOut = Math.max(t.longestOut, out / MIN);
    markOut(t, b.doorClosedAt, at);
  }
  b.doorClosedAt = -1;
}

/** Whether the resident seems to be out: front door closed and no movement inside since. */
export function isOut(b: Baseline): boolean {
  return b.doorClosedAt >= 0;
}

/** "07:40" for minutes after the day start. */
export function clockOf(minutesAfterStart: number): string {
  return formatClockTime(dayStartMinute + minutesAfterStart);
}

// ── persistence ────────────────────────────────────────────────────────────
const num = z.number().nullable().transform((v) => (v === null ? NaN : v));
const profileSchema = z.object({
  days: z.number().int().min(0),
  series: z.record(z.string(), z.array(num)),
  hourP: z.array(z.number()).length(24),
  hourN: z.array(z.number()).length(24),
});
const todaySchema = z.object({
  start: z.number(), end: z.number(), dayType: z.enum(['dayCare', 'other']),
  firstActivity: num, firstKettle: num, bathOpen: z.number(), bathMax: z.number(), nightToilet: z.number(), lastToiletAt: z.number(),
  nightSlots: z.number(), outings: z.number(), longestOut: z.number().default(0), activeHours: z.number(), outHours: z.number(), signs: z.number(), flagged: z.boolean(),
});
const persistedSchema = z.object({
  v: z.literal(1),
  days: z.number().int().min(0),
  today: todaySchema.nullable(),
  doorClosedAt: z.number(),
  profiles: z.object({ dayCare: profileSchema, other: profileSchema }),
  trend: z.object({ nightToilet: z.array(num), outings: z.array(num) }),
});

const round = (v: number): number | null => (Number.isNaN(v) ? null : Math.round(v * 1000) / 1000);

/** The learned part of a baseline (days, profiles, trend), JSON-able: it changes only when a day is committed. */
export function serializeLearned(b: Baseline): { days: number; profiles: unknown; trend: unknown } {
  const prof = (p: Profile) => ({
    days: p.days,
    series: Object.fromEntries(routineSignals.map((s) => [s, p.series[s].map(round)])),
    hourP: p.hourP.map((v) => round(v) ?? 0), hourN: p.hourN,
  });
  return {
    days: b.days,
    profiles: { dayCare: prof(b.profiles.dayCare), other: prof(b.profiles.other) },
    trend: { nightToilet: b.trend.nightToilet.map(round), outings: b.trend.outings.map(round) },
  };
}

/** Today's accumulators in their persisted form (NaN as null), or null before the first day. */
export function serializeToday(t: Today | undefined): unknown {
  return t === undefined ? null : Object.assign({}, t, { firstActivity: round(t.firstActivity), firstKettle: round(t.firstKettle) });
}

/** The JSON-able form (NaN as null, probabilities to 3 decimals). */
export function serializeBaseline(b: Baseline): unknown {
  const { days, profiles, trend } = serializeLearned(b);
  return { v: 1, days, doorClosedAt: b.doorClosedAt, today: serializeToday(b.today), profiles, trend };
}

/** Rebuilds a baseline from its persisted form; an error message when unreadable. */
export function restoreBaseline(saved: unknown): Baseline | string {
  const p = persistedSchema.safeParse(saved);
  if (!p.success) return p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  const s = p.data;
  const b = createBaseline();
  b.days = s.days;
  b.doorClosedAt = s.doorClosedAt;
  if (s.today !== null) b.today = { ...s.today };
  for (const type of ['dayCare', 'other'] as const) {
    const src = s.profiles[type], dst = b.profiles[type];
    dst.days = src.days;
    dst.hourP = [...src.hourP];
    dst.hourN = [...src.hourN];
    for (const sig of routineSignals) {
      dst.series[sig] = [...(src.series[sig] ?? [])];
      const sum = summarise(dst.series[sig], spreadFloor[sig]);
      if (sum) dst.summary[sig] = sum;
    }
  }
  b.trend = { nightToilet: [...s.trend.nightToilet], outings: [...s.trend.outings] };
  return b;
}
