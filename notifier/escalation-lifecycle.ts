/**
 * An alert's lifecycle as people move it: open → acknowledged (or "on my
 * way", arrived) → resolved, and reopened when the same emergency happens
 * again. Each operation writes the alert's status and lifecycle row (who,
 * how, when), audits it, lets the decision step (escalation-decide.ts) say
 * what the escalation does next, and tells everyone already told — in their
 * language, on the channel that reached them, never the resident (roles are
 * data: `roleTraits`).
 *
 * The escalation runner (escalation-engine.ts) is handed in as a small port:
 * loading and saving the state, the schedule, and carrying out actions.
 */
import type { Finding } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import type { Alert, AlertLifecycle, Contact, Store } from '../core/store.js';
import type { Decision, EscalationAction, EscalationEvent, EscalationState, PolicySnapshot, StepNext } from './escalation-decide.js';
import { roleTraits } from './escalation-policy.js';
import type { EscalationTexts, TextFor } from './escalation-texts.js';
import type { SendLedger } from './send-ledger.js';

/** A group's leader: its lifecycle row, its escalation state and the group's open alerts. */
export interface Group { life: AlertLifecycle; state: EscalationState; alerts: Alert[] }

/** What the lifecycle needs of the escalation runner. */
export interface EscalationRunner {
  load(alertId: string): Promise<{ life: AlertLifecycle; state: EscalationState } | undefined>;
  leaderOf(alertId: string): Promise<{ life: AlertLifecycle; state: EscalationState } | undefined>;
  /** The leader's lifecycle for any alert of a group, with the group's open alerts. */
  groupOf(alertId: string): Promise<Group>;
  openMembers(state: EscalationState): Promise<Alert[]>;
  save(life: AlertLifecycle, state: EscalationState, at: number): Promise<void>;
  setNext(alert: { id: string; homeId: string }, next: StepNext): Promise<void>;
  /** Runs the escalation's steps while they are due now. */
  runUntilWaiting(alertId: string, homeId: string): Promise<void>;
  /** Decides an event's transition (no contacts read). */
  decideEvent(state: EscalationState, policy: PolicySnapshot, event: EscalationEvent, at: number): Decision;
  perform(actions: readonly EscalationAction[], life: AlertLifecycle, state: EscalationState, alerts: Alert[], at: number): Promise<void>;
  /** Cancels a held clear (the flap window) of the alert. */
  cancelClear(alertId: string): Promise<void>;
  /** The home's policy, for a notice that turns into an escalation. */
  policyFor(homeId: string): Promise<PolicySnapshot>;
  alertToHistory(a: Alert, at: number): void;
}

export interface AlertLifecycleOps {
  acknowledge(alertId: string, contactId: string | undefined, via: string, at: number): Promise<Alert>;
  onMyWay(alertId: string, contactId: string | undefined, via: string, etaMinutes: number | undefined, at: number): Promise<Alert>;
  arrived(alertId: string, contactId: string | undefined, via: string, at: number): Promise<Alert>;
  resolve(alertId: string, by: { contactId?: string; via: string; note?: string; cleared?: Finding }, at: number): Promise<{ alert: Alert; followUps: number }>;
  reopen(alert: Alert, f: Finding, now: number): Promise<void>;
  severityRaised(alert: Alert, f: Finding, now: number): Promise<void>;
  /** Tells everyone already told about the alerts (but `except`); returns how many. */
  tellTold(alerts: Alert[], except: string | undefined, stage: string, text: TextFor): Promise<number>;
}

const actor = 'notifier';

export function createAlertLifecycle(o: {
  store: Store; logger: Logger; texts: EscalationTexts; ledger: Pick<SendLedger, 'deliver' | 'toldContacts'>;
  /** A person's channels for a message outside a tier. */
  channelsFor(contact: Contact): Promise<string[]>;
  runner: EscalationRunner;
}): AlertLifecycleOps {
  const { store, runner: r, ledger } = o;
  const log = o.logger;

  async function setStatus(alerts: Alert[], status: Alert['status'], at: number): Promise<Alert[]> {
    const out: Alert[] = [];
    for (const a of alerts) { const u = await store.updateAlertStatus(a.id, status, at); r.alertToHistory(u, at); out.push(u); }
    return out;
  }

  async function tellTold(alerts: Alert[], except: string | undefined, stage: string, text: TextFor): Promise<number> {
    const lead = alerts[0];
    if (!lead) return 0;
    const ids = new Set<string>();
    for (const a of alerts) for (const id of await ledger.toldContacts(a.id)) ids.add(id);
    let n = 0;
    for (const c of await store.listContacts(lead.homeId)) {
      if (!ids.has(c.id) || c.id === except || !roleTraits[c.role].hearsFollowUps) continue;
      await ledger.deliver(alerts, c, await o.channelsFor(c), stage, text, false);
      n += 1;
    }
    return n;
  }

  /** Records who moved the alert on (the first acknowledgement stays; `overwrite` for a fresh one). */
  function acknowledgedBy(life: AlertLifecycle, contactId: string | undefined, via: string, at: number, overwrite: boolean): AlertLifecycle {
    const l: AlertLifecycle = overwrite
      ? { ...life, acknowledgedVia: via, acknowledgedAt: at }
      : { ...life, acknowledgedVia: life.acknowledgedVia ?? via, acknowledgedAt: life.acknowledgedAt ?? at };
    if (contactId && (overwrite || !l.acknowledgedBy)) l.acknowledgedBy = contactId;
    return l;
  }

  const by = (contactId: string | undefined) => (contactId !== undefined ? { contactId } : {});

  return {
    tellTold,

    async acknowledge(alertId, contactId, via, at) {
      const { life, state, alerts } = await r.groupOf(alertId);
      const acked = await setStatus(alerts, 'acknowledged', at);
      const d = r.decideEvent(state, life.policy as PolicySnapshot, { kind: 'acknowledged', ...by(contactId) }, at);
      const l = acknowledgedBy(life, contactId, via, at, true);
      await r.save(l, d.next.state, at);
      for (const a of alerts) {
        if (a.id !== life.alertId) { const m = await r.load(a.id); if (m) await store.saveAlertLifecycle({ ...m.life, ...(contactId ? { acknowledgedBy: contactId } : {}), acknowledgedVia: via, acknowledgedAt: at, updatedAt: at }); }
        await store.audit({ at, actor: contactId ?? via, action: 'alert.acknowledge', subject: a.id, detail: { via, contactId } });
      }
      await r.perform(d.actions, l, d.next.state, alerts, at);
      log.info({ alertId: life.alertId, via }, 'alert acknowledged; escalation stopped');
      await r.setNext({ id: life.alertId, homeId: life.homeId }, d.next);
      return acked.find((a) => a.id === alertId) ?? acked[0]!;
    },

    async onMyWay(alertId, contactId, via, etaMinutes, at) {
      const { life, state, alerts } = await r.groupOf(alertId);
      const acked = await setStatus(alerts, 'acknowledged', at);
      const d = r.decideEvent(state, life.policy as PolicySnapshot, { kind: 'on-my-way', ...by(contactId), ...(etaMinutes !== undefined ? { etaMinutes } : {}) }, at);
      const l = acknowledgedBy(life, contactId, via, at, false);
      await r.save(l, d.next.state, at);
      for (const a of alerts) await store.audit({ at, actor: contactId ?? via, action: 'alert.on-my-way', subject: a.id, detail: { via, contactId, etaAt: d.next.state.etaAt } });
      await r.perform(d.actions, l, d.next.state, alerts, at);
      await r.setNext({ id: life.alertId, homeId: life.homeId }, d.next);
      return acked.find((a) => a.id === alertId) ?? acked[0]!;
    },

    async arrived(alertId, contactId, via, at) {
      const { life, state, alerts } = await r.groupOf(alertId);
      const acked = alerts.some((a) => a.status === 'open') ? await setStatus(alerts, 'acknowledged', at) : alerts;
      const d = r.decideEvent(state, life.policy as PolicySnapshot, { kind: 'arrived', ...by(contactId) }, at);
      const l = acknowledgedBy(life, contactId, via, at, false);
      await r.save(l, d.next.state, at);
      for (const a of alerts) await store.audit({ at, actor: contactId ?? via, action: 'alert.arrived', subject: a.id, detail: { via, contactId } });
      await r.setNext({ id: life.alertId, homeId: life.homeId }, d.next);
      return acked.find((a) => a.id === alertId) ?? acked[0]!;
    },

    async resolve(alertId, res, at) {
      const g = await r.groupOf(alertId);
      const alert = await store.getAlert(alertId);
      if (!alert) throw new Error(`alert ${alertId} not found`);
      const [resolved] = await setStatus([alert], 'resolved', at);
      await r.cancelClear(alertId);
      const own = await r.load(alertId);
      const l: AlertLifecycle = own?.life ?? { alertId, homeId: alert.homeId, state: g.state, updatedAt: at };
      l.resolvedVia = res.via;
      if (res.contactId) l.resolvedBy = res.contactId;
      if (res.note) l.resolutionNote = res.note;
      await store.saveAlertLifecycle({ ...l, updatedAt: at });
      await store.audit({ at, actor: res.contactId ?? (res.cleared ? actor : res.via), action: 'alert.resolve', subject: alertId, detail: { via: res.via, contactId: res.contactId, note: res.note, reason: res.cleared ? 'condition cleared' : 'resolved by a person' } });
      // A cleared finding's all-clear goes to everyone told; a person's resolution to everyone else.
      const text = await o.texts.resolved(alert.homeId, { contactId: res.contactId, note: res.note, cleared: res.cleared }, at);
      const followUps = await tellTold([alert], res.cleared ? undefined : res.contactId, 'resolved', text);
      const d = r.decideEvent(g.state, g.life.policy as PolicySnapshot, { kind: 'resolved', openLeft: (await r.openMembers(g.state)).length }, at);
      if (d.next.stop) {
        const fresh = (await store.getAlertLifecycle(g.life.alertId)) ?? g.life;
        await r.save(fresh, d.next.state, at);
        await r.setNext({ id: g.life.alertId, homeId: g.life.homeId }, d.next);
      }
      return { alert: resolved!, followUps };
    },

    async reopen(alert, f, now) {
      const g = await r.leaderOf(alert.id);
      await setStatus([alert], 'open', now);
      await store.audit({ at: now, actor, action: 'alert.reopen', subject: alert.id, detail: { rule: f.rule, reason: 'happened again after it was acknowledged', phase: g?.state.phase } });
      if (!g) return;
      const d = r.decideEvent(g.state, g.life.policy as PolicySnapshot, { kind: 'reopened', severity: alert.severity }, now);
      await r.save(g.life, d.next.state, now);
      await r.runUntilWaiting(g.life.alertId, g.life.homeId);
    },

    async severityRaised(alert, f, now) {
      const g = await r.leaderOf(alert.id);
      if (!g) return;
      const { life, state } = g;
      const policy = life.policy as PolicySnapshot;
      const event: EscalationEvent = { kind: 'severity-raised', severity: alert.severity, rule: f.rule };
      if (policy.notice) event.homePolicy = await r.policyFor(life.homeId);
      const d = r.decideEvent(state, policy, event, now);
      if (d.actions.length === 0) return;
      await r.perform(d.actions, life, d.next.state, [], now);
      if (d.next.policy) life.policy = d.next.policy;
      await r.save(life, d.next.state, now);
      if (d.next.at !== undefined) await r.runUntilWaiting(life.alertId, life.homeId);
    },
  };
}
