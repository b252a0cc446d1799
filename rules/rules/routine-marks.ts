/**
 * Small shared helpers for learned rules: per-rule marks on the home state
 * (times that survive a restart with the rest of the home) and the "is she
 * away or out" test every inactivity-type rule applies.
 */
import { NONE, type HomeState } from '../home-state.js';
import type { RoutineHome } from '../baseline-book.js';
import { activePeriod, type AwayPeriod } from '../context.js';

/**
 * Mark shared by noSignOfLife and awayContext: the front-door close time of the
 * outing the family was already warned about ("out longer than usual"), so one
 * outing gives one warning, whichever rule noticed first.
 */
export const outingWarnedKey = 'outing/warned';

/**
 * Mark set by the engine's `setAway` (the tablet's 「出かけます」, day-care attendance): the end
 * of the absence someone entered. While `awayUntil` is that time the absence is the entered one,
 * which her coming home ends early (noSignOfLife, `endsAbsence`). awayContext sets it too for a
 * context period entered ahead (a trip, day-care, other), though not for a hospital stay: the
 * sensors cannot tell her from a relative fetching her things, and a discharge is arranged.
 */
export const enteredAwayKey = 'away/entered';
/**
 * Mark beside it: when she was last seen leaving during the entered absence — out already
 * when it was entered (day-care marked after she left), or through the front door since. Only
 * after it is a front-door arrival her coming home: the door she leaves by right after telling
 * the tablet can read as an arrival (a door after an hour with nothing inside, presence.ts).
 */
export const enteredAwayLeftKey = 'away/left';

/**
 * Mark set as her coming home ends an entered absence early: the end it had. A context period
 * ending then is over for her (`livePeriod`): awayContext does not hold `awayUntil` to it again,
 * and the learned rules watch her as at home.
 */
export const enteredAwayCutKey = 'away/cut';

/**
 * The context period covering `now` that still holds: the one with the latest end (`activePeriod`),
 * unless her coming home already ended it (`enteredAwayCutKey`).
 */
export function livePeriod(home: HomeState, rh: RoutineHome, now: number): AwayPeriod | undefined {
  const p = activePeriod(rh.context, now);
  return p !== undefined && getMark(home, enteredAwayCutKey) === p.to ? undefined : p;
}

/**
 * Mark set by awayContext when a period it enters finds her at home (entered ahead: she has not
 * left yet): until she is seen leaving, a button she presses is her before going, not her back.
 */
export const enteredAheadKey = 'away/ahead';

/**
 * Enters an absence until `until` (or, with `undefined`, forgets the one entered): the three marks
 * her coming home is judged by (noSignOfLife, `endsAbsence`). Out already, she was seen leaving
 * (`enteredAwayLeftKey`); at home, with `aheadIfHome` (a period entered ahead), her button before
 * she leaves is not her back (`enteredAheadKey`).
 */
export function markEnteredAbsence(home: HomeState, until: number | undefined, aheadIfHome: boolean): void {
  const out = home.outSince !== NONE;
  setMark(home, enteredAwayKey, until);
  setMark(home, enteredAwayLeftKey, until !== undefined && out ? home.outSince : undefined);
  setMark(home, enteredAheadKey, until !== undefined && aheadIfHome && !out ? until : undefined);
}

/** How long she may say she will be out when she tells the tablet 「出かけます」, in hours (the choices it offers). */
export const outingHoursOffered = [1, 2, 3, 4, 6, 8, 12] as const;

export function getMark(home: HomeState, key: string): number | undefined {
  return home.marks === undefined ? undefined : home.marks.get(key);
}

/**
 * Sets (or with `undefined` removes) a mark. A mark is decision memory a
 * restart must not lose, so the home is saved at the engine's next save;
 * `urgent: false` is for tallies that may wait for the slower progress save.
 */
export function setMark(home: HomeState, key: string, at: number | undefined, urgent = true): void {
  if (at !== undefined) (home.marks ??= new Map()).set(key, at);
  else if (home.marks !== undefined) {
    home.marks.delete(key);
    if (home.marks.size === 0) home.marks = undefined;
  }
  home.dirty = true;
  if (urgent) home.urgent = true;
}

/** Known away (a context period or `setAway`), or out (front door closed, nothing inside since). */
export function awayOrOut(home: HomeState, rh: RoutineHome, now: number): boolean {
  return now < home.awayUntil || livePeriod(home, rh, now) !== undefined || rh.baseline.doorClosedAt >= 0;
}
