/**
 * The per-home watermark: whether a home's data is known to be behind the
 * hub's clock, so that its time-based rules wait instead of deciding "nothing
 * happened" about a stretch whose data has not arrived (docs/rules.md,
 * "Watermark").
 *
 * A home is behind while either holds:
 * - a reading arrived more than `lateAfterMs` behind the clock within the
 *   last `settleMs` (an edge queue flushing after an outage, or the hub
 *   lagging behind its homes); one late reading starts it, `settleMs` with no
 *   late reading ends it — the hysteresis that keeps it from flapping;
 * - the home reports regularly and nothing at all has arrived for a while:
 *   `silentAfterMs` when its devices send heartbeats, twice that when a
 *   thermometer alone has reported at least every `silentAfterMs` for a day
 *   and was still doing so when the silence began (`notePeriodic`,
 *   `silenceLimit`). Its edge is offline or the power is out: a gap in
 *   delivery, not a quiet home (a collapse does not stop the thermometer). A
 *   home with neither cannot be told apart from a quiet one, so silence there
 *   stays the rules' business.
 *
 * Entering and leaving raise and clear one operator finding, `data-late`.
 * A silence that ends with a reading on time (not a queue flushing) lost its
 * data: the gap is kept as marks (`gapFromKey`, `gapUntilKey`) and the
 * inactivity rules do not count its hours (`gapInside`) — a data gap is not
 * an emergency, and not an all-clear either (docs/rules.md, "Gaps in the data").
 */
import type { Finding, Localized } from '../core/findings.js';
import { NONE, type DeviceState, type HomeState } from './home-state.js';
import { getMark, setMark } from './rules/routine-marks.js';
import { duration, hhmm } from './rules/rule.js';

export interface WatermarkSettings {
  /** A reading arriving more than this far behind the clock makes its home late (default 10 min). */
  lateAfterMs: number;
  /** The home stays late until no late reading arrived for this long (default 10 min). */
  settleMs: number;
  /** A home that sends heartbeats is late after this long with nothing at all from it (default 75 min: two and a half 30-minute heartbeat periods). */
  silentAfterMs: number;
}

const minute = 60_000;
export const defaultWatermarkSettings: WatermarkSettings = { lateAfterMs: 10 * minute, settleMs: 10 * minute, silentAfterMs: 75 * minute };

/** The rule id and type of the operator finding. */
export const dataLateRule = { id: 'data-late', type: 'dataLate' } as const;

/** Validates settings; a readable problem or undefined. */
export function watermarkProblem(s: WatermarkSettings): string | undefined {
  for (const k of ['lateAfterMs', 'settleMs', 'silentAfterMs'] as const) {
    if (!Number.isFinite(s[k]) || s[k] <= 0) return `watermark.${k} must be a positive number of milliseconds`;
  }
  return undefined;
}

/** Readings in a row at most `silentAfterMs` apart before a thermometer counts as reporting regularly (a day of hourly readings). */
export const periodicRun = 24;
/** Marks: the newest reading before a gap whose data was lost, and the reading that ended it. */
export const gapFromKey = 'data/gap-from';
export const gapUntilKey = 'data/gap-until';

/**
 * Mark: the latest reading of the home's regular thermometer (`notePeriodic`).
 * A mark, so it is saved with the home and a restart does not forget that the
 * home reports regularly (a gap right after it would be counted as quiet hours).
 */
export const periodicKey = 'data/periodic-at';

function periodicAt(home: HomeState): number {
  return getMark(home, periodicKey) ?? NONE;
}

/** When the latest gap whose data was lost ended (NONE: none known). */
export function gapUntil(home: HomeState): number {
  return getMark(home, gapUntilKey) ?? NONE;
}

/** When the latest gap whose data was lost began: the newest reading before it (NONE: none known). */
export function gapFrom(home: HomeState): number {
  return getMark(home, gapFromKey) ?? NONE;
}

/**
 * A silence ended by a reading on time (`at`): the data from `from` (the
 * newest before it) to `at` was lost, not delayed. Kept as marks, saved at once.
 */
export function noteGap(home: HomeState, from: number, at: number): void {
  setMark(home, gapFromKey, from);
  setMark(home, gapUntilKey, at);
}

/**
 * The latest gap whose data was lost, when it ended after `start` (a quiet
 * spell from `start` runs across it): the spell counts [start, `before`) and
 * again from `resume`, not the hours between — not quiet (an emergency made of
 * missing data), not a sign of life (an all-clear made of nothing). `before`
 * is `start` when the spell began inside the gap. Undefined: no gap in it.
 * The one definition `noSignOfLife` and `unusualInactivity` both count by.
 */
export function gapInside(home: HomeState, start: number): { before: number; resume: number } | undefined {
  return afterGap(home, start) ? undefined : { before: Math.max(start, gapFrom(home)), resume: gapUntil(home) };
}

/**
 * Whether a span that began at `start` (a quiet spell, a night, an outing) has
 * all its data: it began at or after the end of the latest gap whose data was
 * lost (the reading that ended the gap is data). The one boundary the learners
 * (what not to learn from) and `gapInside` (what not to count) share.
 */
export function afterGap(home: HomeState, start: number): boolean {
  return start >= gapUntil(home);
}

/**
 * A climate reading at `at` from `dev`, whose previous reading was at `prevSeen`
 * (the home's newest before it: `prevNewest`). A thermometer reports whatever
 * she does; one that has reported at least every `silentAfterMs` for
 * `periodicRun` readings makes total silence from the home a gap in the data.
 * A longer pause ends its run — unless nothing at all came from the home
 * once it was overdue (a gap in delivery, not the thermometer's own silence).
 * For homes without heartbeats only (the engine asks): a home with heartbeats
 * is judged on them (`silenceLimit`), and its thermometer adds nothing.
 */
export function notePeriodic(home: HomeState, dev: DeviceState, prevSeen: number, prevNewest: number, at: number, s: WatermarkSettings): void {
  if (at <= prevSeen) return;
  const periodic = periodicAt(home);
  // Its previous reading was the home's regular one: its run was long enough then, whatever the
  // count says now (counts are not saved: after a restart it is 0, the mark survives).
  let run = prevSeen === periodic ? Math.max(dev.run, periodicRun) : dev.run;
  if (at - prevSeen < s.silentAfterMs) run++;
  else if (prevNewest >= prevSeen + s.silentAfterMs) run = 0;
  dev.run = run;
  // Progress, like the other tallies: saved with the slower save.
  if (run >= periodicRun && at > periodic) setMark(home, periodicKey, at, false);
}

/**
 * How long total silence from the home lasts before it is a gap in delivery:
 * `silentAfterMs` when it sends heartbeats (two and a half heartbeat periods);
 * twice that when a thermometer alone reports regularly (at most `silentAfterMs`
 * apart), so that one reading it drops is not a gap — and only if it was still
 * reporting when the silence began. Infinity: silence cannot be told from a
 * quiet home.
 */
function silenceLimit(home: HomeState, s: WatermarkSettings): number {
  if (home.beats) return s.silentAfterMs;
  const periodic = periodicAt(home);
  return periodic !== NONE && home.newestAt - periodic < s.silentAfterMs ? 2 * s.silentAfterMs : Infinity;
}

/**
 * Records a reading's arrival lag (clock time minus its own time). A late
 * reading from inside a gap thought lost (`noteGap`) means its data is coming
 * after all (an edge that sent something fresh before flushing its queue): the
 * gap is forgotten, and the rules decide on the complete data once it settles.
 */
export function noteArrival(home: HomeState, lagMs: number, now: number, s: WatermarkSettings, at: number): void {
  if (lagMs <= s.lateAfterMs) return;
  home.lateArrivalAt = now;
  if (at < gapUntil(home) && at > gapFrom(home)) { setMark(home, gapFromKey, undefined); setMark(home, gapUntilKey, undefined); }
}

/** Why the home is behind at `now`, or undefined when its data is current. */
export function behindReason(home: HomeState, now: number, s: WatermarkSettings): 'arrival' | 'silence' | undefined {
  if (home.lateArrivalAt !== NONE) {
    if (now - home.lateArrivalAt < s.settleMs) return 'arrival';
    home.lateArrivalAt = NONE;
    home.dirty = true;
  }
  if (home.newestAt !== NONE && now - home.newestAt >= silenceLimit(home, s)) return 'silence';
  return undefined;
}

/**
 * From when the home's data is in doubt: nothing at all has arrived for half its
 * silence limit (37.5 min of a heartbeat home, 75 min of a home with a regular
 * thermometer), so its next regular message is overdue but the home is not yet
 * behind — or, in a home told by its thermometer, that reading is overdue
 * (`silentAfterMs` after it). A time-based rule due then waits for the watermark's word — the next
 * reading (then it decides on the data, a few minutes late at most a silence
 * limit after the newest reading), or "behind" at the limit (then the gap is not
 * counted). Without it, a learned rule due 1 h 46 after her last movement spoke
 * 30 min into an outage the watermark would name 40 min later (messy corpus:
 * 6 family warnings in the first 150 min of recording gaps). A collapse does not
 * stop the thermometer or the heartbeats, so a real silence is never held.
 * Infinity: a home whose silence cannot be told from a quiet home.
 */
function doubtFrom(home: HomeState, s: WatermarkSettings): number {
  const limit = silenceLimit(home, s);
  if (home.newestAt === NONE || limit === Infinity) return Infinity;
  const fromNewest = home.newestAt + limit / 2;
  // Told by its thermometer: also once that reading is itself overdue (`silentAfterMs` after
  // it, the pause that ends its run), however recent her last movement — a learned warning fell
  // 71 min into an outage whose thermometer was 34 min overdue (messy-04, 1 March 16:56).
  return home.beats ? fromNewest : Math.min(fromNewest, periodicAt(home) + s.silentAfterMs);
}

/**
 * Whether the home's data is in doubt at `now` (`doubtFrom`). Asked of every
 * reading: the comparison against the shortest doubt (half of `silentAfterMs`)
 * comes first, so the silence limit's mark is looked up only after a quiet spell.
 */
export function inDoubt(home: HomeState, now: number, s: WatermarkSettings): boolean {
  return home.newestAt !== NONE && now - home.newestAt >= s.silentAfterMs / 2 && now >= doubtFrom(home, s);
}

/** When the home's lateness may next change on the clock alone (Infinity: only a reading can change it). */
export function watermarkDeadline(home: HomeState, s: WatermarkSettings): number {
  if (home.lateSince !== NONE) return home.lateArrivalAt !== NONE ? home.lateArrivalAt + s.settleMs : Infinity;
  return home.newestAt !== NONE ? home.newestAt + silenceLimit(home, s) : Infinity;
}

/**
 * Updates the home's lateness at `now`, pushing the operator's `data-late`
 * finding (raised on entering, cleared on catching up) onto `out`. Returns
 * whether the home is behind.
 */
export function updateLateness(home: HomeState, now: number, s: WatermarkSettings, out: Finding[]): boolean {
  const why = behindReason(home, now, s);
  const was = home.lateSince !== NONE;
  if ((why !== undefined) === was) return was;
  home.dirty = true;
  const tz = home.rules.zone;
  const newest = home.newestAt === NONE ? now : home.newestAt;
  if (why === undefined) {
    const text: Localized = { en: `Data from this home has caught up (late since ${hhmm(home.lateSince, tz)}); inactivity checks resumed`, ja: `この家のデータが追いつきました（${hhmm(home.lateSince, tz)} から遅延）。無反応の見守りを再開しました` };
    out.push(make(home, now, 'cleared', text, { en: `Newest reading from ${hhmm(newest, tz)}.`, ja: `最新のデータは ${hhmm(newest, tz)} のものです。` }, s, { lateSinceAt: home.lateSince }));
    home.lateSince = NONE;
    return false;
  }
  home.lateSince = now;
  const lag = duration(now - newest);
  const observed: Localized = why === 'arrival'
    ? { en: `Readings are arriving more than ${Math.round(s.lateAfterMs / minute)} min after they happened (newest from ${hhmm(newest, tz)}): an edge queue flushing after an outage, or the hub falling behind.`, ja: `データが発生から${Math.round(s.lateAfterMs / minute)}分以上遅れて届いています（最新は ${hhmm(newest, tz)}）。通信回復後の再送中か、ハブの処理遅れです。` }
    : home.beats
      ? { en: `Nothing at all, not even a heartbeat, since ${hhmm(newest, tz)} (${lag.en}): the home's edge may be offline.`, ja: `${hhmm(newest, tz)} 以降（${lag.ja}）、死活通知も含めて何も届いていません。宅内の通信機器がオフラインの可能性があります。` }
      : { en: `Nothing at all, not even the thermometer's regular reading, since ${hhmm(newest, tz)} (${lag.en}): the home's edge may be offline.`, ja: `${hhmm(newest, tz)} 以降（${lag.ja}）、定期的に届く室温も含めて何も届いていません。宅内の通信機器がオフラインの可能性があります。` };
  out.push(make(home, now, 'raised', { en: `Data from this home is late (${lag.en} behind); inactivity checks wait`, ja: `この家のデータが遅れています（${lag.ja}遅れ）。無反応の見守りは待機中です` }, observed, s,
    { reason: why, newestAt: newest, lagMinutes: Math.floor((now - newest) / minute) }));
  return true;
}

/**
 * What the operator may expect of this home's data: the lateness limit, and the
 * silence limit it has (`silenceLimit`) — a heartbeat home's, a regular
 * thermometer's (twice as long), or none for a home that only reports changes.
 */
function expectedOf(home: HomeState, s: WatermarkSettings): Localized {
  const late = Math.round(s.lateAfterMs / minute);
  const tail = { en: ' Until then "no sign of life" and other inactivity checks wait rather than alarm the family.', ja: 'それまでは「生活反応なし」などの見守りは家族に通知せず待機します。' };
  const limit = silenceLimit(home, s);
  if (limit === Infinity) return { en: `Readings arrive within ${late} min of happening.${tail.en}`, ja: `データは発生から${late}分以内に届くこと。${tail.ja}` };
  const every = Math.round(limit / minute);
  return home.beats
    ? { en: `Readings arrive within ${late} min of happening and, as this home sends heartbeats, something at least every ${every} min.${tail.en}`, ja: `データは発生から${late}分以内に届き、死活通知のあるこの家からは少なくとも${every}分ごとに何かが届くこと。${tail.ja}` }
    : { en: `Readings arrive within ${late} min of happening and, as this home's thermometer reports regularly, something at least every ${every} min.${tail.en}`, ja: `データは発生から${late}分以内に届き、室温が定期的に届くこの家からは少なくとも${every}分ごとに何かが届くこと。${tail.ja}` };
}

function make(home: HomeState, at: number, state: Finding['state'], message: Localized, observed: Localized, s: WatermarkSettings, data: Record<string, number | string>): Finding {
  return { home: home.id, rule: dataLateRule.id, type: dataLateRule.type, state, severity: 'warning', audience: 'operator', at, message, observed, data, expected: expectedOf(home, s) };
}
