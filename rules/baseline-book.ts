/**
 * The engine's notebook of learned routines: one baseline and one context per
 * home, owned by one engine (no module state). The engine feeds every reading
 * through `observe`; the learned rules read from it.
 */
import type { Reading } from '../core/events.js';
import { parseClockTime } from '../core/time.js';
import { createBaseline, dayStartMinute, defaultBaselineSettings, observe, profileFor, restoreBaseline, rollTo, serializeBaseline, type Baseline, type BaselineSettings, type ObserveOptions } from './baseline.js';
import { emptyContext, type HomeContext } from './context.js';
import type { HomeRules, HomeState } from './home-state.js';
import { memoWeak } from './memo.js';
import { isBedMat } from './rules/held-state.js';
import { noSignOfLifeOf } from './rules/rule.js';

export interface RoutineHome {
  baseline: Baseline;
  context: HomeContext;
  /** Time of the movement that ended the last "out" spell (door closed, nothing inside): the rules re-plan on it. */
  returnedAt: number;
  /** A bedroom movement in the evening or night that was the latest sign of life (she went to bed) — or her bed mat stirring after it, before her usual getting-up — -1 otherwise. */
  bedAt: number;
  /**
   * The learned part (profiles, trend, context) changed since it was last
   * saved: a day was committed, the routine rebuilt or restored from an old
   * save, the context set. The engine saves that part only then; the home is
   * marked dirty with it, so it travels with the next progress save.
   */
  learnedDirty: boolean;
}

export interface RoutineBook {
  readonly settings: BaselineSettings;
  /** The home's routine record, created empty on first use. */
  get(home: string): RoutineHome;
  has(home: string): boolean;
  /** Drops the home's record (its node let the home go). */
  forget(home: string): void;
  homes(): IterableIterator<string>;
  /**
   * O(1) update from one reading (`sign`: the engine counted it as a sign of
   * life). Returns what changed that a restart must not lose sooner than
   * plain progress (`Observed` bits).
   */
  observe(h: HomeState, r: Reading, sign: boolean): number;
  /** The home's routine record if it has one (never creates it). */
  find(home: string): RoutineHome | undefined;
  /** Moves the home's baseline to the resident day containing `now`. */
  roll(h: HomeState, now: number): RoutineHome;
  /** Today is not a day to learn from (a critical finding was raised). */
  flag(home: string): void;
  setContext(home: string, context: HomeContext): void;
  /** Replaces the home's baseline (restore, rebuild from history). */
  setBaseline(home: string, baseline: Baseline): void;
  serialize(home: string): unknown;
  /** Restores a persisted record; an error message when it is unreadable. */
  restore(home: string, saved: unknown): string | undefined;
}

/**
 * What a reading changed in today's tallies beyond plain progress (bits of
 * `observe`'s result). `Decision`: a value a learned rule decides on was set
 * (today's first activity or first kettle use — routineMissed — or a night
 * slot or night toilet visit — unusualNightActivity): losing it to a crash
 * would raise a false "missed" or hide a restless night, so it is saved at
 * the engine's next save. `Out`: the resident went out or came back (the
 * front-door tally every learned rule's "away or out" test reads).
 */
export const Observed = { Nothing: 0, Decision: 1, Out: 2 } as const;

/** Bedroom movement from 18:00 on is going to bed, not getting up. */
const eveningFrom = 18 * 60;

/** The front door the home's rules name (awayContext, else noSignOfLife, else "front"). */
export function frontDoorOf(rules: HomeRules): string {
  for (const r of rules.rules) if (r.type === 'awayContext') return r.frontDoor;
  for (const r of rules.rules) if (r.type === 'noSignOfLife') return r.frontDoor;
  return 'front';
}

/**
 * The home's bed mats, as its noSignOfLife rule names its held devices (`heldDevices`, or a
 * mat word in the id) and the id says bed; no noSignOfLife rule, no bed mat.
 */
export function bedMatOf(rules: HomeRules): (device: string) => boolean {
  const nsl = noSignOfLifeOf(rules).rule;
  return nsl === undefined ? () => false : (device) => isBedMat(device, nsl);
}

/**
 * Her bed mat pressed (stirring as she turns over) after the day's start but before her
 * usual time of getting up, the night before read as sleep: the night goes on. A late riser
 * whose mat stirred at 05:30 was "unusually quiet" at 07:25, still asleep.
 */
function stillInBed(rh: RoutineHome, r: Reading, minute: number, bedMat: (device: string) => boolean, s: BaselineSettings): boolean {
  if (rh.bedAt < 0 || r.kind !== 'motion' || !r.occupied || !bedMat(r.device) || minute < dayStartMinute) return false;
  const t = rh.baseline.today;
  const wake = t === undefined ? undefined : profileFor(rh.baseline, t.dayType, s).summary.firstActivity?.median;
  return wake !== undefined && minute < dayStartMinute + wake;
}

/** What `observe` needs of a home's rules, derived once per compiled rule set. */
export const observeRules = memoWeak((rules: HomeRules) => ({ frontDoor: frontDoorOf(rules), inBed: bedMatOf(rules), wakeFrom: wakeFromOf(rules) }));

/**
 * When her waking hours begin (noSignOfLife's `wakingHours.from`), in minutes after the day's
 * start (04:00); undefined without the rule, or for a waking day that begins before 04:00.
 */
function wakeFromOf(rules: HomeRules): number | undefined {
  const nsl = noSignOfLifeOf(rules).rule;
  if (nsl === undefined) return undefined;
  const m = parseClockTime(nsl.wakingHours.from) - dayStartMinute;
  return m >= 0 ? m : undefined;
}

/** Creates an empty book; `settings` tunes learning length and windows. */
export function createRoutineBook(settings: Partial<BaselineSettings> = {}): RoutineBook {
  const s: BaselineSettings = { ...defaultBaselineSettings, ...settings };
  const records = new Map<string, RoutineHome>();
  /** `observe`'s options, one object refilled per reading (no allocation on the hot path). */
  const scratch: ObserveOptions = { zone: undefined as unknown as ObserveOptions['zone'], context: emptyContext(), frontDoor: 'front', settings: s };
  /**
   * The record looked up last: one reading asks for its home's record several times over (the
   * observation, then each learned rule), so all but the first are answered without the map.
   * A record is never replaced while it is in the map (restore and the setters change it in
   * place), so only `forget` clears this.
   */
  let lastHome: string | undefined, last: RoutineHome | undefined;
  const get = (home: string): RoutineHome => {
    if (home === lastHome) return last!;
    let rh = records.get(home);
    if (rh === undefined) { rh = { baseline: createBaseline(), context: emptyContext(), returnedAt: -1, bedAt: -1, learnedDirty: false }; records.set(home, rh); }
    lastHome = home; last = rh;
    return rh;
  };
  return {
    settings: s,
    get,
    has: (home) => records.has(home),
    forget: (home) => { records.delete(home); if (home === lastHome) { lastHome = undefined; last = undefined; } },
    find: (home) => records.get(home),
    homes: () => records.keys(),
    observe(h, r, sign) {
      const rh = get(h.id);
      const b = rh.baseline;
      const doorClosedAt = b.doorClosedAt;
      const days = b.days;
      const before = b.today;
      const firstActivity = before?.firstActivity, firstKettle = before?.firstKettle, nightSlots = before?.nightSlots, nightToilet = before?.nightToilet;
      scratch.zone = h.rules.zone; scratch.context = rh.context; const fromRules = observeRules(h.rules); scratch.frontDoor = fromRules.frontDoor; scratch.inBed = fromRules.inBed; scratch.wakeFrom = fromRules.wakeFrom;
      scratch.marks = h.marks;
      observe(b, r, sign, scratch);
      // A committed day is the only per-reading change to the learned part (commit counts every day it learns).
      if (b.days !== days) rh.learnedDirty = true;
      if (doorClosedAt >= 0 && b.doorClosedAt < 0) rh.returnedAt = r.at;
      let result: number = Observed.Nothing;
      const t = b.today;
      // NaN !== NaN: compare "was set" instead of the values.
      if (t !== undefined && (t !== before || Number.isNaN(firstActivity) !== Number.isNaN(t.firstActivity) || Number.isNaN(firstKettle) !== Number.isNaN(t.firstKettle)
        || nightSlots !== t.nightSlots || nightToilet !== t.nightToilet)) result |= Observed.Decision;
      if (b.doorClosedAt !== doorClosedAt) result |= Observed.Out;
      if (sign) {
        const bedroom = r.kind === 'motion' && (r.room === 'bedroom' || r.device.includes('bed'));
        const minute = h.rules.zone.minuteOfDay(r.at);
        const night = minute >= eveningFrom || minute < dayStartMinute;
        rh.bedAt = bedroom && (night || stillInBed(rh, r, minute, fromRules.inBed, s)) ? r.at : -1;
      }
      return result;
    },
    roll(h, now) {
      const rh = get(h.id);
      const days = rh.baseline.days;
      if (rollTo(rh.baseline, now, rh.context, h.rules.zone, s)) {
        // A new day began on a timer: today's tallies changed, and the learned part if the old day was learned.
        h.dirty = true;
        if (rh.baseline.days !== days) rh.learnedDirty = true;
      }
      return rh;
    },
    flag(home) {
      const t = records.get(home)?.baseline.today;
      if (t !== undefined) t.flagged = true;
    },
    setContext(home, context) { const rh = get(home); rh.context = context; rh.learnedDirty = true; },
    setBaseline(home, baseline) { const rh = get(home); rh.baseline = baseline; rh.learnedDirty = true; },
    serialize(home) {
      const rh = records.get(home);
      return rh === undefined ? undefined : { baseline: serializeBaseline(rh.baseline), context: rh.context };
    },
    restore(home, saved) {
      if (saved === null || typeof saved !== 'object') return 'not an object';
      const o = saved as { baseline?: unknown; context?: HomeContext };
      const b = restoreBaseline(o.baseline);
      if (typeof b === 'string') return b;
      const rh = get(home);
      rh.baseline = b;
      if (o.context && Array.isArray(o.context.periods) && Array.isArray(o.context.dayCareDays)) rh.context = o.context;
      rh.learnedDirty = false;
      return undefined;
    },
  };
}
