/**
 * What each contact chooses for themselves: their channels in order, their
 * own quiet hours, and one to three daily digests at times they pick, on a
 * channel they pick. Stored per contact (store.setContactPreferences),
 * validated here, and read by the notifier for every decision (no restart).
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { quietHoursSchema } from './escalation-policy.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM, e.g. "19:00"');

const channelName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a channel name, e.g. "line" or "sms"');

export const contactPreferencesSchema = z.object({
  /** The person's channels, tried in this order before the policy's (contact-channels.ts). */
  channels: z.array(channelName).min(1, 'pick at least one channel').max(8).refine((c) => new Set(c).size === c.length, 'each channel once').optional(),
  quietHours: quietHoursSchema.optional(),
  digest: z.object({
    times: z.array(hhmm).min(1, 'pick at least one digest time').max(3, 'at most three digests a day'),
    /** Any channel the hub has (email, sms, line, push); one that cannot reach the person falls back to their order. */
    channel: channelName.default('email'),
  }).strict().optional(),
  /** Most messages this contact gets in one hour (critical alerts still go through). */
  maxPerHour: z.number().int().positive().optional(),
}).strict();
export type ContactPreferences = z.infer<typeof contactPreferencesSchema>;

/** Validates preferences; throws MIMAMORI_ERR_INVALID_INPUT listing every problem. */
export function validateContactPreferences(input: unknown): ContactPreferences {
  const r = contactPreferencesSchema.safeParse(input);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => `${i.path.join('.') || '(preferences)'}: ${i.message}`);
  throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `contact preferences: ${errors.join('; ')}`, errors);
}
