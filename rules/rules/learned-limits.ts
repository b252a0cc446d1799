/**
 * Her own limits (issue 10): three waits of noSignOfLife that a fixed number
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
 *   limit she came back from in the last `longDays` days; once there are
 *   `minLong` (2) of them (a habit, not a one-off), the limit is 1.25× the
 *   longest (rounded up to 30 min), at most `outOfHomeLearnedMaxMinutes`
 *   (48 h). A habit she drops is forgotten after four weeks.
 * - **A quiet spell at home.** `warningAfterMinutes` (3 h) of waking time
 *   without a sign → warning. In a home with only objects to report (the
 *   kettle, the meters), an afternoon of reading is that long every other
 *   day. Learned like the outings: the quiet spells past the warning she
 *   ended herself in the last `longDays`; from `minQuietLong` (2) on, 1.25× the
 *   longest, at most `quietLearnedMaxMinutes` (5 h) and never past the
 *   critical, which is not learned.
 *
 * - **An outing that began as a visitor left.** A front-door close soon after
 *   someone came in may be the visitor leaving alone, so such an outing holds
 *   the clock only `warningAfterMinutes` (3 h, clock time) before the family is
 *   told she may have gone out with them. A resident who steps out for the
 *   paper most mornings and goes out two hours later for the afternoon (CASAS
 *   AL: the step out reads as someone coming in) got that warning seven times
 *   in a month, and came home through the front door six of them. Learned like
 *   the outings: those she came back from through the front door past the 3 h
 *   in the last `longDays`; from `minLong` (2) on, 1.25× the longest, at most
 *   `uncertainOutLearnedMaxMinutes` (6 h: a collapse as a visitor leaves is
 *   still told within 6 h). One that ended with movement and no door (the
 *   visitor did leave alone; she was inside, quiet) teaches nothing.
 *
 * Kept as marks on the home (persisted with it): `rest/<slot>` = minutes,
 * `rest/next` = the slot the next one goes to; `outlong/<end, epoch ms>`,
 * `uncertainlong/<end, epoch ms>` and `quietlong/<end, epoch ms>` = minutes. Only with the rule's `learnLimits` (the default set; "fixed
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
/**
 * Long outings (quiet spells) remembered at most: the longest within `longDays` (the limit
 * is taken from the longest, so shorter ones must not push it out — only its age does).
 */
const longSlots = 8;
/** Long outings (quiet spells) older than this are forgotten. */
const longDays = 28;
/**
 * Long outings within `longDays` before the limit follows her: two, as for the quiet spells
 * below. Only outings past the fixed limit are kept, so each of them was already a warning to
 * the family ("went out and has not come back for 12 h"), and she came back both times; a
 * third was one more alarm about a habit shown twice (the messy corpus's nights away nobody
 * announced, two or three in three weeks; van Kasteren A's weekly nights away).
 */
const minLong = 2;
/**
 * Long quiet spells within `longDays` before the warning follows her: two. Each was a warning
 * to the family before it was learned (only spells past the warning are kept), so a third was
 * one more alarm about a habit already shown twice — the object-only homes of the messy corpus
 * and Tapia's homes of objects had it in their first fortnight. The critical is not learned.
 */
const minQuietLong = 2;
const restPrefix = 'rest/';
const restNextKey = 'rest/next';
const outlongPrefix = 'outlong/';
const uncertainPrefix = 'uncertainlong/';
const quietPrefix = 'quietlong/';

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

/** When the long spell (`prefix`: an outing, a quiet spell) a mark key names ended, if it is one within `longDays` of `now`. */
function recentEnd(key: string, prefix: string, now: number): number | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const end = Number(key.slice(prefix.length));
  return now - end <= longDays * DAY ? end : undefined;
}

/** Keeps a spell of `ms` past `fixedMinutes` that ended at `at` as `<prefix><at>` = minutes, with the longest `longSlots` − 1 others within `longDays`. */
function learnLong(home: HomeState, prefix: string, at: number, ms: number, fixedMinutes: number): void {
  if (ms <= fixedMinutes * MIN) return;
  // Forget what is too old, and the shortest beyond the slots.
  const kept: Array<{ end: number; minutes: number }> = [];
  if (home.marks !== undefined) for (const key of home.marks.keys()) { const end = recentEnd(key, prefix, at); if (end !== undefined) kept.push({ end, minutes: home.marks.get(key)! }); }
  const keep = new Set(kept.sort((a, b) => b.minutes - a.minutes || b.end - a.end).slice(0, longSlots - 1).map((k) => k.end));
  if (home.marks !== undefined) for (const key of [...home.marks.keys()]) if (key.startsWith(prefix) && !keep.has(Number(key.slice(prefix.length)))) setMark(home, key, undefined);
  setMark(home, `${prefix}${at}`, Math.round(ms / MIN));
}

/**
 * The limit the long spells under `prefix` teach at `now`: once `need` are
 * known within `longDays` (a habit, not a one-off), 1.25× the longest rounded
 * up to 30 min, at least `fixedMinutes`, at most `capMinutes`.
 */
function longLimit(home: HomeState, prefix: string, now: number, fixedMinutes: number, capMinutes: number, need = minLong): LearnedLimit {
  // Counted in place (no list): this runs on re-plans.
  let count = 0, longest = 0;
  if (home.marks !== undefined) {
    for (const key of home.marks.keys()) {
      if (recentEnd(key, prefix, now) === undefined) continue;
      count++;
      longest = Math.max(longest, home.marks.get(key)!);
    }
  }
  if (count < need) return { minutes: fixedMinutes };
  return { minutes: Math.max(fixedMinutes, Math.min(capMinutes, Math.ceil((1.25 * longest) / 30) * 30)), longest };
}

/** She came back at `at` from an outing of `ms` nobody announced; only outings past `fixedMinutes` are kept. */
export function learnOuting(home: HomeState, at: number, ms: number, fixedMinutes: number): void {
  learnLong(home, outlongPrefix, at, ms, fixedMinutes);
}

/** She came back through the front door at `at` from an outing of `ms` that began as a visitor left; only those past `fixedMinutes` are kept. */
export function learnUncertainOuting(home: HomeState, at: number, ms: number, fixedMinutes: number): void {
  learnLong(home, uncertainPrefix, at, ms, fixedMinutes);
}

/** A quiet spell at home of `ms` waking time, which she ended herself at `at`; only spells past `fixedMinutes` (the warning) are kept. */
export function learnQuiet(home: HomeState, at: number, ms: number, fixedMinutes: number): void {
  learnLong(home, quietPrefix, at, ms, fixedMinutes);
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
  return longLimit(home, outlongPrefix, now, fixedMinutes, capMinutes);
}

/** How long an outing that began as a visitor left holds the clock before the family is warned (at `now`). */
export function uncertainOutingLimit(home: HomeState, now: number, fixedMinutes: number, capMinutes: number): LearnedLimit {
  return longLimit(home, uncertainPrefix, now, fixedMinutes, capMinutes);
}

/** How much waking time without a sign of her passes before the family is warned (judged at `now`, the quiet spell's start). */
export function quietLimit(home: HomeState, now: number, fixedMinutes: number, capMinutes: number): LearnedLimit {
  return longLimit(home, quietPrefix, now, fixedMinutes, capMinutes, minQuietLong);
}
