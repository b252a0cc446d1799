/**
 * The escalation's decision step, without I/O: given the state kept on the
 * alert, its policy snapshot, the facts the runner read (who is in the home,
 * their quiet hours, what just happened) and the time, it returns what to do
 * (`actions`: page someone, remind someone, tell those already told, audit)
 * and what comes next (`next`: the new state, and `at` — run again then — or
 * `stop`). The engine (escalation-engine.ts) reads the facts, carries out the
 * actions through the send ledger, saves the state and arms the schedule.
 *
 * A decision is one transition. `next.at <= now` means "decide again at
 * once" (the next tier starts, a skipped tier, a resume); the runner loops.
 * Actions come before the state in the runner: a crash in between re-runs
 * the transition, and every page is idempotent by its send key.
 *
 * @example
 * const { actions, next } = decide(state, policy, { contacts, quietHours, timezone, activeAlerts: 1 }, now);
 */
import { severityRank } from '../core/findings.js';
import type { Contact, Severity } from '../core/store.js';
import { entryTierIndex, quietUntil, tierAllowed, tierRecipients, type EscalationPolicy, type QuietHours } from './escalation-policy.js';

export type Phase = 'running' | 'acknowledged' | 'on-my-way' | 'arrived' | 'exhausted' | 'resolved';

/** The escalation state kept (as JSON) in the leader alert's lifecycle row. */
export interface EscalationState {
  phase: Phase;
  severity: Severity;
  /** Bumped when escalation restarts (severity rise, missed arrival, reopen): a new round of keys. */
  epoch: number;
  tier: number;
  repeat: number;
  /** Whether the current tier/repeat has started (holds decided, wait running). */
  started: boolean;
  /** When the current tier/repeat gives way to the next. */
  advanceAt?: number;
  /** Recipients held by quiet hours in the current tier/repeat: contact id → release time. */
  held: Record<string, number>;
  /** Holds of earlier tiers not yet released: held messages are delayed, never dropped. */
  carried?: Array<{ contactId: string; tier: number; stage: string; until: number }>;
  /** Alerts escalated together (the leader first). Members point to the leader instead. */
  members: string[];
  leader?: string;
  /** Waiting for the grouping / backlog window before the first step. */
  groupPending?: boolean;
  backlog?: boolean;
  ackContactId?: string;
  etaAt?: number;
  reminders: number;
  remindAt?: number;
  /** The alert's reply code (`K27`), unique among unresolved alerts; a group's messages carry the leader's. */
  code?: string;
}

/** What a step decides: run again at `at`, or stop. Neither: the schedule stays as it is. */
export interface StepNext { at?: number; stop?: boolean }

/** Follow-up messages to everyone already told (but the person who acted). */
export type FollowUp = 'acknowledged' | 'on-my-way';

export type EscalationAction =
  /** A tier's message to one recipient: `channels` are the policy's for them (their own order goes first). */
  | { kind: 'page'; contactId: string; tier: number; stage: string; channels: readonly string[]; critical: boolean }
  /** A reminder to the person handling the alert, on their follow-up channels. */
  | { kind: 'remind'; contactId: string; stage: string }
  /** Tell everyone already told about the group, except `except`. */
  | { kind: 'tell-told'; stage: string; message: FollowUp; except?: string }
  /** The group's alerts go back to `open` (nobody arrived in time). */
  | { kind: 'reopen-alerts' }
  | { kind: 'audit'; action: string; detail: Record<string, unknown>; log?: { level: 'info' | 'warn'; msg: string } };

/** What happened, as the runner tells it; `tick` is a scheduled step. */
export type EscalationEvent =
  | { kind: 'tick' }
  | { kind: 'acknowledged'; contactId?: string }
  | { kind: 'on-my-way'; contactId?: string; etaMinutes?: number }
  | { kind: 'arrived'; contactId?: string }
  /** An alert of the group resolved; `openLeft` of the group's alerts are still open. */
  | { kind: 'resolved'; openLeft: number }
  /** A repeat with a higher severity. `homePolicy`: the home's own policy, for a notice that must now escalate. */
  | { kind: 'severity-raised'; severity: Severity; rule: string; homePolicy?: EscalationPolicy }
  /** The same emergency again after it was acknowledged: page from the entry tier with fresh keys. */
  | { kind: 'reopened'; severity: Severity };

export interface EscalationFacts {
  /** Alerts of the group still open whose finding has not cleared; 0 pauses (a held clear) or ends it. */
  activeAlerts: number;
  /** The home's contacts, in priority order. */
  contacts: readonly Contact[];
  /** A contact's own quiet hours (contact preferences), which win over the policy's; read at each tier start. */
  quietHours: ReadonlyMap<string, QuietHours | undefined>;
  /** The home's time zone, for quiet hours. */
  timezone: string;
  event?: EscalationEvent;
}

/** A policy snapshot as stored on the alert; a notice (info finding) is marked. */
export type PolicySnapshot = EscalationPolicy & { notice?: boolean };

export interface Decision {
  actions: EscalationAction[];
  next: StepNext & { state: EscalationState; /** A new policy snapshot (a notice turned into an escalation). */ policy?: EscalationPolicy };
}

const minutes = (m: number) => m * 60_000;

/** The index of the next tier this severity may use after `from`, if any. */
export function nextTier(policy: EscalationPolicy, from: number, severity: Severity): number | undefined {
  for (let i = from + 1; i < policy.tiers.length; i++) if (tierAllowed(policy.tiers[i]!, severity)) return i;
  return undefined;
}

/** The state of a new escalation: it starts at the severity's entry tier (the resident first where the policy says so). */
export function initialState(policy: EscalationPolicy, severity: Severity, o: { alertId: string; groupPending: boolean; backlog: boolean; code: string }): EscalationState {
  return {
    phase: 'running', severity, epoch: 0, tier: entryTierIndex(policy, severity), repeat: 0,
    started: false, held: {}, members: [o.alertId], reminders: 0, groupPending: o.groupPending, backlog: o.backlog, code: o.code,
  };
}

/**
 * Which of a person's channels to try now: the first one in order whose send
 * this stage has not made yet, past the ones known to have failed (a failed
 * send, or a receipt saying nobody was reached). `undefined`: someone was
 * reached (or a send is under way), or every channel failed.
 */
export function channelToTry(order: readonly string[], outcomes: ReadonlyMap<string, 'none' | 'failed' | 'ok'>): string | undefined {
  for (const ch of order) {
    const o = outcomes.get(ch) ?? 'none';
    if (o === 'ok') return undefined;
    if (o === 'none') return ch;
  }
  return undefined;
}

/** Decides the next transition of an escalation; pure (the input state is not changed). */
export function decide(state: EscalationState, policy: PolicySnapshot, facts: EscalationFacts, now: number): Decision {
  const s: EscalationState = structuredClone(state);
  const ev = facts.event ?? { kind: 'tick' };
  switch (ev.kind) {
    case 'tick': return tick(s, policy, facts, now);
    case 'acknowledged': {
      if (s.phase !== 'on-my-way' && s.phase !== 'arrived') s.phase = 'acknowledged';
      if (ev.contactId !== undefined) s.ackContactId = ev.contactId;
      s.remindAt = now + minutes(policy.renotifyMinutes);
      s.reminders = 0;
      return { actions: [told(`ack${s.epoch}`, 'acknowledged', ev.contactId)], next: { state: s, at: s.remindAt } };
    }
    case 'on-my-way': {
      s.phase = 'on-my-way';
      if (ev.contactId !== undefined) s.ackContactId = ev.contactId;
      s.etaAt = now + minutes(ev.etaMinutes ?? policy.defaultEtaMinutes);
      return { actions: [told(`omw${s.epoch}`, 'on-my-way', ev.contactId)], next: { state: s, at: s.etaAt + minutes(policy.graceMinutes) } };
    }
    case 'arrived': {
      s.phase = 'arrived';
      delete s.etaAt;
      s.remindAt = now + minutes(policy.renotifyMinutes);
      s.reminders = 0;
      return { actions: [], next: { state: s, at: s.remindAt } };
    }
    case 'resolved': {
      // The escalation stops when nothing in its group is left open.
      if (ev.openLeft > 0) return { actions: [], next: { state: s } };
      s.phase = 'resolved';
      return { actions: [], next: { state: s, stop: true } };
    }
    case 'severity-raised': {
      if (severityRank[ev.severity] <= severityRank[s.severity]) return { actions: [], next: { state: s } };
      s.severity = ev.severity;
      const actions: EscalationAction[] = [{ kind: 'audit', action: 'escalation.severity', detail: { severity: ev.severity, rule: ev.rule, phase: s.phase } }];
      // Someone is handling it: they already know; the new severity counts if escalation resumes.
      if (s.phase !== 'running' && s.phase !== 'exhausted') return { actions, next: { state: s } };
      // Continue at the new entry tier, with fresh keys so those already told hear it is now critical.
      // A notice that turns into a warning or worse escalates by the home's own policy from here on.
      const p = policy.notice && ev.homePolicy ? ev.homePolicy : policy;
      restart(s, entryTierIndex(p, ev.severity));
      const next: Decision['next'] = { state: s, at: now };
      if (p !== policy) next.policy = p;
      return { actions, next };
    }
    case 'reopened': {
      restart(s, entryTierIndex(policy, ev.severity));
      return { actions: [], next: { state: s, at: now } };
    }
  }
}

function told(stage: string, message: FollowUp, except: string | undefined): EscalationAction {
  return except === undefined ? { kind: 'tell-told', stage, message } : { kind: 'tell-told', stage, message, except };
}

/** A new round from tier `tier`: fresh send keys (epoch), the tier not yet started. */
function restart(s: EscalationState, tier: number): void {
  s.phase = 'running';
  s.epoch += 1;
  s.tier = tier;
  s.repeat = 0;
  s.started = false;
  s.groupPending = false;
}

function tick(s: EscalationState, policy: EscalationPolicy, facts: EscalationFacts, now: number): Decision {
  if (s.leader || facts.activeAlerts === 0) return { actions: [], next: { state: s, stop: true } };
  switch (s.phase) {
    case 'resolved': case 'exhausted': return { actions: [], next: { state: s, stop: true } };
    case 'running': return runTier(s, policy, facts, now);
    case 'on-my-way': {
      const deadline = (s.etaAt ?? now) + minutes(policy.graceMinutes);
      if (now < deadline) return { actions: [], next: { state: s, at: deadline } };
      // The alerts open first: in a cluster that write is refused when an answer ("arrived") came in meanwhile, before anything is recorded.
      const actions: EscalationAction[] = [
        { kind: 'reopen-alerts' },
        { kind: 'audit', action: 'escalation.resume', detail: { reason: 'no arrival by ETA + grace', contactId: s.ackContactId }, log: { level: 'info', msg: 'nobody arrived in time; escalation resumes' } },
      ];
      restart(s, nextTier(policy, s.tier, s.severity) ?? s.tier);
      return { actions, next: { state: s, at: now } };
    }
    case 'acknowledged': case 'arrived': {
      if (s.remindAt === undefined || s.reminders >= policy.renotifyMax) return { actions: [], next: { state: s, stop: true } };
      if (now < s.remindAt) return { actions: [], next: { state: s, at: s.remindAt } };
      const actions: EscalationAction[] = [];
      const contact = s.ackContactId ? facts.contacts.find((c) => c.id === s.ackContactId) : undefined;
      if (contact) {
        actions.push({ kind: 'remind', contactId: contact.id, stage: `remind${s.reminders}` });
        actions.push({ kind: 'audit', action: 'escalation.remind', detail: { contactId: contact.id, n: s.reminders + 1 } });
      }
      s.reminders += 1;
      if (s.reminders < policy.renotifyMax) s.remindAt = now + minutes(policy.renotifyMinutes);
      else delete s.remindAt;
      return { actions, next: s.remindAt === undefined ? { state: s, stop: true } : { state: s, at: s.remindAt } };
    }
  }
}

/** One transition of the tier walk: skip an empty tier, start a tier, or page and (when its wait is over) move on. */
function runTier(s: EscalationState, policy: EscalationPolicy, facts: EscalationFacts, now: number): Decision {
  const tier = policy.tiers[s.tier];
  const recips = tier && tierAllowed(tier, s.severity) ? tierRecipients(tier, [...facts.contacts]) : [];
  if (!tier || recips.length === 0) {
    const next = tier ? nextTier(policy, s.tier, s.severity) : undefined;
    if (next === undefined) return exhaust(s, policy, facts, now, []);
    s.tier = next; s.repeat = 0; s.started = false;
    return { actions: [], next: { state: s, at: now } };
  }
  const critical = s.severity === 'critical';
  if (!s.started) {
    s.started = true;
    s.held = {};
    // Quiet hours hold non-critical messages; a critical alert always goes through.
    if (!critical) {
      for (const r of recips) {
        const until = quietUntil(facts.quietHours.get(r.contact.id) ?? policy.quietHours, now, facts.timezone);
        if (until !== undefined) s.held[r.contact.id] = until;
      }
    }
    const holds = Object.values(s.held);
    // A tier whose everyone is held starts its wait when they are actually told.
    const startAt = holds.length === recips.length ? Math.min(...holds) : now;
    s.advanceAt = startAt + minutes(tier.waitMinutes);
    const detail = { tier: tier.name, repeat: s.repeat, epoch: s.epoch, recipients: recips.length, held: holds.length, members: s.members.length };
    return { actions: [{ kind: 'audit', action: 'escalation.tier', detail, log: { level: 'info', msg: 'escalation tier' } }], next: { state: s, at: now } };
  }
  const stage = `${s.epoch}:${s.tier}:${s.repeat}`;
  const actions: EscalationAction[] = [];
  // Every decision pages everyone not held: a page already made is skipped by its key, one that failed moves on a channel.
  for (const r of recips) {
    const heldUntil = s.held[r.contact.id];
    if (heldUntil !== undefined && heldUntil > now) continue;
    actions.push({ kind: 'page', contactId: r.contact.id, tier: s.tier, stage, channels: r.channels, critical });
  }
  actions.push(...releaseCarried(s, policy, facts, now));
  if (now < (s.advanceAt ?? now)) {
    const pending = [...Object.values(s.held), ...(s.carried ?? []).map((c) => c.until)].filter((t) => t > now);
    return { actions, next: { state: s, at: Math.min(s.advanceAt ?? now, ...pending) } };
  }
  // Nobody acknowledged in time: the next repeat, or the next tier. Unreleased holds go along.
  for (const [contactId, until] of Object.entries(s.held)) if (until > now) (s.carried ??= []).push({ contactId, tier: s.tier, stage, until });
  s.held = {};
  if (s.repeat < tier.repeats) { s.repeat += 1; s.started = false; return { actions, next: { state: s, at: now } }; }
  const next = nextTier(policy, s.tier, s.severity);
  if (next === undefined) return exhaust(s, policy, facts, now, actions);
  s.tier = next; s.repeat = 0; s.started = false;
  return { actions, next: { state: s, at: now } };
}

/** Pages the held messages of earlier tiers whose hold is over, and forgets them. */
function releaseCarried(s: EscalationState, policy: EscalationPolicy, facts: EscalationFacts, now: number): EscalationAction[] {
  const due = (s.carried ?? []).filter((c) => c.until <= now);
  if (due.length === 0) return [];
  s.carried = (s.carried ?? []).filter((c) => c.until > now);
  const out: EscalationAction[] = [];
  for (const c of due) {
    const tier = policy.tiers[c.tier];
    const r = tier ? tierRecipients(tier, [...facts.contacts]).find((x) => x.contact.id === c.contactId) : undefined;
    if (r) out.push({ kind: 'page', contactId: c.contactId, tier: c.tier, stage: c.stage, channels: r.channels, critical: s.severity === 'critical' });
  }
  return out;
}

/**
 * Every tier tried. Held messages still to send come first: the escalation
 * waits for them before it gives up. (Fixed here: the held messages due now
 * are sent even when the last tier had nobody in it — before, such a hold
 * was never released and the step retried every minute forever.)
 */
function exhaust(s: EscalationState, policy: EscalationPolicy, facts: EscalationFacts, now: number, actions: EscalationAction[]): Decision {
  actions.push(...releaseCarried(s, policy, facts, now));
  const carried = (s.carried ?? []).map((c) => c.until);
  if (carried.length > 0) return { actions, next: { state: s, at: Math.min(...carried) } };
  s.phase = 'exhausted';
  actions.push({ kind: 'audit', action: 'escalation.exhausted', detail: { severity: s.severity }, log: { level: 'warn', msg: 'every tier tried; nobody acknowledged' } });
  return { actions, next: { state: s, stop: true } };
}
