/**
 * The canonical event contract (docs/protocol.md). Everything that enters the
 * hub — MQTT payloads, replay files, HTTP posts — is validated here once and
 * trusted afterwards.
 */
import { z } from 'zod';

/** RFC 3339 timestamp with an explicit offset (`Z` or `±hh:mm`). */
const rfc3339 = z.iso.datetime({ offset: true, local: false });

/** Ids that are safe inside an MQTT topic level and a URL path segment. */
export const idPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const idSchema = z.string().regex(idPattern, 'lower-case letters, digits, "-" or "_", 1–63 characters, starting with a letter or digit');

const base = {
  /** Unique per device; the hub drops a second event with the same id. */
  id: z.string().min(1).max(128),
  ts: rfc3339,
};

export const kettleEvent = z.object({ ...base, kind: z.literal('kettle'), state: z.enum(['on', 'off']), watts: z.number().nonnegative().optional() });
export const waterEvent = z.object({ ...base, kind: z.literal('water'), flowing: z.boolean(), rate: z.number().nonnegative().optional() });
export const gasEvent = z.object({ ...base, kind: z.literal('gas'), flowing: z.boolean(), rate: z.number().nonnegative().optional() });
export const powerEvent = z.object({ ...base, kind: z.literal('power'), watts: z.number().nonnegative() });
export const doorEvent = z.object({ ...base, kind: z.literal('door'), open: z.boolean(), door: z.string().max(64).optional() });
export const motionEvent = z.object({ ...base, kind: z.literal('motion'), occupied: z.boolean(), room: z.string().max(64).optional() });
export const buttonEvent = z.object({ ...base, kind: z.literal('button'), press: z.enum(['help', 'ok']) });
export const climateEvent = z.object({
  ...base, kind: z.literal('climate'), celsius: z.number().min(-60).max(90), humidity: z.number().min(0).max(100).optional(),
  /** An air conditioner's operation status, when the climate reading comes from one (ECHONET Lite 0x0130). */
  aircon: z.enum(['on', 'off']).optional(),
});

export const eventKinds = ['kettle', 'water', 'gas', 'power', 'door', 'motion', 'button', 'climate'] as const;
export type EventKind = (typeof eventKinds)[number];

export const deviceEventSchema = z.discriminatedUnion('kind', [
  kettleEvent, waterEvent, gasEvent, powerEvent, doorEvent, motionEvent, buttonEvent, climateEvent,
]);
/** One sensor event as a device publishes it. */
export type DeviceEvent = z.infer<typeof deviceEventSchema>;

export const heartbeatSchema = z.object({
  ts: rfc3339,
  battery: z.number().min(0).max(100).optional(),
  rssi: z.number().optional(),
});
export type DeviceHeartbeat = z.infer<typeof heartbeatSchema>;

/** Where an event came from, plus its time as epoch milliseconds. */
export interface Origin { home: string; device: string; at: number }
/** A validated event inside the hub. */
export type HomeEvent = DeviceEvent & Origin;
/** A validated heartbeat inside the hub. */
export type HomeHeartbeat = { kind: 'heartbeat'; battery?: number; rssi?: number } & Origin;
/** Everything the rule engine consumes, discriminated on `kind`. */
export type Reading = HomeEvent | HomeHeartbeat;

/** Why an input was refused; counted and logged by whoever received it. */
export type RejectReason = 'malformed_json' | 'unknown_kind' | 'invalid_fields' | 'not_an_object' | EventTimeReason;

/** Why a well-formed event's time was refused (docs/protocol.md, "Event time"). */
export type EventTimeReason = 'ts_in_future' | 'ts_too_old';

/** How far an event's `ts` may be from the receiver's clock. */
export interface EventTimeBounds {
  /** Largest tolerated lead over the clock (device clock drift), ms. */
  maxFutureMs: number;
  /** Oldest accepted age (an edge queue flushing after an outage), ms. */
  maxAgeMs: number;
}

/**
 * Default bounds: 5 minutes of device clock drift ahead, 7 days behind.
 * Seven days is the ingest's de-duplication window (broker/ingest.ts): an
 * event older than that could already have had its id forgotten, so
 * accepting it could accept a resend twice.
 */
export const defaultEventTimeBounds: EventTimeBounds = { maxFutureMs: 5 * 60_000, maxAgeMs: 7 * 24 * 3600_000 };

/**
 * The UTC day number of an event's time. With the device and its id, the day makes the key a
 * repeat is known by (docs/protocol.md, "Event ids"): a resend carries the original's `ts`, so
 * it falls on the same day, and the ids of days past the de-duplication window go as whole days
 * — old keys lie together instead of one in every page of the index (core/store.ts seen_ids).
 */
export function eventDay(at: number): number {
  return Math.floor(at / 86_400_000);
}

/**
 * The day an ingest item is known by: its event time's, or `fallback`'s (the batch's time) when it
 * has none or none that is a time — a caller's slip must not fail a batch of every device's events
 * (the ingest's `ts` are validated). The store's commit and the ingest's recent ids both use it.
 */
export function eventDayOr(at: number | undefined, fallback: number): number {
  return eventDay(at !== undefined && Number.isFinite(at) ? at : fallback);
}

/** An event's identity for de-duplication: its home, device, id and the day it is known by. */
export function eventKey(home: string, device: string, event: string, day: number): string {
  return `${home}\u0000${device}\u0000${event}\u0000${day}`;
}

/**
 * Checks an event's time (`at`, epoch ms) against the receiver's clock;
 * undefined when it is within bounds, else the reason and a readable detail.
 *
 * @example
 * eventTimeProblem(Date.parse('2300-01-01T00:00:00Z'), Date.now())
 * // → { reason: 'ts_in_future', detail: 'ts is 2…' }
 */
export function eventTimeProblem(at: number, now: number, bounds: EventTimeBounds = defaultEventTimeBounds): { reason: EventTimeReason; detail: string } | undefined {
  if (at - now > bounds.maxFutureMs) {
    return { reason: 'ts_in_future', detail: `ts ${new Date(at).toISOString()} is ${describeSpan(at - now)} ahead of the hub's clock (${new Date(now).toISOString()}); at most ${describeSpan(bounds.maxFutureMs)} is accepted` };
  }
  if (now - at > bounds.maxAgeMs) {
    return { reason: 'ts_too_old', detail: `ts ${new Date(at).toISOString()} is ${describeSpan(now - at)} behind the hub's clock (${new Date(now).toISOString()}); events older than ${describeSpan(bounds.maxAgeMs)} are refused` };
  }
  return undefined;
}

function describeSpan(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 72 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

function decodeJson(payload: Buffer | string): Parsed<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'malformed_json', detail: (err as Error).message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not_an_object', detail: 'payload must be a JSON object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates one device event payload. */
export function parseDeviceEvent(payload: Buffer | string): Parsed<DeviceEvent> {
  const json = decodeJson(payload);
  if (!json.ok) return json;
  const kind = json.value.kind;
  if (typeof kind !== 'string' || !(eventKinds as readonly string[]).includes(kind)) {
    return { ok: false, reason: 'unknown_kind', detail: `unknown kind ${JSON.stringify(kind)}; expected one of ${eventKinds.join(', ')}` };
  }
  const result = deviceEventSchema.safeParse(json.value);
  return result.success ? { ok: true, value: result.data } : { ok: false, reason: 'invalid_fields', detail: describe(result.error) };
}

/** Validates one heartbeat payload. */
export function parseHeartbeat(payload: Buffer | string): Parsed<DeviceHeartbeat> {
  const json = decodeJson(payload);
  if (!json.ok) return json;
  const result = heartbeatSchema.safeParse(json.value);
  return result.success ? { ok: true, value: result.data } : { ok: false, reason: 'invalid_fields', detail: describe(result.error) };
}

/**
 * Attaches origin and epoch time to a validated event (the same keys, in the same order, as
 * `{ ...event, home, device, at }`). Not written as that spread: on Node 20 (V8 11.3), a spread
 * followed by new keys, once optimised, gives every object a hidden class of its own. Each event
 * then carried a new map into the old generation, and every property read of it downstream (the
 * rule engine, history) missed its inline cache: parsing and building an event took 4.3 µs
 * instead of 1.1 µs, and the garbage collector copied and promoted what should have died young
 * (docs/bench.md, session 33). test/core/events-shape.test.ts keeps it so.
 */
export function toHomeEvent(event: DeviceEvent, home: string, device: string): HomeEvent {
  return Object.assign({}, event, { home, device, at: Date.parse(event.ts) });
}

/** Attaches origin and epoch time to a validated heartbeat. */
export function toHomeHeartbeat(hb: DeviceHeartbeat, home: string, device: string): HomeHeartbeat {
  const out: HomeHeartbeat = { kind: 'heartbeat', home, device, at: Date.parse(hb.ts) };
  if (hb.battery !== undefined) out.battery = hb.battery;
  if (hb.rssi !== undefined) out.rssi = hb.rssi;
  return out;
}

/**
 * Parses one line of a replay / recorded NDJSON file: an event (or a
 * heartbeat, `kind: "heartbeat"`) plus `home` and `device`.
 */
export function parseRecordedLine(line: string): Parsed<Reading> {
  const json = decodeJson(line);
  if (!json.ok) return json;
  const { home, device, ...rest } = json.value;
  const h = idSchema.safeParse(home);
  const d = idSchema.safeParse(device);
  if (!h.success || !d.success) {
    return { ok: false, reason: 'invalid_fields', detail: `home and device must be ids (${!h.success ? 'home' : 'device'} is ${JSON.stringify(!h.success ? home : device)})` };
  }
  if (rest.kind === 'heartbeat') {
    const { kind: _kind, id: _id, ...hb } = rest;
    const parsed = heartbeatSchema.safeParse(hb);
    return parsed.success ? { ok: true, value: toHomeHeartbeat(parsed.data, h.data, d.data) } : { ok: false, reason: 'invalid_fields', detail: describe(parsed.error) };
  }
  const parsed = parseDeviceEvent(JSON.stringify(rest));
  return parsed.ok ? { ok: true, value: toHomeEvent(parsed.value, h.data, d.data) } : parsed;
}

/** Serialises a reading back to the recorded-line format (inverse of parseRecordedLine). */
export function toRecordedLine(reading: Reading): string {
  const { at: _at, ...rest } = reading;
  if (reading.kind === 'heartbeat') {
    return JSON.stringify(Object.assign({}, rest, { ts: new Date(reading.at).toISOString() }));
  }
  return JSON.stringify(rest);
}
