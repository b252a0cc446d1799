/**
 * Calendar arithmetic in a home's time zone for the simulator: "07:10 on the
 * third day" must be 07:10 on the resident's clock, not the server's.
 */
import { offsetMinutes } from '../core/time.js';

/** A calendar date in the home's zone. */
export interface LocalDate { year: number; month: number; day: number }

/**
 * The instant at which the home's wall clock shows `minuteOfDay` on `date`.
 * `minuteOfDay` may exceed 1440 (02:00 the next morning is 1560) or be
 * negative; the calendar rolls over as expected.
 */
export function localToEpoch(date: LocalDate, minuteOfDay: number, timeZone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, 0, 0) + Math.round(minuteOfDay * 60_000);
  // Two passes: the offset at the first guess may differ from the offset at
  // the answer when the day has a daylight-saving change.
  let at = wall - offsetMinutes(wall, timeZone) * 60_000;
  at = wall - offsetMinutes(at, timeZone) * 60_000;
  return at;
}

/** `date` moved by `days` calendar days. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** Day of the year, 1-based. */
export function dayOfYear(date: LocalDate): number {
  return Math.round((Date.UTC(date.year, date.month - 1, date.day) - Date.UTC(date.year, 0, 1)) / 86_400_000) + 1;
}
