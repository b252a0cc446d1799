/**
 * What each contact chooses for themselves: their own quiet hours, and one
 * to three daily digests at times they pick, by e-mail or SMS. Stored per
 * contact (store.setContactPreferences) and validated here.
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { quietHoursSchema } from './escalation-policy.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM, e.g. "19:00"');

export const contactPreferencesSchema = z.object({
  quietHours: quietHoursSchema.optional(),
  digest: z.object({
    times: z.array(hhmm).min(1, 'pick at least one digest time').max(3, 'at most three digests a day'),
    channel: z.enum(['email', 'sms']).default('email'),
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
