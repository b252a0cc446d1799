/**
 * The contract every rule implements, and the edge-trigger helpers they share.
 * A rule is a pure function of (home state, reading | clock tick) → findings:
 * it reads and updates the home's state, pushes findings onto `ctx.out`, and
 * does no I/O. The engine turns `ctx.out` into the findings stream.
 */
import type { Reading } from '../../core/events.js';
import type { Audience, Finding, Localized, Severity } from '../../core/findings.js';
import { severityRank } from '../../core/findings.js';
import { formatClockTime, offsetMinutes } from '../../core/time.js';
import type { HomeRules, HomeState } from '../home-state.js';
import type { NoSignOfLifeRule, RuleConfig } from '../rule-config.js';
import { memoWeak } from '../memo.js';

export interface RuleContext {
  /** Clock time of this decision (virtual in tests and replay). */
  now: number;
  /** Whether the reading being handled was a sign of life. */
  sign: boolean;
  /** Findings produced by this step, in order. */
  out: Finding[];
}

export interface RuleDefinition<C extends RuleConfig = RuleConfig> {
  /**
   * Handles one reading after the shared facts were updated. Returns true
   * when a deadline may have moved earlier or a finding cleared, so the
   * engine re-computes this home's next wake-up (rare; never for plain motion).
   */
  onReading(rule: C, home: HomeState, r: Reading, ctx: RuleContext): boolean;
  /** Checks time-based conditions at `ctx.now`. */
  onTick(rule: C, home: HomeState, ctx: RuleContext): void;
  /** The earliest time `onTick` could raise something, Infinity if nothing is pending. Must be > now. */
  nextDeadline(rule: C, home: HomeState, now: number): number;
  /**
   * The alert this rule's finding opened has ended (resolved by a person or
   * by the system). Rules where a new occurrence after that is a new
   * emergency (a help press, a night door opening) forget their raised state
   * here — without pushing a cleared finding — and return true. Rules whose
   * finding stands for a continuing condition (no sign of life, water left
   * running) leave this out: they re-arm when the condition itself clears.
   */
  rearm?(rule: C, home: HomeState): boolean;
}

export interface FindingText { message: Localized; expected: Localized; observed: Localized }

/** Builds a finding for `rule` in `home`. */
export function finding(home: HomeState, rule: RuleConfig, at: number, state: Finding['state'], severity: Severity, audience: Audience,
  text: FindingText, extra?: { device?: string; data?: Record<string, number | string | boolean> }): Finding {
  const f: Finding = { home: home.id, rule: rule.id, type: rule.type, state, severity, audience, at, ...text };
  if (extra?.device !== undefined) f.device = extra.device;
  if (extra?.data !== undefined) f.data = extra.data;
  return f;
}

/** The severity a key is raised at, if any. */
export function activeSeverity(home: HomeState, key: string): Severity | undefined {
  return home.active === undefined ? undefined : home.active.get(key);
}

/**
 * The home's noSignOfLife rule, if its set runs one — the waking hours, mats and out-of-home
 * limits other rules pace themselves by — found once per compiled rule set.
 */
export const noSignOfLifeOf = memoWeak((rules: HomeRules): { rule: NoSignOfLifeRule | undefined } => ({
  rule: rules.rules.find((r): r is NoSignOfLifeRule => r.type === 'noSignOfLife'),
}));

/** Rule types that watch the same thing: a home with no sign of life (fixed net and learned). */
const silenceTypes = new Set(['noSignOfLife', 'unusualInactivity']);

/**
 * The mark a rule of another type sets while its raised finding tells of a
 * silence too (flowWithoutMotion, where no motion sensor watches the water:
 * "water running, nobody seen" is "no sign of life" with a tap open). Built
 * once per compiled rule; weakly keyed, no decision state.
 */
export const silenceMarkKey = memoWeak((rule: { id: string }): string => `${rule.id}/silence`);

/**
 * Whether another silence rule of this home already told the family about
 * this silence at `severity` or higher: one quiet spell is one alarm, not one
 * per rule (the learned rule often speaks first, the fixed net later).
 */
export function silenceAlreadyRaised(home: HomeState, selfId: string, severity: Severity): boolean {
  if (home.active === undefined) return false;
  for (const r of home.rules.rules) {
    if (r.id === selfId || !(silenceTypes.has(r.type) || home.marks?.get(silenceMarkKey(r)) !== undefined)) continue;
    const s = home.active.get(r.id);
    if (s === undefined || severityRank[s] < severityRank[severity]) continue;
    // A critical held open by a visit (visitor-guard.ts) with a sign of life since the door is an
    // earlier silence: the quiet after those signs is a new one, and each rule watches it afresh.
    const door = home.marks?.get(`${r.id}/visitor`);
    if (door !== undefined && home.lastSignOfLife > door) continue;
    return true;
  }
  return false;
}

/** Raises `f` unless `key` is already raised at the same or a higher severity (edge trigger). */
export function raise(home: HomeState, key: string, ctx: RuleContext, f: Finding): boolean {
  const current = activeSeverity(home, key);
  if (current !== undefined && severityRank[current] >= severityRank[f.severity]) return false;
  (home.active ??= new Map()).set(key, f.severity);
  home.dirty = true;
  ctx.out.push(f);
  return true;
}

/** Clears `key` if raised; `make` builds the cleared finding from the severity it had. */
export function clear(home: HomeState, key: string, ctx: RuleContext, make: (was: Severity) => Finding): boolean {
  const was = activeSeverity(home, key);
  if (was === undefined) return false;
  home.active!.delete(key);
  if (home.active!.size === 0) home.active = undefined;
  home.dirty = true;
  ctx.out.push(make(was));
  return true;
}

/** Forgets that `key` is raised, silently (no cleared finding): for `rearm`. */
export function forget(home: HomeState, key: string): boolean {
  if (home.active === undefined || !home.active.delete(key)) return false;
  if (home.active.size === 0) home.active = undefined;
  home.dirty = true;
  return true;
}

const quarterHour = 900_000;
const day = 86_400_000;

/**
 * Local time of day in one IANA zone, fast: `Intl` is slow (microseconds per
 * call), and every zone's offset changes only at a UTC quarter hour (offsets
 * are whole quarter hours and transitions happen on local hours), so one
 * lookup serves a whole quarter hour. One per compiled rule set.
 */
export class ZoneClock {
  private from = 0;
  private to = -1;
  private offsetMs = 0;
  /**
   * Offsets of quarter hours looked up before, by quarter-hour index: rules
   * ask about now and about deadlines hours or days ahead in turn. Bounded:
   * emptied when full.
   */
  private readonly known = new Map<number, number>();
  constructor(readonly timezone: string) {}

  /** Milliseconds since local midnight at `at`. */
  msOfDay(at: number): number {
    if (at < this.from || at >= this.to) {
      const quarter = Math.floor(at / quarterHour);
      this.from = quarter * quarterHour;
      this.to = this.from + quarterHour;
      let offsetMs = this.known.get(quarter);
      if (offsetMs === undefined) {
        offsetMs = offsetMinutes(this.from, this.timezone) * 60_000;
        if (this.known.size >= 4096) this.known.clear();
        this.known.set(quarter, offsetMs);
      }
      this.offsetMs = offsetMs;
    }
    const local = (at + this.offsetMs) % day;
    return local < 0 ? local + day : local;
  }

  /** Whole minutes since local midnight. */
  minuteOfDay(at: number): number {
    return Math.floor(this.msOfDay(at) / 60_000);
  }

  /**
   * The first instant after `at` whose local time is `msOfDay` (a full day
   * on when `at` is already there). Across a clock change the day is 23 or
   * 25 h long: adding the local difference lands an hour past the time in
   * spring (22:00 → 07:00 is 8 h of real time that night, not 9) and an hour
   * short in autumn, so the landing is moved by what it is off. A local time
   * the spring change skips has no instant; the landing past it is kept.
   */
  nextAt(at: number, msOfDay: number): number {
    let ahead = (msOfDay - this.msOfDay(at) + day) % day;
    if (ahead <= 0) ahead = day;
    return this.onto(at + ahead, msOfDay, at, true);
  }

  /**
   * The last instant at or before `at` whose local time is `msOfDay`: counting
   * back the local time since then is off by the shift after a clock change,
   * corrected as in `nextAt`.
   */
  lastAt(at: number, msOfDay: number): number {
    return this.onto(at - (this.msOfDay(at) - msOfDay + day) % day, msOfDay, at, false);
  }

  /**
   * `landed`, moved onto local time `msOfDay` by what a clock change put it
   * off — if the moved instant is still after `at` (`after`) or at or before it
   * (not `after`), and shows that time; otherwise `landed` as it is.
   */
  private onto(landed: number, msOfDay: number, at: number, after: boolean): number {
    let off = (this.msOfDay(landed) - msOfDay + day) % day;
    if (off > day / 2) off -= day;
    if (off === 0) return landed;
    const moved = landed - off;
    return (after ? moved > at : moved <= at) && this.msOfDay(moved) === msOfDay ? moved : landed;
  }
}

/** "07:12" in the home's zone. */
export function hhmm(at: number, zone: ZoneClock): string {
  return formatClockTime(zone.minuteOfDay(at));
}

/** A duration as "3 h 5 min" / "3時間5分". */
export function duration(ms: number): Localized {
  const total = Math.max(0, Math.floor(ms / 60_000));
  const h = Math.floor(total / 60), m = total % 60;
  return h > 0 ? { en: `${h} h ${m} min`, ja: `${h}時間${m}分` } : { en: `${m} min`, ja: `${m}分` };
}

/** A duration that may run to days: "5 d 20 h" / "5日20時間" from a day on, else as `duration`. */
export function longDuration(ms: number): Localized {
  const hours = Math.floor(Math.max(0, ms) / 3_600_000);
  if (hours < 24) return duration(ms);
  const d = Math.floor(hours / 24), h = hours % 24;
  return { en: `${d} d ${h} h`, ja: `${d}日${h}時間` };
}

/** Kinds of sign of life, for explanations. */
export const signName: Record<string, Localized> = {
  motion: { en: 'movement', ja: '人の動き' },
  door: { en: 'a door', ja: 'ドアの開閉' },
  kettle: { en: 'the kettle', ja: '電気ポット' },
  water: { en: 'water use', ja: '水道の使用' },
  gas: { en: 'gas use', ja: 'ガスの使用' },
  power: { en: 'electricity use', ja: '電気の使用' },
  button: { en: 'a button press', ja: 'ボタン操作' },
};
