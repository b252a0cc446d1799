/**
 * The visitor guard (issue 7): after a CRITICAL inactivity-type alarm (a fall
 * in the bath, no sign of life for hours), someone coming in through the
 * front door while the resident is inside is a visitor or a responder, not
 * the resident getting up. Their movement must not close the alert and send a
 * calm "activity is back" follow-up. Shared by noSignOfLife,
 * flowWithoutMotion and unusualInactivity (which keeps its own, stricter
 * timing: any door, held until OK, away or the next day).
 *
 * The guard's state is marks per rule (persisted with the home): the time of
 * the latest activity attributed to the visit (`<rule id>/visitor`), when the
 * front door opened to start it (`<rule id>/visitor-in`), and which visit (by
 * its door) already re-alerted (`<rule id>/visitor-realert`, see `visitQuietDue`).
 */
import type { Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { NONE, type HomeState } from '../home-state.js';
import type { RuleConfig } from '../rule-config.js';
import { activeSeverity, duration, finding, hhmm, type RuleContext } from './rule.js';
import { getMark, setMark } from './routine-marks.js';

const minute = 60_000;

const visitorKeys = new Map<string, string>();
/** The mark key holding when someone came in (or last moved) while `ruleId` was critical. */
export function visitorKey(ruleId: string): string {
  // Built once per rule id: asked on every reading while a finding is raised.
  let key = visitorKeys.get(ruleId);
  if (key === undefined) {
    key = `${ruleId}/visitor`;
    if (visitorKeys.size >= 1000) visitorKeys.clear();
    visitorKeys.set(ruleId, key);
  }
  return key;
}

/** The mark key holding when the front door opened to start the visit. */
function visitInKey(ruleId: string): string {
  return `${ruleId}/visitor-in`;
}

/** The mark key holding the visit (when its door opened) a re-alert was raised for. */
function realertKey(ruleId: string): string {
  return `${ruleId}/visitor-realert`;
}

/** The info notice "someone came in; the alert stays open", pushed once per visit episode. */
export function cameInNotice(home: HomeState, rule: RuleConfig, ctx: RuleContext, r: Reading): Finding {
  const at = hhmm(r.at, home.rules.zone);
  return finding(home, rule, ctx.now, 'raised', 'info', 'family', {
    message: { en: `Someone came in through the front door at ${at} — possibly a visitor; the alert stays open`, ja: `${at} に誰かが玄関から入りました — 訪問者の可能性があります。アラートは継続します` },
    expected: { en: 'The resident herself shows a sign of life, or someone confirms she is all right.', ja: 'ご本人の生活反応、または誰かがご本人の無事を確認すること。' },
    observed: { en: `The front door opened at ${at} while the resident was inside and silent. Movement from now on may be a visitor's, so it does not close the alert: press OK on the button, or acknowledge the alert.`, ja: `ご本人が在宅で反応がない中、${at} に玄関が開きました。この後の動きは訪問者のものかもしれないため、アラートは閉じません。ボタンの「OK」を押すか、アラートに応答してください。` },
  }, { device: r.device });
}

export interface VisitorGuardOptions {
  /** The front door: a door event's `door` field or its device id. */
  frontDoor: string;
  /** Activity within this many minutes of the door opening (or of the visitor's last activity) is the visitor's. */
  visitorWindowMinutes: number;
}

/**
 * What reading `r` may do to `rule`'s raised finding:
 * - `'ok'`: the resident pressed OK while it is critical — clear it.
 * - `'held'`: possibly a visitor's doing — do not clear. The front door
 *   opening while she is inside starts a visit (with a `cameInNotice` the
 *   first time); each sign of life within `visitorWindowMinutes` of the visit's
 *   latest activity extends it, so a visitor who stays an hour and keeps
 *   moving is still a visitor.
 * - `'free'`: the guard does not apply (not critical, no visit, or the home
 *   was quiet for the whole window before this reading) — the rule clears
 *   as it always did.
 * A front door opening while she seems to be out (`home.outSince`, kept by
 * noSignOfLife) is her coming home, not a visitor. Call `endVisit` when the
 * finding clears.
 */
export function visitorGuard(rule: RuleConfig & VisitorGuardOptions, home: HomeState, r: Reading, ctx: RuleContext): 'ok' | 'held' | 'free' {
  const key = visitorKey(rule.id);
  const since = getMark(home, key);
  if (activeSeverity(home, rule.id) !== 'critical') {
    if (since !== undefined) setMark(home, key, undefined); // left over from a finding cleared elsewhere
    return 'free';
  }
  if (r.kind === 'button' && r.press === 'ok') return 'ok';
  const frontDoorOpened = r.kind === 'door' && r.open && (r.door === rule.frontDoor || r.device === rule.frontDoor);
  if (frontDoorOpened && (since !== undefined || home.outSince === NONE)) {
    if (since === undefined) {
      ctx.out.push(cameInNotice(home, rule, ctx, r));
      setMark(home, visitInKey(rule.id), r.at);
    }
    setMark(home, key, Math.max(since ?? NONE, r.at));
    return 'held';
  }
  if (since === undefined || r.at - since > rule.visitorWindowMinutes * minute) return 'free';
  if (ctx.sign && r.at > since) setMark(home, key, r.at);
  return 'held';
}

/** Forgets the visit once `rule`'s finding has cleared. */
export function endVisit(rule: RuleConfig, home: HomeState): void {
  // The re-alert mark stays: it names the visit by its door, and another silence rule's visit may still hold its critical.
  for (const key of [visitorKey(rule.id), visitInKey(rule.id)]) if (getMark(home, key) !== undefined) setMark(home, key, undefined);
}

/** Rule types whose critical is a silence that a visit may hold open. */
const silenceTypes = new Set(['noSignOfLife', 'unusualInactivity']);

/**
 * A critical held open by a visit hides what happens next: if the door was
 * her coming home (she had left unseen) and she then collapsed, or the
 * visitor left and she is on the floor, nothing new is raised — the critical
 * already stands, and the family may have acknowledged it hours ago. So the
 * quiet after a visit gets its own limit. The visit is `rule`'s own (its
 * critical held by this guard: its latest activity is the mark), or another
 * silence rule's (the learned `unusualInactivity` holds the critical and this
 * rule stays quiet: its mark is the door, and the visit's latest activity is
 * the last sign of life since). Returns the visit's latest activity, when the
 * door opened, and when the re-alert falls due under `dueAfter` (the caller's
 * clock: waking time); `undefined` when no visit holds a silence critical or
 * this one already re-alerted.
 */
export function visitQuietDue(rule: RuleConfig, home: HomeState, dueAfter: (last: number) => number): { last: number; came: number; due: number } | undefined {
  let last: number | undefined;
  let came: number | undefined;
  if (activeSeverity(home, rule.id) === 'critical') {
    last = getMark(home, visitorKey(rule.id));
    came = getMark(home, visitInKey(rule.id)) ?? last;
  } else {
    for (const other of home.rules.rules) {
      if (other.id === rule.id || !silenceTypes.has(other.type) || activeSeverity(home, other.id) !== 'critical') continue;
      const door = getMark(home, visitorKey(other.id));
      if (door === undefined) continue;
      came = door;
      last = Math.max(door, home.lastSignOfLife);
      break;
    }
  }
  // Once per visit: a visit is known by when its door opened.
  if (last === undefined || came === undefined || getMark(home, realertKey(rule.id)) === came) return undefined;
  return { last, came, due: dueAfter(last) };
}

/**
 * The new alarm for a visit followed by quiet (`visitQuietDue`): raised as
 * `again`, so the notifier pages anew an alert someone had acknowledged
 * (a repeat of a standing critical pages nobody). Once per visit.
 */
export function visitQuietAlarm(home: HomeState, rule: RuleConfig, ctx: RuleContext, visit: { last: number; came: number }, quietMs: number, limitMinutes: number): Finding {
  const { last, came } = visit;
  setMark(home, realertKey(rule.id), came);
  const tz = home.rules.zone;
  const d = duration(quietMs);
  const door = hhmm(came, tz), lastAt = hhmm(last, tz);
  return finding(home, rule, ctx.now, 'raised', 'critical', 'family', {
    message: { en: `Nothing has moved for ${d.en} since someone came in through the front door — she may have come home and be unable to move`, ja: `玄関から誰かが入った後、${d.ja}動きがありません — 帰宅後に動けなくなっている可能性があります` },
    expected: { en: `A sign of life within ${limitMinutes} minutes of a visit or a return home while the alarm is open.`, ja: `アラート継続中の来訪・帰宅の後、${limitMinutes}分以内に生活反応があること。` },
    observed: { en: `The alarm was still open when someone came in through the front door at ${door}; the last sign of life after it was at ${lastAt}, and nothing since. If she came home, she has not moved since. Please check on her now.`, ja: `アラート継続中の ${door} に玄関から誰かが入り、その後の最後の生活反応は ${lastAt} で、それ以降ありません。ご本人が帰宅したのであれば、それから動いていません。すぐに様子を確認してください。` },
  }, { data: { again: true, visitAt: came, lastSignOfLife: last, quietMinutes: Math.floor(quietMs / minute), limitMinutes } });
}
