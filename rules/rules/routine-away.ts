/**
 * awayContext: applies known away periods (day-care, hospital, trip — set by
 * staff or family) by moving the home's `awayUntil`, which pauses
 * noSignOfLife and the learned inactivity rules alike, and watches absences
 * nobody announced (front door closed, nothing inside since).
 *
 * An inferred absence never pauses the fixed safety net: it is an inference,
 * and a resident who fell right after closing the door looks exactly like one
 * who went out. Once the routine is learned, an absence longer than this
 * resident's usual longest outing becomes one family warning ("出かけたまま、
 * いつもより長く戻っていません — usually back within 3 h"); before that, an info
 * notice after `inferAfterMinutes` (noSignOfLife's own out-of-home limit
 * warns later). The first movement inside, or the front door closing again
 * (coming home), ends it.
 */
import type { RoutineBook, RoutineHome } from '../baseline-book.js';
import { dayStartOf, dayTypeOf, isReady, profileFor, type DayType, type Today } from '../baseline.js';
import { nextPeriodStart } from '../context.js';
import type { Reading } from '../../core/events.js';
import { NONE, type HomeState } from '../home-state.js';
import type { AwayContextRule } from '../rule-config.js';
import { clear, duration, finding, hhmm, noSignOfLifeOf, raise, type RuleContext, type RuleDefinition, type ZoneClock } from './rule.js';
import { enteredAheadKey, enteredAwayCutKey, getMark, livePeriod, markEnteredAbsence, outingWarnedKey, setMark } from './routine-marks.js';
import { absenceOverText, learnedOutLimit, outClockStart, outCountedFrom, withOutingGap } from './no-sign-of-life.js';

const MIN = 60_000;
/** Never warn about an outing sooner than this, however short her usual outings are. */
const minOutLimitMin = 180;
/** Outings needed in the learning window before "longer than usual" means anything. */
const minOutingsLearned = 5;

interface OutLimit { ms: number; usualMin?: number }

/**
 * How long an unannounced absence may last before it is worth a word: from
 * the learned longest outing of the day (90th percentile, rounded up to
 * half an hour), 1.5× or +90 min whichever is more, at least 3 h and at most
 * `inferAfterMinutes`; `inferAfterMinutes` while nothing is learned, when her
 * usual longest outing is itself that long — and on a day-care day until
 * day-care days have a profile of their own.
 */
export function outLimit(rule: AwayContextRule, rh: RoutineHome, settings: RoutineBook['settings'], zone: ZoneClock): OutLimit {
  const t = rh.baseline.today;
  const fallback = { ms: rule.inferAfterMinutes * MIN };
  if (t === undefined) return fallback;
  // Judged by the day she left, not the day it is now: a day-care Saturday's trip that runs
  // past 04:00 is not held to Sunday's 2-hour walks (messy corpus: "not back for 19 h, usually
  // back within 2 h 30" the minute Sunday began, on a day-care day whose limit was 10 h).
  const dayType = outingDayType(rh, t, zone);
  if (!isReady(rh.baseline, dayType, settings)) return fallback;
  const profile = profileFor(rh.baseline, dayType, settings);
  // A day-care day before its own profile is learned: her outings on other days say nothing
  // about a day-care trip of six hours (tidy corpus: warned "longer than usual" at 12:38).
  if (dayType === 'dayCare' && profile !== rh.baseline.profiles.dayCare) return fallback;
  const sum = profile.summary.longestOuting;
  if (sum === undefined || sum.n * sum.happened < minOutingsLearned) return fallback;
  const usualMin = Math.ceil(sum.q90 / 30) * 30;
  // Her usual longest outing is itself as long as the cap: at the cap she is not out "longer
  // than usual" (messy corpus: "not back for 10 h, longer than usual — usually back within
  // 24 h 30"). As if nothing were learned: the notice, and noSignOfLife's own limit for the warning.
  if (usualMin >= rule.inferAfterMinutes) return fallback;
  const limitMin = Math.min(rule.inferAfterMinutes, Math.max(minOutLimitMin, 1.5 * usualMin, usualMin + 90));
  return { ms: Math.round(limitMin * MIN), usualMin };
}

/** The kind of resident day the current outing began on (today's, when she left today or is not out). */
function outingDayType(rh: RoutineHome, t: Today, zone: ZoneClock): DayType {
  const closed = rh.baseline.doorClosedAt;
  if (closed < 0 || closed >= t.start) return t.dayType;
  return dayTypeOf(dayStartOf(closed, zone), rh.context, zone);
}

/**
 * The limit, no sooner than the one noSignOfLife learned from her long outings
 * (learned-limits.ts): a resident who stays away a night or two every week is
 * not "longer than usual" after 10 h.
 */
function homeOutLimit(rule: AwayContextRule, home: HomeState, rh: RoutineHome, settings: RoutineBook['settings']): OutLimit {
  const limit = outLimit(rule, rh, settings, home.rules.zone);
  const nsl = noSignOfLifeOf(home.rules).rule;
  // Only while noSignOfLife too reads her as out: where the two disagree (a front door after a
  // quiet hour is her coming home to noSignOfLife, her leaving to the baseline), the sooner word stands.
  if (nsl === undefined || home.outSince === NONE) return limit;
  const learned = learnedOutLimit(nsl, home);
  return learned.longest !== undefined && learned.minutes * MIN > limit.ms ? { ms: learned.minutes * MIN, usualMin: learned.longest } : limit;
}

/** The awayContext rule over `book`'s contexts. */
export function awayContext(book: RoutineBook): RuleDefinition<AwayContextRule> {
  const inferredKey = (rule: AwayContextRule) => `${rule.id}/inferred`;

  function absenceFinding(rule: AwayContextRule, home: HomeState, ctx: RuleContext, closed: number, limit: OutLimit, warn: boolean) {
    const tz = home.rules.zone;
    const d = duration(ctx.now - closed);
    const checks = { en: 'The safety checks stay on.', ja: '見守りは続けています。' };
    const from = outClockStart(home, closed);
    if (warn && limit.usualMin !== undefined && from > closed) {
      // She left for an entered absence (hospital, trip); it ended and she is not back.
      const usual = duration(limit.usualMin * MIN);
      const { message, observed } = absenceOverText(home, closed, ctx.now);
      return finding(home, rule, ctx.now, 'raised', 'warning', 'family', {
        message: { en: `${message.en} — usually back within ${usual.en} of going out`, ja: `${message.ja} — いつもは外出から${usual.ja}以内に戻ります` },
        expected: { en: `Back home within ${usual.en} of the absence ending, unless it was extended.`, ja: `不在期間の終了から${usual.ja}以内に帰宅すること。不在期間が延長された場合を除きます。` },
        observed: { en: `${observed.en} ${checks.en}`, ja: `${observed.ja}${checks.ja}` },
      }, { data: { doorClosedAt: closed, awayUntil: from, usualMinutes: limit.usualMin, outMinutes: Math.floor((ctx.now - from) / MIN) } });
    }
    if (warn && limit.usualMin !== undefined) {
      const usual = duration(limit.usualMin * MIN);
      return finding(home, rule, ctx.now, 'raised', 'warning', 'family', {
        message: { en: `Went out and has not come back for ${d.en}, longer than usual — usually back within ${usual.en}`, ja: `出かけたまま、いつもより長く戻っていません（${d.ja}）— いつもは${usual.ja}以内に戻ります` },
        expected: { en: `Back home within ${usual.en} of going out (her longest outing on 9 days in 10), unless an absence was entered.`, ja: `外出から${usual.ja}以内に帰宅すること（10日のうち9日の最長の外出から学習）。不在予定が登録されている場合を除きます。` },
        observed: { en: `The front door closed at ${hhmm(closed, tz)} and nothing has moved inside since. If she is not away on purpose, please check on her; if she is, enter the absence. ${checks.en}`, ja: `${hhmm(closed, tz)} に玄関が閉まり、その後室内に動きがありません。予定された外出でなければ様子を確認してください。外泊などの場合は不在予定を登録してください。${checks.ja}` },
      }, { data: { doorClosedAt: closed, usualMinutes: limit.usualMin, outMinutes: Math.floor((ctx.now - closed) / MIN) } });
    }
    // After an entered absence the wait ran from its end, not from the door she left by.
    const waited = duration(ctx.now - from);
    const expected = from > closed
      ? { en: `Movement inside within ${waited.en} after the entered absence ended at ${hhmm(from, tz)}, unless it was extended.`, ja: `登録された不在期間が ${hhmm(from, tz)} に終わってから${waited.ja}以内に室内で動きがあること（不在期間が延長された場合を除く）。` }
      : { en: `Movement inside within ${waited.en} after the front door closes, unless she is away.`, ja: `玄関が閉まってから${waited.ja}以内に室内で動きがあること（不在の場合を除く）。` };
    return finding(home, rule, ctx.now, 'raised', 'info', 'family', {
      message: { en: `The resident seems to be away: front door closed at ${hhmm(closed, tz)}, nothing inside since`, ja: `ご本人は不在のようです：${hhmm(closed, tz)} に玄関が閉まり、その後室内の動きがありません` },
      expected,
      observed: { en: `Nothing inside since ${hhmm(closed, tz)}. If she is not travelling, please check on her; if she is, enter the trip. ${checks.en}`, ja: `${hhmm(closed, tz)} 以降、室内の動きがありません。外出の予定がなければ様子を確認し、旅行などの場合は不在予定を登録してください。${checks.ja}` },
    }, { data: { doorClosedAt: closed } });
  }

  /** She came back: clears the "seems to be away" finding (apart from `onReading`, so its closure is allocated only here). */
  function backHome(rule: AwayContextRule, home: HomeState, r: Reading, ctx: RuleContext, since: number): void {
    const tz = home.rules.zone;
    const how = r.kind === 'door'
      ? { en: `the front door closed again at ${hhmm(r.at, tz)}`, ja: `${hhmm(r.at, tz)} に玄関が再び閉まりました` }
      : { en: `movement inside at ${hhmm(r.at, tz)}`, ja: `${hhmm(r.at, tz)} に室内で動きがありました` };
    clear(home, inferredKey(rule), ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
      message: { en: `Back home: ${how.en}`, ja: `ご帰宅：${how.ja}` },
      expected: { en: 'Movement inside after returning home.', ja: '帰宅後に室内で動きがあること。' },
      observed: { en: `Front door closed at ${hhmm(since, tz)}; ${how.en}.`, ja: `${hhmm(since, tz)} に玄関が閉まり、${how.ja}。` },
    }, { device: r.device }));
  }

  return {
    onReading(rule, home, r, ctx) {
      const rh = book.get(home.id);
      if (rh.returnedAt !== r.at) return false;
      const since = getMark(home, inferredKey(rule));
      if (since === undefined) return true;
      setMark(home, inferredKey(rule), undefined);
      backHome(rule, home, r, ctx, since);
      return true;
    },

    onTick(rule, home, ctx) {
      const rh = book.roll(home, ctx.now);
      const now = ctx.now;
      const period = livePeriod(home, rh, now);
      if (period !== undefined && home.awayUntil < period.to) {
        home.awayUntil = period.to;
        // Entered as `setAway` enters an absence, so her coming home ends it early (noSignOfLife,
        // `endsAbsence`): home on Friday from a trip entered to Sunday, she is watched from then.
        // Not a hospital stay (routine-marks.ts).
        markEnteredAbsence(home, period.reason !== 'hospital' ? period.to : undefined, true);
      } else if (period === undefined) {
        // Over: the marks of a period that ran to its end, or was cut, are dropped.
        if ((getMark(home, enteredAwayCutKey) ?? Infinity) <= now) setMark(home, enteredAwayCutKey, undefined);
        if ((getMark(home, enteredAheadKey) ?? Infinity) <= now) setMark(home, enteredAheadKey, undefined);
      }
      const closed = rh.baseline.doorClosedAt;
      if (period !== undefined || closed < 0 || getMark(home, inferredKey(rule)) !== undefined) return;
      const limit = homeOutLimit(rule, home, rh, book.settings);
      if (now < outCountedFrom(home, closed) + limit.ms) return;
      setMark(home, inferredKey(rule), closed);
      // One warning per outing: noSignOfLife's out-of-home limit may have spoken first.
      const warn = limit.usualMin !== undefined && getMark(home, outingWarnedKey) !== closed;
      if (warn) setMark(home, outingWarnedKey, closed);
      raise(home, inferredKey(rule), ctx, withOutingGap(home, absenceFinding(rule, home, ctx, closed, limit, warn), closed));
    },

    nextDeadline(rule, home, now) {
      const rh = book.get(home.id);
      let next = nextPeriodStart(rh.context, now);
      const closed = rh.baseline.doorClosedAt;
      const period = livePeriod(home, rh, now);
      // During a known period nothing is inferred; look again when it ends.
      if (period !== undefined) next = Math.min(next, period.to);
      else if (closed >= 0 && getMark(home, inferredKey(rule)) === undefined) next = Math.min(next, Math.max(outCountedFrom(home, closed) + homeOutLimit(rule, home, rh, book.settings).ms, now + 1000));
      const t = rh.baseline.today;
      if (t !== undefined) next = Math.min(next, Math.max(t.end + 1000, now + 1000));
      return next;
    },
  };
}
