/**
 * The escalation engine: walks an alert (or a group of alerts of one home
 * that arrived together) through the tiers of its policy snapshot until
 * someone acknowledges. Each step returns what happens next (`{ at }` or
 * `{ stop }`) instead of sleeping; the next step's time lives in the one
 * durable schedule table, and the state in the alert's lifecycle row, so a
 * restart (even kill -9) reloads the schedule and resumes where it was.
 *
 * Steps are idempotent: every message has a key (alert, epoch, tier, repeat,
 * recipient, channel) recorded BEFORE it is sent, and a send whose key
 * exists is never repeated — re-running a step after a crash sends only what
 * the crashed run had not started.
 *
 * A crash between writing a key and recording the provider's answer leaves a
 * send whose fate is unknown. For channels whose provider can be asked
 * (`Channel.findSent`: SMS and voice through Twilio), the key carries the
 * address and text, and `start()` reconciles before resuming: found at the
 * provider → recorded with its id, not sent again; not found → sent now,
 * once. Other channels (e-mail, tablet, live) stay at most once.
 */
import { randomInt } from 'node:crypto';
import type { SchedulerLike } from 'rxjs';
import type { Finding } from '../core/findings.js';
import { severityRank } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import { scheduleAt } from '../core/clock.js';
import type { Alert, AlertLifecycle, Contact, Language, NotificationRecord, SendKey, Store } from '../core/store.js';
import type { Channel, Recipient, SendResult } from './channel.js';
import { heldStatus, isFailedStatus, pendingStatus, summarizedStatus } from './delivery-status.js';
import { entryTierIndex, type EscalationPolicy, type QuietHours, type Tier } from './escalation-policy.js';
import { decide, initialState, type Decision, type EscalationAction, type EscalationEvent, type EscalationFacts, type EscalationState, type PolicySnapshot, type StepNext } from './escalation-decide.js';
import { contactPreferencesSchema, type ContactPreferences } from './contact-preferences.js';
import { addressesOf, channelOrder, recipientOf } from './contact-channels.js';
import { emergencySmsText, emergencyVoiceText, type TriedContact } from './emergency-message.js';
import type { Grouping } from './grouping.js';
import type { RateLimiter } from './rate-limit.js';
import { acknowledgedText, budgetSummaryText, groupedAlertText, onMyWayText, personName, reminderText, residentPromptText, resolvedByText, resolvedText, type AlertContext, type AlertExtras } from './templates.js';

/** Where alert and notification changes are mirrored for history (InfluxDB); fire-and-forget. */
export interface EngineHistory {
  writeAlert(a: { id: string; homeId: string; rule: string; severity: string; status: string; at: number }): void;
  writeNotification(n: { alertId: string; homeId: string; channel: string; status: string; at: number }): void;
}

export type { EscalationState, Phase, StepNext } from './escalation-decide.js';

export interface EngineOptions {
  store: Store;
  logger: Logger;
  clock: SchedulerLike;
  channels: ReadonlyMap<string, Channel>;
  history?: EngineHistory;
  policyFor(homeId: string): Promise<EscalationPolicy>;
  rateLimiter: RateLimiter;
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
}

export interface ReconcileOptions {
  /** Unsettled keys younger than this are looked up at the provider on start. */
  lookBackMs: number;
  /** A send not found at the provider is sent now only if its key is younger than this and its alert is not resolved. */
  resendWithinMs: number;
  /** Allowed clock difference between the hub and the provider when matching times. */
  skewMs: number;
  /** When the provider cannot be asked, ask again after this long (clock ms)... */
  retryMs: number;
  /** ...at most this many times; then the send stays at most once. */
  retries: number;
}

export const defaultReconcile: ReconcileOptions = { lookBackMs: 24 * 3600_000, resendWithinMs: 30 * 60_000, skewMs: 5_000, retryMs: 60_000, retries: 30 };

/** What reconciliation did with one unsettled send. */
export type ReconcileOutcome = 'found' | 'resent' | 'dropped' | 'unknown';

/** Receipt statuses that mean the person was NOT reached: failures and, for voice, a machine or no answer. */
export function isNotReached(status: string): boolean {
  return isFailedStatus(status) || ['voicemail', 'machine', 'no-answer', 'busy', 'suppressed'].includes(status);
}

const actor = 'notifier';
const codeLetters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const jobId = (alertId: string) => `esc:${alertId}`;
const clearJobId = (alertId: string) => `clear:${alertId}`;
const budgetJobId = (contactId: string) => `budget:${contactId}`;
/** The schedule rows this engine owns (digest.ts owns `digest`). */
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
  /** Schedules the budget summary for a contact at `at` (durable; one per contact). */
  scheduleBudgetSummary(contactId: string, homeId: string, at: number): Promise<void>;
  /** The alert's own reply code, and the alert that leads its escalation with the leader's code. */
  replyTarget(alertId: string): Promise<{ leader: string; code?: string; ownCode?: string }>;
  /** Runs `fn` in the home's queue (one change at a time per home). */
  serial<T>(homeId: string, fn: () => Promise<T>): Promise<T>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the engine; call `start()` to reload and arm the durable schedule. */
export function createEscalationEngine(o: EngineOptions): EscalationEngine {
  const { store, clock, channels } = o;
  const log = o.logger;
  const armed = new Map<string, () => void>();
  const inflight = new Set<Promise<unknown>>();
  const queues = new Map<string, Promise<unknown>>();
  const rec: ReconcileOptions = { ...defaultReconcile, ...o.reconcile };
  let closed = false;

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

  async function context(homeId: string): Promise<AlertContext> {
    const [home, residents] = await Promise.all([store.getHome(homeId), store.listResidents(homeId)]);
    return { residentNames: residents.map((r) => r.name), homeName: home?.name ?? homeId, timezone: home?.timezone ?? 'Asia/Tokyo' };
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
    await store.saveAlertLifecycle({ ...life, state, updatedAt: at });
  }
  /** The leader's lifecycle for any alert of a group. */
  async function leaderOf(alertId: string): Promise<{ life: AlertLifecycle; state: EscalationState } | undefined> {
    const l = await load(alertId);
    if (!l) return undefined;
    return l.state.leader ? load(l.state.leader) : l;
  }

  // ── the durable schedule ──
  async function setNext(alert: { id: string; homeId: string }, next: StepNext): Promise<void> {
    const id = jobId(alert.id);
    if (next.stop || next.at === undefined) {
      armed.get(id)?.();
      armed.delete(id);
      await store.cancelJob(id);
      return;
    }
    await store.scheduleJob({ id, kind: 'escalation', subject: alert.homeId, dueAt: next.at, payload: { alertId: alert.id } });
    arm(id, alert.homeId, next.at);
  }
  function arm(id: string, homeId: string, at: number): void {
    armed.get(id)?.();
    if (closed) return;
    armed.set(id, scheduleAt(clock, at, () => {
      armed.delete(id);
      void serial(homeId, () => runJob(id)).catch((err: unknown) => log.error({ err, job: id }, 'escalation step failed'));
    }));
  }
  async function runJob(id: string): Promise<void> {
    const job = await store.getJob(id);
    if (!job || closed) return;
    if (job.dueAt > clock.now()) { arm(id, job.subject, job.dueAt); return; }
    if (job.kind === 'clear') {
      const p = job.payload as ClearPayload;
      await store.cancelJob(id);
      const alert = await store.getAlert(p.alertId);
      if (alert && alert.status !== 'resolved') await o.settleClear?.(p.alertId, p.cleared);
      return;
    }
    if (job.kind === 'budget-summary') {
      await store.cancelJob(id);
      await budgetSummary((job.payload as { contactId: string }).contactId, job.subject);
      return;
    }
    const alertId = (job.payload as { alertId?: string } | undefined)?.alertId ?? id.slice(4);
    await runUntilWaiting(alertId, job.subject);
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

  // ── sending ──
  const keyOf = (alertId: string, stage: string, contactId: string, ch: string) => `${alertId}:${stage}:${contactId}:${ch}`;

  async function record(alertId: string, homeId: string, contactId: string | undefined, channel: string, status: string, at: number, error?: string): Promise<NotificationRecord> {
    const rec: Omit<NotificationRecord, 'id' | 'updatedAt'> = { alertId, channel, status, createdAt: at };
    if (contactId) rec.contactId = contactId;
    if (error) rec.error = error;
    const n = await store.recordNotification(rec);
    safeHistory((h) => h.writeNotification({ alertId, homeId, channel, status, at }));
    return n;
  }

  /** Sends once per key set; returns the outcome. Waits for the channel at most `sendWaitMs` of real time. */
  async function sendOnce(a: { alerts: Alert[]; contact: Contact; channel: string; stage: string; text: string; criticalPage: boolean }): Promise<'sent' | 'failed' | 'skipped' | 'limited'> {
    const first = a.alerts[0];
    if (!first) return 'skipped';
    const ch = channels.get(a.channel);
    if (!ch) { log.warn({ alertId: first.id, channel: a.channel }, 'policy names a channel the hub does not have; trying the next'); return 'failed'; }
    const at = clock.now();
    // For a provider that can be asked later, the key carries what is handed over (same transaction): reconcilable.
    const address = ch.findSent ? a.contact.phone?.replace(/[\s-]/g, '') : undefined;
    const intent = address ? { recipient: address, body: a.text } : {};
    const keys = a.alerts.map((al) => ({ key: keyOf(al.id, a.stage, a.contact.id, a.channel), alertId: al.id, contactId: a.contact.id, channel: a.channel, createdAt: at, ...intent }));
    // Decided before the keys are claimed, so this send's own keys do not count as an earlier page.
    const force = a.criticalPage && !(await pagedThisRound(first.id, a.contact.id, a.stage));
    const claimed = await store.claimSendKeys(keys);
    if (claimed.length === 0) return 'skipped';
    if (!o.rateLimiter.take(a.contact.id, at, { force })) {
      // Over the person's budget: held (never dropped) and told in one summary when the window allows.
      const n = await record(first.id, first.homeId, a.contact.id, a.channel, heldStatus, at, 'message budget');
      await store.attachSendKeys(claimed, n.id);
      const summaryAt = o.rateLimiter.nextFreeAt(a.contact.id, at);
      await store.audit({ at, actor, action: 'send.held', subject: first.id, detail: { contactId: a.contact.id, channel: a.channel, stage: a.stage, summaryAt } });
      log.warn({ alertId: first.id, contactId: a.contact.id }, 'message held by the per-person budget; a summary follows');
      await engine.scheduleBudgetSummary(a.contact.id, first.homeId, summaryAt);
      return 'limited';
    }
    const n = await record(first.id, first.homeId, a.contact.id, a.channel, pendingStatus, at);
    await store.attachSendKeys(claimed, n.id);
    const to = recipientOf(a.contact, await addressesOf(store, a.contact));
    // A page (a tier's message, stage epoch:tier:repeat) carries the reply code for answer buttons (LINE, push).
    const replyCode = /^\d+:\d+:\d+$/.test(a.stage) ? (await engine.replyTarget(first.id)).code : undefined;
    const sending = (async (): Promise<SendResult> => {
      let result: SendResult;
      try { result = await ch.send({ to, text: a.text, alertId: first.id, ...(replyCode ? { replyCode } : {}) }); } catch (err) { result = { status: 'failed', error: `channel error: ${(err as Error).message}` }; }
      const patch: { status: string; providerId?: string; error?: string } = { status: result.status };
      if (result.providerId) patch.providerId = result.providerId;
      if (result.error) patch.error = result.error;
      const done = clock.now();
      await store.updateNotification(n.id, patch, done);
      safeHistory((h) => h.writeNotification({ alertId: first.id, homeId: first.homeId, channel: a.channel, status: result.status, at: done }));
      if (result.status === 'failed') log.warn({ notificationId: n.id, alertId: first.id, channel: a.channel, error: result.error }, 'notification failed');
      return result;
    })();
    track(sending);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const budget = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), o.sendWaitMs); timer.unref(); });
    const result = await Promise.race([sending, budget]);
    clearTimeout(timer);
    return result?.status === 'failed' ? 'failed' : 'sent';
  }

  /** Whether this round (epoch) of the alert already paged the person with a message that was not lost or held. */
  async function pagedThisRound(alertId: string, contactId: string, stage: string): Promise<boolean> {
    const epoch = stage.split(':')[0];
    const keys = (await store.listSendKeys(alertId)).filter((k) => k.contactId === contactId && k.key.startsWith(`${alertId}:${epoch}:`));
    if (keys.length === 0) return false;
    const notes = new Map((await store.listNotifications(alertId)).map((n) => [n.id, n.status]));
    return keys.some((k) => {
      const st = k.notificationId ? notes.get(k.notificationId) : undefined;
      return st === undefined || (!isNotReached(st) && st !== heldStatus);
    });
  }

  /** The outcome of the keys of a stage for one channel: unknown when not all were claimed. */
  async function outcome(keys: SendKey[]): Promise<'none' | 'failed' | 'ok'> {
    if (keys.length === 0) return 'none';
    const nid = keys[0]?.notificationId;
    // Claimed but never recorded: the process died between the two. Never repeated here (the key
    // exists); start() has already reconciled it with the provider where the channel can be asked.
    if (!nid) return 'ok';
    const n = (await store.listNotifications(keys[0]!.alertId)).find((x) => x.id === nid);
    return n && isNotReached(n.status) ? 'failed' : 'ok';
  }

  /** Tries a person's channels in order until one is not known to have failed. */
  /** `criticalPage`: a page (a tier's message) of a critical alert, which the budget may not hold if it is the round's first to this person. */
  async function deliver(alerts: Alert[], contact: Contact, chans: string[], stage: string, textFor: (lang: Language, channel: string) => string, criticalPage: boolean): Promise<void> {
    const lead = alerts[0];
    if (!lead) return;
    const existing = await store.listSendKeys(lead.id);
    for (const ch of chans) {
      const mine = existing.filter((k) => k.key === keyOf(lead.id, stage, contact.id, ch));
      const state = await outcome(mine);
      if (state === 'ok') return;
      if (state === 'failed') continue;
      const r = await sendOnce({ alerts, contact, channel: ch, stage, text: textFor(contact.language, ch), criticalPage });
      if (r === 'sent' || r === 'skipped' || r === 'limited') return;
    }
  }

  // ── reconciliation after a crash inside the send window ──
  /** Keys of one send share its notification, or (none recorded yet) their time, person, channel and text. */
  const sendIdOf = (k: SendKey) => k.notificationId ?? JSON.stringify([k.createdAt, k.contactId ?? '', k.channel, k.recipient ?? '', k.body ?? '']);

  /** Settles one send a crash left without an outcome: found at the provider, sent now (once), or dropped. */
  async function reconcileSend(keys: SendKey[]): Promise<ReconcileOutcome> {
    const k = keys[0];
    const ch = k ? channels.get(k.channel) : undefined;
    if (!k?.recipient || k.body === undefined || !ch?.findSent) return 'unknown';
    const alert = await store.getAlert(k.alertId);
    if (!alert) return 'unknown';
    const now = clock.now();
    let match: Awaited<ReturnType<NonNullable<Channel['findSent']>>>;
    try {
      match = await ch.findSent({
        to: k.recipient, text: k.body, after: k.createdAt - rec.skewMs,
        taken: async (providerId) => (await store.findNotificationByProviderId(providerId)) !== undefined,
      });
    } catch (err) {
      log.warn({ alertId: alert.id, channel: k.channel, error: (err as Error).message }, 'cannot ask the provider about a send interrupted by a restart; will ask again');
      await store.audit({ at: now, actor, action: 'send.reconcile', subject: alert.id, detail: { channel: k.channel, contactId: k.contactId, outcome: 'unknown', keys: keys.length } });
      return 'unknown';
    }
    // The send may have died before its notification was written: write it now, for the keys' outcome.
    let n = k.notificationId ? (await store.listNotifications(alert.id)).find((x) => x.id === k.notificationId) : undefined;
    if (!n) {
      n = await record(alert.id, alert.homeId, k.contactId, k.channel, pendingStatus, k.createdAt);
      await store.attachSendKeys(keys.map((x) => x.key), n.id);
    }
    const finish = async (outcome: ReconcileOutcome, patch: { status: string; providerId?: string; error?: string }): Promise<ReconcileOutcome> => {
      const done = clock.now();
      await store.updateNotification(n.id, patch, done);
      safeHistory((h) => h.writeNotification({ alertId: alert.id, homeId: alert.homeId, channel: k.channel, status: patch.status, at: done }));
      await store.audit({ at: done, actor, action: 'send.reconcile', subject: alert.id, detail: { notificationId: n.id, channel: k.channel, contactId: k.contactId, outcome, providerId: patch.providerId, status: patch.status, keys: keys.length } });
      log.info({ notificationId: n.id, alertId: alert.id, channel: k.channel, outcome, providerId: patch.providerId, status: patch.status }, 'send interrupted by a restart reconciled with the provider');
      return outcome;
    };
    if (match) {
      const patch: { status: string; providerId: string; error?: string } = { status: match.status, providerId: match.providerId };
      if (match.error) patch.error = match.error;
      return finish('found', patch);
    }
    if (alert.status === 'resolved' || now - k.createdAt > rec.resendWithinMs) {
      return finish('dropped', { status: 'failed', error: alert.status === 'resolved' ? 'lost in a restart; alert already resolved' : 'lost in a restart; too old to send' });
    }
    const contact = k.contactId ? (await store.listContacts(alert.homeId)).find((c) => c.id === k.contactId) : undefined;
    // The address and text exactly as first handed over, so a second lookup (another crash) still matches.
    const to: Recipient = { language: contact?.language ?? 'ja', phone: k.recipient };
    if (contact) { to.id = contact.id; to.name = contact.name; to.homeId = contact.homeId; }
    let result: SendResult;
    try { result = await ch.send({ to, text: k.body, alertId: alert.id }); } catch (err) { result = { status: 'failed', error: `channel error: ${(err as Error).message}` }; }
    const patch: { status: string; providerId?: string; error?: string } = { status: result.status };
    if (result.providerId) patch.providerId = result.providerId;
    if (result.error) patch.error = result.error;
    return finish('resent', patch);
  }

  /** Reconciles every unsettled send; those the provider could not be asked about are tried again later. */
  async function reconcile(attempt: number): Promise<Map<string, ReconcileOutcome>> {
    const keys = await store.listUnsettledSendKeys(clock.now() - rec.lookBackMs);
    const sends = new Map<string, SendKey[]>();
    for (const k of keys) { const id = sendIdOf(k); sends.set(id, [...(sends.get(id) ?? []), k]); }
    const out = new Map<string, ReconcileOutcome>();
    for (const [id, group] of sends) {
      try { out.set(id, await reconcileSend(group)); } catch (err) { log.error({ err, alertId: group[0]?.alertId }, 'reconciling a send failed'); out.set(id, 'unknown'); }
    }
    if ([...out.values()].includes('unknown') && attempt < rec.retries && !closed) {
      armed.get('reconcile')?.();
      armed.set('reconcile', scheduleAt(clock, clock.now() + rec.retryMs, () => {
        armed.delete('reconcile');
        void track(reconcile(attempt + 1)).catch((err: unknown) => log.error({ err }, 'reconciliation failed'));
      }));
    }
    if (sends.size > 0) log.info({ sends: sends.size, attempt, found: count(out, 'found'), resent: count(out, 'resent'), dropped: count(out, 'dropped'), unknown: count(out, 'unknown') }, 'sends interrupted by a restart reconciled');
    return out;
  }
  const count = (m: Map<string, ReconcileOutcome>, v: ReconcileOutcome) => [...m.values()].filter((x) => x === v).length;

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
    for (const a of await openMembers(state)) if (!(await store.getJob(clearJobId(a.id)))) out.push(a);
    return out;
  }

  /** An event's transition reads no contacts or quiet hours (only the tier walk does). */
  const noFacts: EscalationFacts = { activeAlerts: 0, contacts: [], quietHours: new Map(), timezone: 'UTC' };
  const decideEvent = (state: EscalationState, policy: PolicySnapshot, event: EscalationEvent, at: number): Decision =>
    decide(state, policy, { ...noFacts, activeAlerts: state.members.length, event }, at);

  /** Reads what a decision needs: the home's contacts, their own quiet hours, the time zone. */
  async function factsFor(homeId: string, activeAlerts: number, event?: EscalationEvent): Promise<EscalationFacts> {
    const [contacts, home] = await Promise.all([store.listContacts(homeId), store.getHome(homeId)]);
    const quietHours = new Map<string, QuietHours | undefined>();
    for (const c of contacts) quietHours.set(c.id, (await prefsOf(c.id)).quietHours);
    const f: EscalationFacts = { activeAlerts, contacts, quietHours, timezone: home?.timezone ?? 'Asia/Tokyo' };
    if (event) f.event = event;
    return f;
  }

  /** Carries out a decision's actions for the group's open `alerts`, in order. */
  async function perform(actions: readonly EscalationAction[], life: AlertLifecycle, state: EscalationState, policy: EscalationPolicy, facts: EscalationFacts, alerts: Alert[], now: number): Promise<void> {
    const texts = new Map<number, (lang: Language, channel: string) => string>();
    const textOf = async (tier: number) => {
      let t = texts.get(tier);
      if (!t) { t = await textsFor(policy.tiers[tier]!, alerts, state, life, now); texts.set(tier, t); }
      return t;
    };
    for (const a of actions) {
      switch (a.kind) {
        case 'page': {
          const contact = facts.contacts.find((c) => c.id === a.contactId);
          if (contact) await deliver(alerts, contact, await channelsFor(contact, a.channels), a.stage, await textOf(a.tier), a.critical);
          break;
        }
        case 'remind': {
          const contact = facts.contacts.find((c) => c.id === a.contactId);
          if (!contact) break;
          const ctx = await context(life.homeId);
          const f = alerts[0]!.finding as Finding;
          await deliver(alerts, contact, await channelsFor(contact), a.stage, (lang) => reminderText(f, ctx, now, lang), false);
          break;
        }
        case 'tell-told': {
          const ctx = await context(life.homeId);
          const names = { ja: await nameOf(life.homeId, a.except, 'ja'), en: await nameOf(life.homeId, a.except, 'en') };
          const eta = state.etaAt ?? now;
          await tellTold(alerts, a.except, a.stage, (lang) => (a.message === 'on-my-way' ? onMyWayText(names[lang], eta, ctx, now, lang) : acknowledgedText(names[lang], ctx, now, lang)));
          break;
        }
        case 'reopen-alerts':
          for (const al of alerts) { const u = await store.updateAlertStatus(al.id, 'open', now); alertToHistory(u, now); }
          break;
        case 'audit':
          await store.audit({ at: now, actor, action: a.action, subject: life.alertId, detail: a.detail });
          if (a.log) log[a.log.level]({ alertId: life.alertId, ...a.detail }, a.log.msg);
          break;
      }
    }
  }

  /** One scheduled step: decide, act, save — again while the decision is due now. */
  async function step(alertId: string): Promise<StepNext> {
    const loaded = await load(alertId);
    if (!loaded) return { stop: true };
    const { life, state } = loaded;
    if (state.leader) return { stop: true };
    if (state.groupPending && (await activeMembers(state)).length > 0) await gather(life, state, clock.now());
    const policy = life.policy as EscalationPolicy;
    let current = state;
    for (let guard = 0; guard < 100; guard++) {
      const now = clock.now();
      const alerts = await activeMembers(current);
      const facts = await factsFor(life.homeId, alerts.length);
      const { actions, next } = decide(current, policy, facts, now);
      await perform(actions, life, next.state, policy, facts, alerts, now);
      // After the actions: a crash between them re-runs this decision, and its pages are skipped by their keys.
      if (JSON.stringify(next.state) !== JSON.stringify(current)) await save(life, next.state, now);
      current = next.state;
      if (next.stop || next.at === undefined || next.at > now) return next.stop ? { stop: true } : { at: next.at! };
    }
    return { at: clock.now() + 60_000 };
  }

  /** The group window ended: alerts of the same home waiting for it join this escalation. */
  async function gather(life: AlertLifecycle, state: EscalationState, now: number): Promise<void> {
    state.groupPending = false;
    const open = await store.listAlerts({ homeId: life.homeId });
    for (const a of open.reverse()) {
      if (a.id === life.alertId || a.status === 'resolved' || state.members.includes(a.id)) continue;
      const other = await load(a.id);
      if (!other || other.state.leader || !other.state.groupPending || other.state.phase !== 'running') continue;
      state.members.push(a.id);
      if (severityRank[a.severity] > severityRank[state.severity]) {
        state.severity = a.severity;
        const policy = life.policy as EscalationPolicy;
        state.tier = Math.min(state.tier, entryTierIndex(policy, a.severity));
      }
      state.backlog = state.backlog === true || other.state.backlog === true;
      await save(other.life, { ...other.state, groupPending: false, leader: life.alertId, members: [] }, now);
      await setNext({ id: a.id, homeId: a.homeId }, { stop: true });
    }
    if (state.members.length > 1) await store.audit({ at: now, actor, action: 'escalation.group', subject: life.alertId, detail: { members: state.members } });
    await save(life, state, now);
  }

  async function tried(alertId: string, contacts: Contact[]): Promise<TriedContact[]> {
    const keys = await store.listSendKeys(alertId);
    const notes = new Map((await store.listNotifications(alertId)).map((n) => [n.id, n]));
    const out: TriedContact[] = [];
    for (const k of keys) {
      const c = contacts.find((x) => x.id === k.contactId);
      if (!c || c.role === 'emergency') continue;
      const n = k.notificationId ? notes.get(k.notificationId) : undefined;
      out.push({ name: c.name, role: c.role, channel: k.channel, outcome: !n ? 'pending' : isNotReached(n.status) ? 'not reached' : n.status === pendingStatus ? 'pending' : 'reached' });
    }
    return out;
  }

  async function textsFor(tier: Tier, alerts: Alert[], state: EscalationState, life: AlertLifecycle, now: number): Promise<(lang: Language, channel: string) => string> {
    const findings = alerts.map((a) => a.finding as Finding);
    if (tier.name === 'resident') return (lang) => residentPromptText(lang);
    const ctx = await context(life.homeId);
    if (tier.name === 'emergency') {
      const [home, residents, contacts] = await Promise.all([store.getHome(life.homeId), store.listResidents(life.homeId), store.listContacts(life.homeId)]);
      const facts = { home: home ?? { id: life.homeId, name: life.homeId, timezone: ctx.timezone, createdAt: 0 }, residents, finding: findings[0]!, since: Math.min(...alerts.map((a) => a.openedAt)), tried: await tried(alerts[0]!.id, contacts), at: now };
      return (lang, channel) => (channel === 'voice' ? emergencyVoiceText(facts, lang) : emergencySmsText(facts, lang));
    }
    const extra: AlertExtras = {};
    if (state.code) extra.code = state.code;
    const link = o.alertLink?.(life.alertId);
    if (link) extra.link = link;
    return (lang) => groupedAlertText(findings, ctx, lang, state.backlog === true, extra);
  }

  // ── lifecycle operations ──
  async function toldContacts(alertId: string): Promise<string[]> {
    const keys = await store.listSendKeys(alertId);
    const notes = new Map((await store.listNotifications()).map((n) => [n.id, n]));
    const ids: string[] = [];
    for (const k of keys) {
      if (!k.contactId || ids.includes(k.contactId)) continue;
      const n = k.notificationId ? notes.get(k.notificationId) : undefined;
      if (n && isNotReached(n.status)) continue;
      ids.push(k.contactId);
    }
    return ids;
  }

  /** Tells everyone already told (but `except`), each in their language, on the channel that reached them. */
  async function tellTold(alerts: Alert[], except: string | undefined, stage: string, text: (lang: Language) => string): Promise<number> {
    const lead = alerts[0];
    if (!lead) return 0;
    const ids = new Set<string>();
    for (const a of alerts) for (const id of await toldContacts(a.id)) ids.add(id);
    const contacts = await store.listContacts(lead.homeId);
    let n = 0;
    for (const c of contacts) {
      if (!ids.has(c.id) || c.id === except || c.role === 'resident') continue;
      await deliver(alerts, c, await channelsFor(c), stage, text, false);
      n += 1;
    }
    return n;
  }

  async function nameOf(homeId: string, contactId: string | undefined, lang: Language): Promise<string> {
    if (!contactId) return personName(undefined, lang);
    // A web account acting from the dashboards (see responder-impl.ts accountActor).
    if (contactId.startsWith('account:')) return personName((await store.getAccount(contactId.slice('account:'.length)))?.name, lang);
    const c = (await store.listContacts(homeId)).find((x) => x.id === contactId);
    return personName(c?.name, lang, c?.role === 'resident');
  }

  async function setStatus(alerts: Alert[], status: Alert['status'], at: number): Promise<Alert[]> {
    const out: Alert[] = [];
    for (const a of alerts) { const u = await store.updateAlertStatus(a.id, status, at); alertToHistory(u, at); out.push(u); }
    return out;
  }

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
    const held = (await store.listNotifications()).filter((n) => n.contactId === contactId && n.status === heldStatus);
    if (!contact || held.length === 0) return;
    const now = clock.now();
    if (!o.rateLimiter.take(contactId, now)) { await engine.scheduleBudgetSummary(contactId, homeId, o.rateLimiter.nextFreeAt(contactId, now)); return; }
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
    const text = budgetSummaryText(held.length, [...open.values()], await context(homeId), contact.language);
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
    const id = clearJobId(alertId);
    armed.get(id)?.();
    armed.delete(id);
    await store.cancelJob(id);
  }
  /** How often the alert's finding came back after clearing (its timeline). */
  async function flapsOf(alertId: string): Promise<number> {
    return (await store.listAudit(alertId)).filter((r) => r.action === 'alert.flap').length;
  }

  /** A reply code no unresolved alert uses: a letter (no I, O, Q) and two digits, e.g. `K27` — 2,300 of them. */
  async function newReplyCode(): Promise<string> {
    const inUse = new Set<string>();
    for (const a of await store.listAlerts()) {
      if (a.status === 'resolved') continue;
      const code = (await load(a.id))?.state.code;
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

  const engine: EscalationEngine = {
    serial,
    toldContacts,

    async holdClear(alert, cleared, until) {
      const now = clock.now();
      const prev = await store.getJob(clearJobId(alert.id));
      const flaps = (prev?.payload as ClearPayload | undefined)?.flaps ?? (await flapsOf(alert.id));
      const payload: ClearPayload = { alertId: alert.id, cleared, since: now, flaps };
      await store.scheduleJob({ id: clearJobId(alert.id), kind: 'clear', subject: alert.homeId, dueAt: until, payload });
      arm(clearJobId(alert.id), alert.homeId, until);
      await store.audit({ at: cleared.at, actor, action: 'alert.condition-cleared', subject: alert.id, detail: { home: alert.homeId, rule: alert.rule, resolvesAt: until, flaps } });
      log.info({ alertId: alert.id, resolvesAt: until }, 'finding cleared; the alert resolves when it stays clear for the flap window');
      // The escalation pauses: its next step finds no active member and stops until a re-raise.
      const g = await leaderOf(alert.id);
      if (g && (await activeMembers(g.state)).length === 0) await setNext({ id: g.life.alertId, homeId: g.life.homeId }, { stop: true });
    },

    async reraised(alert, f) {
      const job = await store.getJob(clearJobId(alert.id));
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
      const existing = await store.getJob(id);
      if (existing && existing.dueAt <= at) return;
      await store.scheduleJob({ id, kind: 'budget-summary', subject: homeId, dueAt: at, payload: { contactId } });
      arm(id, homeId, at);
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
      await reconcile(0);
      for (const job of await store.listJobs()) if (engineJobKinds.has(job.kind)) arm(job.id, job.subject, job.dueAt);
      log.info({ jobs: armed.size }, 'escalation schedule reloaded');
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
        // The first step runs at once; its job row (not armed) makes a crash inside it resume on restart.
        await store.scheduleJob({ id: jobId(alert.id), kind: 'escalation', subject: alert.homeId, dueAt: now, payload: { alertId: alert.id } });
        await runUntilWaiting(alert.id, alert.homeId);
      }
    },

    async severityRaised(alert, f, now) {
      const g = await leaderOf(alert.id);
      if (!g) return;
      const { life, state } = g;
      const policy = life.policy as PolicySnapshot;
      const event: EscalationEvent = { kind: 'severity-raised', severity: alert.severity, rule: f.rule };
      if (policy.notice) event.homePolicy = await o.policyFor(life.homeId);
      const d = decideEvent(state, policy, event, now);
      if (d.actions.length === 0) return;
      await perform(d.actions, life, d.next.state, policy, noFacts, [], now);
      if (d.next.policy) life.policy = d.next.policy;
      await save(life, d.next.state, now);
      if (d.next.at !== undefined) await runUntilWaiting(life.alertId, life.homeId);
    },

    async reopen(alert, f, now) {
      const g = await leaderOf(alert.id);
      await setStatus([alert], 'open', now);
      await store.audit({ at: now, actor, action: 'alert.reopen', subject: alert.id, detail: { rule: f.rule, reason: 'happened again after it was acknowledged', phase: g?.state.phase } });
      if (!g) return;
      const d = decideEvent(g.state, g.life.policy as EscalationPolicy, { kind: 'reopened', severity: alert.severity }, now);
      await save(g.life, d.next.state, now);
      await runUntilWaiting(g.life.alertId, g.life.homeId);
    },

    async acknowledge(alertId, contactId, via, at) {
      const { life, state, alerts } = await groupOf(alertId);
      const acked = await setStatus(alerts, 'acknowledged', at);
      const d = decideEvent(state, life.policy as EscalationPolicy, { kind: 'acknowledged', ...(contactId !== undefined ? { contactId } : {}) }, at);
      const l: AlertLifecycle = { ...life, acknowledgedVia: via, acknowledgedAt: at };
      if (contactId) l.acknowledgedBy = contactId;
      await save(l, d.next.state, at);
      for (const a of alerts) {
        if (a.id !== life.alertId) { const m = await load(a.id); if (m) await store.saveAlertLifecycle({ ...m.life, ...(contactId ? { acknowledgedBy: contactId } : {}), acknowledgedVia: via, acknowledgedAt: at, updatedAt: at }); }
        await store.audit({ at, actor: contactId ?? via, action: 'alert.acknowledge', subject: a.id, detail: { via, contactId } });
      }
      await perform(d.actions, l, d.next.state, l.policy as EscalationPolicy, noFacts, alerts, at);
      log.info({ alertId: life.alertId, via }, 'alert acknowledged; escalation stopped');
      await setNext({ id: life.alertId, homeId: life.homeId }, d.next);
      return acked.find((a) => a.id === alertId) ?? acked[0]!;
    },

    async onMyWay(alertId, contactId, via, etaMinutes, at) {
      const { life, state, alerts } = await groupOf(alertId);
      const acked = await setStatus(alerts, 'acknowledged', at);
      const event: EscalationEvent = { kind: 'on-my-way' };
      if (contactId !== undefined) event.contactId = contactId;
      if (etaMinutes !== undefined) event.etaMinutes = etaMinutes;
      const d = decideEvent(state, life.policy as EscalationPolicy, event, at);
      const l: AlertLifecycle = { ...life, acknowledgedVia: life.acknowledgedVia ?? via, acknowledgedAt: life.acknowledgedAt ?? at };
      if (contactId && !l.acknowledgedBy) l.acknowledgedBy = contactId;
      await save(l, d.next.state, at);
      for (const a of alerts) await store.audit({ at, actor: contactId ?? via, action: 'alert.on-my-way', subject: a.id, detail: { via, contactId, etaAt: d.next.state.etaAt } });
      await perform(d.actions, l, d.next.state, l.policy as EscalationPolicy, noFacts, alerts, at);
      await setNext({ id: life.alertId, homeId: life.homeId }, d.next);
      return acked.find((a) => a.id === alertId) ?? acked[0]!;
    },

    async arrived(alertId, contactId, via, at) {
      const { life, state, alerts } = await groupOf(alertId);
      const acked = alerts.some((a) => a.status === 'open') ? await setStatus(alerts, 'acknowledged', at) : alerts;
      const d = decideEvent(state, life.policy as EscalationPolicy, { kind: 'arrived', ...(contactId !== undefined ? { contactId } : {}) }, at);
      const l: AlertLifecycle = { ...life, acknowledgedVia: life.acknowledgedVia ?? via, acknowledgedAt: life.acknowledgedAt ?? at };
      if (contactId && !l.acknowledgedBy) l.acknowledgedBy = contactId;
      await save(l, d.next.state, at);
      for (const a of alerts) await store.audit({ at, actor: contactId ?? via, action: 'alert.arrived', subject: a.id, detail: { via, contactId } });
      await setNext({ id: life.alertId, homeId: life.homeId }, d.next);
      return acked.find((a) => a.id === alertId) ?? acked[0]!;
    },

    async resolve(alertId, by, at) {
      const g = await groupOf(alertId);
      const alert = await store.getAlert(alertId);
      if (!alert) throw new Error(`alert ${alertId} not found`);
      const [resolved] = await setStatus([alert], 'resolved', at);
      await cancelClear(alertId);
      const own = await load(alertId);
      const l: AlertLifecycle = own?.life ?? { alertId, homeId: alert.homeId, state: g.state, updatedAt: at };
      l.resolvedVia = by.via;
      if (by.contactId) l.resolvedBy = by.contactId;
      if (by.note) l.resolutionNote = by.note;
      await store.saveAlertLifecycle({ ...l, updatedAt: at });
      await store.audit({ at, actor: by.contactId ?? (by.cleared ? actor : by.via), action: 'alert.resolve', subject: alertId, detail: { via: by.via, contactId: by.contactId, note: by.note, reason: by.cleared ? 'condition cleared' : 'resolved by a person' } });
      const ctx = await context(alert.homeId);
      let followUps = 0;
      if (by.cleared) {
        const cleared = by.cleared;
        followUps = await tellTold([alert], undefined, 'resolved', (lang) => resolvedText(cleared, ctx, lang));
      } else {
        const names = { ja: await nameOf(alert.homeId, by.contactId, 'ja'), en: await nameOf(alert.homeId, by.contactId, 'en') };
        followUps = await tellTold([alert], by.contactId, 'resolved', (lang) => resolvedByText(names[lang], by.note, ctx, at, lang));
      }
      const d = decideEvent(g.state, g.life.policy as EscalationPolicy, { kind: 'resolved', openLeft: (await openMembers(g.state)).length }, at);
      if (d.next.stop) {
        const fresh = (await store.getAlertLifecycle(g.life.alertId)) ?? g.life;
        await save(fresh, d.next.state, at);
        await setNext({ id: g.life.alertId, homeId: g.life.homeId }, d.next);
      }
      return { alert: resolved!, followUps };
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
      for (const cancel of armed.values()) cancel();
      armed.clear();
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
  return engine;
}

/**
 * The policy for an info finding: one message to the finding's audience
 * (family, or the caregivers for trend observations) by SMS, e-mail if they
 * have no phone; quiet hours hold it; nobody else is paged, nothing repeats.
 */
export function noticePolicy(base: EscalationPolicy, audience: Finding['audience']): EscalationPolicy & { notice: true } {
  const role = audience === 'caregiver' ? 'caregiver' : 'family';
  const tier = { name: role, recipients: [{ role }], channels: ['sms', 'email'], waitMinutes: 60, repeats: 0 } as EscalationPolicy['tiers'][number];
  return { ...base, tiers: [tier], entry: { info: role, warning: role, critical: role }, renotifyMax: 0, notice: true };
}
