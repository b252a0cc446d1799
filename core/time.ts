/**
 * Local time in a home's time zone. Rules speak of "07:00" and "night" in the
 * resident's own zone, never the server's.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface LocalTime { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number; minuteOfDay: number; date: string }

const weekdays: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock parts of `at` in `timeZone` (weekday 0 = Sunday). */
export function localTime(at: number, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(at)) parts[p.type] = p.value;
  const hour = Number(parts.hour), minute = Number(parts.minute);
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour, minute, second: Number(parts.second),
    weekday: weekdays[parts.weekday ?? 'Sun'] ?? 0, minuteOfDay: hour * 60 + minute,
    date: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

/** The UTC offset of `timeZone` at `at`, in minutes (Asia/Tokyo: 540). */
export function offsetMinutes(at: number, timeZone: string): number {
  const l = localTime(at, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return Math.round((asUtc - Math.floor(at / 1000) * 1000) / 60_000);
}

/** Formats `at` as RFC 3339 with the zone's offset, e.g. `2026-11-21T07:12:00+09:00`. */
export function toLocalIso(at: number, timeZone: string): string {
  const l = localTime(at, timeZone);
  const off = offsetMinutes(at, timeZone);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const ms = at % 1000 === 0 ? '' : `.${pad(((at % 1000) + 1000) % 1000, 3)}`;
  return `${l.date}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}${ms}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "HH:MM" → minutes after midnight; throws on anything else. */
export function parseClockTime(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`expected HH:MM, got ${JSON.stringify(hhmm)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Whether minute-of-day `m` lies in [from, to), where the window may wrap midnight. */
export function inWindow(m: number, from: number, to: number): boolean {
  return from <= to ? m >= from && m < to : m >= from || m < to;
}

/** "07:05" for a minute of the day. */
export function formatClockTime(minuteOfDay: number): string {
  const m = ((Math.round(minuteOfDay) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/**
 * "M/D HH:MM" in `timeZone`: a date and clock time as people in Japan write them, short and the
 * same in English (the check-in missed, the monthly report's lines, the tablet's title).
 *
 * @example monthDayClock(Date.parse('2026-12-06T09:05:00+09:00'), 'Asia/Tokyo') // → '12/6 09:05'
 */
export function monthDayClock(at: number, timeZone: string): string {
  const l = localTime(at, timeZone);
  return `${l.month}/${l.day} ${formatClockTime(l.minuteOfDay)}`;
}

/** [start, end) of local date `YYYY-MM-DD` in `timeZone`, as epoch ms (DST-aware at both ends). */
export function dayBounds(date: string, timeZone: string): [number, number] {
  const startOf = (d: string) => {
    const utcMidnight = Date.parse(`${d}T00:00:00Z`);
    // The offset at local midnight; checking twice settles days where it changes.
    let at = utcMidnight - offsetMinutes(utcMidnight, timeZone) * 60_000;
    at = utcMidnight - offsetMinutes(at, timeZone) * 60_000;
    return at;
  };
  return [startOf(date), startOf(addDays(date, 1))];
}

/** The date `days` after local date `YYYY-MM-DD` (negative: before). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Every local date of month `YYYY-MM`, in order ('2026-11' → '2026-11-01' … '2026-11-30'). */
export function monthDates(month: string): string[] {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new Error(`expected YYYY-MM, got ${JSON.stringify(month)}`);
  const out: string[] = [];
  for (let d = `${month}-01`; d.startsWith(month); d = addDays(d, 1)) out.push(d);
  return out;
}

/** Whether `tz` is an IANA time zone this runtime knows (e.g. `Asia/Tokyo`). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
