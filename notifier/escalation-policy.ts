/**
 * Escalation policies are data: ordered tiers (ask the resident first,
 * family, caregivers, emergency), each with recipients, channels in fallback
 * order, a wait before the next tier and a number of repeats. Validated with
 * zod and reported with readable messages; stored per home, with defaults,
 * and snapshotted onto an alert when its escalation starts.
 */
import { z } from 'zod';
import type { Contact, ContactRole, Severity } from '../core/store.js';
import { inWindow, localTime, parseClockTime } from '../core/time.js';
import { MimamoriError } from '../core/errors.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM, e.g. "22:00"');
export const quietHoursSchema = z.object({ from: hhmm, to: hhmm }).refine((q) => q.from !== q.to, 'quiet hours need different from and to times');
export type QuietHours = z.infer<typeof quietHoursSchema>;

export const tierNames = ['resident', 'family', 'caregiver', 'emergency'] as const;
export type TierName = (typeof tierNames)[number];

/**
 * What a tier's name means when it runs — data, so the escalation engine
 * names no tier: which message its recipients get (the resident's "are you
 * OK?" prompt, the alert itself, or the emergency message with the address
 * and key box) and whether only critical alerts may use it.
 */
export interface TierTraits { message: 'resident-prompt' | 'alert' | 'emergency'; criticalOnly: boolean }
export const tierTraits: Readonly<Record<TierName, TierTraits>> = {
  resident: { message: 'resident-prompt', criticalOnly: false },
  family: { message: 'alert', criticalOnly: false },
  caregiver: { message: 'alert', criticalOnly: false },
  emergency: { message: 'emergency', criticalOnly: true },
};

/**
 * What a contact's role means for messages outside the tiers: whether they
 * hear the follow-ups ("X is handling it", "resolved") about an alert they
 * were told of — the resident was only asked "are you OK?" — and whether the
 * emergency message lists them among the people already tried.
 */
export interface RoleTraits { hearsFollowUps: boolean; listedAsTried: boolean }
export const roleTraits: Readonly<Record<ContactRole, RoleTraits>> = {
  resident: { hearsFollowUps: false, listedAsTried: true },
  family: { hearsFollowUps: true, listedAsTried: true },
  caregiver: { hearsFollowUps: true, listedAsTried: true },
  emergency: { hearsFollowUps: true, listedAsTried: false },
};

/** An info notice's channels when the policy names none: SMS, e-mail for those without a phone. */
export const defaultNoticeChannels: readonly string[] = ['sms', 'email'];
const channelList = z.array(z.string().min(1)).min(1, 'at least one channel, e.g. ["sms"]');

const recipientSchema = z.union([
  z.object({ role: z.enum(['resident', 'family', 'caregiver', 'emergency']), channels: channelList.optional() }).strict(),
  z.object({ contactId: z.string().min(1), channels: channelList.optional() }).strict(),
]);

export const tierSchema = z.object({
  name: z.enum(tierNames),
  recipients: z.array(recipientSchema).min(1, 'a tier needs at least one recipient'),
  /** Channels tried for each recipient in this order until one reaches them. */
  channels: channelList.default(['sms']),
  /** Minutes to wait for an acknowledgement before the next repeat or tier. */
  waitMinutes: z.number().positive().max(24 * 60).default(10),
  /** How many times the tier is tried again before moving on (0 = once). */
  repeats: z.number().int().min(0).max(10).default(0),
}).strict();
export type Tier = z.infer<typeof tierSchema>;

export const escalationPolicySchema = z.object({
  tiers: z.array(tierSchema).min(1, 'a policy needs at least one tier'),
  /** Which tier each severity starts at. */
  entry: z.object({ info: z.enum(tierNames), warning: z.enum(tierNames), critical: z.enum(tierNames) }).strict()
    .default({ info: 'family', warning: 'resident', critical: 'family' }),
  /** The home's quiet hours (local time); contacts may have their own. Never hold critical alerts. */
  quietHours: quietHoursSchema.optional(),
  /** Acknowledged but not resolved after this long: remind the person handling it. */
  renotifyMinutes: z.number().positive().default(30),
  renotifyMax: z.number().int().min(0).max(10).default(3),
  /** "On my way" without an arrival by ETA + grace resumes escalation. */
  graceMinutes: z.number().min(0).default(10),
  defaultEtaMinutes: z.number().positive().default(30),
  /**
   * Channels of an info notice (one message, no escalation), tried in this
   * order. Optional: a policy without it uses `defaultNoticeChannels`, so
   * stored policies and the policy form read as before.
   */
  noticeChannels: channelList.optional(),
}).strict().superRefine((p, ctx) => {
  for (const sev of ['info', 'warning', 'critical'] as const) {
    if (!p.tiers.some((t) => t.name === p.entry[sev])) ctx.addIssue({ code: 'custom', path: ['entry', sev], message: `entry tier "${p.entry[sev]}" is not one of the tiers` });
  }
  if (tierTraits[p.entry.info].criticalOnly || tierTraits[p.entry.warning].criticalOnly) ctx.addIssue({ code: 'custom', path: ['entry'], message: 'only critical alerts may reach the emergency tier' });
});
export type EscalationPolicy = z.infer<typeof escalationPolicySchema>;

/** The policy every home gets until it stores its own. */
export const defaultEscalationPolicy: EscalationPolicy = escalationPolicySchema.parse({
  tiers: [
    { name: 'resident', recipients: [{ role: 'resident' }], channels: ['tablet', 'voice'], waitMinutes: 5 },
    { name: 'family', recipients: [{ role: 'family' }], channels: ['voice', 'sms'], waitMinutes: 10, repeats: 1 },
    { name: 'caregiver', recipients: [{ role: 'caregiver' }], channels: ['voice', 'sms'], waitMinutes: 15 },
    { name: 'emergency', recipients: [{ role: 'emergency' }], channels: ['voice', 'sms'], waitMinutes: 15 },
  ],
  quietHours: { from: '22:00', to: '07:00' },
});

export type ParsedPolicy = { ok: true; policy: EscalationPolicy } | { ok: false; errors: string[] };

/** Validates a policy; errors read like `tiers.1.waitMinutes: Too small: expected number to be >0`. */
export function parseEscalationPolicy(input: unknown): ParsedPolicy {
  const r = escalationPolicySchema.safeParse(input);
  if (r.success) return { ok: true, policy: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${i.path.join('.') || '(policy)'}: ${i.message}`) };
}

/** Like parseEscalationPolicy, but throws MIMAMORI_ERR_INVALID_INPUT with every problem listed. */
export function validateEscalationPolicy(input: unknown): EscalationPolicy {
  const r = parseEscalationPolicy(input);
  if (!r.ok) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `escalation policy: ${r.errors.join('; ')}`, r.errors);
  return r.policy;
}

/** Index of the tier a severity starts at. */
export function entryTierIndex(p: EscalationPolicy, severity: Severity): number {
  return Math.max(0, p.tiers.findIndex((t) => t.name === p.entry[severity]));
}

/** Whether a tier may be used for an alert of this severity: a critical-only tier (emergency) is for critical alerts only. */
export function tierAllowed(t: Tier, severity: Severity): boolean {
  return !tierTraits[t.name].criticalOnly || severity === 'critical';
}

/** The contacts a tier reaches, in priority order, each with its channels in fallback order. */
export function tierRecipients(t: Tier, contacts: Contact[]): Array<{ contact: Contact; channels: string[] }> {
  const out: Array<{ contact: Contact; channels: string[] }> = [];
  const seen = new Set<string>();
  for (const r of t.recipients) {
    const matched = 'role' in r ? contacts.filter((c) => c.role === r.role) : contacts.filter((c) => c.id === r.contactId);
    for (const c of matched) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      out.push({ contact: c, channels: r.channels ?? t.channels });
    }
  }
  return out;
}

/**
 * When the quiet period that `at` falls in ends (epoch ms), or undefined when
 * `at` is outside quiet hours. Walks forward minute by minute (at most a day)
 * so DST changes in the home's zone are handled by the zone itself.
 */
export function quietUntil(q: QuietHours | undefined, at: number, timezone: string): number | undefined {
  if (!q) return undefined;
  const from = parseClockTime(q.from), to = parseClockTime(q.to);
  if (!inWindow(localTime(at, timezone).minuteOfDay, from, to)) return undefined;
  let t = Math.floor(at / 60_000) * 60_000 + 60_000;
  for (let i = 0; i < 24 * 60; i++, t += 60_000) {
    if (!inWindow(localTime(t, timezone).minuteOfDay, from, to)) return t;
  }
  return undefined;
}
