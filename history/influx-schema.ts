/**
 * The InfluxDB layout of mimamori's history (docs/history.md): one database,
 * two retention policies and one continuous query. Applied idempotently at
 * start-up and again whenever the writer finds the database missing.
 */
import type { InfluxDB } from 'influx';
import type { Reading } from '../core/events.js';
import type { Finding } from '../core/findings.js';

/** Every raw point (events, heartbeats, findings, alerts, notifications); the default RP. */
export const rawRetentionPolicy = { name: 'raw', duration: '90d', influxDuration: '2160h0m0s' } as const;
/** Downsampled series (hourly activity per home), kept two years for long-term trends. */
export const rollupRetentionPolicy = { name: 'rollup', duration: '730d', influxDuration: '17520h0m0s' } as const;
/** Name of the continuous query that fills `rollup.activity_hourly`. */
export const activityHourlyCq = 'cq_activity_hourly';
/** How far back each CQ run re-counts, so points written late (after an outage) still land in the rollup. */
export const activityResampleFor = '1d';

/** Quotes an InfluxQL identifier. */
function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The SELECT … INTO behind the hourly-activity continuous query (without a time range). */
export function activityHourlySelect(database: string): string {
  return `SELECT count("id") AS "events" INTO ${ident(database)}.${ident(rollupRetentionPolicy.name)}."activity_hourly" ` +
    `FROM ${ident(database)}.${ident(rawRetentionPolicy.name)}."event" GROUP BY time(1h), "home"`;
}

/**
 * Creates the database, the `raw` (default, 90 days) and `rollup` (730 days)
 * retention policies and the hourly-activity continuous query; corrects any
 * of them that exist with other settings. Safe to call any number of times.
 */
export async function ensureSchema(influx: InfluxDB, database: string): Promise<void> {
  await influx.createDatabase(database); // a no-op when it exists
  const existing = await influx.showRetentionPolicies(database);
  for (const rp of [rawRetentionPolicy, rollupRetentionPolicy]) {
    const isDefault = rp === rawRetentionPolicy;
    const found = existing.find((e) => e.name === rp.name);
    const options = { database, duration: rp.duration, replication: 1, isDefault };
    if (!found) await influx.createRetentionPolicy(rp.name, options);
    else if (found.duration !== rp.influxDuration || found.default !== isDefault) await influx.alterRetentionPolicy(rp.name, options);
  }

  const resample = `RESAMPLE EVERY 1h FOR ${activityResampleFor}`;
  const query = activityHourlySelect(database);
  const cqs = await influx.showContinousQueries(database);
  const current = cqs.find((cq) => cq.name === activityHourlyCq);
  // InfluxDB stores the CQ text normalised (quotes dropped where optional); a
  // different text means an older definition, which is replaced because CQs
  // cannot be altered in place.
  const unquoted = (q: string) => q.replace(/"/g, '');
  const isCurrent = current !== undefined && unquoted(current.query).includes(resample) && unquoted(current.query).includes(unquoted(query));
  if (isCurrent) return;
  if (current) await influx.dropContinuousQuery(activityHourlyCq, database);
  await influx.createContinuousQuery(activityHourlyCq, query, database, resample);
}

/**
 * Recomputes `rollup.activity_hourly` for [fromMs, toMs) — what the
 * continuous query does, for a period it can no longer reach (an outage
 * longer than a day, or history imported from elsewhere).
 */
export async function backfillActivityHourly(influx: InfluxDB, database: string, fromMs: number, toMs: number): Promise<void> {
  const select = activityHourlySelect(database).replace(' GROUP BY', ` WHERE time >= ${Math.floor(fromMs)}ms AND time < ${Math.ceil(toMs)}ms GROUP BY`);
  await influx.query(select, { database });
}

// ─── Points ────────────────────────────────────────────────────────────────
// Line protocol for each measurement (docs/history.md has the table). Points
// are written with precision=n: the time is the record's `at` in ms, plus a
// sub-millisecond offset derived from its id, so that
//   - the same record written twice (re-delivery, a replayed buffer) has the
//     same series and time, and InfluxDB overwrites instead of adding; and
//   - two distinct events of one device in the same millisecond get different
//     times and both survive (ids as tags would blow up series cardinality).

/** An alert's state change, as the notifier reports it. */
export interface AlertRecord { id: string; homeId: string; rule: string; severity: string; status: string; at: number }
/** One notification attempt, as the notifier reports it. */
export interface NotificationRecord { alertId: string; homeId: string; channel: string; status: string; at: number }

/** Timestamp in ns: `at` (ms) followed by six digits derived from `identity` (zeros without one). */
export function pointTime(at: number, identity?: string): string {
  const ms = Math.floor(at);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`invalid time ${at}`);
  const sub = identity === undefined ? 0 : fnv1a(identity) % 1_000_000;
  return `${ms}${String(sub).padStart(6, '0')}`;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// Most values need no escaping at all; test once before paying for replace().
const needsKeyEscape = /[,= \r\n]/;
const needsQuoteEscape = /["\\\r\n]/;
const escapeKey = (s: string) => (needsKeyEscape.test(s) ? s.replace(/[\r\n]+/g, ' ').replace(/([,= ])/g, '\\$1') : s);
// Line protocol has no escape for a newline; a buffered batch is one point per line.
const quote = (s: string) => (needsQuoteEscape.test(s) ? `"${s.replace(/[\r\n]+/g, ' ').replace(/(["\\])/g, '\\$1')}"` : `"${s}"`);

type FieldValue = string | number | boolean | undefined | null;

/**
 * Encodes a field by the value's own type: numbers as floats (every numeric
 * field in the schema is a float, so the type never flips between points),
 * booleans, strings. Missing and non-finite values are left out.
 */
function field(key: string, value: FieldValue): string | undefined {
  switch (typeof value) {
    case 'number': return Number.isFinite(value) ? `${escapeKey(key)}=${value}` : undefined;
    case 'boolean': return `${escapeKey(key)}=${value}`;
    case 'string': return `${escapeKey(key)}=${quote(value)}`;
    case 'undefined': return undefined;
    default: return value === null ? undefined : `${escapeKey(key)}=${quote(String(value))}`;
  }
}

/** `tags` must be given in key order (InfluxDB sorts them anyway; pre-sorted is cheaper for it). */
function line(measurement: string, tags: ReadonlyArray<readonly [string, string | undefined]>, fields: Record<string, FieldValue>, time: string): string {
  let out = measurement;
  for (const [key, value] of tags) {
    if (value) out += `,${key}=${escapeKey(value)}`;
  }
  let sep = ' ';
  for (const key in fields) {
    const f = field(key, fields[key]);
    if (f === undefined) continue;
    out += sep + f;
    sep = ',';
  }
  if (sep === ' ') throw new RangeError(`${measurement} point without fields`);
  return `${out} ${time}`;
}

/** Origin and envelope keys of a reading that are tags or time, not fields. */
const isReadingEnvelope = (key: string): boolean => key === 'kind' || key === 'home' || key === 'device' || key === 'at' || key === 'ts' || key === 'id';

/**
 * `event` (tags home, device, kind; fields: the event's own fields plus `id`)
 * or `heartbeat` (tags home, device; fields battery, rssi, seen=true).
 * The hot path of the history writer: the line is built straight from the
 * reading, with no field record or tag list in between (same text as `line`).
 */
export function readingLine(r: Reading): string {
  let out = r.kind === 'heartbeat' ? 'heartbeat' : 'event';
  if (r.device) out += `,device=${escapeKey(r.device)}`;
  if (r.home) out += `,home=${escapeKey(r.home)}`;
  if (r.kind === 'heartbeat') {
    let sep = ' ';
    const battery = field('battery', r.battery);
    if (battery !== undefined) { out += sep + battery; sep = ','; }
    const rssi = field('rssi', r.rssi);
    if (rssi !== undefined) { out += sep + rssi; sep = ','; }
    return `${out}${sep}seen=true ${pointTime(r.at)}`;
  }
  if (r.kind) out += `,kind=${escapeKey(r.kind)}`;
  let sep = ' ';
  const id = field('id', r.id);
  if (id !== undefined) { out += sep + id; sep = ','; }
  const values = r as unknown as Record<string, FieldValue>;
  for (const key in values) {
    if (isReadingEnvelope(key)) continue;
    const f = field(key, values[key]);
    if (f === undefined) continue;
    out += sep + f;
    sep = ',';
  }
  if (sep === ' ') throw new RangeError('event point without fields');
  return `${out} ${pointTime(r.at, r.id)}`;
}

/** `finding` (tags home, rule, type, state, severity, audience, device; fields message/expected/observed in en and ja, data as JSON). */
export function findingLine(f: Finding): string {
  return line(
    'finding',
    [['audience', f.audience], ['device', f.device], ['home', f.home], ['rule', f.rule], ['severity', f.severity], ['state', f.state], ['type', f.type]],
    {
      message_en: f.message.en, message_ja: f.message.ja,
      expected_en: f.expected.en, expected_ja: f.expected.ja,
      observed_en: f.observed.en, observed_ja: f.observed.ja,
      data: f.data === undefined ? undefined : JSON.stringify(f.data),
    },
    pointTime(f.at),
  );
}

/** `alert` (tags home, rule, severity, status; field id). */
export function alertLine(a: AlertRecord): string {
  return line('alert', [['home', a.homeId], ['rule', a.rule], ['severity', a.severity], ['status', a.status]], { id: a.id }, pointTime(a.at, a.id));
}

/** One video call's quality as a participant's browser reported it. */
export interface CallQualityRecord {
  callId: string; homeId: string; role: string; durationMs: number; at: number;
  rttMs?: number; packetLossPct?: number; framesDecoded?: number;
}

/** `call_quality` (tags home, role; fields call_id, duration_ms and, when measured, rtt_ms, packet_loss_pct, frames_decoded). */
export function callQualityLine(q: CallQualityRecord): string {
  const fields: Record<string, string | number> = { call_id: q.callId, duration_ms: q.durationMs };
  if (q.rttMs !== undefined) fields.rtt_ms = q.rttMs;
  if (q.packetLossPct !== undefined) fields.packet_loss_pct = q.packetLossPct;
  if (q.framesDecoded !== undefined) fields.frames_decoded = q.framesDecoded;
  return line('call_quality', [['home', q.homeId], ['role', q.role]], fields, pointTime(q.at, `${q.callId}/${q.role}`));
}

/** `notification` (tags home, channel, status; field alert_id). */
export function notificationLine(n: NotificationRecord): string {
  return line('notification', [['channel', n.channel], ['home', n.homeId], ['status', n.status]], { alert_id: n.alertId }, pointTime(n.at, n.alertId));
}
