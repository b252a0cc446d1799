/**
 * unusualNightActivity: far more of the night (23:00–04:00) spent up and
 * about than this resident's usual night — counted in 10-minute slots with a
 * sign of life, so a couple of toilet visits stay normal and a restless,
 * wandering night does not. Cleared when the night is over.
 */
import type { RoutineBook } from '../baseline-book.js';
import { isReady, nightFrom, profileFor } from '../baseline.js';
import { popcount } from '../baseline-stats.js';
import type { UnusualNightActivityRule } from '../rule-config.js';
import { activeSeverity, clear, finding, hhmm, raise, type RuleDefinition } from './rule.js';
import { getMark, setMark } from './routine-marks.js';

const MIN = 60_000;

/** The unusualNightActivity rule over `book`'s baselines. */
export function unusualNightActivity(book: RoutineBook): RuleDefinition<UnusualNightActivityRule> {
  return {
    onReading(rule, home, r, ctx) {
      if (!ctx.sign) return false;
      const b = book.get(home.id).baseline, t = b.today;
      if (t === undefined || (r.at - t.start) / MIN < nightFrom || activeSeverity(home, rule.id) !== undefined || !isReady(b, t.dayType, book.settings)) return false;
      const sum = profileFor(b, t.dayType, book.settings).summary.nightSlots;
      const slots = popcount(t.nightSlots);
      const usual = sum === undefined ? 0 : sum.median;
      const limit = Math.max(rule.minSlots, sum === undefined ? 0 : Math.ceil(Math.max(sum.q90 + 4, sum.median + 4 * sum.spread)));
      if (slots < limit) return false;
      const tz = home.rules.zone;
      raise(home, rule.id, ctx, finding(home, rule, ctx.now, 'raised', rule.severity, 'family', {
        message: { en: `Unusually active night: up and about in ${slots * 10} minutes' worth of the night so far`, ja: `普段と違う夜間の活動：今夜はこれまでに約${slots * 10}分間、起きて動いています` },
        expected: { en: `On an ordinary night the resident is up in about ${Math.round(usual * 10)} minutes' worth of 10-minute periods between 23:00 and 04:00 (learned from ${sum?.n ?? 0} nights); more than ${limit * 10} is unusual.`, ja: `普段の夜（23:00〜04:00）に起きている時間は約${Math.round(usual * 10)}分です（${sum?.n ?? 0}夜から学習）。${limit * 10}分を超えるのは普段と違います。` },
        observed: { en: `Signs of life in ${slots} ten-minute periods tonight, the latest at ${hhmm(r.at, tz)}.`, ja: `今夜は10分単位で${slots}回の時間帯に生活反応があり、最新は ${hhmm(r.at, tz)} です。` },
      }, { device: r.device, data: { slots, usualSlots: usual, limitSlots: limit } }));
      setMark(home, rule.id, t.start);
      return true;
    },

    onTick(rule, home, ctx) {
      const rh = book.roll(home, ctx.now);
      const raisedFor = getMark(home, rule.id);
      if (raisedFor === undefined || raisedFor >= rh.baseline.today!.start) return;
      setMark(home, rule.id, undefined);
      clear(home, rule.id, ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
        message: { en: 'The night is over', ja: '夜間の時間帯が終わりました' },
        expected: { en: 'A night like the resident\'s usual nights.', ja: '普段どおりの夜であること。' },
        observed: { en: 'Night-time window (23:00–04:00) ended.', ja: '夜間（23:00〜04:00）の時間帯が終わりました。' },
      }));
    },

    nextDeadline(rule, home, now) {
      const t = book.get(home.id).baseline.today;
      return t === undefined || getMark(home, rule.id) === undefined ? Infinity : Math.max(t.end + 1000, now + 1000);
    },
  };
}
