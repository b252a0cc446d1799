/**
 * Reading a learned routine back: the learning progress and what is usual,
 * in words (for the family page and `mimamori`), and rebuilding a baseline
 * from recorded readings (InfluxDB history) when none was saved.
 */
import type { Reading } from '../core/events.js';
import type { Localized } from '../core/findings.js';
import { clockOf, createBaseline, dayStartMinute, learningProgress, observe, rollTo, type Baseline, type BaselineSettings, type DayType, type ObserveOptions, type RoutineSignal } from './baseline.js';
import type { RoutineHome } from './baseline-book.js';
import type { SignalSummary } from './baseline-stats.js';
import type { AwayPeriod, HomeContext } from './context.js';
import { applyReading, Applied, createHomeState } from './home-state.js';
import type { ZoneClock } from './rules/rule.js';

export interface SignalReport { signal: RoutineSignal; median: number; spread: number; days: number; happened: number; text: Localized }

export interface RoutineReport {
  learning: { days: number; needed: number; ready: boolean; percent: number; text: Localized };
  profiles: Record<DayType, { days: number; signals: SignalReport[]; hourly: number[] }>;
  /** Known away periods now or ahead. */
  away: AwayPeriod[];
  dayCareDays: number[];
}

const label: Record<RoutineSignal, Localized> = {
  firstActivity: { en: 'first activity of the day', ja: '一日の最初の活動' },
  firstKettle: { en: 'first kettle use', ja: '最初の電気ポット使用' },
  bathMinutes: { en: 'longest stay in the bathroom', ja: '浴室・トイレの最長滞在' },
  nightToilet: { en: 'night-time toilet visits', ja: '夜間のトイレ' },
  outings: { en: 'outings', ja: '外出' },
  nightSlots: { en: 'time up at night (10-minute periods)', ja: '夜間に起きている時間（10分単位）' },
  longestOuting: { en: 'longest outing of the day', ja: '一日で最も長い外出' },
};
const isTime = (s: RoutineSignal) => s === 'firstActivity' || s === 'firstKettle';

function describe(s: RoutineSignal, sum: SignalSummary): Localized {
  const l = label[s];
  if (isTime(s)) return { en: `${l.en}: usually ${clockOf(sum.median)} ± ${Math.round(sum.spread)} min (${sum.n} days)`, ja: `${l.ja}：いつもは${clockOf(sum.median)}（前後${Math.round(sum.spread)}分、${sum.n}日間）` };
  if (s === 'bathMinutes' || s === 'longestOuting') return { en: `${l.en}: usually ${Math.round(sum.median)} min (${sum.n} days)`, ja: `${l.ja}：いつもは${Math.round(sum.median)}分（${sum.n}日間）` };
  const v = Math.round(sum.median * 10) / 10;
  return { en: `${l.en}: usually ${v} a day (${sum.n} days)`, ja: `${l.ja}：いつもは1日${v}回（${sum.n}日間）` };
}

/** The report for one home; `zone` (when known) turns hourly indices into local hours. */
export function routineReport(rh: RoutineHome, settings: BaselineSettings, _zone: ZoneClock | undefined, now: number): RoutineReport {
  const b = rh.baseline;
  const p = learningProgress(b, settings);
  const text: Localized = p.ready
    ? { en: `Routine learned from ${b.days} days; learned checks are on.`, ja: `${b.days}日間の生活リズムを学習済みです。学習にもとづく見守りが有効です。` }
    : { en: `Learning the resident's routine: day ${p.days} of ${p.needed} (${p.percent}%). Fixed safety checks are on meanwhile.`, ja: `生活リズムを学習中：${p.needed}日中${p.days}日目（${p.percent}%）。その間も基本の見守りは有効です。` };
  const profile = (type: DayType) => {
    const pr = b.profiles[type];
    const signals: SignalReport[] = [];
    for (const [s, sum] of Object.entries(pr.summary) as Array<[RoutineSignal, SignalSummary]>) {
      signals.push({ signal: s, median: sum.median, spread: sum.spread, days: sum.n, happened: sum.happened, text: describe(s, sum) });
    }
    // hourP is indexed from 04:00; report by local hour 0–23.
    const hourly = Array.from({ length: 24 }, (_, hour) => Math.round(pr.hourP[(hour - dayStartMinute / 60 + 24) % 24]! * 100) / 100);
    return { days: pr.days, signals, hourly };
  };
  return {
    learning: { ...p, text },
    profiles: { other: profile('other'), dayCare: profile('dayCare') },
    away: rh.context.periods.filter((x) => x.to > now),
    dayCareDays: rh.context.dayCareDays,
  };
}

export interface RebuildOptions { zone: ZoneClock; context: HomeContext; powerChangeWatts: number; frontDoor: string; settings: BaselineSettings; inBed?: (device: string) => boolean }

/**
 * A baseline learned from recorded readings of one home, in time order — what
 * the engine would have learned had it been running. The hub feeds it from
 * InfluxDB history when a home has no saved routine.
 */
export async function rebuildBaseline(readings: Iterable<Reading> | AsyncIterable<Reading>, o: RebuildOptions): Promise<Baseline> {
  const b = createBaseline();
  // A scratch home decides "sign of life" exactly as the engine does.
  const scratch = createHomeState('rebuild', { timezone: o.zone.timezone, zone: o.zone, rules: [], defs: [], powerChangeWatts: o.powerChangeWatts }, 0);
  let last = -Infinity;
  const opts: ObserveOptions = { zone: o.zone, context: o.context, frontDoor: o.frontDoor, settings: o.settings };
  if (o.inBed) opts.inBed = o.inBed;
  for await (const r of readings) {
    const sign = (applyReading(scratch, r) & Applied.SignOfLife) !== 0;
    observe(b, r, sign, opts);
    if (r.at > last) last = r.at;
  }
  if (Number.isFinite(last)) rollTo(b, last, o.context, o.zone, o.settings);
  return b;
}
