/**
 * unusualInactivity: no sign of life for longer than is plausible at this
 * time of day for this resident. The learned hourly profile says how likely
 * some sign of life is in each hour at home; a quiet spell across hours in
 * which she is normally busy becomes improbable fast (two busy hours: about
 * 1 in 1000 days), so this escalates like noSignOfLife but sooner when she is
 * normally busy, and hardly at all through hours she normally rests.
 *
 * Suppressed while away (context periods, `setAway`, an inferred absence) or
 * out (front door closed, nothing inside). After a critical finding, a
 * front door opening while she was inside is taken as a visitor or
 * responder: their movement does not clear the finding; her own "OK" button,
 * an away period (taken to hospital) or the next day does.
 */
import type { Reading } from '../../core/events.js';
import type { Finding, Severity } from '../../core/findings.js';
import type { RoutineBook, RoutineHome } from '../baseline-book.js';
import { dayEndOf, dayStartMinute, dayStartOf, isReady, profileFor, profileHour, type Profile } from '../baseline.js';
import { gapInside } from '../watermark.js';
import { NONE, type HomeState } from '../home-state.js';
import type { UnusualInactivityRule } from '../rule-config.js';
import { activeSeverity, clear, duration, finding, hhmm, raise, signName, silenceAlreadyRaised, type RuleContext, type RuleDefinition, type ZoneClock } from './rule.js';
import { chance } from './routine-text.js';
import { awayOrOut, getMark, livePeriod, setMark } from './routine-marks.js';
import { cameInNotice, visitorKey as visitorMarkKey } from './visitor-guard.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Walk at most this far ahead when planning a deadline. */
const horizonMs = 2 * DAY;

/**
 * When the quiet spell that matters began: the last sign of life (or coming
 * back from away) — but if that was going to bed, the night is sleep and the
 * spell counts from her usual time of getting up.
 */
function quietStart(home: HomeState, rh: RoutineHome, p: Profile): number {
  const start = Math.max(home.lastSignOfLife === NONE ? home.firstSeen : home.lastSignOfLife, home.awayUntil);
  if (rh.bedAt < 0 || rh.bedAt < home.lastSignOfLife) return start;
  // Her usual time of getting up (minutes after the day's start) as a local time, and the first such
  // moment after she went to bed — the same night whether that was 22:00 or 01:20, and right across a clock change.
  const usualWake = p.summary.firstActivity?.median ?? 3 * 60;
  const wakeOfDay = ((dayStartMinute * MIN + Math.round(usualWake * MIN)) % DAY + DAY) % DAY;
  return Math.max(start, home.rules.zone.nextAt(rh.bedAt, wakeOfDay));
}

/**
 * Walks [from, to) hour by hour of the learned profile: `visit(i, t, end)` for
 * each part, `i` being the hour as baseline.observe writes it (`profileHour`:
 * whole hours since that resident day's 04:00, a 23-hour day has no hour 23). Each
 * day is its own: counting hours from one day's start into another across a
 * clock change would read every hour of the other day as its neighbour's.
 * Stops early when `visit` returns true.
 */
function walkHours(zone: ZoneClock, from: number, to: number, visit: (i: number, t: number, end: number) => boolean | void): void {
  let start = dayStartOf(from, zone);
  let end = dayEndOf(start, zone);
  for (let t = from; t < to;) {
    if (t >= end) { start = end; end = dayEndOf(start, zone); continue; }
    const i = profileHour(t, start);
    const hourEnd = Math.min(to, i === 23 ? end : Math.min(end, start + (i + 1) * HOUR));
    if (visit(i, t, hourEnd) === true) return;
    t = hourEnd;
  }
}

/** ln P(no sign of life in [from, to)) under the hourly profile (hours treated as independent). */
export function quietLogChance(p: Profile, maxHourly: number, zone: ZoneClock, from: number, to: number): number {
  let total = 0;
  walkHours(zone, from, to, (i, t, end) => { total += ((end - t) / HOUR) * Math.log(1 - Math.min(p.hourP[i]!, maxHourly)); });
  return total;
}

/** The first time after `from` at which ln P(quiet) drops to `logLimit`, no sooner than `minAt`. */
function whenBelow(p: Profile, maxHourly: number, zone: ZoneClock, from: number, logLimit: number, minAt: number): number {
  let total = 0;
  let found = Infinity;
  walkHours(zone, from, from + horizonMs, (i, t, end) => {
    const rate = Math.log(1 - Math.min(p.hourP[i]!, maxHourly)) / HOUR; // ≤ 0 per ms
    const next = total + rate * (end - t);
    if (next <= logLimit) {
      found = Math.max(rate < 0 ? t + Math.ceil((logLimit - total) / rate) : end, minAt);
      return true;
    }
    total = next;
    return false;
  });
  return found;
}

/**
 * ln P(quiet) of the spell from `start` to `now`, without the hours of a gap
 * whose data was lost (watermark.ts, `gapInside`): the hours before the gap and
 * after the data came back add up.
 */
function countedLogChance(home: HomeState, p: Profile, maxHourly: number, start: number, now: number): number {
  const zone = home.rules.zone, gap = gapInside(home, start);
  if (gap === undefined || gap.resume > now) return quietLogChance(p, maxHourly, zone, start, now);
  return quietLogChance(p, maxHourly, zone, start, gap.before) + quietLogChance(p, maxHourly, zone, gap.resume, now);
}

/** When the counted ln P(quiet) since `start` drops to `logLimit` (`countedLogChance`), no sooner than `minAt`. */
function countedBelow(home: HomeState, p: Profile, maxHourly: number, start: number, logLimit: number, minAt: number): number {
  const zone = home.rules.zone, gap = gapInside(home, start);
  if (gap === undefined) return whenBelow(p, maxHourly, zone, start, logLimit, minAt);
  const before = quietLogChance(p, maxHourly, zone, start, gap.before);
  // Reached before the gap: due then (raised then, or due on the data's return).
  if (before <= logLimit) return whenBelow(p, maxHourly, zone, start, logLimit, minAt);
  return whenBelow(p, maxHourly, zone, gap.resume, logLimit - before, minAt);
}

const visitorKey = (rule: UnusualInactivityRule) => visitorMarkKey(rule.id);

/** The unusualInactivity rule over `book`'s baselines. */
export function unusualInactivity(book: RoutineBook): RuleDefinition<UnusualInactivityRule> {
  function profileOf(rh: RoutineHome): Profile | undefined {
    const t = rh.baseline.today;
    return t !== undefined && isReady(rh.baseline, t.dayType, book.settings) ? profileFor(rh.baseline, t.dayType, book.settings) : undefined;
  }

  function cleared(rule: UnusualInactivityRule, home: HomeState, ctx: RuleContext, why: { en: string; ja: string }, device?: string): boolean {
    setMark(home, visitorKey(rule), undefined);
    return clear(home, rule.id, ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
      message: { en: `No longer unusually quiet: ${why.en}`, ja: `普段と違う静かさは解消しました：${why.ja}` },
      expected: { en: 'Signs of life as on an ordinary day at this time.', ja: 'この時間帯の普段どおりの生活反応があること。' },
      observed: { en: `${why.en}.`, ja: `${why.ja}。` },
    }, device === undefined ? undefined : { device }));
  }

  function raised(rule: UnusualInactivityRule, home: HomeState, p: Profile, ctx: RuleContext, severity: Severity, start: number, logP: number): Finding {
    const tz = home.rules.zone;
    let busy = 0, hours = 0;
    walkHours(tz, start, ctx.now, (i, t, end) => { busy += Math.min(p.hourP[i]!, rule.maxHourly) * (end - t) / HOUR; hours += (end - t) / HOUR; });
    const pct = hours > 0 ? Math.round((100 * busy) / hours) : 0;
    const odds = chance(Math.exp(logP));
    const d = duration(ctx.now - start);
    const what = home.lastSignOfLife === NONE || home.lastSignOfLife < start
      ? { en: `Quiet since ${hhmm(start, tz)}`, ja: `${hhmm(start, tz)} から静かです` }
      : { en: `Last sign of life: ${(signName[home.lastSignKind] ?? { en: home.lastSignKind }).en} at ${hhmm(start, tz)}; nothing since (now ${hhmm(ctx.now, tz)})`, ja: `最後の生活反応：${hhmm(start, tz)} の${(signName[home.lastSignKind] ?? { ja: home.lastSignKind }).ja}。それ以降ありません（現在 ${hhmm(ctx.now, tz)}）` };
    return finding(home, rule, ctx.now, 'raised', severity, 'family', {
      message: { en: `Unusually quiet for this time of day: no sign of life for ${d.en}`, ja: `この時間帯としては普段と違い、${d.ja}生活反応がありません` },
      expected: {
        en: `On an ordinary day there is some sign of life in ${pct}% of the hours between ${hhmm(start, tz)} and ${hhmm(ctx.now, tz)} (learned from ${p.days} days at home); a quiet spell like this happens on ${odds.en}.`,
        ja: `普段は${hhmm(start, tz)}〜${hhmm(ctx.now, tz)}の時間帯の${pct}%で生活反応があります（在宅の${p.days}日間から学習）。これほど静かなのは${odds.ja}です。`,
      },
      observed: { en: `${what.en}.`, ja: `${what.ja}。` },
    }, { data: { quietSince: start, quietMinutes: Math.floor((ctx.now - start) / MIN), usualBusyPercent: pct, chance: Math.exp(logP), days: p.days } });
  }

  return {
    onReading(rule, home, r: Reading, ctx) {
      const rh = book.get(home.id);
      const current = activeSeverity(home, rule.id);
      let changed = rh.returnedAt === r.at;
      if (current === undefined) return changed;
      const visitor = getMark(home, visitorKey(rule));
      if (r.kind === 'button' && r.press === 'ok') return cleared(rule, home, ctx, { en: `the resident pressed OK at ${hhmm(r.at, home.rules.zone)}`, ja: `${hhmm(r.at, home.rules.zone)} にご本人が「OK」ボタンを押しました` }, r.device) || changed;
      if (visitor !== undefined) return changed;
      if (r.kind === 'door' && r.open && current === 'critical') {
        // Someone came in while she was inside and silent: a visitor or a responder, not her return.
        setMark(home, visitorKey(rule), r.at);
        ctx.out.push(cameInNotice(home, rule, ctx, r));
        return true;
      }
      if (!ctx.sign) return changed;
      const tz = home.rules.zone;
      const what = signName[r.kind] ?? { en: r.kind, ja: r.kind };
      changed = cleared(rule, home, ctx, { en: `${what.en} at ${hhmm(r.at, tz)}`, ja: `${hhmm(r.at, tz)} に${what.ja}` }, r.device) || changed;
      return changed;
    },

    onTick(rule, home, ctx) {
      const rh = book.roll(home, ctx.now);
      const current = activeSeverity(home, rule.id);
      if (current !== undefined && (ctx.now < home.awayUntil || (getMark(home, visitorKey(rule)) ?? Infinity) < rh.baseline.today!.start)) {
        cleared(rule, home, ctx, ctx.now < home.awayUntil ? { en: 'the resident is away from home', ja: 'ご本人は不在です' } : { en: 'a new day began', ja: '新しい一日になりました' });
        return;
      }
      if (current === 'critical' || awayOrOut(home, rh, ctx.now)) return;
      const p = profileOf(rh);
      if (p === undefined) return;
      const start = quietStart(home, rh, p);
      if (ctx.now - start < rule.minMinutes * MIN) return;
      const logP = countedLogChance(home, p, rule.maxHourly, start, ctx.now);
      const level: Severity | undefined = logP <= Math.log(rule.criticalBelow) && ctx.now - start >= 2 * rule.minMinutes * MIN ? 'critical' : logP <= Math.log(rule.warningBelow) ? 'warning' : undefined;
      if (level !== undefined && level !== current && !silenceAlreadyRaised(home, rule.id, level)) raise(home, rule.id, ctx, raised(rule, home, p, ctx, level, start, logP));
    },

    nextDeadline(rule, home, now) {
      const rh = book.get(home.id);
      const t = rh.baseline.today;
      if (t === undefined) return Infinity;
      const daily = Math.max(t.end + 1000, now + 1000);
      const current = activeSeverity(home, rule.id);
      if (current === 'critical' || rh.baseline.doorClosedAt >= 0 || silenceAlreadyRaised(home, rule.id, 'critical')) return daily;
      const away = livePeriod(home, rh, now);
      if (away !== undefined) return Math.min(daily, Math.max(away.to, now + 1000));
      const p = profileOf(rh);
      if (p === undefined) return daily;
      const start = quietStart(home, rh, p);
      const critical = current === 'warning' || silenceAlreadyRaised(home, rule.id, 'warning');
      const at = countedBelow(home, p, rule.maxHourly, start, Math.log(critical ? rule.criticalBelow : rule.warningBelow), start + (critical ? 2 : 1) * rule.minMinutes * MIN);
      return Math.min(daily, Math.max(at, now + 1000));
    },
  };
}
