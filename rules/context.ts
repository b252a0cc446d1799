/**
 * Context: when the resident is known to be away (day-care attendance, a
 * hospital stay, a trip — set by staff or family) and which weekdays are
 * day-care days. Away periods suppress inactivity findings; day-care days get
 * their own learned profile. Periods are data, validated here once.
 */
import { z } from 'zod';
import { awayPeriodInput, awayReasons, dayCareDaysInput, type AwayReason } from '../core/away.js';

export { awayPeriodInput, awayReasons, type AwayReason };

/** One away period, epoch ms, [from, to). */
export interface AwayPeriod { from: number; to: number; reason: AwayReason; note?: string }

/** A home's context: known away periods (sorted by start) and day-care weekdays (0 = Sunday). */
export interface HomeContext { periods: AwayPeriod[]; dayCareDays: number[] }

export const homeContextInput = z.strictObject({
  away: z.array(awayPeriodInput).max(1000).default([]),
  dayCareDays: dayCareDaysInput.default([]),
});
export type HomeContextInput = z.input<typeof homeContextInput>;

/** An empty context: never known to be away, no day-care days. */
export function emptyContext(): HomeContext {
  return { periods: [], dayCareDays: [] };
}

/**
 * Validates a context; an error message per problem, or the context.
 *
 * @example
 * parseContext({ away: [{ from: '2026-02-01T10:00:00+09:00', to: '2026-02-08T15:00:00+09:00', reason: 'hospital' }], dayCareDays: [2, 5] })
 */
export function parseContext(input: unknown): { ok: true; value: HomeContext } | { ok: false; errors: string[] } {
  const parsed = homeContextInput.safeParse(input ?? {});
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  const periods = parsed.data.away.map((p) => {
    const out: AwayPeriod = { from: Date.parse(p.from), to: Date.parse(p.to), reason: p.reason };
    if (p.note !== undefined) out.note = p.note;
    return out;
  }).sort((a, b) => a.from - b.from);
  return { ok: true, value: { periods, dayCareDays: [...new Set(parsed.data.dayCareDays)].sort() } };
}

/** The away period covering `at`, if any (the one that lasts longest when they overlap). */
export function activePeriod(ctx: HomeContext, at: number): AwayPeriod | undefined {
  let best: AwayPeriod | undefined;
  for (const p of ctx.periods) {
    if (p.from > at) break;
    if (at < p.to && (best === undefined || p.to > best.to)) best = p;
  }
  return best;
}

/** The next instant after `now` at which some period starts, Infinity if none. */
export function nextPeriodStart(ctx: HomeContext, now: number): number {
  for (const p of ctx.periods) if (p.from > now) return p.from;
  return Infinity;
}

/** Whether [from, to) overlaps a day-care period, or `weekday` is a scheduled day-care day. */
export function isDayCareDay(ctx: HomeContext, from: number, to: number, weekday: number): boolean {
  if (ctx.dayCareDays.includes(weekday)) return true;
  return ctx.periods.some((p) => p.reason === 'day-care' && p.from < to && p.to > from);
}

/** Milliseconds of [from, to) covered by away periods. */
export function awayMsBetween(ctx: HomeContext, from: number, to: number): number {
  let total = 0, cursor = from;
  for (const p of ctx.periods) {
    if (p.from >= to) break;
    const a = Math.max(cursor, p.from), b = Math.min(to, p.to);
    if (b > a) { total += b - a; cursor = b; }
  }
  return total;
}

/** Reason names for explanations. */
export const reasonText: Record<AwayReason, { en: string; ja: string }> = {
  'day-care': { en: 'at day-care', ja: 'デイケア' },
  hospital: { en: 'in hospital', ja: '入院中' },
  trip: { en: 'on a trip', ja: '旅行・外泊中' },
  other: { en: 'away', ja: '不在' },
};
