/**
 * What every research recording says, in one shape: a sensor was "on" from
 * `start` to `end` (a PIR saw movement, a reed switch was open, a mat was
 * pressed, a flush float was up). Each dataset's converter parses its own
 * file into these intervals plus a table saying what each sensor is; this
 * file turns them into the replay format (core/events.ts) and the per-home
 * settings file (home-settings.ts).
 */
import { localTime, toLocalIso } from '../../core/time.js';
import type { Reading } from '../../core/events.js';
import { localToEpoch } from '../local-days.js';

/**
 * What a sensor means for watching over the resident:
 * - `motion`: a PIR — `motion` events in its room.
 * - `front-door`: the entrance — `door` events with `door: "front"`.
 * - `contact`: a reed/mercury switch on a cupboard, fridge, drawer, internal
 *   door, light switch… — a sign of life, never the front door: `door`
 *   events whose `door` is the object's name.
 * - `water`: a toilet-flush float or a tap reed — `water` events.
 * - `mat`: a bed or seat pressure mat, a held state (pressed for hours) —
 *   `motion` events in its room (the event contract has no held state; the
 *   settings file marks the device `held`).
 * - `appliance`: an electric-use sensor (microwave, toaster) — `power`
 *   events at a nominal 1000 W while on, 0 W when off (the recordings give
 *   on/off only).
 */
export type SensorRole = 'motion' | 'front-door' | 'contact' | 'water' | 'mat' | 'appliance';

/** One sensor of a recorded home. */
export interface SensorSpec {
  /** The recording's own id or name for the sensor. */
  raw: string;
  /** The device id in the converted file (an id: lower-case, digits, "-"). */
  device: string;
  role: SensorRole;
  /** The physical sensor as the dataset describes it (`PIR`, `reed`, `pressure mat`, `flush float`…). */
  sensor: string;
  room?: string;
  /** What it is fixed to (`fridge`, `cups cupboard`, `bed`…). */
  object?: string;
}

/** A sensor's "on" period, epoch milliseconds; `end` ≥ `start`. */
export interface SensorInterval { raw: string; start: number; end: number }

/** A wall-clock time in the home's zone, as the recordings write them. */
export interface WallTime { year: number; month: number; day: number; hour: number; minute: number; second: number }

/** The instant the home's clock showed `t` (its zone's offset, daylight saving included). */
export function wallToEpoch(t: WallTime, timeZone: string): number {
  return localToEpoch({ year: t.year, month: t.month, day: t.day }, t.hour * 60 + t.minute, timeZone) + t.second * 1000;
}

/** `text` as a device id: lower case, runs of anything else as one "-", at most 63 characters. */
export function slug(text: string): string {
  const s = text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return s === '' ? 'sensor' : s;
}

const nominalWatts = 1000;

/**
 * The replay-format readings of a home's intervals, in time order (at equal
 * times in the order the intervals produce them, a start before its end).
 * Intervals of sensors not in `specs` are counted in `unknown` and dropped.
 */
export function intervalsToReadings(home: string, specs: readonly SensorSpec[], intervals: readonly SensorInterval[], timeZone: string): { readings: Reading[]; unknown: number } {
  const byRaw = new Map(specs.map((s) => [s.raw, s]));
  const seq = new Map<string, number>();
  const out: { r: Reading; order: number }[] = [];
  let unknown = 0;
  let order = 0;
  // Each reading written out whole (not `{ ...base, kind, … }`: on Node 20 a spread followed by
  // new keys gives every object a hidden class of its own once optimised; core/events.ts toHomeEvent).
  const push = (spec: SensorSpec, at: number, on: boolean) => {
    const device = spec.device, ts = toLocalIso(at, timeZone);
    let r: Reading;
    switch (spec.role) {
      case 'motion': case 'mat': {
        r = { home, device, id: '', ts, at, kind: 'motion', occupied: on };
        if (spec.room !== undefined) r.room = spec.room;
        break;
      }
      case 'front-door': r = { home, device, id: '', ts, at, kind: 'door', open: on, door: 'front' }; break;
      case 'contact': r = { home, device, id: '', ts, at, kind: 'door', open: on, door: spec.device }; break;
      case 'water': r = { home, device, id: '', ts, at, kind: 'water', flowing: on }; break;
      case 'appliance': r = { home, device, id: '', ts, at, kind: 'power', watts: on ? nominalWatts : 0 }; break;
    }
    out.push({ r, order: order++ });
  };
  for (const iv of intervals) {
    const spec = byRaw.get(iv.raw);
    if (!spec) { unknown++; continue; }
    push(spec, iv.start, true);
    push(spec, Math.max(iv.start, iv.end), false);
  }
  out.sort((a, b) => a.r.at - b.r.at || a.order - b.order);
  // Ids number each device's readings in time order (set on the readings made above, which nothing else holds).
  const readings = out.map(({ r }) => {
    const n = (seq.get(r.device) ?? 0) + 1;
    seq.set(r.device, n);
    (r as { id: string }).id = `${r.device}-${n}`;
    return r;
  });
  return { readings, unknown };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const hhmm = (m: number): string => {
  const r = ((Math.round(m / 15) * 15) % 1440 + 1440) % 1440;
  return `${String(Math.floor(r / 60)).padStart(2, '0')}:${String(r % 60).padStart(2, '0')}`;
};

/**
 * The resident's usual waking day from labelled sleep periods (at least 2
 * hours long, so naps do not count): from the median wake-up to the median
 * bedtime, local time, rounded to 15 minutes. Undefined with fewer than
 * three nights.
 */
export function wakingHoursFromSleep(sleeps: readonly { start: number; end: number }[], timeZone: string): { from: string; to: string; nights: number } | undefined {
  const nights = sleeps.filter((s) => s.end - s.start >= 2 * 3600_000);
  if (nights.length < 3) return undefined;
  const minuteOf = (at: number) => localTime(at, timeZone).minuteOfDay;
  // Bedtimes straddle midnight: measure them from noon so 23:30 and 00:30 are an hour apart.
  const bed = median(nights.map((s) => (minuteOf(s.start) - 720 + 1440) % 1440)) + 720;
  const wake = median(nights.map((s) => minuteOf(s.end)));
  return { from: hhmm(wake), to: hhmm(bed), nights: nights.length };
}

