/**
 * Where her nights begin (issue 10): the no-sign-of-life clock pauses outside
 * the waking window because a quiet night is sleep. But a collapse at 00:17
 * with the waking day ending at 01:30 then waited for the next morning — 11 h
 * on the real recordings (Ordóñez B, whose every night began on the bed mat).
 * A quiet spell in the evening whose last sign came from somewhere other than
 * the place her nights begin is not yet her night.
 *
 * Learned per home from the quiet spells that cross the middle of her night
 * (the middle of the time outside the waking window) and last ≥ 4 h while she
 * was home: the device of the last sign before each, and when it came
 * (minutes before the night's middle). The last `nightSlots` nights are kept
 * as marks on the home (persisted with it): `night/<slot>/<device>` = minutes
 * before the middle, `night/next` = the slot the next night goes to. Nothing
 * is decided before `minNights` nights are known, nor in a home whose nights
 * begin at no single place.
 */
import { NONE, type HomeState } from '../home-state.js';
import { getMark, setMark } from './routine-marks.js';
import type { ZoneClock } from './rule.js';

const MIN = 60_000;
const DAY = 86_400_000;
/** Nights remembered (a fortnight: a new bedtime becomes the usual within two weeks). */
export const nightSlots = 14;
/** Nights known before the rule trusts what it learned. */
export const minNights = 5;
/** A quiet spell this long across the night's middle is a night's sleep. */
export const nightQuietMs = 4 * 60 * MIN;
/** Only a quiet spell that began this long before the night's middle or less can be "not yet her night". */
const eveningMinutes = 12 * 60;
/**
 * Her nights have a place when at least this share of them began at one device
 * (Ordóñez A and B: every night on the bed mat). Looser signatures cost false
 * alarms on the real homes (van Kasteren A: 19 of 21 nights at the bedroom
 * door, the others after the toilet) and on the simulated corpus.
 */
const placeShare = 0.9;
const nextKey = 'night/next';
const prefix = 'night/';

/** The middle of the time outside the waking window, in minutes of the day; undefined when the window is all day. */
export function nightMiddle(from: number, to: number): number | undefined {
  if (from === to) return undefined;
  return (to + ((from - to + 1440) % 1440) / 2) % 1440;
}

/** Minutes from `at` to the next night middle (local). */
function beforeMiddle(at: number, middle: number, zone: ZoneClock): number {
  return ((middle * MIN - zone.msOfDay(at) + DAY) % DAY) / MIN;
}

/**
 * Learns from the quiet spell between two signs of life (`from`, with its
 * device, to `to`): a night when it is long enough and crosses the night's
 * middle. The caller excludes spells she was out or away.
 */
export function learnNight(home: HomeState, middle: number, zone: ZoneClock, from: number, device: string, to: number): void {
  if (from === NONE || to - from < nightQuietMs) return;
  const before = beforeMiddle(from, middle, zone);
  if (from + before * MIN >= to) return;
  const slot = getMark(home, nextKey) ?? 0;
  const slotPrefix = `${prefix}${slot}/`;
  if (home.marks !== undefined) for (const key of [...home.marks.keys()]) if (key.startsWith(slotPrefix)) home.marks.delete(key);
  setMark(home, `${slotPrefix}${device}`, before);
  setMark(home, nextKey, (slot + 1) % nightSlots);
}

export interface NightStart {
  /** Nights learned from. */
  nights: number;
  /** The device most of her nights began at, and on how many of them. */
  place: string;
  atPlace: number;
  /** The quiet began with her coming home through the front door (at this time), not at a place of hers. */
  arrivedAt?: number;
}

/**
 * Whether a quiet spell whose last sign was `device` at `at` is not yet her
 * night: it began in the evening half (the 12 h before the night's middle —
 * after the middle it is the night going on: a toilet visit, back to bed) at
 * a device other than the one where at least `placeShare` of her last
 * `nightSlots` nights began. Undefined when that is not so, or while fewer
 * than `minNights` nights are known.
 */
export function nightNotBegun(home: HomeState, middle: number, zone: ZoneClock, at: number, device: string): NightStart | undefined {
  if (home.marks === undefined || beforeMiddle(at, middle, zone) > eveningMinutes) return undefined;
  const n = learnedPlace(home);
  if (n.nights < minNights || n.atPlace < placeShare * n.nights || device === n.place) return undefined;
  return n;
}

/** Her learned nights: how many, and the device most of them began at. */
function learnedPlace(home: HomeState): NightStart {
  let nights = 0;
  const places = new Map<string, number>();
  if (home.marks !== undefined) {
    for (const key of home.marks.keys()) {
      if (!key.startsWith(prefix) || key === nextKey) continue;
      nights++;
      const d = key.slice(key.indexOf('/', prefix.length) + 1);
      places.set(d, (places.get(d) ?? 0) + 1);
    }
  }
  let place = '', atPlace = 0;
  for (const [d, c] of places) if (c > atPlace) { place = d; atPlace = c; }
  return { nights, place, atPlace };
}

/**
 * Whether a quiet spell that began with her coming home through the front
 * door (`device`, at `at`) is not yet her night: nobody's night begins at the
 * front door, so a quiet evening after coming home is counted through the
 * night — a collapse right after coming home at 21:15 is told at 00:15, not
 * the next morning (van Kasteren A: 11 h 45). Not after the night's middle
 * (home late, straight to bed), and not in a home whose learned nights do
 * begin at that door (at least `placeShare` of `minNights` or more).
 */
export function arrivalNotNight(home: HomeState, middle: number, zone: ZoneClock, at: number, device: string): NightStart | undefined {
  if (beforeMiddle(at, middle, zone) > eveningMinutes) return undefined;
  const n = learnedPlace(home);
  if (n.nights >= minNights && n.place === device && n.atPlace >= placeShare * n.nights) return undefined;
  return { ...n, arrivedAt: at };
}
