/**
 * Words for learned-routine findings, in Japanese and English: what is usual
 * for this resident, what was seen, and how sure the system is.
 */
import type { Localized } from '../../core/findings.js';
import type { SignalSummary } from '../baseline-stats.js';
import { clockOf } from '../baseline.js';

/** "learned from 21 ordinary days; on 95 % of them". */
export function howSure(sum: SignalSummary): Localized {
  const pct = Math.round(sum.happened * 100);
  return {
    en: `learned from ${sum.n} ordinary days${pct < 100 ? `; happened on ${pct}% of them` : ''}`,
    ja: `普段の${sum.n}日間から学習${pct < 100 ? `、そのうち${pct}%の日にあり` : ''}`,
  };
}

/** "07:40 ± 20 min" for a time-of-day summary. */
export function usualTime(sum: SignalSummary): Localized {
  const spread = Math.round(sum.spread);
  return { en: `${clockOf(sum.median)} ± ${spread} min`, ja: `${clockOf(sum.median)}（前後${spread}分）` };
}

/** "about 1 in 500 days" for a probability. */
export function chance(p: number): Localized {
  if (p <= 0) return { en: 'practically never', ja: 'ほぼありません' };
  const n = 1 / p;
  const rounded = n >= 1000 ? Math.round(n / 1000) * 1000 : n >= 100 ? Math.round(n / 100) * 100 : Math.max(2, Math.round(n));
  return n >= 100_000 ? { en: 'fewer than 1 in 100,000 days', ja: '10万日に1日未満' } : { en: `about 1 in ${rounded.toLocaleString('en')} days`, ja: `約${rounded}日に1日` };
}

export const habitName: Record<'firstActivity' | 'firstKettle', { usual: Localized; missing: Localized; done: Localized }> = {
  firstKettle: {
    usual: { en: 'usually uses the kettle by', ja: 'いつもは電気ポットを使う時刻' },
    missing: { en: 'the kettle has not been used yet today', ja: '今日はまだ電気ポットが使われていません' },
    done: { en: 'the kettle was used', ja: '電気ポットが使われました' },
  },
  firstActivity: {
    usual: { en: 'is usually up and about by', ja: 'いつもは起きて動き始める時刻' },
    missing: { en: 'no sign of getting up yet today', ja: '今日はまだ起床の様子がありません' },
    done: { en: 'first movement of the day', ja: '今日最初の動きがありました' },
  },
};
