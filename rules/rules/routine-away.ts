/**
 * awayContext: applies known away periods (day-care, hospital, trip — set by
 * staff or family) and infers an unannounced absence (front door closed,
 * nothing inside for `inferAfterMinutes`) by moving the home's `awayUntil`,
 * which pauses noSignOfLife and the learned inactivity rules alike. An
 * inferred absence is bounded (`inferredMaxHours` after the door closed) so
 * that a resident who fell right after closing the door is still found; it
 * ends at the first movement inside.
 */
import type { RoutineBook } from '../baseline-book.js';
import { activePeriod, nextPeriodStart, reasonText } from '../context.js';
import type { AwayContextRule } from '../rule-config.js';
import { clear, finding, hhmm, raise, type RuleDefinition } from './rule.js';
import { getMark, setMark } from './routine-marks.js';

const MIN = 60_000;
const HOUR = 3_600_000;

/** The awayContext rule over `book`'s contexts. */
export function awayContext(book: RoutineBook): RuleDefinition<AwayContextRule> {
  const inferredKey = (rule: AwayContextRule) => `${rule.id}/inferred`;
  return {
    onReading(rule, home, r, ctx) {
      const rh = book.get(home.id);
      if (rh.returnedAt !== r.at) return false;
      const since = getMark(home, inferredKey(rule));
      if (since === undefined) return true;
      setMark(home, inferredKey(rule), undefined);
      if (activePeriod(rh.context, r.at) === undefined && home.awayUntil > r.at) home.awayUntil = r.at;
      const tz = home.rules.zone;
      clear(home, inferredKey(rule), ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
        message: { en: `Back home: movement inside at ${hhmm(r.at, tz)}`, ja: `ご帰宅：${hhmm(r.at, tz)} に室内で動きがありました` },
        expected: { en: 'Movement inside after returning home.', ja: '帰宅後に室内で動きがあること。' },
        observed: { en: `Front door closed at ${hhmm(since, tz)}; movement inside at ${hhmm(r.at, tz)}.`, ja: `${hhmm(since, tz)} に玄関が閉まり、${hhmm(r.at, tz)} に室内で動きがありました。` },
      }, { device: r.device }));
      return true;
    },

    onTick(rule, home, ctx) {
      const rh = book.roll(home, ctx.now);
      const now = ctx.now;
      const period = activePeriod(rh.context, now);
      if (period !== undefined && home.awayUntil < period.to) {
        home.awayUntil = period.to;
        home.dirty = true;
      }
      const closed = rh.baseline.doorClosedAt;
      if (period !== undefined || closed < 0 || getMark(home, inferredKey(rule)) !== undefined || now < closed + rule.inferAfterMinutes * MIN) return;
      const until = closed + rule.inferredMaxHours * HOUR;
      if (home.awayUntil < until) home.awayUntil = until;
      setMark(home, inferredKey(rule), closed);
      const tz = home.rules.zone;
      const away = reasonText.other;
      raise(home, inferredKey(rule), ctx, finding(home, rule, now, 'raised', 'info', 'family', {
        message: { en: `The resident seems to be ${away.en}: front door closed at ${hhmm(closed, tz)}, nothing inside since`, ja: `ご本人は${away.ja}のようです：${hhmm(closed, tz)} に玄関が閉まり、その後室内の動きがありません` },
        expected: { en: `Movement inside within ${rule.inferAfterMinutes / 60} hours after the front door closes, unless she is away.`, ja: `玄関が閉まってから${rule.inferAfterMinutes / 60}時間以内に室内で動きがあること（不在の場合を除く）。` },
        observed: { en: `Nothing inside since ${hhmm(closed, tz)}. Inactivity alarms are paused until ${hhmm(until, tz)} (${rule.inferredMaxHours} h after the door closed). If she is not travelling, please check on her; if she is, enter the trip so alarms stay quiet.`, ja: `${hhmm(closed, tz)} 以降、室内の動きがありません。${hhmm(until, tz)}（玄関が閉まってから${rule.inferredMaxHours}時間後）まで無反応のアラートを止めています。外出の予定がなければ様子を確認し、旅行などの場合は不在予定を登録してください。` },
      }, { data: { doorClosedAt: closed, pausedUntil: until } }));
    },

    nextDeadline(rule, home, now) {
      const rh = book.get(home.id);
      let next = nextPeriodStart(rh.context, now);
      const closed = rh.baseline.doorClosedAt;
      const period = activePeriod(rh.context, now);
      // During a known period nothing is inferred; look again when it ends.
      if (period !== undefined) next = Math.min(next, period.to);
      else if (closed >= 0 && getMark(home, inferredKey(rule)) === undefined) next = Math.min(next, Math.max(closed + rule.inferAfterMinutes * MIN, now + 1000));
      const t = rh.baseline.today;
      if (t !== undefined) next = Math.min(next, Math.max(t.end + 1000, now + 1000));
      return next;
    },
  };
}
