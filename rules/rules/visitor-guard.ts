/**
 * The visitor guard (issue 7): after a CRITICAL inactivity-type alarm (a fall
 * in the bath, no sign of life for hours), someone coming in through the
 * front door while the resident is inside is a visitor or a responder, not
 * the resident getting up. Their movement must not close the alert and send a
 * calm "activity is back" follow-up. Shared by noSignOfLife,
 * flowWithoutMotion and unusualInactivity (which keeps its own, stricter
 * timing: any door, held until OK, away or the next day).
 *
 * The guard's only state is one mark per rule (`<rule id>/visitor`, persisted
 * with the home): the time of the latest activity attributed to the visitor.
 */
import type { Reading } from '../../core/events.js';
import type { Finding } from '../../core/findings.js';
import { NONE, type HomeState } from '../home-state.js';
import type { RuleConfig } from '../rule-config.js';
import { activeSeverity, finding, hhmm, type RuleContext } from './rule.js';
import { getMark, setMark } from './routine-marks.js';

const minute = 60_000;

/** The mark key holding when someone came in (or last moved) while `ruleId` was critical. */
export function visitorKey(ruleId: string): string {
  return `${ruleId}/visitor`;
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
  windowMinutes: number;
}

/**
 * What reading `r` may do to `rule`'s raised finding:
 * - `'ok'`: the resident pressed OK while it is critical — clear it.
 * - `'held'`: possibly a visitor's doing — do not clear. The front door
 *   opening while she is inside starts a visit (with a `cameInNotice` the
 *   first time); each sign of life within `windowMinutes` of the visit's
 *   latest activity extends it, so a visitor who stays an hour and keeps
 *   moving is still a visitor.
 * - `'free'`: the guard does not apply (not critical, no visit, or the home
 *   was quiet for the whole window before this reading) — the rule clears
 *   as it always did.
 * A front door opening while she seems to be out (`home.outSince`, kept by
 * noSignOfLife) is her coming home, not a visitor. Call `endVisit` when the
 * finding clears.
 */
export function visitorGuard(rule: RuleConfig, home: HomeState, r: Reading, ctx: RuleContext, opts: VisitorGuardOptions): 'ok' | 'held' | 'free' {
  const key = visitorKey(rule.id);
  const since = getMark(home, key);
  if (activeSeverity(home, rule.id) !== 'critical') {
    if (since !== undefined) setMark(home, key, undefined); // left over from a finding cleared elsewhere
    return 'free';
  }
  if (r.kind === 'button' && r.press === 'ok') return 'ok';
  const frontDoorOpened = r.kind === 'door' && r.open && (r.door === opts.frontDoor || r.device === opts.frontDoor);
  if (frontDoorOpened && (since !== undefined || home.outSince === NONE)) {
    if (since === undefined) ctx.out.push(cameInNotice(home, rule, ctx, r));
    setMark(home, key, Math.max(since ?? NONE, r.at));
    return 'held';
  }
  if (since === undefined || r.at - since > opts.windowMinutes * minute) return 'free';
  if (ctx.sign && r.at > since) setMark(home, key, r.at);
  return 'held';
}

/** Forgets the visit once `rule`'s finding has cleared. */
export function endVisit(rule: RuleConfig, home: HomeState): void {
  if (getMark(home, visitorKey(rule.id)) !== undefined) setMark(home, visitorKey(rule.id), undefined);
}
