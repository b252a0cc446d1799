/**
 * A recorded home's settings (`<dataset>-<home>.home.json` next to its
 * `.ndjson`): the time zone its wall clock used, which door is the entrance,
 * what each sensor is and where, and the resident's waking hours when the
 * recording's labels tell them. `mimamori evaluate --recordings DIR` reads
 * them; a user writes one for each home of their own recordings
 * (docs/evaluate.md).
 */
import { z } from 'zod';
import { idSchema } from '../../core/events.js';
import { isValidTimeZone } from '../../core/time.js';
import { awayPeriodInput, dayCareDaysInput, rfc3339 } from '../../core/away.js';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');

export const homeDeviceSchema = z.strictObject({
  device: idSchema,
  /** The event kind the device sends in the converted file. */
  kind: z.enum(['motion', 'door', 'water', 'gas', 'power', 'kettle', 'button', 'climate']),
  /** What it means: see edge/recordings/intervals.ts `SensorRole`. */
  role: z.enum(['motion', 'front-door', 'contact', 'water', 'mat', 'appliance']),
  /** The physical sensor (`PIR`, `reed`, `pressure mat`, `flush float`, …). */
  sensor: z.string().max(64),
  room: z.string().max(64).optional(),
  object: z.string().max(64).optional(),
  /** The sensor reports a held state (pressed / open for hours), not a moment. */
  held: z.boolean().optional(),
  /** The recording's own name or id for it. */
  raw: z.string().max(128).optional(),
});

export const homeSettingsSchema = z.strictObject({
  format: z.literal('mimamori-home/1'),
  home: idSchema,
  dataset: z.string().max(64).optional(),
  /** IANA zone of the recording's wall clock. */
  timezone: z.string().refine(isValidTimeZone, 'an IANA time zone, e.g. Asia/Tokyo'),
  /** The door whose events mean coming and going (the `door` field or device id); omit when the home has none. */
  frontDoor: z.string().min(1).max(64).optional(),
  /** The resident's usual waking day, local time; `to` may be after midnight (e.g. 00:30). */
  wakingHours: z.strictObject({ from: clock, to: clock }).optional(),
  /** Where `wakingHours` came from (e.g. "median of the labelled sleep periods"). */
  wakingHoursSource: z.string().max(200).optional(),
  devices: z.array(homeDeviceSchema).max(500).default([]),
  /**
   * Absences entered at the time (a hospital stay, a trip, day-care), as staff or family
   * would have entered them in the hub: `evaluate` sets them as the home's context, as the
   * hub would. Not what the sensors show — what people said.
   */
  away: z.array(awayPeriodInput).max(1000).optional(),
  /** Scheduled day-care weekdays, 0 = Sunday. */
  dayCareDays: dayCareDaysInput.optional(),
  /**
   * What the recording's activity labels say of her comings and goings: the time they cover
   * (`from`–`to`; labels often stop before the sensors do) and the periods she was out of the
   * home (van Kasteren's "leave house", Ordóñez's "Leaving"). Never fed to the engine — nobody
   * told the system — `evaluate` reports apart the family alarms that came while she was out.
   */
  labels: z.strictObject({
    from: rfc3339,
    to: rfc3339,
    out: z.array(z.strictObject({ from: rfc3339, to: rfc3339 })).max(10_000),
  }).optional(),
  /** First and last reading, RFC 3339. */
  from: z.string().optional(),
  to: z.string().optional(),
  /** Where the data came from and how to cite it. */
  source: z.string().max(500).optional(),
  notes: z.array(z.string().max(500)).max(50).optional(),
});

export type HomeSettings = z.output<typeof homeSettingsSchema>;
export type HomeDevice = z.output<typeof homeDeviceSchema>;

/** Validates a parsed `.home.json`; throws an Error naming the bad fields. */
export function parseHomeSettings(input: unknown, what = 'home settings'): HomeSettings {
  const r = homeSettingsSchema.safeParse(input);
  if (!r.success) throw new Error(`${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
