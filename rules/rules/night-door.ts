/**
 * nightDoor: the front door opens during the night window and nobody comes
 * back inside within `returnWithinMinutes` → a finding (warning by default).
 * "Back inside" is any motion after the opening (a door event followed by
 * motion is the usual return), or — for homes with no motion sensor — another
 * sign of her inside (presence.ts: a cupboard or inner door opening, the
 * kettle, a button) after the passage through the door. Cleared on it.
 * An opening while she is out (she was seen leaving: presence.ts `comingHome`) is her
 * coming home, not a night outing: not watched; nor one within an absence entered
 * (`setAway`: the tablet's 「出かけます」, a trip), which is the outing she told of.
 * Once its alert has ended (resolved by a person), the opening is answered:
 * the rule forgets it, and the next opening at night is a new occurrence.
 */
import type { Reading } from '../../core/events.js';
import { inWindow, parseClockTime } from '../../core/time.js';
import type { HomeState } from '../home-state.js';
import { comingHome, doorPassageMs, isInsideActivation } from '../presence.js';
import type { NightDoorRule } from '../rule-config.js';
import { clear, finding, forget, hhmm, raise, activeSeverity, signName, type RuleContext, type RuleDefinition } from './rule.js';

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

/** Movement inside after the door: clears the finding (apart from `onReading`, so its closure is allocated only here). */
function clearBack(rule: NightDoorRule, home: HomeState, r: Reading, ctx: RuleContext, opened: number): boolean {
  const tz = home.rules.zone;
  return clear(home, rule.id, ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
    message: { en: `Movement inside again at ${hhmm(r.at, tz)} after the front door opened at night`, ja: `夜間に玄関が開いた後、${hhmm(r.at, tz)} に室内で動きがありました` },
    expected: { en: 'Movement inside soon after the front door opens at night.', ja: '夜間に玄関が開いたら、まもなく室内で動きがあること。' },
    observed: { en: `Front door opened at ${hhmm(opened, tz)}; ${signName[r.kind]?.en ?? r.kind} inside at ${hhmm(r.at, tz)} (${r.device}).`, ja: `${hhmm(opened, tz)} に玄関が開き、${hhmm(r.at, tz)} に室内で${signName[r.kind]?.ja ?? r.kind}がありました（${r.device}）。` },
  }, { device: r.device }));
}

export const nightDoor: RuleDefinition<NightDoorRule> = {
  onReading(rule: NightDoorRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    const front = r.kind === 'door' && (r.door === rule.door || r.device === rule.door);
    if (front) {
      if (!r.open || openedAt(rule, home) !== undefined) return false;
      const m = home.rules.zone.minuteOfDay(r.at);
      if (!inWindow(m, parseClockTime(rule.night.from), parseClockTime(rule.night.to))) return false;
      // She went out earlier and has not been back: this is her coming home, not a night outing
      // (van Kasteren A, out 18:25–23:39, sat down where no sensor sees: "nobody came back in"
      // at 23:54). Nothing after it is noSignOfLife's arrival clock, which runs through the night.
      if (comingHome(home, r.at)) return false;
      // Within an absence she or someone entered (her 「出かけます」 on the tablet, a trip): the
      // outing she told of, not a night outing nobody knew (van Kasteren B, 04:27).
      if (r.at < home.awayUntil) return false;
      setMark(home, rule.id, r.at);
      return true;
    }
    if (home.marks === undefined || !isInsideActivation(r, false)) return false;
    const opened = openedAt(rule, home);
    // Movement after the opening is her back inside; in a home without motion sensors, another
    // sign of her inside (a cupboard, the kettle…) after the passage through the door.
    if (opened === undefined || r.at < opened || (r.kind !== 'motion' && r.at - opened < doorPassageMs)) return false;
    setMark(home, rule.id, undefined);
    return clearBack(rule, home, r, ctx, opened);
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
