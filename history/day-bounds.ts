import { offsetMinutes } from '../core/time.js';

/** [start, end) of local date `YYYY-MM-DD` in `timeZone`, as epoch ms (DST-aware at both ends). */
export function dayBounds(date: string, timeZone: string): [number, number] {
  const startOf = (d: string) => {
    const utcMidnight = Date.parse(`${d}T00:00:00Z`);
    // The offset at local midnight; checking twice settles days where it changes.
    let at = utcMidnight - offsetMinutes(utcMidnight, timeZone) * 60_000;
    at = utcMidnight - offsetMinutes(at, timeZone) * 60_000;
    return at;
  };
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return [startOf(date), startOf(next)];
}
