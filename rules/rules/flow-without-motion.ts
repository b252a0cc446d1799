/**
 * flowWithoutMotion: water or gas has been flowing for longer than `minutes`
 * with no motion anywhere in the home meanwhile → critical ("the bath water
 * has been running for 60 minutes and nobody has moved"). It re-arms from the
 * last motion.
 *
 * On real homes' data (issue 10):
 * - **Coverage**: raised at `severity` only when a motion sensor covers the
 *   room the water is used in (`rooms`, or a room word in the device id; any
 *   motion sensor for a whole-home meter — a pressure mat covers no room),
 *   after `minutes`; otherwise at
 *   warning and after `unwatchedMinutes` (3 h, as long as the no-sign-of-life
 *   warning) — a person in an unwatched toilet is not "nobody moving", and a
 *   tap's reed switch that sticks for an hour is not a bath fall. Unwatched,
 *   her other signs count as her moving (the kettle, the cooker, the lights: a
 *   home that cannot see her move sees her in those), the wait is never
 *   shorter than her own learned quiet spells, and the warning is the same
 *   silence noSignOfLife tells: one alarm between them, whichever speaks first
 *   (`silenceAlreadyRaised`).
 * - **Nobody home**: not raised while she is out (front door closed, nothing
 *   inside) or known to be away: a flow then is a device or a tap left open,
 *   not a fall.
 * - **Latched sensors**: a flow longer than `faultAfterMinutes` (a float or
 *   reed switch stuck "on") is one device-health finding for the operator,
 *   open until the sensor has shown only flows of plausible length for 7
 *   days (a latched float toggles and sticks again — on the real recordings,
 *   daily: one finding, not one a day); while it is open, and for flows
 *   starting within 24 h of it, that signal raises nothing for the family.
 * - **Clearing**: a critical finding is about the person, so it clears only
 *   on a sign of her — movement (not a visitor's: visitor-guard.ts), her OK
 *   button — or a person resolving the alert; never on the water stopping (a
 *   bath that fills itself stops by itself). A warning clears when the flow
 *   stops too. The text says exactly what was seen.
 */
import type { Reading } from '../../core/events.js';
import type { Localized } from '../../core/findings.js';
import { NONE, type HomeState } from '../home-state.js';
import type { FlowWithoutMotionRule } from '../rule-config.js';
import { activeSeverity, clear, duration, finding, hhmm, raise, signName, silenceAlreadyRaised, silenceMarkKey, type RuleContext, type RuleDefinition } from './rule.js';
import { quietLimit } from './learned-limits.js';
import { afterWakingMs } from './no-sign-of-life.js';
import { getMark, setMark } from './routine-marks.js';
import { endVisit, visitorGuard } from './visitor-guard.js';
import { isHeldDevice } from './held-state.js';
import { memoWeak } from '../memo.js';

const minute = 60_000;
const label = { water: { en: 'Water', ja: '水道の水' }, gas: { en: 'Gas', ja: 'ガス' } } as const;
/** Room words recognised in device ids and motion `room` fields. */
const wetRooms = ['bath', 'shower', 'toilet', 'kitchen', 'wash', 'laundry', 'sink'] as const;

function roomWord(name: string): string | undefined {
  const l = name.toLowerCase();
  return wetRooms.find((w) => l.includes(w));
}

/** The room a flow sensor is in; undefined for a whole-home meter. */
export function flowRoom(rule: FlowWithoutMotionRule, device: string): string | undefined {
  const set = rule.rooms[device];
  return set === undefined ? roomWord(device) : roomWord(set) ?? set;
}

/**
 * The mark and finding keys of one rule, built once per compiled rule (rule
 * objects are shared by every home running the same set): the per-reading
 * path looks marks up by the same string objects (hashed once) instead of
 * concatenating fresh keys on every reading. Weakly keyed, no decision state.
 */
interface FlowKeys {
  /** Motion seen in a room (`rule id/motion-room/<room>`), by room. */
  motionRoom: Map<string, string>;
  /** Motion seen anywhere. */
  anyMotion: string;
  /** The last door opened or closed during a flow: a person's doing, like movement (e.g. coming home). */
  door: string;
  /** Per signal: whether a motion sensor watches where it is used (1) or not (0). */
  covered: { water: string; gas: string };
  /** Per signal: when its sensor was last found stuck. */
  faulty: { water: string; gas: string };
  /** Per signal: when its last flow started (applyReading forgets it when the flow stops). */
  started: { water: string; gas: string };
  /** Per signal: the stuck-sensor finding. */
  fault: { water: string; gas: string };
  /** Per signal: since when a sensor with an open fault has shown only flows of plausible length. */
  okSince: { water: string; gas: string };
  /** The room word in a motion reading's `room` or device id, by that name ('' for none). */
  roomOf: Map<string, string>;
  /** Whether her latest movement was in a room where water is used (1) or elsewhere (0). */
  lastWet: string;
}
const both = (id: string, what: string) => ({ water: `${id}/${what}/water`, gas: `${id}/${what}/gas` });
const keysOf = memoWeak(({ id }: FlowWithoutMotionRule): FlowKeys => ({
  motionRoom: new Map(), anyMotion: `${id}/motion-room/*`, door: `${id}/door`,
  covered: both(id, 'covered'), faulty: both(id, 'faulty'), started: both(id, 'started'), fault: both(id, 'fault'), okSince: both(id, 'ok-since'), roomOf: new Map(),
  lastWet: `${id}/last-wet`,
}));
const motionRoomKey = (rule: FlowWithoutMotionRule, room: string): string => {
  const byRoom = keysOf(rule).motionRoom;
  let key = byRoom.get(room);
  if (key === undefined) { key = `${rule.id}/motion-room/${room}`; byRoom.set(room, key); }
  return key;
};
/** `roomWord(name)`, remembered per name ('' for none). */
const roomWordOf = (rule: FlowWithoutMotionRule, name: string): string => {
  const byName = keysOf(rule).roomOf;
  let word = byName.get(name);
  if (word === undefined) { word = roomWord(name) ?? ''; byName.set(name, word); }
  return word;
};
const anyMotionKey = (rule: FlowWithoutMotionRule) => keysOf(rule).anyMotion;
const coveredKey = (rule: FlowWithoutMotionRule, signal: 'water' | 'gas') => keysOf(rule).covered[signal];
const doorKey = (rule: FlowWithoutMotionRule) => keysOf(rule).door;
const faultyKey = (rule: FlowWithoutMotionRule, signal: 'water' | 'gas') => keysOf(rule).faulty[signal];
const distrustMs = 24 * 3_600_000;
const startedKey = (rule: FlowWithoutMotionRule, signal: 'water' | 'gas') => keysOf(rule).started[signal];
const faultKey = (rule: FlowWithoutMotionRule, signal: 'water' | 'gas') => keysOf(rule).fault[signal];
const okSinceKey = (rule: FlowWithoutMotionRule, signal: 'water' | 'gas') => keysOf(rule).okSince[signal];
/** A stuck sensor's finding clears after this long with only plausible flows. */
const healthyMs = 7 * 24 * 3_600_000;

function since(home: HomeState, signal: 'water' | 'gas'): number {
  return signal === 'water' ? home.waterSince : home.gasSince;
}

function nobodyHome(home: HomeState, now: number): boolean {
  return home.outSince !== NONE || now < home.awayUntil;
}

/**
 * How long a flow with nobody moving may last: `minutes` where a motion sensor watches
 * where it is used; otherwise `unwatchedMinutes` — "nobody moved" then says no more than
 * no sign of life at all, so it speaks no sooner than the no-sign-of-life warning.
 */
function limitMinutes(rule: FlowWithoutMotionRule, covered: boolean): number {
  return covered ? rule.minutes : Math.max(rule.minutes, rule.unwatchedMinutes);
}

/**
 * Whether she was last seen away from the water: the home's motion sensors watch
 * a room where water is used (so she would be seen going there), and her latest
 * movement, after the flow began, was in another room (or on a chair or bed
 * mat). Water running then, with nobody moving, is a tap left running or a
 * stuck meter while she rests elsewhere — not a fall at the
 * water (messy corpus: all 9 of its criticals were a latched meter while she sat
 * in the living room or lay in bed, the bath and kitchen sensors silent). Gas
 * is not judged so: a burner left on is a danger wherever she is.
 */
function awayFromWater(rule: FlowWithoutMotionRule, home: HomeState, signal: 'water' | 'gas'): boolean {
  // Seen moving elsewhere after it began: turning a tap on is her at the water, so a flow with no
  // movement at all since it started stays hers (a fall at the toilet right after flushing).
  if (signal !== 'water' || home.lastMotion <= home.waterSince || getMark(home, keysOf(rule).lastWet) !== 0) return false;
  for (const room of wetRooms) if (getMark(home, motionRoomKey(rule, room)) !== undefined) return true;
  return false;
}

/** Whether this signal's flow is watched: a motion sensor covers where it is used, and she was not last seen away from it. */
function watched(rule: FlowWithoutMotionRule, home: HomeState, signal: 'water' | 'gas'): boolean {
  return getMark(home, coveredKey(rule, signal)) === 1 && !awayFromWater(rule, home, signal);
}

/**
 * Since when nobody has been seen: her last movement, or the door. Where no motion sensor
 * watches the water (or she was last seen away from it), her last sign of any other kind too —
 * the kettle, the lights, a cupboard: a home that cannot see her at the water sees her up and
 * about in those (messy corpus: a tap reed stuck at 15:40, the gas cooker and the lights used at
 * 18:00, and "water running, nobody has moved" at 18:40). Not a sign from the flowing signal
 * itself: a meter that repeats "flowing" is no person.
 */
function seenSince(rule: FlowWithoutMotionRule, home: HomeState, signal: 'water' | 'gas', isWatched: boolean): number {
  const seen = Math.max(since(home, signal), home.lastMotion, getMark(home, doorKey(rule)) ?? NONE);
  return isWatched || home.lastSignKind === signal ? seen : Math.max(seen, home.lastSignOfLife);
}

/**
 * How long a flow with nobody seen may last before the family is warned: `limitMinutes`, and
 * where it is not watched no sooner than the no-sign-of-life warning for the same quiet — her
 * own longest quiet spells (learned-limits.ts), as noSignOfLife learns them. A quiet afternoon
 * with a tap reed stuck is her quiet afternoon; the silence is noSignOfLife's to tell.
 */
function waitMinutes(rule: FlowWithoutMotionRule, home: HomeState, isWatched: boolean, from: number): number {
  const fixed = limitMinutes(rule, isWatched);
  return isWatched ? fixed : quietLimit(home, from, fixed, rule.faultAfterMinutes).minutes;
}

/** When this signal's flow becomes a family matter, Infinity if not flowing or past the fault limit. */
function dueAt(rule: FlowWithoutMotionRule, home: HomeState, signal: 'water' | 'gas'): number {
  const s = since(home, signal);
  if (s === NONE) return Infinity;
  // A sensor found stuck is not trusted for the family while its fault is open, nor for a day
  // after (latched floats toggle and stick again).
  if (activeSeverity(home, faultKey(rule, signal)) !== undefined || s < (getMark(home, faultyKey(rule, signal)) ?? NONE) + distrustMs) return Infinity;
  const isWatched = watched(rule, home, signal);
  // Unwatched, the flow is one more fact of a silence: told once, by whichever rule speaks first.
  if (!isWatched && silenceAlreadyRaised(home, rule.id, 'warning')) return Infinity;
  const from = seenSince(rule, home, signal, isWatched);
  const wait = waitMinutes(rule, home, isWatched, from) * minute;
  // Unwatched, the wait runs in her waking hours as the silence clock does: she was last seen in
  // the bedroom at 21:50 and a tap reed stuck at 21:43 was "she may be resting elsewhere" at
  // 00:50, while she slept (messy-08, 3 February); the stuck meter is the operator's by then.
  const due = isWatched ? from + wait : afterWakingMs(home, from, wait);
  return due < s + rule.faultAfterMinutes * minute ? due : Infinity;
}

function faultAt(rule: FlowWithoutMotionRule, home: HomeState, signal: 'water' | 'gas'): number {
  const s = since(home, signal);
  return s === NONE || activeSeverity(home, faultKey(rule, signal)) !== undefined ? Infinity : s + rule.faultAfterMinutes * minute;
}

/** The flow's finding ends (apart from `onReading`, so its closure is allocated only here). */
function clearEnded(rule: FlowWithoutMotionRule, home: HomeState, r: Reading, ctx: RuleContext, because: Localized): boolean {
  setMark(home, silenceMarkKey(rule), undefined);
  return clear(home, rule.id, ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
    message: { en: `Flow with nobody moving has ended: ${because.en}`, ja: `人の動きがないままの使用は終わりました：${because.ja}` },
    expected: { en: `No water or gas running for more than ${rule.minutes} minutes while nobody moves.`, ja: `人の動きがないまま水道・ガスが${rule.minutes}分以上使われ続けないこと。` },
    observed: because,
  }, { device: r.device }));
}

export const flowWithoutMotion: RuleDefinition<FlowWithoutMotionRule> = {
  onReading(rule: FlowWithoutMotionRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    const tz = home.rules.zone;
    let replan = false;
    if (r.kind === 'motion') {
      const held = isHeldDevice(r.device, rule);
      const word = held ? '' : roomWordOf(rule, r.room ?? r.device);
      if (!held) {
        // Which rooms the home's motion sensors cover (learned from what they send). Not a
        // pressure mat: it sees her only on it, never in the bath or at the sink (the object-only
        // homes of the messy corpus, whose only "motion" devices are a bed and a seat mat, had
        // every long flow on the water meter raised as a critical "nobody moves").
        const room = word || (r.room ?? 'other');
        if (getMark(home, motionRoomKey(rule, room)) === undefined) { setMark(home, motionRoomKey(rule, room), r.at); setMark(home, anyMotionKey(rule), r.at); }
      }
      // Where she was last seen moving (`home.lastMotion`): at the water, or away from it — a mat
      // is a chair or a bed. Progress, saved on the slow cadence. Going to the water while it
      // runs brings the deadline earlier: plan again.
      const wet = word === '' ? 0 : 1;
      if (r.occupied && getMark(home, keysOf(rule).lastWet) !== wet) {
        setMark(home, keysOf(rule).lastWet, wet, false);
        if (wet === 1 && (home.waterSince !== NONE || home.gasSince !== NONE)) replan = true;
      }
    }
    // Only while something is raised may a visitor be about (and only then can the guard's notice fire).
    const guard = home.active === undefined ? 'free' : visitorGuard(rule, home, r, ctx);
    let why: Localized | undefined;
    if (r.kind === 'water' || r.kind === 'gas') {
      if (!rule.signals.includes(r.kind)) return false;
      if (r.flowing) {
        if (since(home, r.kind) !== r.at) return false;
        // A new flow: note whether a motion sensor watches where it is used, and plan its deadline.
        const room = flowRoom(rule, r.device);
        const covered = room === undefined ? getMark(home, anyMotionKey(rule)) !== undefined : getMark(home, motionRoomKey(rule, room)) !== undefined;
        setMark(home, coveredKey(rule, r.kind), covered ? 1 : 0);
        setMark(home, startedKey(rule, r.kind), r.at);
        return true;
      }
      // The stuck-sensor finding clears on a flow of plausible length (the sensor works again),
      // not on a latched float letting go for a moment.
      // A latched float toggles and sticks again (on the real recordings, daily): the fault
      // stays one finding until the sensor has behaved for `healthyMs` (onTick clears it).
      // Only that "behaving since" mark can bring a deadline earlier; the flow stopping itself
      // only moves this rule's deadlines later, so the engine need not re-plan for it.
      let earlier = false;
      if (activeSeverity(home, faultKey(rule, r.kind)) !== undefined) {
        const ran = r.at - (getMark(home, startedKey(rule, r.kind)) ?? r.at);
        if (ran >= rule.faultAfterMinutes * minute) setMark(home, okSinceKey(rule, r.kind), undefined);
        else if (getMark(home, okSinceKey(rule, r.kind)) === undefined) { setMark(home, okSinceKey(rule, r.kind), r.at); earlier = true; }
      }
      // The water stopping says nothing about the person: a critical finding stays open.
      if (activeSeverity(home, rule.id) !== 'warning') return earlier;
      const at = hhmm(r.at, tz);
      why = { en: `${label[r.kind].en} stopped at ${at}.`, ja: `${at} に${label[r.kind].ja}が止まりました。` };
    } else if (r.kind === 'motion' && r.occupied && guard === 'free') {
      why = { en: `Movement at ${hhmm(r.at, tz)} (${r.device}).`, ja: `${hhmm(r.at, tz)} に人の動きがありました（${r.device}）。` };
    } else if (guard === 'ok') {
      why = { en: `The resident pressed OK at ${hhmm(r.at, tz)}.`, ja: `${hhmm(r.at, tz)} にご本人が「OK」ボタンを押しました。` };
    } else {
      // A door opening during a flow is someone there, and the front door is her coming or going
      // (coming home makes the flow her matter again). Not an inner contact falling back to rest.
      if (r.kind !== 'door' || (home.waterSince === NONE && home.gasSince === NONE)) return false;
      if (!r.open && r.door !== rule.frontDoor && r.device !== rule.frontDoor) return false;
      setMark(home, doorKey(rule), r.at);
      return true;
    }
    if (activeSeverity(home, rule.id) === undefined) return replan;
    endVisit(rule, home);
    return clearEnded(rule, home, r, ctx, why) || replan;
  },

  onTick(rule: FlowWithoutMotionRule, home: HomeState, ctx: RuleContext): void {
    const tz = home.rules.zone;
    for (const signal of rule.signals) {
      const ok = getMark(home, okSinceKey(rule, signal));
      if (ok === undefined || ctx.now < ok + healthyMs || activeSeverity(home, faultKey(rule, signal)) === undefined) continue;
      setMark(home, okSinceKey(rule, signal), undefined);
      clear(home, faultKey(rule, signal), ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'operator', {
        message: { en: `${label[signal].en} sensor works normally again (device health)`, ja: `${label[signal].ja}のセンサーが正常に戻りました（機器の状態）` },
        expected: { en: `No flow lasting more than ${duration(rule.faultAfterMinutes * minute).en}.`, ja: `${duration(rule.faultAfterMinutes * minute).ja}を超えて流れ続けないこと。` },
        observed: { en: `Only flows of ordinary length since ${hhmm(ok, tz)} ${duration(ctx.now - ok).en} ago.`, ja: `${hhmm(ok, tz)} から${duration(ctx.now - ok).ja}、通常の長さの使用だけです。` },
      }));
    }
    for (const signal of rule.signals) {
      if (ctx.now < faultAt(rule, home, signal)) continue;
      const s = since(home, signal);
      setMark(home, faultyKey(rule, signal), ctx.now);
      raise(home, faultKey(rule, signal), ctx, finding(home, rule, ctx.now, 'raised', 'warning', 'operator', {
        message: { en: `${label[signal].en} sensor has reported a flow for ${duration(ctx.now - s).en}: stuck sensor? (device health)`, ja: `${label[signal].ja}のセンサーが${duration(ctx.now - s).ja}流れ続けを報告しています：センサーの故障・張り付きの可能性（機器の状態）` },
        expected: { en: `No real use lasts more than ${duration(rule.faultAfterMinutes * minute).en}; a float or reed switch that stays "on" is a device fault.`, ja: `${duration(rule.faultAfterMinutes * minute).ja}を超える使用は通常ありません。フロートやリードスイッチが「オン」のままなのは機器の故障です。` },
        observed: { en: `${label[signal].en} "flowing" since ${hhmm(s, tz)}. Please check the sensor; the family is not alerted about this flow.`, ja: `${hhmm(s, tz)} から「流れている」状態です。センサーを点検してください。この流れについてご家族には通知しません。` },
      }, { data: { signal, flowingSince: s, faultAfterMinutes: rule.faultAfterMinutes } }));
    }
    if (activeSeverity(home, rule.id) !== undefined || nobodyHome(home, ctx.now)) return;
    for (const signal of rule.signals) {
      if (ctx.now < dueAt(rule, home, signal)) continue;
      const s = since(home, signal);
      const d = duration(ctx.now - s);
      const covered = getMark(home, coveredKey(rule, signal)) === 1;
      const isWatched = watched(rule, home, signal);
      const away = covered && !isWatched;
      const from = seenSince(rule, home, signal, isWatched);
      const limit = waitMinutes(rule, home, isWatched, from);
      const severity = isWatched ? rule.severity : rule.severity === 'critical' ? 'warning' : rule.severity;
      // What was seen last: movement, or (unwatched) another sign of her after the water began.
      const other = !isWatched && from === home.lastSignOfLife && from > s && from > home.lastMotion ? signName[home.lastSignKind] : undefined;
      const motion = other !== undefined
        ? { en: `no movement and no other sign of her since ${other.en} at ${hhmm(from, tz)}`, ja: `${hhmm(from, tz)} の${other.ja}以降、人の動きもほかの生活反応もありません` }
        : home.lastMotion === NONE || home.lastMotion < s
        ? { en: 'no movement anywhere since it started', ja: '使用開始から人の動きがありません' }
        : { en: `no movement since ${hhmm(home.lastMotion, tz)}`, ja: `${hhmm(home.lastMotion, tz)} 以降人の動きがありません` };
      const unwatched = away
        ? { en: ' She was last seen moving away from where water is used (the sensors there have not seen her since), so she may be resting elsewhere, with a tap left running or the meter stuck: a warning, not an emergency.', ja: ' 最後に動きがあったのは水を使う場所以外で（そこにあるセンサーはその後反応していません）、別の場所で休んでいて、蛇口の閉め忘れかメーターの不具合の可能性があります（緊急ではなく注意）。' }
        : covered ? { en: '', ja: '' } : { en: ' No motion sensor watches where it is used, so she may simply be there: a warning, not an emergency.', ja: ' 使用場所を見ている人感センサーがないため、その場にいるだけの可能性があります（緊急ではなく注意）。' };
      // Unwatched, it tells of a silence: the silence rules do not tell it again (`silenceAlreadyRaised`).
      setMark(home, silenceMarkKey(rule), isWatched ? undefined : from);
      raise(home, rule.id, ctx, finding(home, rule, ctx.now, 'raised', severity, 'family', {
        message: { en: `${label[signal].en} has been running for ${d.en} and nobody has moved`, ja: `${label[signal].ja}が${d.ja}流れ続け、人の動きがありません` },
        expected: { en: `No ${signal} running for more than ${limit} minutes while nobody moves.`, ja: `人の動きがないまま${label[signal].ja}が${limit}分以上流れ続けないこと。` },
        observed: { en: `${label[signal].en} running since ${hhmm(s, tz)}; ${motion.en}.${unwatched.en}`, ja: `${hhmm(s, tz)} から${label[signal].ja}が流れています。${motion.ja}。${unwatched.ja}` },
      }, { data: { signal, flowingSince: s, lastMotion: home.lastMotion, minutes: limit, covered, ...(away ? { awayFromWater: true } : {}) } }));
      return;
    }
  },

  nextDeadline(rule: FlowWithoutMotionRule, home: HomeState, now: number): number {
    let due = Infinity;
    for (const signal of rule.signals) {
      due = Math.min(due, faultAt(rule, home, signal));
      const ok = getMark(home, okSinceKey(rule, signal));
      if (ok !== undefined && activeSeverity(home, faultKey(rule, signal)) !== undefined) due = Math.min(due, Math.max(ok + healthyMs, now + 1));
    }
    if (activeSeverity(home, rule.id) !== undefined) return due;
    if (nobodyHome(home, now)) {
      // Look again when a known away period ends (coming home through the door re-plans by itself).
      const flowing = home.waterSince !== NONE || home.gasSince !== NONE;
      return flowing && now < home.awayUntil ? Math.min(due, home.awayUntil) : due;
    }
    for (const signal of rule.signals) due = Math.min(due, dueAt(rule, home, signal));
    return due;
  },
};
