/**
 * The escalation engine: walks an alert (or a group of alerts of one home
 * that arrived together) through the tiers of its policy snapshot until
 * someone acknowledges. It is the composition of the escalation's parts:
 *
 * - `escalation-decide.ts` decides, without I/O, what a step does and what
 *   comes next (`{ actions, next }`);
 * - `send-ledger.ts` sends each message once per key and answers who was
 *   told; `send-reconcile.ts` settles sends a crash left without an outcome;
 * - `escalation-lifecycle.ts` moves an alert through acknowledged, on my
 *   way, arrived, resolved and reopened; `escalation-texts.ts` picks the words.
 *
 * What stays here: the per-home queue (one change at a time per home), the
 * jobs it keeps on the one durable scheduler (jobs/: the next step's time is
 * a job, the state the alert's lifecycle row, so a restart — even kill -9 —
 * finds both and resumes where it was), grouping, flapping clears, the
 * per-person budget's summary and reply codes. A step reads the facts, calls
 * `decide`, carries out the actions, then saves the state.
 */
import { randomInt } from 'node:crypto';
import type { SchedulerLike } from 'rxjs';
import { isStale } from '../core/errors.js';
import type { Finding } from '../core/findings.js';
import { severityRank } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import type { Alert, AlertLifecycle, Contact, HomeFence, Job, LifecycleVersion, NotificationRecord, Store } from '../core/store.js';
import type { HomeOwnership, JobScheduler } from '../jobs/index.js';
import type { Channel, SendResult } from './channel.js';
import { heldStatus, pendingStatus, summarizedStatus } from './delivery-status.js';
import { defaultNoticeChannels, entryTierIndex, type EscalationPolicy, type QuietHours } from './escalation-policy.js';
import { createAlertLifecycle } from './escalation-lifecycle.js';
import { decide, initialState, type Decision, type EscalationAction, type EscalationEvent, type EscalationFacts, type EscalationState, type PolicySnapshot, type StepNext } from './escalation-decide.js';
import { createEscalationTexts, type TextFor } from './escalation-texts.js';
import { createSendLedger, isNotReached, type EngineHistory } from './send-ledger.js';
import { createReconciler, defaultReconcile, type ReconcileOptions } from './send-reconcile.js';
import { contactPreferencesSchema, type ContactPreferences } from './contact-preferences.js';
import { addressesOf, channelOrder, recipientOf } from './contact-channels.js';
import type { Grouping } from './grouping.js';
import type { RateLimiterPort } from './rate-limit.js';
import { budgetSummaryText } from './templates.js';

export type { EscalationState, Phase, StepNext } from './escalation-decide.js';

export interface EngineOptions {
  store: Store;
  logger: Logger;
  clock: SchedulerLike;
  channels: ReadonlyMap<string, Channel>;
  /** The durable scheduler the engine's steps, held clears and budget summaries run on (on `clock`). */
  jobs: JobScheduler;
  history?: EngineHistory;
  policyFor(homeId: string): Promise<EscalationPolicy>;
  /** The per-person budget: in memory, or shared by a cluster's nodes (cluster/rate-limit-redis.ts). */
  rateLimiter: RateLimiterPort;
  grouping: Grouping;
  /** Waits (real time) for a channel before moving on; slow providers finish in the background. */
  sendWaitMs: number;
  /** Reconciliation of sends a crash left without an outcome (defaults in `defaultReconcile`). */
  reconcile?: Partial<ReconcileOptions>;
  /** A page with an alert's full explanation, linked from its messages when it fits (templates.ts). */
  alertLink?: (alertId: string) => string | undefined;
  /** Called (in the home's queue) when a held clear was not followed by a re-raise within the flap window. */
  settleClear?: (alertId: string, cleared: Finding) => Promise<void>;
  /** Channel order for messages outside a tier (follow-ups, reminders, summaries); default `defaultFollowUpChannels`. */
  followUpChannels?: readonly string[];
  /**
   * Cluster mode: the homes this node runs. Crash reconciliation then settles
   * only their sends — none at `start()`, each home's when it is gained (in
   * the home's queue, before its jobs run) — never another node's send in flight.
   */
  ownership?: HomeOwnership;
}

export { defaultReconcile, type ReconcileOptions, type ReconcileOutcome } from './send-reconcile.js';
export { isNotReached, type EngineHistory } from './send-ledger.js';

const actor = 'notifier';
const codeLetters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const jobId = (alertId: string) => `esc:${alertId}`;
const clearJobId = (alertId: string) => `clear:${alertId}`;
const budgetJobId = (contactId: string) => `budget:${contactId}`;
/** The job kinds this engine owns (digest.ts owns `digest`). */
const engineJobKinds = new Set(['escalation', 'clear', 'budget-summary']);

/** What a held clear keeps in its schedule row. */
interface ClearPayload { alertId: string; cleared: Finding; since: number; flaps: number }

export interface EscalationEngine {
  start(): Promise<void>;
  /** A new alert: snapshot the policy and run (or schedule) its first step. */
  startAlert(alert: Alert, f: Finding, now: number): Promise<void>;
  /** A repeat with a higher severity: continue at the new severity's entry tier. */
  severityRaised(alert: Alert, f: Finding, now: number): Promise<void>;
  acknowledge(alertId: string, contactId: string | undefined, via: string, at: number): Promise<Alert>;
  onMyWay(alertId: string, contactId: string | undefined, via: string, etaMinutes: number | undefined, at: number): Promise<Alert>;
  arrived(alertId: string, contactId: string | undefined, via: string, at: number): Promise<Alert>;
  resolve(alertId: string, by: { contactId?: string; via: string; note?: string; cleared?: Finding }, at: number): Promise<{ alert: Alert; followUps: number }>;
  /** A verified delivery receipt changed a notification: fall back if the person was not reached. */
  receiptChanged(n: NotificationRecord, status: string): Promise<void>;
  /** Alerts whose escalation is `on-my-way` in this home (door arrivals). */
  onMyWayAlerts(homeId: string): Promise<string[]>;
  /** Contacts that were told about the alert (a send not known to have failed). */
  toldContacts(alertId: string): Promise<string[]>;
  /**
   * The finding behind the alert cleared: escalation pauses (nobody more is
   * paged about a condition that ended) and the alert resolves at `until`
   * unless the finding is raised again first (`reraised`).
   */
  holdClear(alert: Alert, cleared: Finding, until: number): Promise<void>;
  /** The cleared finding came back within the flap window: same alert, no new page; escalation resumes where it paused. Returns false when no clear was held. */
  reraised(alert: Alert, f: Finding): Promise<boolean>;
  /**
   * The same emergency happened again after someone acknowledged it (a new
   * help press): the alert opens again and pages from its entry tier, with
   * fresh send keys, so everyone hears of the new cry for help.
   */
  reopen(alert: Alert, f: Finding, now: number): Promise<void>;
  /** Schedules the budget summary for a contact at `at` (a durable job; one per contact). */
  scheduleBudgetSummary(contactId: string, homeId: string, at: number): Promise<void>;
  /** The alert's own reply code, and the alert that leads its escalation with the leader's code. */
  replyTarget(alertId: string): Promise<{ leader: string; code?: string; ownCode?: string }>;
  /** Runs `fn` in the home's queue (one change at a time per home). */
  serial<T>(homeId: string, fn: () => Promise<T>): Promise<T>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the engine; call `start()` to reconcile interrupted sends and take on its jobs. */
export function createEscalationEngine(o: EngineOptions): EscalationEngine {
  const { store, clock, channels, jobs } = o;
  const log = o.logger;
  const inflight = new Set<Promise<unknown>>();
  const queues = new Map<string, Promise<unknown>>();
  const rec: ReconcileOptions = { ...defaultReconcile, ...o.reconcile };
  let closed = false;
  /**
   * The fence of the job running in each home's queue (cluster mode): its lifecycle saves and send keys carry it,
   * so a node that lost the home meanwhile writes and sends nothing more. Work outside a job (a person answering
   * on any node) carries none. One entry per home at a time: the home's queue runs one thing at a time.
   */
  const runFences = new Map<string, HomeFence>();
  let offGained: (() => void) | undefined;
  async function fenced<T>(homeId: string, fence: HomeFence | undefined, fn: () => Promise<T>): Promise<T> {
    if (!fence) return fn();
    runFences.set(homeId, fence);
    try { return await fn(); } finally { if (runFences.get(homeId) === fence) runFences.delete(homeId); }
  }

  /**
   * The leader's lifecycle row as the step running in each home's queue read it (its version kept up to date by
   * the step's own saves). In a cluster a person's answer runs on whichever node received it, outside this queue:
   * the step's sends, its reopening of alerts and its saves go ahead only while the row is still this version
   * (`LifecycleVersion` in the store), so an answer committed meanwhile is neither paged past nor overwritten —
   * the step reads the row again and decides again. One entry per home at a time, like `runFences`.
   */
  const runSteps = new Map<string, AlertLifecycle>();
  const readVersion = (homeId: string): LifecycleVersion | undefined => {
    const l = runSteps.get(homeId);
    return l ? { alertId: l.alertId, version: l.version ?? 0 } : undefined;
  };

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.then(() => inflight.delete(p), () => inflight.delete(p));
    return p;
  };
  const safeHistory = (fn: (h: EngineHistory) => void): void => {
    if (!o.history) return;
    try { fn(o.history); } catch (err) { log.warn({ err }, 'history write failed'); }
  };
  const alertToHistory = (a: Alert, at: number) =>
    safeHistory((h) => h.writeAlert({ id: a.id, homeId: a.homeId, rule: a.rule, severity: a.severity, status: a.status, at }));

  function serial<T>(homeId: string, fn: () => Promise<T>): Promise<T> {
    const before = queues.get(homeId) ?? Promise.resolve();
    const p = before.catch(() => undefined).then(fn);
    queues.set(homeId, p);
    void p.finally(() => { if (queues.get(homeId) === p) queues.delete(homeId); }).catch(() => undefined);
    return track(p);
  }

  async function prefsOf(contactId: string): Promise<ContactPreferences> {
    const raw = await store.getContactPreferences(contactId);
    const r = contactPreferencesSchema.safeParse(raw ?? {});
    return r.success ? r.data : {};
  }
  /**
   * A person's channels, read at each decision (a change on /account counts at once): their own order
   * first, then the tier's channels — or, outside a tier, the follow-up order where they can be reached.
   */
  async function channelsFor(contact: Contact, tier?: readonly string[]): Promise<string[]> {
    const [prefs, addresses] = await Promise.all([prefsOf(contact.id), addressesOf(store, contact)]);
    const o2: Parameters<typeof channelOrder>[0] = { own: prefs.channels, channels, addresses };
    if (tier) o2.tier = tier;
    if (o.followUpChannels) o2.fallback = o.followUpChannels;
    return channelOrder(o2);
  }

  // ── state ──
  async function load(alertId: string): Promise<{ life: AlertLifecycle; state: EscalationState } | undefined> {
    const life = await store.getAlertLifecycle(alertId);
    if (!life) return undefined;
    return { life, state: life.state as EscalationState };
  }
  async function save(life: AlertLifecycle, state: EscalationState, at: number): Promise<void> {
    await store.saveAlertLifecycle({ ...life, state, updatedAt: at }, runFences.get(life.homeId));
  }
  /** A step's save: only from the version of the row it read (compare-and-set); false when an answer wrote it since. */
  async function saveAsRead(life: AlertLifecycle, state: EscalationState, at: number): Promise<boolean> {
    const version = life.version ?? 0;
    if (!(await store.saveAlertLifecycle({ ...life, state, updatedAt: at }, runFences.get(life.homeId), { version }))) return false;
    life.version = version + 1;
    return true;
  }
  /** The leader's lifecycle for any alert of a group. */
  async function leaderOf(alertId: string): Promise<{ life: AlertLifecycle; state: EscalationState } | undefined> {
    const l = await load(alertId);
    if (!l) return undefined;
    return l.state.leader ? load(l.state.leader) : l;
  }

  // ── the engine's jobs (jobs/: durable, leased) ──
  async function setNext(alert: { id: string; homeId: string }, next: StepNext): Promise<void> {
    const id = jobId(alert.id);
    if (next.stop || next.at === undefined) { await jobs.cancel(id); return; }
    await jobs.schedule({ key: id, kind: 'escalation', homeId: alert.homeId, dueAt: next.at, payload: { alertId: alert.id } });
  }
  /** A claimed job, in the home's queue: runs it unless it was cancelled or scheduled again while it waited its turn. */
  async function runJob(claimed: Job): Promise<void> {
    if (closed) throw new Error('the escalation engine is closed'); // failed, not lost: it runs again after a restart
    const job = await jobs.get(claimed.key);
    if (!job || job.version !== claimed.version) return;
    const id = job.key;
    if (job.kind === 'clear') {
      const p = job.payload as ClearPayload;
      await jobs.cancel(id);
      const alert = await store.getAlert(p.alertId);
      if (alert && alert.status !== 'resolved') await o.settleClear?.(p.alertId, p.cleared);
      return;
    }
    if (job.kind === 'budget-summary') {
      await jobs.cancel(id);
      await budgetSummary((job.payload as { contactId: string }).contactId, job.homeId);
      return;
    }
    const alertId = (job.payload as { alertId?: string } | undefined)?.alertId ?? id.slice(4);
    await runUntilWaiting(alertId, job.homeId);
  }
  /** Runs steps while they are due now, then records the next one. */
  async function runUntilWaiting(alertId: string, homeId: string): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const next = await step(alertId);
      if (next.stop || next.at === undefined || next.at > clock.now()) { await setNext({ id: alertId, homeId }, next); return; }
    }
    log.error({ alertId }, 'escalation step did not settle; retrying in a minute');
    await setNext({ id: alertId, homeId }, { at: clock.now() + 60_000 });
  }

  // ── the send ledger and crash reconciliation (send-ledger.ts, send-reconcile.ts) ──
  const ledger = createSendLedger({
    store, logger: log, clock, channels, history: o.history, rateLimiter: o.rateLimiter, sendWaitMs: o.sendWaitMs, track,
    heldForBudget: (contactId, homeId, at) => engine.scheduleBudgetSummary(contactId, homeId, at),
    fenceOf: (homeId) => runFences.get(homeId),
    readVersionOf: readVersion,
    replyCodeOf: async (alertId) => (await engine.replyTarget(alertId)).code,
  });
  const { deliver, record } = ledger;
  const own = o.ownership;
  const reconciler = createReconciler({
    store, logger: log, clock, channels, ledger, options: rec, track,
    // In the home's queue, under the fence the home has on this node when its turn comes (none on a single hub).
    inHome: (homeId, fn) => serial(homeId, () => {
      const token = own?.tokenOf(homeId);
      const fence = token === undefined || !own ? undefined : { home: homeId, owner: own.node, token };
      return fenced(homeId, fence, () => fn(fence));
    }),
    ...(own ? { owns: (homeId: string) => own.tokenOf(homeId) !== undefined } : {}),
  });
  const texts = createEscalationTexts({ store, channels, ledger, alertLink: o.alertLink });

  // ── steps ──
  async function openMembers(state: EscalationState): Promise<Alert[]> {
    const out: Alert[] = [];
    for (const id of state.members) {
      const a = await store.getAlert(id);
      if (a && a.status !== 'resolved') out.push(a);
    }
    return out;
  }

  /** Open members whose finding has not cleared (a held clear pauses their escalation). */
  async function activeMembers(state: EscalationState): Promise<Alert[]> {
    const out: Alert[] = [];
    for (const a of await openMembers(state)) if (!(await jobs.get(clearJobId(a.id)))) out.push(a);
    return out;
  }

  /** An event's transition reads no contacts or quiet hours (only the tier walk does). */
  const noFacts: EscalationFacts = { activeAlerts: 0, contacts: [], quietHours: new Map(), timezone: 'UTC' };
  const decideEvent = (state: EscalationState, policy: PolicySnapshot, event: EscalationEvent, at: number): Decision =>
    decide(state, policy, { ...noFacts, activeAlerts: state.members.length, event }, at);

  /** Reads what a decision needs: the home's contacts, their own quiet hours, the time zone. */
  async function factsFor(homeId: string, activeAlerts: number): Promise<EscalationFacts> {
    const [contacts, home] = await Promise.all([store.listContacts(homeId), store.getHome(homeId)]);
    const quietHours = new Map<string, QuietHours | undefined>();
    for (const c of contacts) quietHours.set(c.id, (await prefsOf(c.id)).quietHours);
    return { activeAlerts, contacts, quietHours, timezone: home?.timezone ?? 'Asia/Tokyo' };
  }

  /** Carries out a decision's actions for the group's open `alerts`, in order. */
  async function perform(actions: readonly EscalationAction[], life: AlertLifecycle, state: EscalationState, alerts: Alert[], now: number, contacts: readonly Contact[] = []): Promise<void> {
    const policy = life.policy as EscalationPolicy;
    const pageTexts = new Map<number, TextFor>();
    const pageText = async (tier: number) => {
      let t = pageTexts.get(tier);
      if (!t) { t = await texts.page(policy.tiers[tier]!, alerts, state, life, now); pageTexts.set(tier, t); }
      return t;
    };
    for (const a of actions) {
      switch (a.kind) {
        case 'page': {
          const contact = contacts.find((c) => c.id === a.contactId);
          if (contact) await deliver(alerts, contact, await channelsFor(contact, a.channels), a.stage, await pageText(a.tier), a.critical);
          break;
        }
        case 'remind': {
          const contact = contacts.find((c) => c.id === a.contactId);
          if (contact) await deliver(alerts, contact, await channelsFor(contact), a.stage, await texts.reminder(alerts[0]!, life.homeId, now), false);
          break;
        }
        case 'tell-told':
          await lifecycle.tellTold(alerts, a.except, a.stage, await texts.followUp(a.message, life.homeId, a.except, state.etaAt ?? now, now));
          break;
        case 'reopen-alerts':
          for (const al of alerts) { const u = await store.updateAlertStatus(al.id, 'open', now, readVersion(life.homeId)); alertToHistory(u, now); }
          break;
        case 'audit':
          await store.audit({ at: now, actor, action: a.action, subject: life.alertId, detail: a.detail });
          if (a.log) log[a.log.level]({ alertId: life.alertId, ...a.detail }, a.log.msg);
          break;
      }
    }
  }

  /**
   * One scheduled step: decide, act, save — again while the decision is due now. Everything it does holds only
   * while the alert's lifecycle row is the version it read (`runSteps`): when a person's answer on another node
   * wrote the row meanwhile, the step stops where it is and asks to run again at once, from the row as it is now.
   */
  async function step(alertId: string): Promise<StepNext> {
    const loaded = await load(alertId);
    if (!loaded) return { stop: true };
    const { life, state } = loaded;
    if (state.leader) return { stop: true };
    runSteps.set(life.homeId, life);
    try {
      const next = await stepFrom(life, state);
      if (next) return next;
    } catch (err) {
      if (!isStale(err)) throw err;
    } finally {
      if (runSteps.get(life.homeId) === life) runSteps.delete(life.homeId);
    }
    log.info({ alertId }, 'the alert changed while its escalation step ran (an answer on another node): the step reads it again');
    return { at: clock.now() };
  }
  /** The step from the row it read; undefined when the row changed meanwhile (a save refused). */
  async function stepFrom(life: AlertLifecycle, state: EscalationState): Promise<StepNext | undefined> {
    if (state.groupPending && (await activeMembers(state)).length > 0 && !(await gather(life, state, clock.now()))) return undefined;
    const policy = life.policy as EscalationPolicy;
    let current = state;
    for (let guard = 0; guard < 100; guard++) {
      const now = clock.now();
      const alerts = await activeMembers(current);
      const facts = await factsFor(life.homeId, alerts.length);
      const { actions, next } = decide(current, policy, facts, now);
      await perform(actions, life, next.state, alerts, now, facts.contacts);
      // After the actions: a crash between them re-runs this decision, and its pages are skipped by their keys.
      if (JSON.stringify(next.state) !== JSON.stringify(current) && !(await saveAsRead(life, next.state, now))) return undefined;
      current = next.state;
      if (next.stop || next.at === undefined || next.at > now) return next.stop ? { stop: true } : { at: next.at! };
    }
    return { at: clock.now() + 60_000 };
  }

  /** The group window ended: alerts of the same home waiting for it join this escalation. */
  async function gather(life: AlertLifecycle, state: EscalationState, now: number): Promise<boolean> {
    state.groupPending = false;
    const joining: Array<{ alert: Alert; life: AlertLifecycle; state: EscalationState }> = [];
    const open = await store.listAlerts({ homeId: life.homeId, unresolved: true });
    for (const a of open.reverse()) {
      if (a.id === life.alertId || state.members.includes(a.id)) continue;
      const other = await load(a.id);
      if (!other || other.state.leader || !other.state.groupPending || other.state.phase !== 'running') continue;
      state.members.push(a.id);
      if (severityRank[a.severity] > severityRank[state.severity]) {
        state.severity = a.severity;
        const policy = life.policy as EscalationPolicy;
        state.tier = Math.min(state.tier, entryTierIndex(policy, a.severity));
      }
      state.backlog = state.backlog === true || other.state.backlog === true;
      joining.push({ alert: a, ...other });
    }
    // The leader first, from the row the step read: if an answer wrote it meanwhile, nobody has joined yet.
    if (!(await saveAsRead(life, state, now))) return false;
    for (const j of joining) {
      await save(j.life, { ...j.state, groupPending: false, leader: life.alertId, members: [] }, now);
      await setNext({ id: j.alert.id, homeId: j.alert.homeId }, { stop: true });
    }
    if (state.members.length > 1) await store.audit({ at: now, actor, action: 'escalation.group', subject: life.alertId, detail: { members: state.members } });
    return true;
  }

  // ── lifecycle (escalation-lifecycle.ts) ──
  async function groupOf(alertId: string): Promise<{ life: AlertLifecycle; state: EscalationState; alerts: Alert[] }> {
    const g = await leaderOf(alertId);
    if (!g) {
      // An alert from before escalation existed: a group of one without a policy.
      const a = await store.getAlert(alertId);
      if (!a) throw new Error(`alert ${alertId} not found`);
      const state: EscalationState = { phase: 'running', severity: a.severity, epoch: 0, tier: 0, repeat: 0, started: false, held: {}, members: [a.id], reminders: 0 };
      const life: AlertLifecycle = { alertId: a.id, homeId: a.homeId, state, policy: await o.policyFor(a.homeId), updatedAt: clock.now() };
      return { life, state, alerts: [a] };
    }
    return { ...g, alerts: await openMembers(g.state) };
  }

  /**
   * One message for everything the budget held for a person: how many were
   * held, and which of those alerts still need someone (with their codes).
   * Sent when the window allows; the held records become `summarized`.
   */
  async function budgetSummary(contactId: string, homeId: string): Promise<void> {
    const contact = (await store.listContacts(homeId)).find((c) => c.id === contactId);
    const held = await store.findNotifications({ statuses: [heldStatus], contactId });
    if (!contact || held.length === 0) return;
    const now = clock.now();
    if (!(await o.rateLimiter.take(contactId, now))) { await engine.scheduleBudgetSummary(contactId, homeId, await o.rateLimiter.nextFreeAt(contactId, now)); return; }
    const ch = (await channelsFor(contact))[0];
    if (!ch) return;
    const alertIds = [...new Set(held.map((n) => n.alertId))];
    const open = new Map<string, { code?: string; summary: string }>();
    for (const id of alertIds) {
      const a = await store.getAlert(id);
      if (!a || a.status === 'resolved') continue;
      const t = await engine.replyTarget(id);
      const f = a.finding as Partial<Finding> | undefined;
      if (!open.has(t.leader)) open.set(t.leader, { ...(t.code ? { code: t.code } : {}), summary: f?.message?.[contact.language] ?? a.message });
    }
    const text = budgetSummaryText(held.length, [...open.values()], await texts.context(homeId), contact.language);
    const lead = alertIds.at(-1)!;
    const n = await record(lead, homeId, contactId, ch, pendingStatus, now);
    for (const h of held) await store.updateNotification(h.id, { status: summarizedStatus }, now);
    let result: SendResult;
    try { result = await channels.get(ch)!.send({ to: recipientOf(contact, await addressesOf(store, contact)), text, alertId: lead }); } catch (err) { result = { status: 'failed', error: `channel error: ${(err as Error).message}` }; }
    const patch: { status: string; providerId?: string; error?: string } = { status: result.status };
    if (result.providerId) patch.providerId = result.providerId;
    if (result.error) patch.error = result.error;
    await store.updateNotification(n.id, patch, clock.now());
    await store.audit({ at: now, actor, action: 'send.budget-summary', subject: lead, detail: { contactId, held: held.length, open: open.size, channel: ch } });
    log.info({ contactId, held: held.length, open: open.size }, 'one summary for the messages the budget held');
  }

  async function cancelClear(alertId: string): Promise<void> {
    await jobs.cancel(clearJobId(alertId));
  }
  /** How often the alert's finding came back after clearing (its timeline). */
  async function flapsOf(alertId: string): Promise<number> {
    return (await store.listAudit(alertId)).filter((r) => r.action === 'alert.flap').length;
  }

  /**
   * A reply code no unresolved alert uses: a letter (no I, O, Q) and two digits, e.g. `K27` — 2,300 of them.
   * Read from the open alerts' lifecycles in one query: until session 26 every alert ever opened was read,
   * and each open one's lifecycle after it, before a new alert's first page (20,000 alerts of history: about
   * half a second; 100,000: three seconds).
   */
  async function newReplyCode(): Promise<string> {
    const inUse = new Set<string>();
    for (const life of await store.listOpenAlertLifecycles()) {
      const code = (life.state as EscalationState | undefined)?.code;
      if (code) inUse.add(code);
    }
    for (let i = 0; i < 1000; i++) {
      const code = `${codeLetters[randomInt(codeLetters.length)]}${String(randomInt(100)).padStart(2, '0')}`;
      if (!inUse.has(code)) return code;
    }
    // 2,300 codes in use at once: the reply still works without one (one alert), or asks which.
    log.error({ inUse: inUse.size }, 'no free reply code');
    return '';
  }

  const lifecycle = createAlertLifecycle({
    store, logger: log, texts, ledger, channelsFor: (c) => channelsFor(c),
    runner: {
      load, leaderOf, groupOf, openMembers, save, setNext, runUntilWaiting, decideEvent, perform, cancelClear, alertToHistory,
      policyFor: (homeId) => o.policyFor(homeId),
    },
  });

  const engine: EscalationEngine = {
    ...lifecycle,
    serial,
    toldContacts: (alertId) => ledger.toldContacts(alertId),

    async holdClear(alert, cleared, until) {
      const now = clock.now();
      const prev = await jobs.get(clearJobId(alert.id));
      const flaps = (prev?.payload as ClearPayload | undefined)?.flaps ?? (await flapsOf(alert.id));
      const payload: ClearPayload = { alertId: alert.id, cleared, since: now, flaps };
      await jobs.schedule({ key: clearJobId(alert.id), kind: 'clear', homeId: alert.homeId, dueAt: until, payload });
      await store.audit({ at: cleared.at, actor, action: 'alert.condition-cleared', subject: alert.id, detail: { home: alert.homeId, rule: alert.rule, resolvesAt: until, flaps } });
      log.info({ alertId: alert.id, resolvesAt: until }, 'finding cleared; the alert resolves when it stays clear for the flap window');
      // The escalation pauses: its next step finds no active member and stops until a re-raise.
      const g = await leaderOf(alert.id);
      if (g && (await activeMembers(g.state)).length === 0) await setNext({ id: g.life.alertId, homeId: g.life.homeId }, { stop: true });
    },

    async reraised(alert, f) {
      const job = await jobs.get(clearJobId(alert.id));
      if (!job) return false;
      const p = job.payload as ClearPayload;
      await cancelClear(alert.id);
      const now = clock.now();
      const flaps = p.flaps + 1;
      await store.audit({ at: f.at, actor, action: 'alert.flap', subject: alert.id, detail: { home: alert.homeId, rule: alert.rule, clearedAt: p.cleared.at, flaps } });
      log.info({ alertId: alert.id, flaps }, 'finding raised again within the flap window: the same alert continues, nobody is paged again');
      const g = await leaderOf(alert.id);
      if (!g) return true;
      // The tier's wait does not run while the condition was clear.
      const paused = Math.max(0, now - p.since);
      if (g.state.phase === 'running' && g.state.advanceAt !== undefined) g.state.advanceAt += paused;
      await save(g.life, g.state, now);
      await runUntilWaiting(g.life.alertId, g.life.homeId);
      return true;
    },

    async scheduleBudgetSummary(contactId, homeId, at) {
      const id = budgetJobId(contactId);
      const existing = await jobs.get(id);
      if (existing && existing.dueAt <= at) return;
      await jobs.schedule({ key: id, kind: 'budget-summary', homeId, dueAt: at, payload: { contactId } });
    },

    async replyTarget(alertId) {
      const own = await load(alertId);
      if (!own) return { leader: alertId };
      const lead = own.state.leader ? await load(own.state.leader) : own;
      const out: { leader: string; code?: string; ownCode?: string } = { leader: lead?.life.alertId ?? alertId };
      if (lead?.state.code) out.code = lead.state.code;
      if (own.state.code) out.ownCode = own.state.code;
      return out;
    },

    async start() {
      // Before any step runs again: a re-run step treats a key as sent, so its fate must be settled first.
      // Each home's sends are settled in the home's queue; a cluster node runs no home yet at its start.
      await reconciler.reconcile();
      if (own) {
        // Queued at once when the home is gained, so ahead of its jobs (the scheduler claims them after an await).
        offGained = own.onGained((home) => {
          if (closed) return;
          void reconciler.settleHome(home).catch((err: unknown) => log.error({ err, home }, 'reconciling a gained home\'s sends failed'));
        });
      }
      // From here on the scheduler runs the engine's jobs: those saved before a restart, overdue ones at once.
      for (const kind of engineJobKinds) jobs.register(kind, (job, run) => serial(job.homeId, () => fenced(job.homeId, run.fence, () => runJob(job))));
      log.info({ jobs: (await jobs.list([...engineJobKinds])).length }, 'escalation jobs taken on');
    },

    async startAlert(alert, f, now) {
      const base = await o.policyFor(alert.homeId);
      // An info finding is a gentle notice for its own audience, never an escalation.
      const policy = alert.severity === 'info' ? noticePolicy(base, f.audience) : base;
      const first = o.grouping.firstStepAt(alert.homeId, f.at, now, alert.severity);
      const state = initialState(policy, alert.severity, { alertId: alert.id, groupPending: first.at > now, backlog: first.backlog, code: await newReplyCode() });
      await store.saveAlertLifecycle({ alertId: alert.id, homeId: alert.homeId, policy, state, updatedAt: now });
      await store.audit({ at: now, actor, action: 'escalation.start', subject: alert.id, detail: { entryTier: policy.tiers[state.tier]?.name, firstStepAt: first.at, backlog: first.backlog } });
      if (first.at > now) await setNext(alert, { at: first.at });
      else {
        // The first step runs at once, its job held by this node meanwhile: a crash inside it resumes on restart.
        await jobs.runNow({ key: jobId(alert.id), kind: 'escalation', homeId: alert.homeId, payload: { alertId: alert.id } }, (run) => fenced(alert.homeId, run.fence, () => runUntilWaiting(alert.id, alert.homeId)));
      }
    },

    async receiptChanged(n, status) {
      if (!isNotReached(status)) return;
      const keys = await store.findSendKeysByNotification(n.id);
      const first = keys[0];
      if (!first) return;
      const g = await leaderOf(first.alertId);
      if (!g || g.state.phase !== 'running') return;
      await store.audit({ at: clock.now(), actor, action: 'send.not-reached', subject: first.alertId, detail: { notificationId: n.id, channel: n.channel, status } });
      // Re-running the current step is safe (keys): it moves that person on to their next channel.
      await runUntilWaiting(g.life.alertId, g.life.homeId);
    },

    async onMyWayAlerts(homeId) {
      const out: string[] = [];
      for (const a of await store.listAlerts({ homeId, status: 'acknowledged' })) {
        const l = await load(a.id);
        if (l && !l.state.leader && l.state.phase === 'on-my-way') out.push(a.id);
      }
      return out;
    },

    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },

    async close() {
      closed = true;
      offGained?.();
      reconciler.close();
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
  return engine;
}

/**
 * The policy for an info finding: one message to the finding's audience
 * (family, or the caregivers for trend observations) on the policy's
 * `noticeChannels` (default SMS, e-mail if they have no phone); quiet hours
 * hold it; nobody else is paged, nothing repeats.
 */
export function noticePolicy(base: EscalationPolicy, audience: Finding['audience']): EscalationPolicy & { notice: true } {
  const role = audience === 'caregiver' ? 'caregiver' : 'family';
  const tier = { name: role, recipients: [{ role }], channels: [...(base.noticeChannels ?? defaultNoticeChannels)], waitMinutes: 60, repeats: 0 } as EscalationPolicy['tiers'][number];
  return { ...base, tiers: [tier], entry: { info: role, warning: role, critical: role }, renotifyMax: 0, notice: true };
}
