/**
 * routineMissed: a daily habit (the first kettle use, getting up) has not
 * happened by well after its usual time — "usually uses the kettle by
 * 07:40 ± 20 min; nothing yet at 08:30". Gentle (info, to the family):
 * a nudge to call, not an alarm. Silent while learning, while away or out,
 * and for habits kept on too few days to be a habit.
 */
import type { Reading } from '../../core/events.js';
import type { RoutineBook, RoutineHome } from '../baseline-book.js';
import { clockOf, isReady, profileFor } from '../baseline.js';
import type { SignalSummary } from '../baseline-stats.js';
import { NONE, type HomeState } from '../home-state.js';
import type { RoutineMissedRule } from '../rule-config.js';
import { activeSeverity, clear, finding, hhmm, raise, signName, type RuleContext, type RuleDefinition } from './rule.js';
import { habitName, howSure, usualTime } from './routine-text.js';
import { awayOrOut, getMark, setMark } from './routine-marks.js';

const MIN = 60_000;
/** While a due habit is suppressed (she is out), look again this often. */
const recheckMs = 15 * MIN;

type Habit = RoutineMissedRule['signals'][number];
const key = (rule: RoutineMissedRule, s: Habit) => `${rule.id}/${s}`;

interface Due { at: number; sum: SignalSummary }

function dueOf(rule: RoutineMissedRule, rh: RoutineHome, s: Habit, settings: RoutineBook['settings']): Due | undefined {
  const b = rh.baseline, t = b.today;
  if (t === undefined || !isReady(b, t.dayType, settings) || !Number.isNaN(t[s])) return undefined;
  const sum = profileFor(b, t.dayType, settings).summary[s];
  if (sum === undefined || sum.happened < rule.minHappened) return undefined;
  const late = Math.max(rule.spreads * sum.spread, rule.minLateMinutes);
  return { at: t.start + Math.round((sum.median + late) * MIN), sum };
}

/** The routineMissed rule over `book`'s baselines. */
export function routineMissed(book: RoutineBook): RuleDefinition<RoutineMissedRule> {
  function clearDone(rule: RoutineMissedRule, home: HomeState, rh: RoutineHome, ctx: RuleContext, r?: Reading): boolean {
    if (home.active === undefined) return false;
    const t = rh.baseline.today;
    let changed = false;
    for (const s of rule.signals) {
      const k = key(rule, s);
      if (activeSeverity(home, k) === undefined || t === undefined) continue;
      const raisedFor = getMark(home, k) ?? NONE;
      const done = !Number.isNaN(t[s]) && raisedFor === t.start;
      if (!done && raisedFor >= t.start) continue;
      setMark(home, k, undefined);
      const tz = home.rules.zone;
      changed = clear(home, k, ctx, (was) => {
        const words = habitName[s];
        const seen = done
          ? { en: `${words.done.en} at ${clockOf(t[s])}.`, ja: `${clockOf(t[s])} に${words.done.ja}。` }
          : { en: 'A new day began.', ja: '新しい一日になりました。' };
        return finding(home, rule, ctx.now, 'cleared', was, 'family', {
          message: done ? { en: `Routine back to normal: ${words.done.en} at ${clockOf(t[s])}`, ja: `いつもの生活に戻りました：${clockOf(t[s])} に${words.done.ja}` } : { en: 'Routine check reset for a new day', ja: '新しい一日のため、生活リズムの確認をリセットしました' },
          expected: { en: `The resident ${words.usual.en} the usual time.`, ja: `${words.usual.ja}までに行うこと。` },
          observed: seen,
        }, r ? { device: r.device, data: { at: ctx.now, now: hhmm(ctx.now, tz) } } : undefined);
      }) || changed;
    }
    return changed;
  }

  return {
    onReading(rule, home, r, ctx) {
      if (!ctx.sign) return false;
      return clearDone(rule, home, book.get(home.id), ctx, r);
    },

    onTick(rule, home, ctx) {
      const rh = book.roll(home, ctx.now);
      clearDone(rule, home, rh, ctx);
      if (awayOrOut(home, rh, ctx.now)) return;
      const t = rh.baseline.today!;
      const tz = home.rules.zone;
      for (const s of rule.signals) {
        const due = dueOf(rule, rh, s, book.settings);
        if (due === undefined || due.at > ctx.now || activeSeverity(home, key(rule, s)) !== undefined) continue;
        const words = habitName[s];
        const usual = usualTime(due.sum), sure = howSure(due.sum);
        const last = home.lastSignOfLife !== NONE && home.lastSignOfLife >= t.start
          ? { en: ` Last sign of life: ${(signName[home.lastSignKind] ?? { en: home.lastSignKind }).en} at ${hhmm(home.lastSignOfLife, tz)}.`, ja: ` 最後の生活反応：${hhmm(home.lastSignOfLife, tz)} の${(signName[home.lastSignKind] ?? { ja: home.lastSignKind }).ja}。` }
          : { en: ' No sign of life yet today.', ja: ' 今日はまだ生活反応がありません。' };
        if (raise(home, key(rule, s), ctx, finding(home, rule, ctx.now, 'raised', rule.severity, 'family', {
          message: { en: `Later than usual: ${words.missing.en} (usually by ${usual.en})`, ja: `いつもより遅れています：${words.missing.ja}（いつもは${usual.ja}）` },
          expected: { en: `The resident ${words.usual.en} ${usual.en} (${sure.en}).`, ja: `${words.usual.ja}は${usual.ja}です（${sure.ja}）。` },
          observed: { en: `Nothing yet at ${hhmm(ctx.now, tz)}.${last.en}`, ja: `${hhmm(ctx.now, tz)} 現在まだありません。${last.ja}` },
        }, { data: { signal: s, usualMinuteOfDay: Math.round(due.sum.median + 240) % 1440, spreadMinutes: Math.round(due.sum.spread), days: due.sum.n, happened: Math.round(due.sum.happened * 100) / 100 } }))) {
          setMark(home, key(rule, s), t.start);
        }
      }
    },

    nextDeadline(rule, home, now) {
      const rh = book.get(home.id);
      const t = rh.baseline.today;
      if (t === undefined) return Infinity;
      let next = t.end + 1000;
      for (const s of rule.signals) {
        if (activeSeverity(home, key(rule, s)) !== undefined) continue;
        const due = dueOf(rule, rh, s, book.settings);
        if (due !== undefined) next = Math.min(next, due.at > now ? due.at : now + recheckMs);
      }
      return Math.max(next, now + 1000);
    },
  };
}
