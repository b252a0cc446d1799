/**
 * The escalation policy as a form (issue 14): a policy (notifier/escalation-policy.ts,
 * whose zod schema stays the one judge of what is valid) becomes flat form
 * fields and back, the schema's complaints become sentences in Japanese and
 * English that name the tier, and a preview says who gets what when for a
 * critical and a warning alert — computed from the policy and the home's
 * contacts with the same helpers the escalation engine uses.
 *
 * Fields: `rows` (how many tier rows the form has), per row `t<i>_name`
 * (empty: row unused), `t<i>_role_<role>` and `t<i>_contact_<id>` (checked:
 * `1`) with an optional own channel list `t<i>_rch_role-<role>` /
 * `t<i>_rch_contact-<id>`, `t<i>_channels` ("voice, sms": tried in that
 * order), `t<i>_wait` (minutes), `t<i>_repeats`; then `entry_<severity>`,
 * `quiet_from` / `quiet_to` (both empty: none), `renotifyMinutes`,
 * `renotifyMax`, `graceMinutes`, `defaultEtaMinutes`.
 */
import type { z } from 'zod';
import type { Contact, Severity } from '../core/store.js';
import { entryTierIndex, escalationPolicySchema, tierAllowed, tierNames, tierRecipients, type EscalationPolicy, type TierName } from '../notifier/index.js';

/** Form fields by name, as strings (what a browser posts). */
export type PolicyFields = Record<string, string>;
/** A problem with the form, as a catalogue key and its placeholders (rendered in the viewer's language). */
export interface PolicyProblem { key: PolicyProblemKey; vars?: Record<string, string | number> }
export type PolicyProblemKey = 'policyErr_noTiers' | 'policyErr_tierName' | 'policyErr_recipients' | 'policyErr_channels' | 'policyErr_channelUnknown' | 'policyErr_wait' | 'policyErr_repeats'
  | 'policyErr_entry' | 'policyErr_entryEmergency' | 'policyErr_quiet' | 'policyErr_number' | 'policyErr_other';

const roles = ['resident', 'family', 'caregiver', 'emergency'] as const;
const severities = ['info', 'warning', 'critical'] as const;
/** The policy's settings besides tiers, entry and quiet hours: number fields of the form. */
export const policyNumberFields = ['renotifyMinutes', 'renotifyMax', 'graceMinutes', 'defaultEtaMinutes'] as const;
/** At most this many tier rows are read from a form. */
export const maxTierRows = 12;

const listOf = (text: string | undefined): string[] => (text ?? '').split(/[\s,、，]+/).filter((s) => s !== '');
/** A number field: empty stays undefined (the schema's default applies), anything else is read as a number (NaN when it is not one). */
const numberOf = (text: string | undefined): number | undefined => (text === undefined || text.trim() === '' ? undefined : Number(text.trim()));

/** The form fields that show a policy: its tiers, then one empty row to add a tier. */
export function policyToFields(p: EscalationPolicy): PolicyFields {
  const f: PolicyFields = { rows: String(Math.min(p.tiers.length + 1, maxTierRows)) };
  p.tiers.forEach((tier, i) => {
    f[`t${i}_name`] = tier.name;
    f[`t${i}_channels`] = tier.channels.join(', ');
    f[`t${i}_wait`] = String(tier.waitMinutes);
    f[`t${i}_repeats`] = String(tier.repeats);
    for (const r of tier.recipients) {
      const key = 'role' in r ? `role-${r.role}` : `contact-${r.contactId}`;
      f[`t${i}_${'role' in r ? `role_${r.role}` : `contact_${r.contactId}`}`] = '1';
      if (r.channels) f[`t${i}_rch_${key}`] = r.channels.join(', ');
    }
  });
  for (const s of severities) f[`entry_${s}`] = p.entry[s];
  f.quiet_from = p.quietHours?.from ?? '';
  f.quiet_to = p.quietHours?.to ?? '';
  for (const k of policyNumberFields) f[k] = String(p[k]);
  return f;
}

/** The contacts a form offers per tier: those of the home, and any the policy's fields name that the home no longer has. */
export function formContactIds(fields: PolicyFields, contacts: readonly Contact[]): string[] {
  const ids = contacts.map((c) => c.id);
  for (const name of Object.keys(fields)) {
    const m = /^t\d+_contact_(.+)$/.exec(name);
    if (m && !ids.includes(m[1]!)) ids.push(m[1]!);
  }
  return ids;
}

/**
 * Reads the form into a policy and validates it with the policy schema.
 * `channels`: the hub's channel names, when known (a name it does not have is
 * refused, with the names it has). Either a policy or problems, never both.
 */
export function fieldsToPolicy(f: PolicyFields, o: { contactIds: readonly string[]; channels?: readonly string[] }): { policy: EscalationPolicy; problems: [] } | { policy?: undefined; problems: PolicyProblem[] } {
  const rows = Math.min(Math.max(0, Math.trunc(Number(f.rows ?? 0)) || 0), maxTierRows);
  const tiers: unknown[] = [];
  /** The form row (1-based) of each tier in the policy: messages name the row the person sees. */
  const rowOf: number[] = [];
  for (let i = 0; i < rows; i++) {
    const name = (f[`t${i}_name`] ?? '').trim();
    if (name === '') continue;
    const recipients: unknown[] = [];
    const own = (key: string) => { const l = listOf(f[`t${i}_rch_${key}`]); return l.length ? { channels: l } : {}; };
    for (const role of roles) if (f[`t${i}_role_${role}`] === '1') recipients.push({ role, ...own(`role-${role}`) });
    for (const id of o.contactIds) if (f[`t${i}_contact_${id}`] === '1') recipients.push({ contactId: id, ...own(`contact-${id}`) });
    tiers.push({ name, recipients, channels: listOf(f[`t${i}_channels`]), waitMinutes: numberOf(f[`t${i}_wait`]) ?? Number.NaN, repeats: numberOf(f[`t${i}_repeats`]) ?? 0 });
    rowOf.push(i + 1);
  }
  const raw: Record<string, unknown> = { tiers, entry: Object.fromEntries(severities.map((s) => [s, f[`entry_${s}`] ?? ''])) };
  const from = (f.quiet_from ?? '').trim(), to = (f.quiet_to ?? '').trim();
  if (from !== '' || to !== '') raw.quietHours = { from, to };
  for (const k of policyNumberFields) { const v = numberOf(f[k]); if (v !== undefined) raw[k] = v; }
  const parsed = escalationPolicySchema.safeParse(raw);
  const problems = parsed.success ? [] : dedupe(parsed.error.issues.map((i) => problemOf(i, rowOf)));
  if (parsed.success && o.channels) {
    for (const [n, tier] of parsed.data.tiers.entries()) {
      for (const ch of new Set([...tier.channels, ...tier.recipients.flatMap((r) => r.channels ?? [])])) {
        if (!o.channels.includes(ch)) problems.push({ key: 'policyErr_channelUnknown', vars: { tier: rowOf[n] ?? n + 1, channel: ch, known: o.channels.join(', ') } });
      }
    }
  }
  return parsed.success && problems.length === 0 ? { policy: parsed.data, problems: [] } : { problems };
}

function dedupe(ps: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return ps.filter((p) => { const k = JSON.stringify(p); if (seen.has(k)) return false; seen.add(k); return true; });
}

/** One schema issue as a sentence key: by where in the policy it is (the schema's own words are English only). */
function problemOf(issue: z.core.$ZodIssue, rowOf: readonly number[]): PolicyProblem {
  const [head, index, field] = issue.path;
  if (head === 'tiers' && typeof index === 'number') {
    const tier = rowOf[index] ?? index + 1;
    if (field === 'name') return { key: 'policyErr_tierName', vars: { tier } };
    if (field === 'recipients' && issue.path.length === 3) return { key: 'policyErr_recipients', vars: { tier } };
    if (field === 'channels' || (field === 'recipients' && issue.path.includes('channels'))) return { key: 'policyErr_channels', vars: { tier } };
    if (field === 'waitMinutes') return { key: 'policyErr_wait', vars: { tier } };
    if (field === 'repeats') return { key: 'policyErr_repeats', vars: { tier } };
  }
  if (head === 'tiers') return { key: 'policyErr_noTiers' };
  if (head === 'entry' && typeof index === 'string') return { key: 'policyErr_entry', vars: { severity: index } };
  if (head === 'entry') return { key: 'policyErr_entryEmergency' };
  if (head === 'quietHours') return { key: 'policyErr_quiet' };
  if (typeof head === 'string' && (policyNumberFields as readonly string[]).includes(head)) return { key: 'policyErr_number', vars: { field: head } };
  return { key: 'policyErr_other', vars: { path: issue.path.join('.') || '(policy)' } };
}

/** One moment of an escalation: who of a tier is told, on which channels in order. */
export interface PreviewStep {
  /** Minutes after the alert. */
  at: number;
  tier: TierName;
  /** 0 for the tier's first round. */
  repeat: number;
  /** Nobody in the home matches the tier: the engine goes straight on to the next one. */
  skipped: boolean;
  recipients: Array<{ contact: Contact; channels: string[] }>;
}

/**
 * Who gets what when, if nobody acknowledges: from the severity's entry tier,
 * each tier the severity may use (the emergency tier only for critical
 * alerts) with its recipients among the home's contacts, repeated, each round
 * `waitMinutes` after the last; `end` is when the escalation gives up. Quiet
 * hours and each person's own channel settings are not applied here.
 */
export function previewEscalation(p: EscalationPolicy, contacts: readonly Contact[], severity: Severity): { steps: PreviewStep[]; end: number } {
  const steps: PreviewStep[] = [];
  let at = 0;
  for (let i = entryTierIndex(p, severity); i < p.tiers.length; i++) {
    const tier = p.tiers[i]!;
    if (!tierAllowed(tier, severity)) continue;
    const recipients = tierRecipients(tier, [...contacts]);
    if (recipients.length === 0) { steps.push({ at, tier: tier.name, repeat: 0, skipped: true, recipients }); continue; }
    for (let r = 0; r <= tier.repeats; r++) {
      steps.push({ at, tier: tier.name, repeat: r, skipped: false, recipients });
      at += tier.waitMinutes;
    }
  }
  return { steps, end: at };
}

export { roles as policyRoles, severities as policySeverities, tierNames };
