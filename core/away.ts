/**
 * An away period as people enter it (staff UI, the CLI, truth files, a
 * recorded home's `.home.json`): RFC 3339 times and a reason. Validated here
 * once; rules/context.ts turns it into epoch milliseconds for the rules.
 */
import { z } from 'zod';

export const awayReasons = ['day-care', 'hospital', 'trip', 'other'] as const;
export type AwayReason = (typeof awayReasons)[number];

/** An RFC 3339 time with its offset. */
export const rfc3339 = z.iso.datetime({ offset: true });

/** One entered absence: [from, to), `to` after `from`. */
export const awayPeriodInput = z.strictObject({
  from: rfc3339,
  to: rfc3339,
  reason: z.enum(awayReasons),
  note: z.string().max(200).optional(),
}).refine((p) => Date.parse(p.to) > Date.parse(p.from), { message: 'to must be after from', path: ['to'] });

/** Scheduled day-care weekdays, 0 = Sunday. */
export const dayCareDaysInput = z.array(z.number().int().min(0).max(6)).max(7);
