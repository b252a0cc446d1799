/**
 * noSignOfLife: during waking hours, no sign of life (motion, a door, the
 * kettle switched on, water or gas flowing, a power change, a button) for
 * `warningAfterMinutes` → warning, `criticalAfterMinutes` → critical.
 *
 * The clock only runs inside the waking window (in the home's zone): a quiet
 * night is sleep, not a worry, so 21:00 → 08:00 with no sign of life counts as
 * 1 h + 1 h = 2 h. Heartbeats and climate readings are not signs of life, so a
 * sensor that is merely online never hides a silent home.
 *
 * Suppressed while the resident is known to be away (`setAway`: day-care, or
 * her own 「出かけます」 on the tablet) — the clock restarts when the away
 * period ends, or as soon as she is seen home (`endsAbsence`) — and while they seem to be
 * out: the front door closed and no motion inside followed. Being out
 * suppresses for at most `outOfHomeMaxMinutes`; after that the clock (which
 * has been counting since the door closed) applies again.
 *
 * A departure right after a visit is uncertain: when the front door closed
 * and someone moved inside within `visitEntryMs` (a visitor came in, while
 * she was home), the next front-door close 20 min–4 h later may be the
 * visitor leaving alone. Nothing inside tells "she left with them" from "she
 * collapsed as they left", so that outing delays the alarm only for
 * `warningAfterMinutes` (clock time, nights too), then the family is warned
 * that she may have gone out with the visitor — instead of waiting the
 * out-of-home limit (12 h on the messy corpus).
 *
 * After a CRITICAL finding, someone coming in through the front door while
 * she is inside is taken as a visitor (visitor-guard.ts): signs of life
 * within `visitorWindowMinutes` of the visit's latest activity do not clear
 * it; her OK button, a sign of life after the home was quiet for the whole
 * window, an away period, or a person resolving the alert does. And the
 * quiet after such a visit has its own limit: `warningAfterMinutes` of waking
 * time with no sign of life after the visit's latest activity raises a new
 * alarm (`again`), once per visit — she may have come home and collapsed
 * while the old critical stood, acknowledged hours ago.
 */
import type { Reading } from '../../core/events.js';
import type { Finding, Localized, Severity } from '../../core/findings.js';
import { inWindow, parseClockTime } from '../../core/time.js';
import { arrivalQuietMs, arrivedKey, comingHome, confirmInsideMs, doorPassageMs, endsOuting, isInsideActivation, noRoomMotion, oneDeviceSpanMs, roomMotionKey, uncertainOut, uncertainOutKey } from '../presence.js';
import { afterGap, gapFrom, gapInside, gapUntil } from '../watermark.js';
import { NONE, type HomeState } from '../home-state.js';
import type { NoSignOfLifeRule } from '../rule-config.js';
import { activeSeverity, clear, duration, finding, hhmm, longDuration, noSignOfLifeOf, raise, signName, silenceAlreadyRaised, type RuleContext, type RuleDefinition, type ZoneClock } from './rule.js';
import { heldSince, heldState, inBed, isHeldDevice, trackHeld, type Held } from './held-state.js';
import { learnOuting, learnQuiet, learnRest, learnUncertainOuting, outingLimit, quietLimit, restLimit, uncertainOutingLimit, type LearnedLimit } from './learned-limits.js';
import { memoWeak } from '../memo.js';
import { enteredAheadKey, enteredAwayCutKey, enteredAwayKey, enteredAwayLeftKey, getMark, markEnteredAbsence, outingWarnedKey, setMark } from './routine-marks.js';
import { endVisit, visitorGuard, visitQuietAlarm, visitQuietDue } from './visitor-guard.js';
import { arrivalNotNight, learnNight, nightMiddle, nightNotBegun, nightQuietMs, type NightStart } from './night-start.js';

const minute = 60_000;
/** The last sign of her inside other than movement (motion is `home.lastMotion`): a cupboard, the kettle, a button. */
const insideKey = 'presence/inside';
/** The latest front-door event: a quiet spell that began there (she came home, a visitor left) keeps the fixed warning. */
const doorKey = 'presence/door';
/** When someone came in through the front door while she was home (a visit began). */
const visitKey = 'presence/visit';
/**
 * Sets a mark that changes only together with "out" (an arrival, a visit, an
 * uncertain departure): it is saved with that change — the engine's lazy save
 * once the change has held 10 min — not at once. A restart before then finds
 * neither the change nor the mark, the state before it; a visit matters 20 min
 * on at the earliest. Saved at once, the visit mark made every door passage
 * with movement after it an urgent save (rules bench: a quarter of the home
 * parts written, docs/bench.md).
 */
function setOutMark(home: HomeState, key: string, at: number | undefined): void {
  setMark(home, key, at, false);
}
/** Movement inside this soon after the front door closed, with her home before, is someone coming in. */
export const visitEntryMs = 10 * minute;
/**
 * A front-door close between these times after someone came in may be the
 * visitor leaving (simulated visits last 30–100 min). Sooner is not a visit:
 * on van Kasteren C she goes in and out of the front door for ten minutes
 * every morning before leaving for work.
 */
export const visitMinMs = 20 * minute;
export const visitMaxMs = 4 * 60 * minute;

export interface Window { from: number; to: number }
/**
 * The rule's waking window in minutes, parsed once per compiled rule (rule
 * objects are shared by the homes running the same set; every re-plan asks
 * for it). Weakly keyed, no decision state.
 */
const wakingWindow = memoWeak((rule: NoSignOfLifeRule): Window => ({ from: parseClockTime(rule.wakingHours.from), to: parseClockTime(rule.wakingHours.to) }));

/**
 * When `ms` of the home's waking time (its noSignOfLife rule's waking hours) has passed
 * since `from`; `from + ms` in a home without that rule. For a wait that tells of a
 * silence as noSignOfLife does, paced as its clock is: the night does not count.
 */
export function afterWakingMs(home: HomeState, from: number, ms: number): number {
  const nsl = noSignOfLifeOf(home.rules).rule;
  return nsl === undefined ? from + ms : addWakingMs(from, ms, wakingWindow(nsl), home.rules.zone);
}

/** Where `t` is relative to the window, and when that next changes (on the home's clock, clock changes included). */
function segment(t: number, w: Window, zone: ZoneClock): { inside: boolean; until: number } {
  const inside = inWindow(zone.minuteOfDay(t), w.from, w.to);
  return { inside, until: zone.nextAt(t, (inside ? w.to : w.from) * minute) };
}

/**
 * Milliseconds of waking time in [a, b). A window with from === to is all day.
 * Walks window boundaries (at most two per day), so it is cheap for the
 * spans rules use.
 */
export function wakingMsBetween(a: number, b: number, w: Window, zone: ZoneClock): number {
  if (b <= a) return 0;
  if (w.from === w.to) return b - a;
  let total = 0;
  for (let t = a; t < b;) {
    const s = segment(t, w, zone);
    const end = Math.min(s.until, b);
    if (s.inside) total += end - t;
    t = end;
  }
  return total;
}

/** The earliest time at which `ms` of waking time has passed since `a`. */
export function addWakingMs(a: number, ms: number, w: Window, zone: ZoneClock): number {
  if (w.from === w.to) return a + ms;
  let need = ms;
  for (let t = a; ;) {
    const s = segment(t, w, zone);
    if (s.inside) {
      if (s.until - t >= need) return t + need;
      need -= s.until - t;
    }
    t = s.until;
  }
}

/**
 * Waking time of the quiet spell that counts at `now`: the hours of a gap whose
 * data was lost are not counted (watermark.ts, `gapInside`); the quiet before the
 * gap and after the data came back add up.
 */
function countedMs(home: HomeState, start: number, now: number, w: Window): number {
  const gap = gapInside(home, start);
  if (gap === undefined || gap.resume > now) return wakingMsBetween(start, now, w, home.rules.zone);
  return wakingMsBetween(start, gap.before, w, home.rules.zone) + wakingMsBetween(gap.resume, now, w, home.rules.zone);
}

/** When `ms` of counted waking time (`countedMs`) has passed since `start`. */
function countedDue(home: HomeState, start: number, ms: number, w: Window): number {
  const gap = gapInside(home, start);
  if (gap === undefined) return addWakingMs(start, ms, w, home.rules.zone);
  const before = wakingMsBetween(start, gap.before, w, home.rules.zone);
  // Reached before the gap: due then (it was raised then, or is due on the data's return).
  if (before >= ms) return addWakingMs(start, ms, w, home.rules.zone);
  return addWakingMs(gap.resume, ms - before, w, home.rules.zone);
}

/**
 * A bed mat pressed counts as her there through the night and for at most
 * `heldMaxMinutes` of her waking day (a late morning in bed), never longer than
 * `inBedMaxMinutes` in all; a seat or couch mat for `heldMaxMinutes`. Someone
 * who lay down at 10:00, or got back into bed just before her day starts, and
 * never got up again must not wait 12 h.
 */
function held(rule: NoSignOfLifeRule, home: HomeState): Held {
  const w = wakingWindow(rule);
  const zone = home.rules.zone;
  const seat = rule.heldMaxMinutes * minute;
  // On a seat: as long as she has rested there before and got up by herself, within bounds
  // (looked up only when a seat is held: this runs on every re-plan).
  let rest = -1;
  const restMs = () => (rest >= 0 ? rest : (rest = rule.learnLimits ? restLimit(home, rule.heldMaxMinutes, rule.restMaxMinutes).minutes * minute : seat));
  // In bed: the night (which the clock does not count anyway) and at most a seat's time of
  // her waking day — a press at 09:14 with the day starting at 09:45 holds till 11:45, not 21:14.
  return heldState(home, (bed, since) => (bed ? Math.min(rule.inBedMaxMinutes * minute, addWakingMs(since, seat, w, zone) - since) : restMs()));
}

/** The current quiet spell: when its clock started, and whether it runs from a seat she has not got up from. */
interface Spell { start: number; chair: boolean }

/**
 * When the no-sign-of-life clock started: last sign of life, or monitoring
 * start, or return from away, or getting up from a mat — and while a mat is
 * pressed, the end of the time it counts as her there. `chair`: the clock runs
 * from the end of a seat or couch mat's hold — she sat down and has not got
 * up, and a night is not slept in the chair (counted through the night, so
 * sitting down at 20:40 and never getting up is told that night: Ordóñez A's
 * seat mat, van Kasteren C's couch).
 */
function quietSpell(rule: NoSignOfLifeRule, home: HomeState): Spell {
  const h = held(rule, home);
  const start = Math.max(home.lastSignOfLife === NONE ? home.firstSeen : home.lastSignOfLife, home.awayUntil, h.until, h.released);
  return { start, chair: h.device !== undefined && !inBed(h.device) && start === h.until };
}

const allDay: Window = { from: 0, to: 0 };
/**
 * Signs that say where she is (a motion sensor, a door or cupboard, the kettle, a
 * button). Not a flow or a power change: a whole-home water meter says nothing of
 * the room, and on the simulated corpus a bath or a flush before bed, with the
 * bedroom sensor missing her, was the last sign of two ordinary nights.
 */
const placeKinds = new Set(['motion', 'door', 'kettle', 'button']);

/**
 * What her learned nights say about the current quiet spell (night-start.ts):
 * only for a spell that began at a plain sign of life (not a mat still held,
 * not the end of an away period) in a home that learns its nights.
 */
function nightOf(rule: NoSignOfLifeRule, home: HomeState, start: number): NightStart | undefined {
  if (!rule.learnNights || start !== home.lastSignOfLife) return undefined;
  const w = wakingWindow(rule);
  const middle = nightMiddle(w.from, w.to);
  if (middle === undefined) return undefined;
  // Her coming home through the front door was the last sign: no night begins there.
  if (home.outSince === NONE && getMark(home, arrivedKey) === start) return arrivalNotNight(home, middle, home.rules.zone, start, home.lastSignDevice);
  return placeKinds.has(home.lastSignKind) ? nightNotBegun(home, middle, home.rules.zone, start, home.lastSignDevice) : undefined;
}

/**
 * The window the clock runs in for the current quiet spell: the waking hours —
 * or all day, when the spell is not yet her night (it began in the evening away
 * from the one place her nights begin, or with her coming home), so a collapse
 * in the living room at 00:17 is not left until the next morning, or when she
 * is in the chair.
 */
function clockWindow(rule: NoSignOfLifeRule, home: HomeState, spell: Spell): Window {
  return spell.chair || nightOf(rule, home, spell.start) !== undefined ? allDay : wakingWindow(rule);
}

/** When a learned outing limit is judged: at the outing's start — what she had done by the time she left. */
const outingJudgedAt = (home: HomeState): number => (home.outSince === NONE ? home.lastSignOfLife : home.outSince);

/** Her own usual outings (learned-limits.ts), or the fixed limit. */
export function learnedOutLimit(rule: NoSignOfLifeRule, home: HomeState): { minutes: number; longest?: number } {
  return rule.learnLimits ? outingLimit(home, outingJudgedAt(home), rule.outOfHomeMaxMinutes, rule.outOfHomeLearnedMaxMinutes) : { minutes: rule.outOfHomeMaxMinutes };
}

/** Her own usual outings after a visit (learned-limits.ts), or the fixed `warningAfterMinutes`. */
function learnedUncertainLimit(rule: NoSignOfLifeRule, home: HomeState): { minutes: number; longest?: number } {
  return rule.learnLimits ? uncertainOutingLimit(home, outingJudgedAt(home), rule.warningAfterMinutes, Math.max(rule.warningAfterMinutes, rule.uncertainOutLearnedMaxMinutes)) : { minutes: rule.warningAfterMinutes };
}

function outLimitMinutes(rule: NoSignOfLifeRule, home: HomeState): number {
  return uncertainOut(home) ? learnedUncertainLimit(rule, home).minutes : learnedOutLimit(rule, home).minutes;
}

/**
 * What she did is remembered: a seat spell she got up from, an outing she came
 * back from, a long quiet spell at home she ended herself. Before the reading
 * is applied to the mats (`trackHeld`), so `held` is the state during the spell.
 */
function learnLimits(rule: NoSignOfLifeRule, home: HomeState, r: Reading, outSince: number, sign: boolean, frontDoor: boolean): void {
  if (sign && outSince === NONE && !frontDoor) learnQuietSpell(rule, home, r);
  if (r.kind === 'motion' && !r.occupied && isHeldDevice(r.device, rule) && !inBed(r.device)) {
    const since = heldSince(home, r.device);
    if (since !== undefined) learnRest(home, r.at - since);
  }
  // An outing she came back from, not one she was known to be away for (day-care, a trip entered).
  // Not across a gap in the data: how long she was out is not known.
  if (outSince !== NONE && home.outSince === NONE && home.awayUntil < outSince && afterGap(home, outSince)) {
    // An outing that began as a visitor left, which she came back from through the front door:
    // it was her going out (with them, or after them). Ended by movement alone, it was the
    // visitor leaving and her quiet inside: nothing about her outings.
    if (getMark(home, uncertainOutKey) !== outSince) learnOuting(home, r.at, r.at - outSince, rule.outOfHomeMaxMinutes);
    else if (frontDoor) learnUncertainOuting(home, r.at, r.at - outSince, rule.warningAfterMinutes);
  }
}

/**
 * A quiet spell at home that she ended with a sign of her own (not the front
 * door: that may be a visitor, or her coming home): its waking time, when it
 * ran past the warning, is learned (learned-limits.ts, `learnQuiet`). Not a
 * spell with a mat held (a rest or a night: learned or bounded apart), not
 * one after an away period, not one that began at the front door (that
 * clock keeps the fixed limit).
 */
function learnQuietSpell(rule: NoSignOfLifeRule, home: HomeState, r: Reading): void {
  const prev = home.prevSignOfLife;
  if (prev === NONE || prev < home.awayUntil || !afterGap(home, prev) || r.at - prev <= rule.warningAfterMinutes * minute) return;
  if (getMark(home, doorKey) === prev) return;
  const h = held(rule, home);
  if (h.device !== undefined) return;
  const start = Math.max(prev, h.released);
  const waking = wakingMsBetween(start, r.at, wakingWindow(rule), home.rules.zone);
  learnQuiet(home, r.at, waking, rule.warningAfterMinutes);
}

/**
 * When the family is warned about the current quiet spell: after her own
 * longest recent quiet spells (learned-limits.ts), within `quietLearnedMaxMinutes`
 * and before the critical; a learned wait that would run past the end of her
 * waking day ends there (`dayEnd`), no sooner than the fixed warning — carried
 * into the night, the clock pauses and a collapse at 18:25 was told the next
 * morning (Tapia 2); cut to the fixed 3 h, every evening of TV in a home with
 * only objects to report was an alarm at 21:0x (messy corpus) — or the fixed
 * `warningAfterMinutes`: with fixed
 * rules, in the chair, when the quiet began at the front door (she came home —
 * van Kasteren C's reed often ends a passage on "open" — or a visitor left), and when the
 * clock runs through the night (the quiet began away from where her nights
 * begin): those are the moments a collapse is likeliest; they keep the fixed clock.
 */
function quietWarning(rule: NoSignOfLifeRule, home: HomeState, spell: Spell, window: Window): LearnedLimit & { dayEnd?: true } {
  const fixed = { minutes: rule.warningAfterMinutes };
  if (!rule.learnLimits || window === allDay || getMark(home, doorKey) === spell.start) return fixed;
  const learned = quietLimit(home, spell.start, rule.warningAfterMinutes, Math.min(rule.quietLearnedMaxMinutes, rule.criticalAfterMinutes));
  if (learned.longest === undefined) return learned;
  // Her day ends before the learned wait would: told by the end of her waking day, and never
  // before the fixed warning (waited into the night, the clock pauses and a collapse at 18:25
  // was told the next morning: Tapia 2). Counted from the spell's first waking minute: a quiet
  // that began before her day (a mat's hold ending at 08:19, her day from 09:45) waits her
  // learned time from 09:45.
  const ms = learned.minutes * minute;
  const zone = home.rules.zone;
  const woke = addWakingMs(spell.start, 0, window, zone);
  const before = wakingMsBetween(woke, woke + ms, window, zone);
  if (before >= ms) return learned;
  return before > fixed.minutes * minute ? { minutes: before / minute, longest: learned.longest, dayEnd: true } : fixed;
}

/**
 * Where an outing's clock starts: the front door closing behind her, or — when
 * she went out for an absence someone entered (a hospital stay, a trip,
 * day-care) — the end of that absence, from which she is expected back. Her
 * days in hospital are not an outing "longer than usual".
 */
export function outClockStart(home: HomeState, doorClosedAt: number): number {
  return Math.max(doorClosedAt, home.awayUntil);
}

/**
 * Where an outing's limit counts from: `outClockStart`, moved on by the hours of
 * a gap whose data was lost after it (watermark.ts). Her coming home may be in
 * the lost data, so those hours are neither "still out" (an alarm made of
 * missing data the minute the data comes back) nor "back" (an all-clear made of
 * nothing): the limit counts the time before the gap and again from its end,
 * as the quiet-spell clocks do (`gapInside`).
 */
export function outCountedFrom(home: HomeState, doorClosedAt: number): number {
  const start = outClockStart(home, doorClosedAt);
  const gap = gapInside(home, start);
  return gap === undefined ? start : start + (gap.resume - gap.before);
}

/**
 * The words both outing rules use once an entered absence she left on is over and she is
 * not back (`home.awayUntil` after `doorClosedAt`): how long since it ended, and what was seen.
 */
export function absenceOverText(home: HomeState, doorClosedAt: number, now: number): { message: Localized; observed: Localized } {
  const tz = home.rules.zone, ended = hhmm(home.awayUntil, tz), since = duration(now - home.awayUntil);
  return {
    message: { en: `Not back ${since.en} after the entered absence ended at ${ended}`, ja: `登録された不在期間が ${ended} に終わってから${since.ja}、戻っていません` },
    observed: { en: `The absence was entered until ${ended}; the front door last closed at ${hhmm(doorClosedAt, tz)} when she left, and nothing has moved inside since. If she is staying away longer, please extend the absence; if not, please check on her.`, ja: `不在期間は ${ended} までと登録されています。出かけた際の ${hhmm(doorClosedAt, tz)} に玄関が閉まってから、室内に動きがありません。不在が延びる場合は不在期間を延長し、そうでなければ様子を確認してください。` },
  };
}

function outUntil(rule: NoSignOfLifeRule, home: HomeState): number {
  return home.outSince === NONE ? NONE : outCountedFrom(home, home.outSince) + outLimitMinutes(rule, home) * minute;
}

/**
 * Keeps the visit marks as the front door and signs inside come. Someone came
 * in (a visit began) when a front-door passage, while she was home, is
 * followed by movement inside within `visitEntryMs`: the passage started an
 * "outing" that the movement ended at once. The first front-door close
 * `visitMinMs`–`visitMaxMs` after it that starts an outing is an uncertain
 * departure. (A passage read as her coming home — after an hour with no sign
 * of her inside — is never a visit: on van Kasteren C that was her own
 * return, sitting down on the couch a minute later.)
 *
 * Each mark changes only with "out" (the first line): `setOutMark`.
 */
function trackVisit(home: HomeState, r: Reading, before: number, frontDoorClosed: boolean): void {
  if (home.outSince === before) return;
  const uncertain = getMark(home, uncertainOutKey);
  if (home.outSince === NONE) {
    if (uncertain !== undefined) setOutMark(home, uncertainOutKey, undefined);
    if (!frontDoorClosed && r.at - before <= visitEntryMs) setOutMark(home, visitKey, r.at);
    return;
  }
  if (before !== NONE) {
    // A bouncing reed moved the start of the same outing: it stays as certain as it was.
    if (uncertain === before) setOutMark(home, uncertainOutKey, home.outSince);
    return;
  }
  const visit = getMark(home, visitKey);
  if (visit === undefined) return;
  setOutMark(home, visitKey, undefined);
  if (r.at - visit >= visitMinMs && r.at - visit <= visitMaxMs) setOutMark(home, uncertainOutKey, home.outSince);
}

function describeLast(rule: NoSignOfLifeRule, home: HomeState, tz: ZoneClock, now: number): { en: string; ja: string } {
  const h = held(rule, home);
  // She showed herself elsewhere after the mat's press had stopped counting as her there: the
  // mat says nothing of her now. It has not let go since — stuck, or something left on it (van
  // Kasteren B's bed mat, pressed for ten days: "pressed since 04:10 (someone there, but still)
  // and no other sign of life since" six days on, with movement in the kitchen that evening).
  if (h.device !== undefined && home.lastSignOfLife > h.until && home.lastSignDevice !== h.device) {
    const last = describeSign(home, tz);
    const long = longDuration(now - h.since);
    return {
      en: `${last.en} ${h.device} has reported pressed for ${long.en} without letting go, though she was seen elsewhere after it: it is not taken as her there (stuck, or something left on it?).`,
      ja: `${last.ja} ${h.device} は${long.ja}押されたままですが、その後ほかの場所で生活反応があったため、在席とはみなしていません（故障、または物が置かれている可能性）。`,
    };
  }
  if (h.device !== undefined) {
    // Pressed before a gap whose data was lost: its state since is not known (she may have got
    // up and gone out in the lost hours), so it is not "someone there" (messy-05, 15 January).
    if (!afterGap(home, h.since)) {
      const { from, to } = gapSpan(home, tz), since = hhmm(h.since, tz);
      return {
        en: `${h.device} was last reported pressed at ${since}, before no data reached the hub from ${from} to ${to}; whether she is still there is not known, and no sign of life has come since the data returned.`,
        ja: `${h.device} は ${since} に押されたと報告されたのが最後で、その後 ${from} から ${to} までこの家のデータが届いていません。今もそこにいるかは分からず、データが戻ってからも生活反応がありません。`,
      };
    }
    return { en: `${h.device} pressed since ${hhmm(h.since, tz)} (someone there, but still) and no other sign of life since.`, ja: `${hhmm(h.since, tz)} から ${h.device} が押されたまま（在席しているが動きがない）で、ほかの生活反応がありません。` };
  }
  if (h.released > home.lastSignOfLife) {
    return { en: `Last sign of life: got up from the mat at ${hhmm(h.released, tz)}; nothing since.`, ja: `最後の生活反応：${hhmm(h.released, tz)} にマットから離れました。それ以降ありません。` };
  }
  return describeSign(home, tz);
}

/** Her last sign of life (or none since monitoring began), what came after it, and whether she may have gone out. */
function describeSign(home: HomeState, tz: ZoneClock): { en: string; ja: string } {
  if (home.lastSignOfLife === NONE) {
    return { en: `No sign of life at all since monitoring started at ${hhmm(home.firstSeen, tz)}.`, ja: `見守り開始（${hhmm(home.firstSeen, tz)}）以降、生活反応が一度もありません。` };
  }
  const what = signName[home.lastSignKind] ?? { en: home.lastSignKind, ja: home.lastSignKind };
  const at = hhmm(home.lastSignOfLife, tz);
  const out = home.outSince !== NONE ? { en: ` The front door closed at ${hhmm(home.outSince, tz)} with no movement inside since (may have gone out).`, ja: ` ${hhmm(home.outSince, tz)} に玄関が閉まり、その後室内に動きがありません（外出の可能性）。` } : { en: '', ja: '' };
  const since = home.awayUntil > home.lastSignOfLife ? { en: ` Back from being away at ${hhmm(home.awayUntil, tz)}.`, ja: ` ${hhmm(home.awayUntil, tz)} に不在期間が終わりました。` } : { en: '', ja: '' };
  const gap = gapText(home, tz);
  return { en: `Last sign of life: ${what.en} at ${at}; nothing since.${since.en}${gap.en}${out.en}`, ja: `最後の生活反応：${at} の${what.ja}。それ以降ありません。${since.ja}${gap.ja}${out.ja}` };
}

/** The latest gap whose data was lost, as local times: the newest reading before it and the one that ended it. */
function gapSpan(home: HomeState, tz: ZoneClock): { from: string; to: string } {
  return { from: hhmm(gapFrom(home), tz), to: hhmm(gapUntil(home), tz) };
}

/** After a gap whose data was lost since `since` (her last sign, or the start of an outing): what is missing, and that it is not counted. */
function gapText(home: HomeState, tz: ZoneClock, since = home.lastSignOfLife): { en: string; ja: string } {
  if (afterGap(home, since)) return { en: '', ja: '' };
  const { from, to } = gapSpan(home, tz);
  return { en: ` No data reached the hub from ${from} to ${to}: that time is not counted.`, ja: ` ${from} から ${to} まで、この家のデータが届いていません（その時間は数えていません）。` };
}

/** Says why the night was counted: the quiet began away from where her nights begin. */
function withNight(o: { en: string; ja: string }, night: NightStart | undefined, home: HomeState): { en: string; ja: string } {
  if (night === undefined) return o;
  if (night.arrivedAt !== undefined) {
    const at = hhmm(night.arrivedAt, home.rules.zone);
    return {
      en: `${o.en} The night is not taken as sleep: she came home at ${at} and nothing has moved inside since.`,
      ja: `${o.ja} 夜間も睡眠とはみなしていません：${at} に帰宅してから、室内に動きがありません。`,
    };
  }
  return {
    en: `${o.en} The night is not taken as sleep: ${night.atPlace} of her last ${night.nights} nights began at ${night.place}, and this quiet began at ${home.lastSignDevice}.`,
    ja: `${o.ja} 夜間も睡眠とはみなしていません：最近の ${night.nights} 晩のうち ${night.atPlace} 晩は ${night.place} で夜を迎えましたが、今回は ${home.lastSignDevice} から静かになりました。`,
  };
}

/** Says why the night was counted: she sat down and has not got up. */
function withChair(o: { en: string; ja: string }, spell: Spell): { en: string; ja: string } {
  if (!spell.chair) return o;
  return { en: `${o.en} The night is not taken as sleep: she is on a seat, not in bed.`, ja: `${o.ja} 夜間も睡眠とはみなしていません：ベッドではなく椅子・ソファにいます。` };
}

function raised(rule: NoSignOfLifeRule, home: HomeState, ctx: RuleContext, severity: Severity, wakingMs: number): Finding {
  const tz = home.rules.zone;
  const d = duration(wakingMs);
  const { from, to } = rule.wakingHours;
  const spell = quietSpell(rule, home);
  const learned: LearnedLimit & { dayEnd?: true } = severity === 'warning' ? quietWarning(rule, home, spell, clockWindow(rule, home, spell)) : { minutes: rule.criticalAfterMinutes };
  const limit = learned.minutes;
  const night = nightOf(rule, home, spell.start);
  // Her own quiet spells set the warning: say so, and how long the longest was.
  const usual = learned.longest === undefined ? undefined : duration(learned.longest * minute);
  const dayEnd = learned.dayEnd === true;
  return finding(home, rule, ctx.now, 'raised', severity, 'family', {
    message: usual === undefined
      ? { en: `No sign of life for ${d.en} of waking time`, ja: `起きている時間帯に${d.ja}、生活反応がありません` }
      : dayEnd
        // Told at the end of her day, which may be sooner than her longest quiet spell: not "longer than usual".
        ? { en: `No sign of life for ${d.en} of waking time, up to the end of her waking day (${to}) — her longest recent quiet spell was ${usual.en}`, ja: `起きている時間帯の終わり（${to}）まで${d.ja}、生活反応がありません（最近の最長の静かな時間は${usual.ja}）` }
        : { en: `No sign of life for ${d.en} of waking time, longer than usual — her longest recent quiet spell was ${usual.en}`, ja: `起きている時間帯に${d.ja}、生活反応がありません — いつもより長い静かな時間です（最近の最長は${usual.ja}）` },
    expected: dayEnd
      ? {
        en: `Some sign of life (movement, a door, the kettle, water, gas, electricity or a button) between ${from} and ${to} at least as often as her longest recent quiet spell allows; a quiet spell of ${rule.warningAfterMinutes} minutes or more still open when her waking day ends is told then, not the next morning.`,
        ja: `${from}〜${to}の間、最近の最も長い静かな時間を超えずに生活反応があること。${rule.warningAfterMinutes}分以上の静かな時間が起きている時間帯の終わりまで続いた場合は、翌朝ではなくその時点でお知らせします。`,
      }
      : {
        en: `Some sign of life (movement, a door, the kettle, water, gas, electricity or a button) at least every ${limit} minutes between ${from} and ${to}${usual === undefined ? '' : ' (her longest recent quiet spell, with a margin)'}.`,
        ja: `${from}〜${to}の間、少なくとも${limit}分に一度は生活反応（人の動き・ドア・電気ポット・水道・ガス・電気・ボタン）があること${usual === undefined ? '' : '（最近の最も長い静かな時間に余裕を加えた時間）'}。`,
      },
    observed: withChair(withNight(describeLast(rule, home, tz, ctx.now), night, home), spell),
  }, { data: { lastSignOfLife: home.lastSignOfLife, wakingMinutes: Math.floor(wakingMs / minute), limitMinutes: Math.round(limit), ...(learned.longest === undefined ? {} : { learnedLongestMinutes: learned.longest }), ...(dayEnd ? { dayEnd: true } : {}), ...(night === undefined ? {} : { nightNotBegun: true }) } });
}

/**
 * The warning for an outing nobody announced that lasts longer than
 * `outOfHomeMaxMinutes` — or, when the door closed right after a visit,
 * longer than `warningAfterMinutes`: she may have left with the visitor, or
 * be inside and unable to move.
 */
function outTooLong(rule: NoSignOfLifeRule, home: HomeState, ctx: RuleContext): Finding {
  return withOutingGap(home, outTooLongFinding(rule, home, ctx), home.outSince);
}

/** An outing's warning whose clock ran across a gap in the data: the observation says which hours were not counted. */
export function withOutingGap(home: HomeState, f: Finding, doorClosedAt: number): Finding {
  const gap = gapText(home, home.rules.zone, outClockStart(home, doorClosedAt));
  if (gap.en !== '') f.observed = { en: `${f.observed.en}${gap.en}`, ja: `${f.observed.ja}${gap.ja}` };
  return f;
}

function outTooLongFinding(rule: NoSignOfLifeRule, home: HomeState, ctx: RuleContext): Finding {
  const tz = home.rules.zone;
  const d = duration(ctx.now - home.outSince);
  const limit = duration(outLimitMinutes(rule, home) * minute);
  if (home.awayUntil > home.outSince) {
    // She left for an absence someone entered; it is over and she is not back.
    const { message, observed } = absenceOverText(home, home.outSince, ctx.now);
    return finding(home, rule, ctx.now, 'raised', 'warning', 'family', {
      message,
      expected: { en: `Back home (movement inside, or the front door again) within ${limit.en} of the absence ending, unless it was extended.`, ja: `不在期間の終了から${limit.ja}以内に帰宅すること（室内の動き、または玄関の開閉）。不在期間が延長された場合を除きます。` },
      observed,
    }, { data: { outSince: home.outSince, awayUntil: home.awayUntil, outMinutes: Math.floor((ctx.now - home.awayUntil) / minute), limitMinutes: outLimitMinutes(rule, home) } });
  }
  if (uncertainOut(home)) {
    const door = hhmm(home.outSince, tz);
    const longest = learnedUncertainLimit(rule, home).longest;
    const usual = longest === undefined ? undefined : duration(longest * minute);
    return finding(home, rule, ctx.now, 'raised', 'warning', 'family', {
      message: usual === undefined
        ? { en: `Nothing has moved for ${d.en} since a visitor left — she may have gone out with them, or be unable to move`, ja: `来客が帰ってから${d.ja}、動きがありません — 一緒に出かけたか、動けなくなっている可能性があります` }
        : { en: `Nothing has moved for ${d.en} since a visitor left — longer than her recent outings after a visit (the longest ${usual.en}); she may be unable to move`, ja: `来客が帰ってから${d.ja}、動きがありません — 最近の来客後の外出（最長${usual.ja}）より長く、動けなくなっている可能性があります` },
      expected: { en: `A sign of her inside, or the front door again, within ${limit.en} of a visitor leaving.`, ja: `来客が帰ってから${limit.ja}以内に、室内の生活反応または玄関の開閉があること。` },
      observed: { en: `Someone came in while she was home; the front door closed at ${door} and nothing has moved inside since. The sensors cannot tell whether she left with the visitor. Please check on her.`, ja: `在宅中に誰かが来訪し、${door} に玄関が閉まってから室内に動きがありません。ご本人が来客と一緒に出かけたかどうかはセンサーでは分かりません。様子を確認してください。` },
    }, { data: { outSince: home.outSince, outMinutes: Math.floor((ctx.now - home.outSince) / minute), limitMinutes: outLimitMinutes(rule, home), afterVisit: true, ...(longest === undefined ? {} : { learnedLongestMinutes: longest }) } });
  }
  const learned = learnedOutLimit(rule, home);
  if (learned.longest !== undefined) {
    const usual = duration(learned.longest * minute);
    return finding(home, rule, ctx.now, 'raised', 'warning', 'family', {
      message: { en: `Went out and has not come back for ${d.en}, longer than usual — her longest recent outing was ${usual.en}`, ja: `出かけたまま、いつもより長く戻っていません（${d.ja}）— 最近の最も長い外出は${usual.ja}でした` },
      expected: { en: `Back home within ${limit.en} of going out (her longest recent outing, with a margin), unless an absence was entered.`, ja: `外出から${limit.ja}以内に帰宅すること（最近の最も長い外出に余裕を加えた時間）。不在予定が登録されている場合を除きます。` },
      observed: { en: `The front door closed at ${hhmm(home.outSince, tz)} and nothing has moved inside since. If she is not away on purpose, please check on her; if she is, enter the absence.`, ja: `${hhmm(home.outSince, tz)} に玄関が閉まり、その後室内に動きがありません。予定された外出でなければ様子を確認してください。外泊などの場合は不在予定を登録してください。` },
    }, { data: { outSince: home.outSince, outMinutes: Math.floor((ctx.now - home.outSince) / minute), limitMinutes: learned.minutes, learnedLongestMinutes: learned.longest } });
  }
  return finding(home, rule, ctx.now, 'raised', 'warning', 'family', {
    message: { en: `Went out and has not come back for ${d.en}, longer than usual`, ja: `出かけたまま、いつもより長く戻っていません（${d.ja}）` },
    expected: { en: `Back home (movement inside, or the front door again) within ${limit.en} of going out, unless an absence was entered.`, ja: `外出から${limit.ja}以内に帰宅すること（室内の動き、または玄関の開閉）。不在予定が登録されている場合を除きます。` },
    observed: { en: `The front door closed at ${hhmm(home.outSince, tz)} and nothing has moved inside since. If she is not away on purpose, please check on her; if she is, enter the absence.`, ja: `${hhmm(home.outSince, tz)} に玄関が閉まり、その後室内に動きがありません。予定された外出でなければ様子を確認してください。外泊などの場合は不在予定を登録してください。` },
  }, { data: { outSince: home.outSince, outMinutes: Math.floor((ctx.now - home.outSince) / minute), limitMinutes: rule.outOfHomeMaxMinutes } });
}

/**
 * One sensor alone (issue 10, noticed on van Kasteren B): a sensor that fires
 * by itself — a PIR that sees the street, a mat under a cushion, a reed that
 * chatters — is a sign of life every time, so no quiet spell ever begins and a
 * collapse elsewhere in the home would never be told. When every sign of life
 * has come from one device alone, after another device's, for
 * `soleDeviceMinutes` (a day), the family is warned. A home whose only sensor
 * is that device never has "another device's" sign, so it never gets this.
 * The run (`home.soleSince`) is not persisted: a restart starts it again; a gap
 * whose data was lost starts it again at the gap's end.
 */
const soleKey = memoWeak((rule: NoSignOfLifeRule): string => `${rule.id}/sole`);

/**
 * Signs in a run before it can be a sensor firing by itself: a front door at
 * leaving and at coming home after two days away is four; van Kasteren B's
 * kitchen PIR fired 760–2,686 times a day with nobody else in the home.
 */
const soleMinSigns = 20;

/** When a run that goes on would be told: a day after it began, not while she is known to be away. */
function soleAt(rule: NoSignOfLifeRule, home: HomeState): number {
  return Math.max(home.soleSince + rule.soleDeviceMinutes * minute, home.awayUntil);
}

/**
 * Whether the run, with `signs` signs the last at `last`, is one sensor alone:
 * enough signs (a few are no sensor firing by itself), and still firing when it
 * would be told (a device that went quiet leaves a plain quiet spell, which
 * the clock above tells).
 */
function soleArmed(rule: NoSignOfLifeRule, home: HomeState, signs: number, last: number): boolean {
  return home.soleSince !== NONE && signs >= soleMinSigns && soleAt(rule, home) < last + rule.warningAfterMinutes * minute;
}

/** When the one-sensor-alone warning is due (Infinity: not while it cannot be raised). */
function soleDue(rule: NoSignOfLifeRule, home: HomeState): number {
  // Raised already, or this silence already told: nothing to add.
  if (!soleArmed(rule, home, home.soleSigns, home.lastSignOfLife) || activeSeverity(home, soleKey(rule)) !== undefined || activeSeverity(home, rule.id) !== undefined) return Infinity;
  return soleAt(rule, home);
}

function soleAlarm(rule: NoSignOfLifeRule, home: HomeState, ctx: RuleContext): Finding {
  const tz = home.rules.zone;
  const d = duration(ctx.now - home.soleSince);
  const device = home.lastSignDevice;
  return finding(home, rule, ctx.now, 'raised', 'warning', 'family', {
    message: { en: `Only ${device} has shown any sign of life for ${d.en}; nothing else in the home has moved`, ja: `${d.ja}、${device} 以外の機器に生活反応がありません` },
    expected: { en: 'Signs of life from more than one place in the home (the bed, the bathroom, doors) within a day.', ja: '1日のうちに、家の複数の場所（ベッド・浴室・ドアなど）で生活反応があること。' },
    observed: { en: `Since ${hhmm(home.soleSince, tz)} every sign of life came from ${device} (last at ${hhmm(home.lastSignOfLife, tz)}). The sensor may be firing by itself (a motion sensor seeing a window, a mat under a cushion), and it would hide her not moving anywhere else. Please check on her, and have the sensor checked.`, ja: `${hhmm(home.soleSince, tz)} 以降、生活反応はすべて ${device} からです（最後は ${hhmm(home.lastSignOfLife, tz)}）。センサーが誤って反応し続けている可能性があり（窓の外を検知する人感センサー、クッションの載ったマットなど）、その場合ほかの場所で動けなくなっていても分かりません。様子を確認し、センサーの点検も依頼してください。` },
  }, { device, data: { soleSince: home.soleSince, soleMinutes: Math.floor((ctx.now - home.soleSince) / minute), limitMinutes: rule.soleDeviceMinutes } });
}

/** A sign of life: tracks the run of one device alone, and clears its warning when another device speaks. Whether the deadline may have moved earlier. */
function trackSole(rule: NoSignOfLifeRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
  // A gap whose data was lost lies in the run: the other devices may have spoken in the lost hours,
  // so the run counts from the gap's end (messy corpus: a bed mat "alone for 31 h", 30 of them a gap).
  if (home.soleSince !== NONE && !afterGap(home, home.soleSince)) { home.soleSince = gapUntil(home); home.soleSigns = 0; }
  if (r.device === home.prevSignDevice) {
    // Re-plan only when this sign makes the run's deadline finite: its 20th, or one after a pause that had let it lapse.
    const was = soleArmed(rule, home, home.soleSigns, home.prevSignOfLife);
    home.soleSigns++;
    return !was && soleArmed(rule, home, home.soleSigns, home.lastSignOfLife);
  }
  home.soleSince = home.prevSignDevice === '' ? NONE : r.at;
  home.soleSigns = 1;
  return home.active !== undefined && soleCleared(rule, home, r, ctx);
}

/** Another device spoke: clears the one-sensor warning (apart from `trackSole`, so its closure is allocated only here). */
function soleCleared(rule: NoSignOfLifeRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
  const tz = home.rules.zone;
  return clear(home, soleKey(rule), ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
    message: { en: `Sign of life from another part of the home: ${r.device} at ${hhmm(r.at, tz)}`, ja: `ほかの場所で生活反応がありました：${hhmm(r.at, tz)} の ${r.device}` },
    expected: { en: 'Signs of life from more than one place in the home within a day.', ja: '1日のうちに、家の複数の場所で生活反応があること。' },
    observed: { en: `${r.device} at ${hhmm(r.at, tz)}.`, ja: `${hhmm(r.at, tz)} に ${r.device}。` },
  }, { device: r.device }));
}

/**
 * A reading while something of the home is raised: the visitor guard, then a
 * sign of her clears the alarm. Apart from `onReading`, so the closure's
 * context is allocated only while something is raised, not on every reading.
 */
function answered(rule: NoSignOfLifeRule, home: HomeState, r: Reading, ctx: RuleContext, sign: boolean): boolean {
  const guard = visitorGuard(rule, home, r, ctx);
  if (guard === 'held' || !sign) return false;
  endVisit(rule, home);
  return clear(home, rule.id, ctx, (was) => {
    const what = r.kind === 'motion' && !r.occupied ? { en: `getting up from ${r.device}`, ja: `${r.device} から離れる動き` } : signName[r.kind] ?? { en: r.kind, ja: r.kind };
    const at = hhmm(r.at, home.rules.zone);
    return finding(home, rule, ctx.now, 'cleared', was, 'family', {
      message: { en: `Sign of life again: ${what.en} at ${at}`, ja: `生活反応がありました：${at} の${what.ja}` },
      expected: { en: 'Regular signs of life during waking hours.', ja: '起きている時間帯に定期的な生活反応があること。' },
      observed: { en: `${what.en} at ${at} (device ${r.device}).`, ja: `${at} に${what.ja}（機器 ${r.device}）。` },
    }, { device: r.device });
  });
}

/** The first sign inside of the current run during an outing that has not yet shown her home (`confirmsInside`). */
const tentativeInKey = 'presence/tentative-in';

/**
 * Whether a sign of her inside, during an outing, shows her home. In a home with
 * a motion sensor in its rooms, a motion sensor or mat that fires by itself fires
 * once or twice: on van Kasteren B the kitchen PIR blipped at 19:40 and 21:54 while
 * she was out from 15:13 to 03:30, and each blip, read as her home, began a quiet
 * spell the family was warned of three hours on; on van Kasteren C the couch mat
 * pulsed for an hour after she left. So once the outing has lasted
 * `arrivalQuietMs` (an hour), movement alone shows her home only when it is seen
 * again: by another device within `confirmInsideMs`, or by the same motion sensor
 * over `oneDeviceSpanMs` (not a mat: a cushion settling pulses for an hour).
 * Unchanged: in the first hour any sign is her (she did not go out, or came back
 * in); a cupboard, the kettle or a button is her at any time; in a home with no
 * motion sensor in its rooms, where the front door cannot tell going out from
 * coming in, any sign is her; and her coming home through the front door needs
 * none of this (the door branch). An outing never confirmed is still watched by
 * the out-of-home limit.
 */
function confirmsInside(rule: NoSignOfLifeRule, home: HomeState, r: Reading): boolean {
  if (r.kind !== 'motion' || noRoomMotion(home.marks) || r.at - home.outSince < arrivalQuietMs) return true;
  const first = getMark(home, tentativeInKey);
  const running = first !== undefined && first > home.outSince && home.prevSignOfLife >= first && r.at - home.prevSignOfLife <= confirmInsideMs;
  if (!running) { setOutMark(home, tentativeInKey, r.at); return false; }
  if (home.prevSignDevice !== r.device) return true;
  return !isHeldDevice(r.device, rule) && r.at - first >= oneDeviceSpanMs;
}

/**
 * Whether this reading shows her home before an absence someone entered (`setAway`: her
 * 「出かけます」 on the tablet, day-care) has run out. Held to its entered end, the absence
 * would hide a collapse right after an early return: home from day-care at 13:00 instead of
 * 16:00, fallen at 13:05, the family told at 19:00 instead of 16:05. What ends it:
 * - a button she pressed, which she does at home;
 * - after she was seen leaving (`enteredAwayLeftKey`: out when it was entered, else her first
 *   front-door close since), a sign of her inside that ended the outing an hour or more after
 *   it (`insideEnded`), or a sign of her inside after the front door closed as her coming back
 *   (presence.ts `arrivedKey`, a passage or more after she left). A door alone is not enough: on
 *   van Kasteren B a passage at 13:17 read as going out made her real leaving at 13:22 read as
 *   coming back.
 * Movement with no door before it ends it only as it ends an outing (`confirmsInside`: seen
 * again soon), and not in her first hour out. A helper who lets herself in through the front
 * door and moves inside does end it: the sensors cannot tell her from the resident, as the
 * outing rules cannot. Only an absence entered so (`enteredAwayKey`): by `setAway`, or a context
 * period awayContext applied (a trip or day-care entered ahead; not a hospital stay).
 */
function endsAbsence(home: HomeState, r: Reading, insideEnded: boolean, front: boolean): boolean {
  if (r.at >= home.awayUntil || getMark(home, enteredAwayKey) !== home.awayUntil) return false;
  const frontDoorClosed = front && r.kind === 'door' && !r.open;
  const left = getMark(home, enteredAwayLeftKey);
  // A period entered ahead that found her home: her 「元気です」 before the day-care van is not her back.
  if (r.kind === 'button') return left !== undefined || getMark(home, enteredAheadKey) !== home.awayUntil;
  // The first close is her leaving; a close within the same passage (a bouncing reed) too.
  if (left === undefined) { if (frontDoorClosed) setMark(home, enteredAwayLeftKey, r.at); return false; }
  if (r.at - left < doorPassageMs) return false;
  // In her first hour out, a sign inside with no door before it is her leaving's tail (van
  // Kasteren C's couch mat pulsed for an hour after she left), not her back.
  if (insideEnded) return r.at - left >= arrivalQuietMs;
  const door = getMark(home, arrivedKey);
  return door !== undefined && door - left >= doorPassageMs && r.at >= door && isInsideActivation(r, front);
}

export const noSignOfLife: RuleDefinition<NoSignOfLifeRule> = {
  onReading(rule: NoSignOfLifeRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    const soleMoved = ctx.sign && trackSole(rule, home, r, ctx);
    const frontDoor = r.kind === 'door' && (r.door === rule.frontDoor || r.device === rule.frontDoor);
    const wasOut = home.outSince !== NONE;
    const before = home.outSince;
    let arrived = false;
    if (ctx.sign && rule.learnNights && !wasOut && home.prevSignOfLife >= home.awayUntil && afterGap(home, home.prevSignOfLife) && r.at - home.prevSignOfLife >= nightQuietMs) {
      // A long quiet spell while she was home: a night, if it crossed the night's middle.
      const w = wakingWindow(rule);
      const middle = nightMiddle(w.from, w.to);
      if (middle !== undefined) learnNight(home, middle, home.rules.zone, home.prevSignOfLife, home.prevSignDevice, r.at);
    }
    // The home has a motion sensor that watches a room: flows starting no longer say she is in.
    if (r.kind === 'motion' && r.occupied && noRoomMotion(home.marks) && !isHeldDevice(r.device, rule)) setMark(home, roomMotionKey, r.at);
    if (home.outSince !== NONE && endsOuting(r, frontDoor, home.outSince, noRoomMotion(home.marks)) && confirmsInside(rule, home, r)) {
      // A sign of her inside (presence.ts) — movement, a cupboard or inner door opening, the
      // kettle, a button, after the passage through the door — means she is home. Not a contact
      // going back to rest, not power: it moves by itself; flows only in a home without a
      // motion sensor in its rooms, where nothing else could see her come in.
      home.outSince = NONE;
    } else if (frontDoor && r.kind === 'door' && !r.open) {
      // Closing the door while out is her coming home (arrival), even with no motion
      // sensor in the hall; closing it while inside is going out. A close within
      // doorPassageMs of the last one is the same passage (a bouncing reed). And a door
      // after an hour with no sign of her inside is coming home too, though her leaving
      // was not seen (a reed that missed it, a back door): read as "went out", a
      // collapse right after coming home would wait for the out-of-home limit. In a home
      // no motion sensor watches, an hour with no cupboard or kettle is her at home (van
      // Kasteren A: a cupboard at 20:59, out at 22:03 for two days — read as coming home,
      // a warning at 01:03 and a critical at 04:03): there the quiet must pass the fixed
      // warning before the door is her coming home.
      if (home.outSince !== NONE) home.outSince = r.at - home.outSince >= doorPassageMs ? NONE : r.at;
      else if (comingHome(home, r.at)) {
        // The passage she just came home by, still going on (the door closed twice): still home.
      } else {
        const inside = Math.max(home.lastMotion, getMark(home, insideKey) ?? NONE);
        const quiet = noRoomMotion(home.marks) ? Math.max(arrivalQuietMs, rule.warningAfterMinutes * minute) : arrivalQuietMs;
        home.outSince = inside !== NONE && r.at - inside > quiet ? NONE : r.at;
      }
      if (home.outSince === NONE) { setOutMark(home, arrivedKey, r.at); arrived = true; }
    }
    // An outing that ended or began again leaves no unconfirmed sign behind (`confirmsInside`).
    if (home.outSince !== before && getMark(home, tentativeInKey) !== undefined) setOutMark(home, tentativeInKey, undefined);
    const back = endsAbsence(home, r, before !== NONE && home.outSince === NONE && !arrived, frontDoor);
    if (back) {
      // The end it had: a context period with that end is over for her (routine-marks.ts `livePeriod`).
      setMark(home, enteredAwayCutKey, home.awayUntil);
      home.awayUntil = r.at;
      markEnteredAbsence(home, undefined, false);
    }
    if (rule.learnLimits) {
      learnLimits(rule, home, r, before, ctx.sign, frontDoor);
      // Saved with the progress (like lastMotion): a door passage is not worth a save of its own.
      if (frontDoor && ctx.sign) setMark(home, doorKey, r.at, false);
    }
    trackVisit(home, r, before, frontDoor && r.kind === 'door' && !r.open);
    // Progress like lastMotion (saved on the slow cadence): a cupboard is not worth an urgent save.
    if (r.kind !== 'motion' && isInsideActivation(r, frontDoor)) setMark(home, insideKey, r.at, false);
    // Going out or coming home moves the deadline (the out-of-home limit, an uncertain
    // departure's 3 h, back to the ordinary clock, or through the night after an arrival),
    // earlier as often as later: re-plan.
    const heldChanged = trackHeld(home, r, rule) || home.outSince !== before || arrived || soleMoved || back;
    // Getting up from a mat (its release) is her moving, though not "occupied".
    const sign = ctx.sign || (heldChanged && r.kind === 'motion' && !r.occupied);
    if (home.active === undefined) return heldChanged;
    // Re-plan when a mat or an outing changed, whether or not there was anything to clear: a
    // sign of her coming home must move the deadline from the out-of-home limit to the plain clock.
    return answered(rule, home, r, ctx, sign) || heldChanged;
  },

  onTick(rule: NoSignOfLifeRule, home: HomeState, ctx: RuleContext): void {
    const now = ctx.now;
    if (now >= soleDue(rule, home)) raise(home, soleKey(rule), ctx, soleAlarm(rule, home, ctx));
    if (now < home.awayUntil) {
      // Known to be away (day-care): whatever was raised is answered.
      endVisit(rule, home);
      clear(home, rule.id, ctx, (was) => finding(home, rule, now, 'cleared', was, 'family', {
        message: { en: 'Away from home (e.g. at day-care): no-sign-of-life check paused', ja: '外出中（デイケアなど）のため、生活反応の見守りを一時停止しました' },
        expected: { en: 'No sign of life is expected at home while away.', ja: '不在中は自宅での生活反応は見込まれません。' },
        observed: { en: `Marked away until ${hhmm(home.awayUntil, home.rules.zone)}.`, ja: `${hhmm(home.awayUntil, home.rules.zone)} まで不在と登録されています。` },
      }));
      return;
    }
    // A critical held open by a visit: quiet after it is a new alarm, whether or not the
    // visitor's leaving looks like her going out (an inference may delay, never cancel).
    const visit = visitQuietDue(rule, home, (last) => addWakingMs(last, rule.warningAfterMinutes * minute, wakingWindow(rule), home.rules.zone));
    if (visit !== undefined && now >= visit.due) {
      const alarm = visitQuietAlarm(home, rule, ctx, visit, wakingMsBetween(visit.last, now, wakingWindow(rule), home.rules.zone), rule.warningAfterMinutes);
      // Its own critical stands: a new occurrence of it. The learned rule's: this rule raises its own, which a sign of life clears.
      if (activeSeverity(home, rule.id) === 'critical') ctx.out.push(alarm);
      else raise(home, rule.id, ctx, alarm);
      return;
    }
    if (home.outSince !== NONE) {
      // Out (front door closed, nothing inside since): an inference, so it may delay the
      // alarm but never cancel it. Past the limit the family gets one warning — unless
      // awayContext already warned about this outing from the resident's own usual outings.
      if (now < outUntil(rule, home) || activeSeverity(home, rule.id) !== undefined || getMark(home, outingWarnedKey) === home.outSince) return;
      setMark(home, outingWarnedKey, home.outSince);
      raise(home, rule.id, ctx, outTooLong(rule, home, ctx));
      return;
    }
    const spell = quietSpell(rule, home);
    const window = clockWindow(rule, home, spell);
    const waking = countedMs(home, spell.start, now, window);
    const level: Severity | undefined = waking >= rule.criticalAfterMinutes * minute ? 'critical' : waking >= quietWarning(rule, home, spell, window).minutes * minute ? 'warning' : undefined;
    if (level !== undefined && activeSeverity(home, rule.id) !== level && !silenceAlreadyRaised(home, rule.id, level)) raise(home, rule.id, ctx, raised(rule, home, ctx, level, waking));
  },

  nextDeadline(rule: NoSignOfLifeRule, home: HomeState, _now: number): number {
    // A silence critical held open by a visit (this rule's or the learned rule's): its own re-alert.
    const visit = visitQuietDue(rule, home, (last) => addWakingMs(last, rule.warningAfterMinutes * minute, wakingWindow(rule), home.rules.zone))?.due ?? Infinity;
    return Math.min(visit, plainDeadline(rule, home), soleDue(rule, home));
  },
};

/** When the quiet spell (or the outing) reaches this rule's next level. */
function plainDeadline(rule: NoSignOfLifeRule, home: HomeState): number {
  const current = activeSeverity(home, rule.id);
  if (current === 'critical') return Infinity;
  if (home.outSince !== NONE) return current === undefined && getMark(home, outingWarnedKey) !== home.outSince ? Math.max(outUntil(rule, home), home.awayUntil) : Infinity;
  // The same silence already raised by another rule: aim at the next level it has not reached.
  if (silenceAlreadyRaised(home, rule.id, 'critical')) return Infinity;
  const spell = quietSpell(rule, home);
  const window = clockWindow(rule, home, spell);
  const limit = current === 'warning' || silenceAlreadyRaised(home, rule.id, 'warning') ? rule.criticalAfterMinutes : quietWarning(rule, home, spell, window).minutes;
  const due = countedDue(home, spell.start, limit * minute, window);
  return Math.max(due, outUntil(rule, home));
}
