/**
 * "Is she OK today?" (issue 14): the facts of the resident's day so far, in
 * her home's time zone, as one plain sentence and a timeline for the family
 * page — 「今日もいつも通りです。7:12 起床、7:30 ポット、10:00–15:30 デイサービス」.
 *
 * The facts come from the history port the charts read (`HistoryQuery.activity`)
 * and the store: the first movement from 04:00 (up), the first kettle and
 * water use, outings through the front door (core/outings.ts), day-care
 * attendance marked by staff (the longest outing of a day-care day is the
 * day-care trip), and the family's alerts. Only sensors going active count:
 * a motion sensor clearing is not her moving. The sentence says what is
 * wrong first, in the words of the status box and the alert cards.
 */
import type { Alert, Store } from '../core/store.js';
import type { Finding } from '../core/findings.js';
import { findOutings } from '../core/outings.js';
import { dayBounds, localTime, toLocalIso } from '../core/time.js';
import type { ActivityPoint, HistoryQuery } from './context.js';
import { html, type Html } from './html.js';
import type { MessageKey, Translator } from './i18n.js';
import { alertState, alertStateLabel, alertText, isFamilyAlert, type AlertState } from './views.js';

/** Movement before this local hour is the night (a toilet visit), not getting up. */
export const upFromHour = 4;

/** The home's status in the cards' vocabulary (status box, sentence, cards). */
export type HomeStatus = 'fine' | 'noticed' | 'alert-open' | 'alert-handled';

/** A family alert with its state from the responses (views.ts `alertState`). */
export interface DayAlert { alert: Alert; state: AlertState; at: number }

export interface DayFacts {
  /** The local date (YYYY-MM-DD) and the instant the facts run to. */
  date: string; timezone: string; now: number;
  /** Whether anything was recorded since local midnight. */
  hasData: boolean;
  upAt?: number; kettleAt?: number; waterAt?: number;
  /** Outings through the front door today; `dayCare` marks the day-care trip. */
  outings: Array<{ from: number; to?: number; dayCare: boolean }>;
  /** Attendance marked by day-care staff today, and when. */
  dayCare?: { status: 'present' | 'absent'; at: number };
  /** Family alerts not yet resolved (any day), oldest first. */
  unresolved: DayAlert[];
  /** Family alerts of today (resolved or not), by when they happened. */
  today: DayAlert[];
}

/** When an alert happened: the finding's time (the button press), else when it was filed. */
function happenedAt(a: Alert): number {
  const at = (a.finding as Partial<Finding> | undefined)?.at;
  return typeof at === 'number' ? at : a.openedAt;
}

const firstActive = (points: ActivityPoint[], kind: string) => points.find((p) => p.kind === kind && p.active !== false)?.at;

export interface CollectDayOptions {
  store: Store;
  history: HistoryQuery | undefined;
  homeId: string;
  timezone: string;
  now: number;
}

/** Gathers today's facts (the local day of `now` in the home's zone, up to `now`). */
export async function collectDay(o: CollectDayOptions): Promise<DayFacts> {
  const { store, homeId, timezone: tz, now } = o;
  const date = localTime(now, tz).date;
  const [from] = dayBounds(date, tz);
  const points = (o.history ? await o.history.activity(homeId, from, now + 1) : []).filter((p) => p.at >= from && p.at <= now);
  const facts: DayFacts = { date, timezone: tz, now, hasData: points.length > 0, outings: [], unresolved: [], today: [] };
  const upAt = points.find((p) => p.kind === 'motion' && p.active !== false && localTime(p.at, tz).hour >= upFromHour)?.at;
  if (upAt !== undefined) facts.upAt = upAt;
  const kettleAt = firstActive(points, 'kettle');
  if (kettleAt !== undefined) facts.kettleAt = kettleAt;
  const waterAt = firstActive(points, 'water');
  if (waterAt !== undefined) facts.waterAt = waterAt;

  const att = (await store.listAttendance(homeId, 1))[0];
  if (att && att.date === date) facts.dayCare = { status: att.status, at: att.at };
  const outings = findOutings(points, now);
  // On a day-care day the longest outing is the trip to day care.
  const length = (x: { from: number; to?: number }) => (x.to ?? now) - x.from;
  const longest = facts.dayCare?.status === 'present' && outings.length > 0 ? outings.reduce((a, b) => (length(b) > length(a) ? b : a)) : undefined;
  facts.outings = outings.map((x) => ({ ...x, dayCare: x === longest }));

  for (const a of (await store.listAlerts({ homeId })).filter(isFamilyAlert)) {
    const at = happenedAt(a);
    if (a.status === 'resolved' && at < from) continue;
    const d: DayAlert = { alert: a, state: alertState(a, await store.listAlertResponses(a.id)), at };
    if (a.status !== 'resolved') facts.unresolved.push(d);
    if (at >= from && at <= now) facts.today.push(d);
  }
  facts.unresolved.sort((x, y) => x.at - y.at);
  facts.today.sort((x, y) => x.at - y.at);
  return facts;
}

/**
 * The home's status from its unresolved family alerts, and the alert the
 * sentence names: an urgent alert nobody handles yet, an urgent alert being
 * handled, something noticed (a warning), or fine.
 */
export function dayStatus(unresolved: readonly DayAlert[]): { status: HomeStatus; about?: DayAlert } {
  const critical = unresolved.filter((d) => d.alert.severity === 'critical');
  const open = critical.find((d) => d.state === 'open');
  if (open) return { status: 'alert-open', about: open };
  if (critical[0]) return { status: 'alert-handled', about: critical[0] };
  if (unresolved[0]) return { status: 'noticed', about: unresolved[0] };
  return { status: 'fine' };
}

/** The status box's words for each status (catalogue keys). */
export const statusKeys: Record<HomeStatus, MessageKey> = { fine: 'statusFine', noticed: 'statusNoticed', 'alert-open': 'statusAlertOpen', 'alert-handled': 'statusAlertHandled' };

/** "7:12" in the home's zone. */
export function clockTime(at: number, tz: string): string {
  const l = localTime(at, tz);
  return `${l.hour}:${String(l.minute).padStart(2, '0')}`;
}

/**
 * The day in one sentence, in the viewer's language. With `detailed` consent
 * it names the times; otherwise only whether there was activity today.
 */
export function daySentence(f: DayFacts, t: Translator, lang: 'ja' | 'en', detailed: boolean): string {
  const tm = (at: number) => clockTime(at, f.timezone);
  const items: Array<{ at: number; text: string }> = [];
  if (detailed) {
    if (f.upAt !== undefined) items.push({ at: f.upAt, text: t('dayUp', { time: tm(f.upAt) }) });
    if (f.kettleAt !== undefined) items.push({ at: f.kettleAt, text: t('dayKettle', { time: tm(f.kettleAt) }) });
    if (f.waterAt !== undefined) items.push({ at: f.waterAt, text: t('dayWater', { time: tm(f.waterAt) }) });
    for (const x of f.outings) {
      const key = x.to === undefined ? (x.dayCare ? 'dayCareOutNow' : 'dayOutNow') : (x.dayCare ? 'dayCareOut' : 'dayOut');
      items.push({ at: x.from, text: t(key, { from: tm(x.from), to: x.to === undefined ? '' : tm(x.to) }) });
    }
    if (f.dayCare && !f.outings.some((x) => x.dayCare)) items.push({ at: f.dayCare.at, text: t(f.dayCare.status === 'present' ? 'dayCarePresent' : 'dayCareAbsent') });
  } else if (f.hasData) {
    items.push({ at: 0, text: t('dayActivitySeen') });
  }
  const list = items.sort((a, b) => a.at - b.at).map((i) => i.text).join(lang === 'ja' ? '、' : ', ');
  const { status, about } = dayStatus(f.unresolved);
  const nothing = items.length === 0;
  if (status === 'fine' || !about) return nothing ? t('dayUsualNoData') : t('dayUsual', { items: list });
  const vars = { status: t(statusKeys[status]), what: alertText(about.alert, lang), items: list };
  return nothing ? t('dayProblemNoData', vars) : t('dayProblem', vars);
}

/** One entry of the day's timeline. */
export interface DayStep { at: number; kind: 'up' | 'kettle' | 'water' | 'out' | 'back' | 'day-care-out' | 'day-care-back' | 'day-care-marked' | 'alert'; text: string; severity?: string }

/** The day's timeline, oldest first, in the viewer's language. */
export function dayTimeline(f: DayFacts, t: Translator, lang: 'ja' | 'en'): DayStep[] {
  const steps: DayStep[] = [];
  if (f.upAt !== undefined) steps.push({ at: f.upAt, kind: 'up', text: t('dayStepUp') });
  if (f.kettleAt !== undefined) steps.push({ at: f.kettleAt, kind: 'kettle', text: t('dayStepKettle') });
  if (f.waterAt !== undefined) steps.push({ at: f.waterAt, kind: 'water', text: t('dayStepWater') });
  for (const x of f.outings) {
    steps.push({ at: x.from, kind: x.dayCare ? 'day-care-out' : 'out', text: t(x.dayCare ? 'dayStepCareOut' : 'dayStepOut') });
    if (x.to !== undefined) steps.push({ at: x.to, kind: x.dayCare ? 'day-care-back' : 'back', text: t(x.dayCare ? 'dayStepCareBack' : 'dayStepBack') });
  }
  if (f.dayCare) steps.push({ at: f.dayCare.at, kind: 'day-care-marked', text: t('dayStepCareMarked', { status: t(f.dayCare.status) }) });
  for (const d of f.today) steps.push({ at: d.at, kind: 'alert', text: `${alertText(d.alert, lang)} — ${alertStateLabel(d.state, lang)}`, severity: d.alert.severity });
  return steps.sort((a, b) => a.at - b.at);
}

/** The timeline as a list (`<ol id="day-timeline">`), each step with its `<time>`. */
export function dayTimelineHtml(steps: readonly DayStep[], tz: string, t: Translator): Html {
  if (steps.length === 0) return html`<p id="day-timeline" class="muted">${t('dayNothingYet')}</p>`;
  return html`<ol id="day-timeline" class="day-timeline">${steps.map((s) => html`<li data-step="${s.kind}"${s.severity ? html` class="${s.severity === 'critical' ? 'alert' : 'noticed'}"` : ''}><time datetime="${toLocalIso(s.at, tz)}">${clockTime(s.at, tz)}</time> ${s.text}</li>`)}</ol>`;
}
