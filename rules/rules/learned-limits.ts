/**
 * Her own limits (issue 10): two waits of noSignOfLife that a fixed number
 * gets wrong on real homes, learned per home from what she did and came out
 * of by herself — always inside a hard bound, so an inference may delay an
 * alarm but never cancel it.
 *
 * - **Rest on a seat or couch mat.** A pressed seat mat counts as her there,
 *   present but still, for `heldMaxMinutes` (2 h); the 3 h clock runs after
 *   that. A resident who sits for 5–6 h every evening (Ordóñez A) got a
 *   warning most evenings. Learned: the longest of her last `restSlots`
 *   completed seat spells (pressed … she got up), once `minRestSpells` are
 *   known; the hold is that long, at least `heldMaxMinutes` and at most
 *   `restMaxMinutes` (3 h: with the 3 h warning, a collapse in the chair is
 *   told within 6 h of sitting down).
 * - **An outing nobody announced.** Out (front door closed, nothing inside
 *   since) holds the clock for `outOfHomeMaxMinutes` (12 h), then the family
 *   is warned. A resident who stays away a night or two every week (van
 *   Kasteren A: 16–43 h, four times in four weeks, besides 6–10 h working
 *   days) got that warning every time. Learned: the outings past the fixed
 *   limit she came back from in the last `outingDays` days; once there are
 *   `minLongOutings` of them (a habit, not a one-off), the limit is 1.25× the
 *   longest (rounded up to 30 min), at most `outOfHomeLearnedMaxMinutes`
 *   (48 h). A habit she drops is forgotten after four weeks.
 *
 * Kept as marks on the home (persisted with it): `rest/<slot>` = minutes,
 * `rest/next` = the slot the next one goes to; `outlong/<end, epoch ms>` =
 * minutes. Only with the rule's `learnLimits` (the default set; "fixed
 * rules alone" keep the fixed numbers).
 */
import type { HomeState } from '../home-state.js';
import { getMark, setMark } from './routine-marks.js';

const MIN = 60_000;
const DAY = 86_400_000;
/** Seat spells remembered (a fortnight of evenings). */
const restSlots = 14;
/** Completed seat spells known before her longest one is trusted. */
const minRestSpells = 3;
/** A seat spell shorter than this says nothing about resting (a chattering mat, sitting down for a minute). */
const restMinMinutes = 30;
/** Long outings remembered at most (the newest). */
const outingSlots = 8;
/** Long outings older than this are forgotten. */
const outingDays = 28;
/** Long outings within `outingDays` before the limit follows her. */
const minLongOutings = 3;
const restPrefix = 'rest/';
const restNextKey = 'rest/next';
const outlongPrefix = 'outlong/';

/** A seat spell ended: she got up after `ms`. Kept in a ring of `restSlots`. */
export function learnRest(home: HomeState, ms: number): void {
  if (ms < restMinMinutes * MIN) return;
  const slot = getMark(home, restNextKey) ?? 0;
  setMark(home, `${restPrefix}${slot}`, Math.round(ms / MIN));
  setMark(home, restNextKey, (slot + 1) % restSlots);
}

/** Her remembered seat spells, minutes. */
function rests(home: HomeState): number[] {
  const out: number[] = [];
  if (home.marks === undefined) return out;
  for (const key of home.marks.keys()) if (key.startsWith(restPrefix) && key !== restNextKey) out.push(home.marks.get(key)!);
  return out;
}

/** When the long outing a mark key names ended, if it is one within `outingDays` of `now`. */
function recentOutingEnd(key: string, now: number): number | undefined {
  if (!key.startsWith(outlongPrefix)) return undefined;
  const end = Number(key.slice(outlongPrefix.length));
  return now - end <= outingDays * DAY ? end : undefined;
}

/** The long outings she came back from within `outingDays` of `now`: [end, minutes]. */
function longOutings(home: HomeState, now: number): [number, number][] {
  const out: [number, number][] = [];
  if (home.marks === undefined) return out;
  for (const key of home.marks.keys()) {
    const end = recentOutingEnd(key, now);
    if (end !== undefined) out.push([end, home.marks.get(key)!]);
  }
  return out;
}

/** She came back at `at` from an outing of `ms` nobody announced; only outings past `fixedMinutes` are kept. */
export function learnOuting(home: HomeState, at: number, ms: number, fixedMinutes: number): void {
  if (ms <= fixedMinutes * MIN) return;
  // Forget what is too old, and the oldest beyond the slots.
  const keep = new Set(longOutings(home, at).sort((a, b) => b[0] - a[0]).slice(0, outingSlots - 1).map(([end]) => end));
  if (home.marks !== undefined) for (const key of [...home.marks.keys()]) if (key.startsWith(outlongPrefix) && !keep.has(Number(key.slice(outlongPrefix.length)))) setMark(home, key, undefined);
  setMark(home, `${outlongPrefix}${at}`, Math.round(ms / MIN));
}

export interface LearnedLimit {
  minutes: number;
  /** The longest rest or outing it was learned from (undefined: the fixed number applies). */
  longest?: number;
}

/** How long a pressed seat mat counts as her there, resting. */
export function restLimit(home: HomeState, heldMaxMinutes: number, restMaxMinutes: number): LearnedLimit {
  const spells = rests(home);
  if (spells.length < minRestSpells) return { minutes: heldMaxMinutes };
  const longest = Math.max(...spells);
  return { minutes: Math.max(heldMaxMinutes, Math.min(restMaxMinutes, longest)), longest };
}

/** How long an outing nobody announced holds the clock before the family is warned (at `now`). */
export function outingLimit(home: HomeState, now: number, fixedMinutes: number, capMinutes: number): LearnedLimit {
  // Counted in place (no list): this runs on every re-plan while she is out.
  let count = 0, longest = 0;
  if (home.marks !== undefined) {
    for (const key of home.marks.keys()) {
      if (recentOutingEnd(key, now) === undefined) continue;
      count++;
      longest = Math.max(longest, home.marks.get(key)!);
    }
  }
  if (count < minLongOutings) return { minutes: fixedMinutes };
  return { minutes: Math.max(fixedMinutes, Math.min(capMinutes, Math.ceil((1.25 * longest) / 30) * 30)), longest };
}
