/**
 * The facts of one resident's month for the monthly report (issue 14): the
 * activity rhythm against her usual band, outings, day-care attendance, every
 * alert with its timeline (who was told, when, how; who answered), video
 * check-ins and their notes, questions, family news, and four-week trends.
 * Gathered from the store and the history port; rendering is elsewhere
 * (monthly-report-pdf.ts), so the same facts can be checked without a PDF.
 */
import type { Localized } from '../core/findings.js';
import { findOutings, type Outing } from '../core/outings.js';
import type { Store } from '../core/store.js';
import { addDays, dayBounds, localTime, monthDates } from '../core/time.js';
import type { ActivityPoint, HistoryQuery } from './context.js';
import { timelineNames, timelineOf, type TimelineStep } from './alert-timeline.js';
import { alertState, alertStateLabel, alertText, isFamilyAlert, type AlertState } from './views.js';

export interface ReportAlert {
  id: string; at: number; severity: string; text: Localized; state: AlertState; stateText: Localized;
  timeline: TimelineStep[];
}

export interface ReportDay { date: string; events: number; outings: number; outMinutes: number; dayCare?: 'present' | 'absent'; alerts: number }

export interface ReportWeek { from: string; to: string; eventsPerDay: number; outings: number; dayCareDays: number; alerts: number }

export interface MonthlyReportData {
  home: { id: string; name: string; timezone: string };
  residents: string[];
  month: string;
  from: number; to: number;
  /** When the facts were gathered; `complete` when the month had ended by then. */
  generatedAt: number; complete: boolean;
  /** Whether any activity was recorded in the month (false: no history, or none kept). */
  hasActivity: boolean;
  rhythm: {
    /** Mean events per day in each hour of the day (0–23) over the month's days with data. */
    mean: number[];
    /** Her usual band: the middle half (25th–75th percentile) of her days, hour by hour. */
    low: number[]; high: number[];
    /** Where the band comes from: the four weeks before the month, or the month itself when those have no data. */
    bandFrom: 'before' | 'month'; bandDays: number;
  };
  days: ReportDay[];
  weeks: ReportWeek[];
  outings: { count: number; minutes: number; longestMinutes: number };
  dayCare: { present: number; absent: number };
  alerts: ReportAlert[];
  checkins: { scheduled: number; done: number; missed: number; cancelled: number };
  notes: Array<{ at: number; author: string; mood: string; eating: string; followUp: string }>;
  questions: { asked: number; answered: number };
  newsCount: number;
}

export interface CollectOptions {
  store: Store;
  /** Absent: the report says no activity was recorded. */
  history: HistoryQuery | undefined;
  homeId: string;
  month: string;
  now: number;
}

const quantile = (sorted: number[], q: number): number => {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos); const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
};

/** Events of each day, fetched day by day (a day never reaches the history query's row limit). */
async function activityByDay(history: HistoryQuery | undefined, homeId: string, dates: string[], tz: string): Promise<Map<string, ActivityPoint[]>> {
  const out = new Map<string, ActivityPoint[]>();
  for (const d of dates) {
    const [from, to] = dayBounds(d, tz);
    out.set(d, history ? await history.activity(homeId, from, to) : []);
  }
  return out;
}

/** Hour-of-day counts of one day's events. */
function hourly(points: ActivityPoint[], tz: string): number[] {
  const h = new Array<number>(24).fill(0);
  for (const p of points) { const hour = localTime(p.at, tz).hour; h[hour] = (h[hour] ?? 0) + 1; }
  return h;
}

/** The middle half of `days` (hour-of-day vectors), hour by hour. */
function band(days: number[][]): { low: number[]; high: number[] } {
  const low: number[] = []; const high: number[] = [];
  for (let h = 0; h < 24; h++) {
    const v = days.map((d) => d[h] ?? 0).sort((a, b) => a - b);
    low.push(quantile(v, 0.25)); high.push(quantile(v, 0.75));
  }
  return { low, high };
}

/** Gathers the month; throws when the home does not exist or the month is not `YYYY-MM`. */
export async function collectMonthlyReport(o: CollectOptions): Promise<MonthlyReportData> {
  const { store, homeId, month } = o;
  const home = await store.getHome(homeId);
  if (!home) throw new Error(`unknown home ${homeId}`);
  const tz = home.timezone;
  const dates = monthDates(month);
  const from = dayBounds(dates[0]!, tz)[0];
  const to = dayBounds(dates[dates.length - 1]!, tz)[1];
  const inMonth = (at: number) => at >= from && at < to;

  const byDay = await activityByDay(o.history, homeId, dates, tz);
  const before = await activityByDay(o.history, homeId, Array.from({ length: 28 }, (_, i) => addDays(dates[0]!, i - 28)), tz);
  const withData = (m: Map<string, ActivityPoint[]>) => [...m.values()].filter((p) => p.length > 0).map((p) => hourly(p, tz));
  const monthHours = withData(byDay);
  const beforeHours = withData(before);
  const mean = new Array<number>(24).fill(0).map((_, h) => (monthHours.length ? monthHours.reduce((s, d) => s + (d[h] ?? 0), 0) / monthHours.length : 0));
  const bandDays = beforeHours.length > 0 ? beforeHours : monthHours;

  const all = [...byDay.values()].flat();
  const moves = all.filter((p) => p.kind === 'door' || p.kind === 'motion');
  const outings = findOutings(moves, Math.min(to, o.now));
  const minutes = (x: Outing) => (x.to === undefined ? 0 : Math.round((x.to - x.from) / 60_000));

  const attendance = new Map((await store.listAttendance(homeId, 400)).filter((a) => a.date.startsWith(`${month}-`)).map((a) => [a.date, a.status]));
  const alerts = (await store.listAlerts({ homeId })).filter((a) => inMonth(a.openedAt) && isFamilyAlert(a)).sort((x, y) => x.openedAt - y.openedAt);

  const names = await timelineNames(store, homeId);
  const reportAlerts: ReportAlert[] = [];
  for (const a of alerts) {
    const state = alertState(a, await store.listAlertResponses(a.id));
    reportAlerts.push({ id: a.id, at: a.openedAt, severity: a.severity, text: { ja: alertText(a, 'ja'), en: alertText(a, 'en') }, state, stateText: { ja: alertStateLabel(state, 'ja'), en: alertStateLabel(state, 'en') }, timeline: await timelineOf(store, a, names) });
  }

  const days: ReportDay[] = dates.map((date) => {
    const [dFrom, dTo] = dayBounds(date, tz);
    const out = outings.filter((x) => x.from >= dFrom && x.from < dTo);
    const day: ReportDay = { date, events: byDay.get(date)?.length ?? 0, outings: out.length, outMinutes: out.reduce((s, x) => s + minutes(x), 0), alerts: alerts.filter((a) => a.openedAt >= dFrom && a.openedAt < dTo).length };
    const att = attendance.get(date);
    if (att) day.dayCare = att;
    return day;
  });
  // Four-week trends: the last 28 days of the month, a week at a time (oldest first).
  const weeks: ReportWeek[] = [];
  for (let w = 0; w < 4; w++) {
    const slice = days.slice(days.length - 28 + w * 7, days.length - 28 + (w + 1) * 7);
    weeks.push({
      from: slice[0]!.date, to: slice[slice.length - 1]!.date,
      eventsPerDay: Math.round(slice.reduce((s, d) => s + d.events, 0) / slice.length),
      outings: slice.reduce((s, d) => s + d.outings, 0), dayCareDays: slice.filter((d) => d.dayCare === 'present').length,
      alerts: slice.reduce((s, d) => s + d.alerts, 0),
    });
  }

  const checkins = (await store.listCheckins(homeId, from)).filter((c) => c.dueAt < to);
  const notes = (await store.listVideoNotes(homeId, 1000)).filter((x) => inMonth(x.at)).sort((x, y) => x.at - y.at);
  const noteList: MonthlyReportData['notes'] = [];
  for (const x of notes) noteList.push({ at: x.at, author: await names.account(x.authorId), mood: x.mood, eating: x.eating, followUp: x.followUp });
  const questions = (await store.listQuestions(homeId)).filter((q) => inMonth(q.askedAt));

  return {
    home: { id: home.id, name: home.name, timezone: tz },
    residents: (await store.listResidents(homeId)).map((r) => r.name),
    month, from, to, generatedAt: o.now, complete: o.now >= to,
    hasActivity: all.length > 0,
    rhythm: { mean, ...band(bandDays), bandFrom: beforeHours.length > 0 ? 'before' : 'month', bandDays: bandDays.length },
    days, weeks,
    outings: { count: outings.length, minutes: outings.reduce((s, x) => s + minutes(x), 0), longestMinutes: Math.max(0, ...outings.map(minutes)) },
    dayCare: { present: [...attendance.values()].filter((s) => s === 'present').length, absent: [...attendance.values()].filter((s) => s === 'absent').length },
    alerts: reportAlerts,
    checkins: {
      scheduled: checkins.filter((c) => c.status === 'scheduled').length, done: checkins.filter((c) => c.status === 'done').length,
      missed: checkins.filter((c) => c.status === 'missed').length, cancelled: checkins.filter((c) => c.status === 'cancelled').length,
    },
    notes: noteList,
    questions: { asked: questions.length, answered: questions.filter((q) => q.answer !== undefined).length },
    newsCount: (await store.listNews(homeId, from)).filter((x) => x.createdAt < to).length,
  };
}
