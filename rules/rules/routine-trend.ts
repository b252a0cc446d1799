/**
 * routineTrend: slow changes over weeks — more night-time toilet visits,
 * fewer outings — as observations for the caregiver (info, audience
 * `caregiver`), never alarms. Checked once a day, when the day rolls over:
 * the last `recentDays` ordinary days against the (up to six) weeks before.
 */
import type { Localized } from '../../core/findings.js';
import type { RoutineBook } from '../baseline-book.js';
import { mean } from '../baseline-stats.js';
import type { RoutineTrendRule } from '../rule-config.js';
import { activeSeverity, clear, finding, raise, type RuleDefinition } from './rule.js';
import { getMark, setMark } from './routine-marks.js';

type Trend = 'nightToilet' | 'outings';
const words: Record<Trend, { what: Localized; up: boolean; unit: Localized; perWeek: boolean }> = {
  nightToilet: { what: { en: 'night-time toilet visits', ja: '夜間のトイレの回数' }, up: true, unit: { en: 'a night', ja: '回/夜' }, perWeek: false },
  outings: { what: { en: 'outings', ja: '外出の回数' }, up: false, unit: { en: 'a week', ja: '回/週' }, perWeek: true },
};

/**
 * Recent vs earlier rate: `changed` when the change is large and clear
 * (≥ `minRatio`, Poisson z beyond 2.5), `back` when it has mostly gone away
 * again (a third of the way), so an observation does not flap.
 */
export function compareRates(history: readonly number[], recentDays: number, minRatio: number, up: boolean): { recent: number; before: number; changed: boolean; back: boolean } | undefined {
  if (history.length < recentDays * 2) return undefined;
  const recentVals = history.slice(-recentDays), beforeVals = history.slice(0, -recentDays);
  const recent = mean(recentVals), before = mean(beforeVals);
  if (!Number.isFinite(recent) || !Number.isFinite(before)) return undefined;
  const z = (recent - before) / Math.sqrt(Math.max(before, 0.05) / recentVals.length + Math.max(before, 0.05) / beforeVals.length);
  const changed = up
    ? recent >= before * minRatio && recent - before >= 0.5 && z > 2.5
    : recent * minRatio <= before && before - recent >= 1 / 7 && z < -2.5;
  const partial = 1 + (minRatio - 1) / 3;
  const back = up ? recent < before * partial : recent * partial > before;
  return { recent, before, changed, back };
}

/** The routineTrend rule over `book`'s baselines. */
export function routineTrend(book: RoutineBook): RuleDefinition<RoutineTrendRule> {
  return {
    onReading() { return false; },

    onTick(rule, home, ctx) {
      const rh = book.roll(home, ctx.now);
      const t = rh.baseline.today!;
      const checkedKey = `${rule.id}/checked`;
      if (getMark(home, checkedKey) === t.start) return;
      setMark(home, checkedKey, t.start);
      for (const kind of ['nightToilet', 'outings'] as const) {
        const w = words[kind];
        const c = compareRates(rh.baseline.trend[kind], rule.recentDays, rule.minRatio, w.up);
        if (c === undefined) continue;
        const k = `${rule.id}/${kind}`;
        const scale = w.perWeek ? 7 : 1;
        const fmt = (v: number) => (Math.round(v * scale * 10) / 10).toString();
        const before = { en: `${fmt(c.before)} ${w.unit.en}`, ja: `${fmt(c.before)}${w.unit.ja}` };
        const recent = { en: `${fmt(c.recent)} ${w.unit.en}`, ja: `${fmt(c.recent)}${w.unit.ja}` };
        if (c.changed && activeSeverity(home, k) === undefined) {
          raise(home, k, ctx, finding(home, rule, ctx.now, 'raised', 'info', 'caregiver', {
            message: { en: `Observation: ${w.up ? 'more' : 'fewer'} ${w.what.en} over the last ${rule.recentDays} days`, ja: `経過の気づき：この${rule.recentDays}日間、${w.what.ja}が${w.up ? '増えています' : '減っています'}` },
            expected: { en: `About ${before.en}, as in the ${Math.round((rh.baseline.trend[kind].length - rule.recentDays) / 7)} weeks before.`, ja: `それ以前の約${Math.round((rh.baseline.trend[kind].length - rule.recentDays) / 7)}週間と同じく${before.ja}程度。` },
            observed: { en: `${recent.en} over the last ${rule.recentDays} days. This is an observation for the care plan, not an alarm.`, ja: `この${rule.recentDays}日間は${recent.ja}。ケアプランのための気づきで、緊急のお知らせではありません。` },
          }, { data: { signal: kind, recent: c.recent, before: c.before } }));
        } else if (c.back && activeSeverity(home, k) !== undefined) {
          clear(home, k, ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'caregiver', {
            message: { en: `${w.what.en} back to the earlier level`, ja: `${w.what.ja}は以前の水準に戻りました` },
            expected: { en: `About ${before.en}.`, ja: `${before.ja}程度。` },
            observed: { en: `${recent.en} over the last ${rule.recentDays} days.`, ja: `この${rule.recentDays}日間は${recent.ja}。` },
          }));
        }
      }
    },

    nextDeadline(_rule, home, now) {
      const t = book.get(home.id).baseline.today;
      return t === undefined ? Infinity : Math.max(t.end + 1000, now + 1000);
    },
  };
}
