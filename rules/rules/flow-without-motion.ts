/**
 * flowWithoutMotion: water or gas has been flowing for longer than `minutes`
 * with no motion anywhere in the home meanwhile → critical ("the bath water
 * has been running for 60 minutes and nobody has moved"). Cleared when the
 * flow stops or someone moves; it re-arms from the last motion.
 *
 * When raised at CRITICAL (the default), someone coming in through the front
 * door is taken as a visitor (visitor-guard.ts): motion within
 * `visitorWindowMinutes` of the visit's latest activity does not clear it.
 * It then clears when the flow stops, on the resident's OK button, on motion
 * after the home was quiet for the whole window, or when a person resolves
 * the alert. Warning-level findings clear on any motion as before.
 */
import type { Reading } from '../../core/events.js';
import { NONE, type HomeState } from '../home-state.js';
import type { FlowWithoutMotionRule } from '../rule-config.js';
import { activeSeverity, clear, duration, finding, hhmm, raise, type RuleContext, type RuleDefinition } from './rule.js';
import { endVisit, visitorGuard } from './visitor-guard.js';

const minute = 60_000;
const label = { water: { en: 'Water', ja: '水道の水' }, gas: { en: 'Gas', ja: 'ガス' } } as const;

function since(home: HomeState, signal: 'water' | 'gas'): number {
  return signal === 'water' ? home.waterSince : home.gasSince;
}

/** When this signal's flow becomes a problem, Infinity if it is not flowing. */
function dueAt(rule: FlowWithoutMotionRule, home: HomeState, signal: 'water' | 'gas'): number {
  const s = since(home, signal);
  return s === NONE ? Infinity : Math.max(s, home.lastMotion) + rule.minutes * minute;
}

export const flowWithoutMotion: RuleDefinition<FlowWithoutMotionRule> = {
  onReading(rule: FlowWithoutMotionRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    let why: { en: string; ja: string } | undefined;
    const tz = home.rules.zone;
    // Only while something is raised may a visitor be about (and only then can the guard's notice fire).
    const guard = home.active === undefined ? 'free' : visitorGuard(rule, home, r, ctx, { frontDoor: rule.frontDoor, windowMinutes: rule.visitorWindowMinutes });
    if (r.kind === 'water' || r.kind === 'gas') {
      if (!rule.signals.includes(r.kind)) return false;
      // A new flow may be due sooner than anything else in this home.
      if (r.flowing) return since(home, r.kind) === r.at;
      // The flow stopping ends the hazard whoever stopped it: always a clear.
      why = { en: `${label[r.kind].en} stopped at ${hhmm(r.at, tz)}.`, ja: `${hhmm(r.at, tz)} に${label[r.kind].ja}が止まりました。` };
    } else if (r.kind === 'motion' && r.occupied && guard === 'free') {
      why = { en: `Movement at ${hhmm(r.at, tz)}.`, ja: `${hhmm(r.at, tz)} に人の動きがありました。` };
    } else if (guard === 'ok') {
      why = { en: `The resident pressed OK at ${hhmm(r.at, tz)}.`, ja: `${hhmm(r.at, tz)} にご本人が「OK」ボタンを押しました。` };
    } else {
      return false;
    }
    if (home.active === undefined) return false;
    const because = why;
    endVisit(rule, home);
    return clear(home, rule.id, ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
      message: { en: `Flow with nobody moving has ended: ${because.en}`, ja: `人の動きがないままの使用は終わりました：${because.ja}` },
      expected: { en: `No water or gas running for more than ${rule.minutes} minutes while nobody moves.`, ja: `人の動きがないまま水道・ガスが${rule.minutes}分以上使われ続けないこと。` },
      observed: because,
    }, { device: r.device }));
  },

  onTick(rule: FlowWithoutMotionRule, home: HomeState, ctx: RuleContext): void {
    if (activeSeverity(home, rule.id) !== undefined) return;
    const tz = home.rules.zone;
    for (const signal of rule.signals) {
      if (ctx.now < dueAt(rule, home, signal)) continue;
      const s = since(home, signal);
      const d = duration(ctx.now - s);
      const motion = home.lastMotion === NONE || home.lastMotion < s
        ? { en: 'no movement anywhere since it started', ja: '使用開始から人の動きがありません' }
        : { en: `no movement since ${hhmm(home.lastMotion, tz)}`, ja: `${hhmm(home.lastMotion, tz)} 以降人の動きがありません` };
      raise(home, rule.id, ctx, finding(home, rule, ctx.now, 'raised', rule.severity, 'family', {
        message: { en: `${label[signal].en} has been running for ${d.en} and nobody has moved`, ja: `${label[signal].ja}が${d.ja}流れ続け、人の動きがありません` },
        expected: { en: `No ${signal} running for more than ${rule.minutes} minutes while nobody moves.`, ja: `人の動きがないまま${label[signal].ja}が${rule.minutes}分以上流れ続けないこと。` },
        observed: { en: `${label[signal].en} running since ${hhmm(s, tz)}; ${motion.en}.`, ja: `${hhmm(s, tz)} から${label[signal].ja}が流れています。${motion.ja}。` },
      }, { data: { signal, flowingSince: s, lastMotion: home.lastMotion, minutes: rule.minutes } }));
      return;
    }
  },

  nextDeadline(rule: FlowWithoutMotionRule, home: HomeState, _now: number): number {
    if (activeSeverity(home, rule.id) !== undefined) return Infinity;
    let due = Infinity;
    for (const signal of rule.signals) due = Math.min(due, dueAt(rule, home, signal));
    return due;
  },
};
