/**
 * Reading history back out of InfluxDB for people: the activity behind the
 * web app's daily-rhythm charts, and the facts of one day for the family's
 * digest. Queries use only ids the hub validated (letters, digits, - and _).
 */
import type { InfluxDB } from 'influx';
import type { Store } from '../core/store.js';
import { activityBucketMs, type ActivityPoint, type HistoryQuery } from '../dashboards/index.js';
import type { DaySummary, SummarizeDay } from '../notifier/index.js';
import { idPattern, parseRecordedLine, type Reading } from '../core/events.js';
import { dayBounds } from '../core/time.js';
import { findOutings } from '../core/outings.js';

const quoted = (id: string): string => {
  if (!idPattern.test(id)) throw new Error(`not an id: ${JSON.stringify(id)}`);
  return `'${id}'`;
};
const timeOf = (row: { time: { getTime(): number } }): number => row.time.getTime();

/** The fields that say whether an event is a sensor going active or returning to rest (null when the kind has none). */
interface StateFields { occupied?: boolean | null; open?: boolean | null; state?: string | null; flowing?: boolean | null }

/** Motion seen, a door opened, the kettle on, water or gas flowing: true; the same sensors at rest: false; other kinds: undefined. */
function activeOf(r: { kind: string } & StateFields): boolean | undefined {
  switch (r.kind) {
    case 'motion': return typeof r.occupied === 'boolean' ? r.occupied : undefined;
    case 'door': return typeof r.open === 'boolean' ? r.open : undefined;
    case 'kettle': return typeof r.state === 'string' ? r.state === 'on' : undefined;
    case 'water': case 'gas': return typeof r.flowing === 'boolean' ? r.flowing : undefined;
    default: return undefined;
  }
}

/**
 * Activity (events, not heartbeats) of a home in [from, to): the points oldest
 * first (at most 20,000), and their counts per quarter hour for charts.
 */
export function createInfluxHistoryQuery(influx: InfluxDB): HistoryQuery {
  return {
    async activity(homeId, from, to) {
      const rows = await influx.query<{ time: Date; kind: string; device: string } & StateFields>(
        `SELECT "id", "kind", "device", "occupied", "open", "state", "flowing" FROM "event" WHERE "home" = ${quoted(homeId)} AND time >= ${Math.floor(from)}ms AND time < ${Math.ceil(to)}ms ORDER BY time ASC LIMIT 20000`,
      );
      return rows.map((r) => {
        const point: ActivityPoint = { at: timeOf(r), kind: r.kind, device: r.device };
        const active = activeOf(r);
        if (active !== undefined) point.active = active;
        return point;
      });
    },
    // InfluxDB counts: a busy home's week or month is tens of thousands of
    // events, and a cap on raw rows (oldest first) used to drop its latest days.
    async activityCounts(homeId, from, to) {
      const rows = await influx.query<{ time: Date; events: number }>(
        `SELECT count("id") AS "events" FROM "event" WHERE "home" = ${quoted(homeId)} AND time >= ${Math.floor(from)}ms AND time < ${Math.ceil(to)}ms GROUP BY time(${activityBucketMs / 60_000}m) fill(none)`,
      );
      return rows.filter((r) => r.events > 0).map((r) => ({ at: timeOf(r), count: r.events }));
    },
  };
}

/**
 * The facts of one local day for the digest: first kettle use, outings
 * (front door, then no motion inside until the door again), day-care
 * attendance marked by staff, and what was noticed (alerts opened that day).
 */
export function createDaySummarizer(opts: { influx: InfluxDB; store: Pick<Store, 'getHome' | 'listAttendance' | 'listAlerts'>; database: string }): SummarizeDay {
  return async (homeId, date) => {
    const home = await opts.store.getHome(homeId);
    if (!home) throw new Error(`unknown home ${homeId}`);
    const [from, to] = dayBounds(date, home.timezone);
    const range = `"home" = ${quoted(homeId)} AND time >= ${from}ms AND time < ${to}ms`;
    const kettle = await opts.influx.query<{ time: Date }>(`SELECT "id" FROM "event" WHERE ${range} AND "kind" = 'kettle' AND "state" = 'on' ORDER BY time ASC LIMIT 1`);
    const moves = await opts.influx.query<{ time: Date; kind: string; device: string } & StateFields>(`SELECT "id", "kind", "device", "occupied", "open" FROM "event" WHERE ${range} AND ("kind" = 'door' OR "kind" = 'motion') ORDER BY time ASC LIMIT 20000`);
    const outings: DaySummary['outings'] = findOutings(moves.map((m) => ({ at: timeOf(m), kind: m.kind, active: activeOf(m) })), to);
    const attendance = (await opts.store.listAttendance(homeId, 10)).find((a) => a.date === date);
    const noticed = (await opts.store.listAlerts({ homeId }))
      .filter((a) => a.openedAt >= from && a.openedAt < to)
      .map((a) => {
        const m = (a.finding as { message?: { ja?: string; en?: string } }).message;
        return { ja: m?.ja ?? a.message, en: m?.en ?? a.message };
      });
    const summary: DaySummary = { outings, noticed };
    const first = kettle[0];
    if (first) summary.firstKettleAt = timeOf(first);
    if (attendance) summary.dayCare = attendance.status;
    return summary;
  };
}

/**
 * Recorded readings of a home's last `days` days, for rebuilding a learned
 * routine that has no saved state. Every row is validated again through the
 * event contract; a row that no longer validates is skipped.
 */
export function createRoutineHistory(opts: { influx: InfluxDB; now: () => number; days?: number }): (home: string) => Promise<Reading[]> {
  const days = opts.days ?? 28;
  return async (home) => {
    const to = opts.now();
    const from = to - days * 86_400_000;
    const rows = await opts.influx.query<Record<string, unknown> & { time: { getTime(): number } }>(
      `SELECT * FROM "event" WHERE "home" = ${quoted(home)} AND time >= ${from}ms AND time < ${to}ms ORDER BY time ASC`,
    );
    const out: Reading[] = [];
    for (const row of rows) {
      const { time, home: _h, ...rest } = row;
      const event: Record<string, unknown> = { home, ts: new Date(time.getTime()).toISOString() };
      for (const [k, v] of Object.entries(rest)) if (v !== null && v !== undefined) event[k] = v;
      const parsed = parseRecordedLine(JSON.stringify(event));
      if (parsed.ok) out.push(parsed.value);
    }
    return out;
  };
}

/** The influx client's options for `url` with the configured database and credentials. */
