/**
 * nightDoor: the front door opens during the night window and nobody comes
 * back inside within `returnWithinMinutes` → a finding (warning by default).
 * "Back inside" is any motion after the opening (a door event followed by
 * motion is the usual return). Cleared on that motion.
 * Once its alert has ended (resolved by a person), the opening is answered:
 * the rule forgets it, and the next opening at night is a new occurrence.
 */
import type { Reading } from '../../core/events.js';
import { inWindow, parseClockTime } from '../../core/time.js';
import type { HomeState } from '../home-state.js';
import type { NightDoorRule } from '../rule-config.js';
import { clear, finding, forget, hhmm, raise, activeSeverity, type RuleContext, type RuleDefinition } from './rule.js';

const minute = 60_000;

function openedAt(rule: NightDoorRule, home: HomeState): number | undefined {
  return home.marks === undefined ? undefined : home.marks.get(rule.id);
}

function setMark(home: HomeState, id: string, at: number | undefined): void {
  if (at !== undefined) (home.marks ??= new Map()).set(id, at);
  else if (home.marks !== undefined) {
    home.marks.delete(id);
    if (home.marks.size === 0) home.marks = undefined;
  }
  home.dirty = true;
}

export const nightDoor: RuleDefinition<NightDoorRule> = {
  onReading(rule: NightDoorRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    if (r.kind === 'door') {
      if (!r.open || (r.door !== rule.door && r.device !== rule.door) || openedAt(rule, home) !== undefined) return false;
      const m = home.rules.zone.minuteOfDay(r.at);
      if (!inWindow(m, parseClockTime(rule.night.from), parseClockTime(rule.night.to))) return false;
      setMark(home, rule.id, r.at);
      return true;
    }
    if (r.kind !== 'motion' || !r.occupied || home.marks === undefined) return false;
    const opened = openedAt(rule, home);
    if (opened === undefined || r.at < opened) return false;
    setMark(home, rule.id, undefined);
    const tz = home.rules.zone;
    return clear(home, rule.id, ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
      message: { en: `Movement inside again at ${hhmm(r.at, tz)} after the front door opened at night`, ja: `夜間に玄関が開いた後、${hhmm(r.at, tz)} に室内で動きがありました` },
      expected: { en: 'Movement inside soon after the front door opens at night.', ja: '夜間に玄関が開いたら、まもなく室内で動きがあること。' },
      observed: { en: `Front door opened at ${hhmm(opened, tz)}; movement inside at ${hhmm(r.at, tz)}.`, ja: `${hhmm(opened, tz)} に玄関が開き、${hhmm(r.at, tz)} に室内で動きがありました。` },
    }, { device: r.device }));
  },

  onTick(rule: NightDoorRule, home: HomeState, ctx: RuleContext): void {
    const opened = openedAt(rule, home);
    if (opened === undefined || ctx.now < opened + rule.returnWithinMinutes * minute) return;
    const tz = home.rules.zone;
    const { from, to } = rule.night;
    raise(home, rule.id, ctx, finding(home, rule, ctx.now, 'raised', rule.severity, 'family', {
      message: { en: `Front door opened at ${hhmm(opened, tz)} at night and nobody came back in for ${rule.returnWithinMinutes} minutes`, ja: `夜間 ${hhmm(opened, tz)} に玄関が開き、${rule.returnWithinMinutes}分以上戻っていません` },
      expected: { en: `At night (${from}–${to}), movement inside within ${rule.returnWithinMinutes} minutes after the front door opens.`, ja: `夜間（${from}〜${to}）に玄関が開いたら、${rule.returnWithinMinutes}分以内に室内で動きがあること。` },
      observed: { en: `Front door opened at ${hhmm(opened, tz)}; no movement inside since (now ${hhmm(ctx.now, tz)}).`, ja: `${hhmm(opened, tz)} に玄関が開き、その後室内で動きがありません（現在 ${hhmm(ctx.now, tz)}）。` },
    }, { data: { openedAt: opened, returnWithinMinutes: rule.returnWithinMinutes } }));
  },

  nextDeadline(rule: NightDoorRule, home: HomeState, _now: number): number {
    const opened = openedAt(rule, home);
    return opened === undefined || activeSeverity(home, rule.id) !== undefined ? Infinity : opened + rule.returnWithinMinutes * minute;
  },

  rearm(rule: NightDoorRule, home: HomeState): boolean {
    if (!forget(home, rule.id)) return false;
    setMark(home, rule.id, undefined);
    return true;
  },
};
