/**
 * The notifier's front door: turns findings into alerts and alerts into
 * messages. A raised finding opens an alert (one open alert per home and
 * rule; a repeat only counts, unless its severity rises) and a family alert
 * is escalated (escalation-engine.ts) through the home's policy tiers —
 * resident, family, caregivers, emergency — until someone acknowledges
 * (responder-impl.ts). Device health goes to the operator and never to the
 * family. A cleared finding resolves the alert with a calm follow-up to
 * whoever was told. Every change writes an audit record and an InfluxDB
 * point; jobs (the one durable scheduler, jobs/) and state resume after a
 * restart. Daily digests run on the same scheduler (digest.ts).
 */
import type { SchedulerLike } from 'rxjs';
import type { Finding } from '../core/findings.js';
import { severityRank } from '../core/findings.js';
import type { Reading } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Alert, HeldReceipt, Language, NotificationRecord, Store } from '../core/store.js';
import { scheduleEvery } from '../core/clock.js';
import { MimamoriError } from '../core/errors.js';
import { createJobScheduler, type HomeOwnership, type JobScheduler } from '../jobs/index.js';
import type { Channel, DeliveryReceipt, ReceiptRequest, ReceiptResult, SendResult } from './channel.js';
import { advancesStatus, isFailedStatus, pendingStatus } from './delivery-status.js';
import { operatorText } from './templates.js';
import { createEscalationEngine, isNotReached, type EscalationEngine, type ReconcileOptions } from './escalation-engine.js';
import { defaultEscalationPolicy, escalationPolicySchema, validateEscalationPolicy, type EscalationPolicy } from './escalation-policy.js';
import { contactPreferencesSchema, validateContactPreferences, type ContactPreferences } from './contact-preferences.js';
import { addressesOf, channelOrder } from './contact-channels.js';
import { createRateLimiter, type RateLimiterPort } from './rate-limit.js';
import { createGrouping } from './grouping.js';
import { createAlertResponder } from './responder-impl.js';
import { retryNotification, sendDirect, type RetryResult } from './direct-send.js';
import { createDigestScheduler, type SummarizeDay } from './digest.js';
import type { AlertResponder } from './responder.js';

export type { Channel, ChannelMessage, DeliveryReceipt, ReceiptRequest, ReceiptResult, Recipient, SendResult, SentMatch, SentQuery } from './channel.js';
export type { ReconcileOptions } from './escalation-engine.js';
/** Start-up reconciliation of sends a crash left without an outcome, on its own (bench/reconcile.ts). */
export { createReconciler, defaultReconcile } from './send-reconcile.js';
export type { AlertResponder, ReplyBinding, ReplyChoice, ResponseInput, ResponseResult } from './responder.js';
export type { EscalationPolicy } from './escalation-policy.js';
export type { ContactPreferences } from './contact-preferences.js';
export type { DaySummary, SummarizeDay } from './digest.js';
export { defaultEscalationPolicy, parseEscalationPolicy } from './escalation-policy.js';
// The operator's policy form and dead letters (dashboards/, issue 14).
export { entryTierIndex, escalationPolicySchema, tierAllowed, tierNames, tierRecipients, type TierName } from './escalation-policy.js';
export { isNotReached } from './escalation-engine.js';
export type { RetryResult } from './direct-send.js';
export { validateContactPreferences } from './contact-preferences.js';
export { createRateLimiter, type RateLimiter, type RateLimiterPort } from './rate-limit.js';
export { ackLinkRoutes, auditLedger } from './ack-link.js';
export { issueLineLinkCode, lineWebhook } from './line-webhook.js';
export { createTwilioClient, type TwilioClient } from './twilio-client.js';
export { twilioWebhooks, defaultWebhookPaths } from './twilio-webhooks.js';
export { statusCallbackRoute } from './status-callback-route.js';
export { createSmsChannel } from './channels/sms.js';
export { createVoiceChannel } from './channels/voice.js';
export { createEmailChannel } from './channels/email.js';
export { createTabletChannel } from './channels/tablet.js';
export { createLineChannel, readLinePostback } from './channels/line.js';
export { createLiveBus, createLiveChannel, type LiveBus } from './channels/live.js';
// The local stand-ins for development and tests (docs/local-twilio.md, docs/channels.md).
export { startLocalTwilio, type LocalTwilio } from './local-twilio-server.js';
export { startLocalSmtp, type LocalSmtp } from './local-smtp-server.js';
export { startLocalLine, type LocalLine } from './local-line-server.js';
export { startLocalPush, type LocalPush } from './local-push-server.js';
// Web push (docs/channels.md): the channel, the subscriptions people keep, the keys and the action answers.
export { createPushChannel } from './channels/push.js';
export { subscribePush, unsubscribePush } from './push-subscription.js';
export { keptVapidKeys } from './vapid-keys.js';
export { answerPushAction } from './push-action.js';

/** Where alert and notification changes are mirrored for history (InfluxDB); fire-and-forget. */
export interface NotifierHistory {
  writeAlert(a: { id: string; homeId: string; rule: string; severity: string; status: string; at: number }): void;
  writeNotification(n: { alertId: string; homeId: string; channel: string; status: string; at: number }): void;
}

export interface NotifierOptions {
  store: Store;
  logger: Logger;
  /** Timestamps for alerts, notifications and audit records. */
  clock: SchedulerLike;
  sms: Channel;
  /** E.164 number that receives device-health (operator-audience) alerts. */
  operatorPhone?: string;
  operatorLanguage?: Language;
  history?: NotifierHistory;
  /** Rule types whose cleared finding resolves the alert by itself (others stay open for a person). */
  resolveOnClear?: readonly string[];
  /**
   * Longest real time (ms) `handleFinding` waits for the channels before
   * returning; sends still running finish in the background and update their
   * records. The alert path must stay fast even when a provider is slow.
   */
  sendWaitMs?: number;
  /** More channels (voice, email, tablet, live), by their `name`; `sms` is always there. */
  channels?: Channel[];
  /** Policy for homes without their own (default: defaultEscalationPolicy). */
  defaultPolicy?: EscalationPolicy;
  /** Alerts of one home within this much clock time go out as one message (default 60 s). */
  groupWindowMs?: number;
  /** Findings older than this when they arrive are a backlog (default 15 min)... */
  staleAfterMs?: number;
  /** ...summarised in one message per person after this window (default 2 min). */
  backlogWindowMs?: number;
  /**
   * A finding that clears and is raised again within this much clock time
   * continues the same alert: nobody is paged again and nobody hears "all is
   * well" in between (default 5 min; 0 resolves at once). The alert resolves,
   * with its calm follow-up, once the finding has stayed clear this long.
   */
  flapWindowMs?: number;
  /**
   * Per-person message budget: at most `max` messages to one person in any
   * `windowMs` (default 6 per 10 min). Past it, messages are held and one
   * summary goes out when the window allows. The first page of each round of
   * a critical alert to a person is never held (budget.ts).
   */
  budget?: { max?: number; windowMs?: number };
  /**
   * The budget itself, when it is shared: a cluster gives every node's notifier the same one on
   * Redis (`createRedisRateLimiter`), so a person looked after in homes run by different nodes
   * still gets at most its `max`. Default: in memory, with `budget`.
   */
  rateLimiter?: RateLimiterPort;
  /** The day's facts for digests; without it no digests are sent. */
  summarizeDay?: SummarizeDay;
  /**
   * On start, sends a crash left without an outcome are looked up at the
   * provider (SMS, voice) and recorded, or sent once (docs/escalation.md).
   */
  reconcile?: Partial<ReconcileOptions>;
  /**
   * Told (synchronously) every time an alert becomes resolved, whoever
   * resolved it; the hub re-arms the rule that raised it (engine.alertEnded).
   */
  onAlertEnded?: (ended: AlertEnded) => void;
  /**
   * Channel order for messages outside a policy tier (follow-ups, reminders,
   * budget summaries, digests) for people who chose none: default
   * `['line', 'push', 'sms', 'email']`, each used only where the person has an address.
   */
  followUpChannels?: readonly string[];
  /**
   * The durable scheduler (jobs/) escalation steps and digests run on, on
   * `clock`; its owner closes it before the notifier. Default: one of the
   * notifier's own, owned by `nodeId`, closed with the notifier.
   */
  jobs?: JobScheduler;
  /** The owner on the own scheduler's job leases (default `hub`; in a cluster `<node>/<pid>`). */
  nodeId?: string;
  /** Cluster mode: the own scheduler claims and runs only the jobs of homes this node runs (jobs/). */
  ownership?: HomeOwnership;
}

/** An alert that has just been resolved. */
export interface AlertEnded { alertId: string; homeId: string; rule: string; at: number }

export interface HandleResult {
  alertId?: string;
  /** A new alert was opened by this finding. */
  created: boolean;
  /** Messages started (alert SMS for a new alert, follow-ups for a resolved one). */
  notified: number;
}


export interface Notifier {
  /** Called by the hub for every finding from the rule engine. Channel failures never throw. */
  handleFinding(f: Finding): Promise<HandleResult>;
  /** A delivery receipt (Twilio status callback): verifies the signature, then updates the notification. */
  handleStatusCallback(req: ReceiptRequest): Promise<ReceiptResult>;
  /** Acknowledge, on my way, arrived, resolve, bindReply: for webhooks, the web app and the tablet. */
  readonly responder: AlertResponder;
  /** Door and button readings from the hub: the front door after "on my way" confirms an arrival; the tablet's "I'm OK" answers the resident prompt. */
  handleReading(reading: Reading): Promise<void>;
  /** A receipt a channel already verified (e.g. a voice call answered by a machine: status `voicemail`), by provider id. */
  handleReceipt(receipt: DeliveryReceipt): Promise<ReceiptResult>;
  /** Validates (MIMAMORI_ERR_INVALID_INPUT with readable reasons) and stores a home's policy; running escalations keep their snapshot. */
  setEscalationPolicy(homeId: string, policy: unknown): Promise<EscalationPolicy>;
  getEscalationPolicy(homeId: string): Promise<EscalationPolicy>;
  /**
   * Validates and stores a contact's channels, quiet hours and digest times, audits who changed
   * them (`by`: an account id, or `operator` by default), and re-plans digests. Escalation reads
   * them at each decision, so they count at once.
   */
  setContactPreferences(contactId: string, prefs: unknown, by?: string): Promise<ContactPreferences>;
  /** The channels this notifier has, by name (for settings pages: what a person may choose). */
  channelNames(): string[];
  /** The channels that reach a contact now, in order: their own choice, and the order for notices and follow-ups. */
  reach(contactId: string): Promise<{ own: string[]; followUp: string[] }>;
  /** Sends a short test message (ja/en) on one channel to a contact, audited as `contact.test-message`. */
  sendTest(contactId: string, channel: string, by: string): Promise<SendResult>;
  /** Sends a notification that reached nobody (a dead letter) once more, now, on its channel; audited as `send.retry` (direct-send.ts). */
  retryNotification(alertId: string, notificationId: string, by: string): Promise<RetryResult>;
  /** The language of every message to this contact from now on (read per send: no restart), audited as `contact.language`. */
  setContactLanguage(contactId: string, language: Language, by?: string): Promise<void>;
  /** Resolves when every send and step started so far has finished and been recorded. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The test message a person sends themselves from their settings page. */
export const testMessageText = {
  ja: '【見守り】テスト送信です。見守りのお知らせはこの方法で届きます。',
  en: '[Mimamori] Test message: Mimamori alerts will reach you this way.',
} as const;

/** Rule types (rules/) whose end means the worry is over. */
export const defaultResolveOnClear = ['noSignOfLife', 'helpButton', 'flowWithoutMotion', 'nightDoor', 'deviceSilent', 'batteryLow', 'dataLate'] as const;

/** Default flap window: a sensor that settles within five minutes is one incident, not two. */
export const defaultFlapWindowMs = 5 * 60_000;
/** Default per-person budget: six messages in ten minutes covers a full escalation round and its news. */
export const defaultBudget = { max: 6, windowMs: 10 * 60_000 } as const;

const e164 = /^\+[1-9]\d{1,14}$/;
const actor = 'notifier';
/** How often held receipts (a receipt that beat its send's answer) are matched again, in clock time. */
export const heldReceiptSweepMs = 60_000;
/** A held receipt no send has claimed after this long is dropped (logged): its send is not ours, or was lost. */
export const heldReceiptMaxAgeMs = 24 * 3_600_000;
/** Held receipts matched per sweep (oldest first); the next sweep goes on. */
const heldReceiptBatch = 500;

/**
 * Every alert status change already passes through the history sink (here and
 * in the escalation engine); this wraps it so that a change to `resolved` is
 * also reported to `onAlertEnded`. Without `onAlertEnded`, `history` as given.
 */
function reportingEnded(history: NotifierHistory | undefined, onAlertEnded: ((e: AlertEnded) => void) | undefined, log: Logger): NotifierHistory | undefined {
  if (!onAlertEnded) return history;
  return {
    writeAlert(a) {
      try {
        history?.writeAlert(a);
      } finally {
        if (a.status === 'resolved') {
          try { onAlertEnded({ alertId: a.id, homeId: a.homeId, rule: a.rule, at: a.at }); } catch (err) { log.warn({ err, alertId: a.id }, 'onAlertEnded failed'); }
        }
      }
    },
    writeNotification(n) { history?.writeNotification(n); },
  };
}

/**
 * Creates the notifier and resumes every escalation and digest found in the
 * durable schedule.
 *
 * @example
 * const notifier = await createNotifier({ store, logger, clock, sms, channels: [voice, email] });
 * engine.findings.subscribe((f) => void notifier.handleFinding(f));
 * readings.subscribe((r) => void notifier.handleReading(r));
 */
export async function createNotifier(opts: NotifierOptions): Promise<Notifier> {
  if (!opts.store || !opts.logger || !opts.clock || !opts.sms) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'notifier needs store, logger, clock and sms');
  if (opts.operatorPhone !== undefined && !e164.test(opts.operatorPhone)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'operatorPhone must be an E.164 number');
  const { store, clock, sms } = opts;
  const history = reportingEnded(opts.history, opts.onAlertEnded, opts.logger);
  const log = opts.logger;
  const operatorLanguage: Language = opts.operatorLanguage ?? 'ja';
  const resolveOnClear = new Set<string>(opts.resolveOnClear ?? defaultResolveOnClear);
  const sendWaitMs = opts.sendWaitMs ?? 3000;
  const flapWindowMs = opts.flapWindowMs ?? defaultFlapWindowMs;
  if (!(Number.isFinite(flapWindowMs) && flapWindowMs >= 0)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'flapWindowMs must be a number of milliseconds, 0 or more');
  const channels = new Map<string, Channel>([[sms.name, sms]]);
  for (const c of opts.channels ?? []) channels.set(c.name, c);
  const defaultPolicy = opts.defaultPolicy ? validateEscalationPolicy(opts.defaultPolicy) : defaultEscalationPolicy;

  const inflight = new Set<Promise<void>>();
  let closed = false;

  const safeHistory = (fn: (h: NotifierHistory) => void): void => {
    if (!history) return;
    try { fn(history); } catch (err) { log.warn({ err }, 'history write failed'); }
  };
  const alertToHistory = (a: Alert, at: number) =>
    safeHistory((h) => h.writeAlert({ id: a.id, homeId: a.homeId, rule: a.rule, severity: a.severity, status: a.status, at }));

  async function policyFor(homeId: string): Promise<EscalationPolicy> {
    const raw = await store.getEscalationPolicy(homeId);
    if (raw === undefined) return defaultPolicy;
    const r = escalationPolicySchema.safeParse(raw);
    if (r.success) return r.data;
    log.error({ homeId }, 'stored escalation policy is invalid; using the default');
    return defaultPolicy;
  }

  const ownJobs = opts.jobs ? undefined : createJobScheduler({ store, clock, logger: log.child({ part: 'jobs' }), owner: opts.nodeId ?? 'hub', ...(opts.ownership ? { ownership: opts.ownership } : {}) });
  const jobs = opts.jobs ?? ownJobs!;
  const engineOpts: Parameters<typeof createEscalationEngine>[0] = {
    store, logger: log, clock, channels, jobs, policyFor, sendWaitMs,
    rateLimiter: opts.rateLimiter ?? createRateLimiter({ max: opts.budget?.max ?? defaultBudget.max, windowMs: opts.budget?.windowMs ?? defaultBudget.windowMs }),
    settleClear: (alertId, cleared) => settleClear(alertId, cleared).then(() => undefined),
    grouping: createGrouping({ windowMs: opts.groupWindowMs ?? 60_000, staleAfterMs: opts.staleAfterMs ?? 15 * 60_000, backlogWindowMs: opts.backlogWindowMs ?? 120_000 }),
  };
  if (history) engineOpts.history = history;
  if (opts.reconcile) engineOpts.reconcile = opts.reconcile;
  if (opts.followUpChannels) engineOpts.followUpChannels = opts.followUpChannels;
  if (opts.ownership) engineOpts.ownership = opts.ownership;
  const engine: EscalationEngine = createEscalationEngine(engineOpts);
  const responder = createAlertResponder({ store, clock, engine });
  const digestOpts: Parameters<typeof createDigestScheduler>[0] = { store, jobs, clock, logger: log, channels };
  if (opts.summarizeDay) digestOpts.summarizeDay = opts.summarizeDay;
  if (opts.followUpChannels) digestOpts.followUpChannels = opts.followUpChannels;
  const digests = createDigestScheduler(digestOpts);
  await engine.start();
  await digests.plan();

  const track = (p: Promise<void>): void => { inflight.add(p); void p.finally(() => inflight.delete(p)); };

  async function applyReceipt(read: NotificationRecord, r: DeliveryReceipt): Promise<string> {
    // Voice outcomes (voicemail, no-answer, busy) are final like failed: the person was not reached.
    const next = isNotReached(r.status) ? 'failed' : r.status;
    const at = clock.now();
    const patch: { status: string; error?: string } = { status: r.status };
    if (r.error) patch.error = r.error;
    // Receipts for one message (sent, delivered) may be applied at once, and on a pool their writes
    // commit in either order: each moves the status only from the one it read (compare-and-set), and
    // one that lost the race reads again. A status only moves forward, so this ends within a few turns.
    let n = read;
    for (let tries = 0; ; tries++) {
      if (!advancesStatus(n.status, next)) return n.status;
      if (await store.updateNotification(n.id, patch, at, { status: n.status })) break;
      const now = await store.findNotificationByProviderId(r.providerId);
      if (!now || now.id !== n.id || tries >= 10) return now?.status ?? n.status;
      n = now;
    }
    const alert = await store.getAlert(n.alertId);
    safeHistory((h) => h.writeNotification({ alertId: n.alertId, homeId: alert?.homeId ?? '', channel: n.channel, status: r.status, at }));
    if (isFailedStatus(r.status)) log.warn({ notificationId: n.id, alertId: n.alertId, status: r.status, error: r.error }, 'message not delivered');
    if (alert) await engine.serial(alert.homeId, () => engine.receiptChanged(n, r.status));
    return r.status;
  }

  /**
   * Applies the held receipts of `providerId` once a notification has that provider id, in the order
   * received; each is deleted after it is applied (on another node, or by a sweep meanwhile: then it is
   * gone and applying it again moves nothing, statuses only move forward). Whether a notification had it.
   */
  async function applyHeld(providerId: string, held?: HeldReceipt[]): Promise<boolean> {
    let n = await store.findNotificationByProviderId(providerId);
    if (!n) return false;
    for (const h of held ?? await store.listHeldReceipts({ providerId, limit: 50 })) {
      const r: DeliveryReceipt = { providerId, status: h.status };
      if (h.error !== undefined) r.error = h.error;
      // The status it leaves is the record's now (applyReceipt reads again itself when another writer moved it).
      n = { ...n, status: await applyReceipt(n, r) };
      await store.dropHeldReceipt(providerId, h.status);
    }
    return true;
  }

  /** The quick path for a receipt that beat the send's answer by a moment: looks again for ~2 s of real time. */
  async function retryEarly(providerId: string): Promise<void> {
    for (let i = 0; i < 100 && !closed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (await applyHeld(providerId)) return;
    }
  }

  /**
   * Matches every held receipt again (at start: receipts held before a restart, or by another node; then
   * every `heldReceiptSweepMs`): a send whose answer was recorded late — a slow store, a crash and the
   * reconciliation that found the message at the provider — gets its receipt, and a "failed" moves the
   * person on to their next channel. One held for `heldReceiptMaxAgeMs` is dropped with a warning.
   */
  async function sweepHeld(): Promise<void> {
    const held = await store.listHeldReceipts({ limit: heldReceiptBatch });
    const byId = new Map<string, HeldReceipt[]>();
    for (const h of held) { const list = byId.get(h.providerId); if (list) list.push(h); else byId.set(h.providerId, [h]); }
    const now = clock.now();
    for (const [providerId, list] of byId) {
      if (closed) return;
      if (await applyHeld(providerId, list)) continue;
      for (const h of list) {
        if (now - h.receivedAt < heldReceiptMaxAgeMs) continue;
        if (await store.dropHeldReceipt(providerId, h.status)) log.warn({ providerId, status: h.status, receivedAt: h.receivedAt }, 'delivery receipt for a send never recorded here dropped after a day');
      }
    }
  }
  let sweeping: Promise<void> | undefined;
  const sweep = (): void => {
    if (closed || sweeping) return;
    sweeping = sweepHeld().catch((err: unknown) => log.warn({ err }, 'held delivery receipts not matched')).finally(() => { sweeping = undefined; });
    track(sweeping);
  };

  async function receipt(r: DeliveryReceipt): Promise<ReceiptResult> {
    const n = await store.findNotificationByProviderId(r.providerId);
    if (!n) {
      // The receipt beat the send's answer (or the send was recorded on another node, or before a
      // restart): kept durably before it is acknowledged, applied once the provider id is recorded.
      const held: HeldReceipt = { providerId: r.providerId, status: r.status, receivedAt: clock.now() };
      if (r.error !== undefined) held.error = r.error;
      await store.holdReceipt(held);
      track(retryEarly(r.providerId).catch((err: unknown) => log.warn({ err }, 'early receipt not applied')));
      return { accepted: true };
    }
    const status = await applyReceipt(n, r);
    return { accepted: true, notificationId: n.id, status };
  }

  /** Device health goes to the operator only, never the family, and is not escalated. */
  async function sendToOperator(alert: Alert, text: string): Promise<number> {
    if (!opts.operatorPhone) return 0;
    const n = await store.recordNotification({ alertId: alert.id, channel: sms.name, status: pendingStatus, createdAt: clock.now() });
    let result: SendResult;
    try { result = await sms.send({ to: { language: operatorLanguage, phone: opts.operatorPhone }, text, alertId: alert.id }); } catch (err) { result = { status: 'failed', error: `channel error: ${(err as Error).message}` }; }
    const patch: { status: string; providerId?: string; error?: string } = { status: result.status };
    if (result.providerId) patch.providerId = result.providerId;
    if (result.error) patch.error = result.error;
    await store.updateNotification(n.id, patch, clock.now());
    safeHistory((h) => h.writeNotification({ alertId: alert.id, homeId: alert.homeId, channel: sms.name, status: result.status, at: clock.now() }));
    return 1;
  }

  const countSends = async (alertId: string) => (await store.listNotifications(alertId)).length;

  async function raise(f: Finding): Promise<HandleResult> {
    const before = await store.findOpenAlert(f.home, f.rule);
    const { alert, created } = await store.openAlert({ homeId: f.home, rule: f.rule, severity: f.severity, message: f.message.en, finding: f, openedAt: f.at });
    alertToHistory(alert, f.at);
    const now = clock.now();
    if (!created) {
      // Raised again within the flap window after clearing: the same alert goes on (engine: alert.flap).
      if (await engine.reraised(alert, f)) {
        if (before && severityRank[alert.severity] > severityRank[before.severity] && f.audience === 'family') await engine.severityRaised(alert, f, now);
        return { alertId: alert.id, created: false, notified: 0 };
      }
      await store.audit({ at: f.at, actor, action: 'alert.repeat', subject: alert.id, detail: { home: f.home, rule: f.rule, severity: alert.severity, repeats: alert.repeats } });
      if (before?.status === 'acknowledged' && f.data?.again === true && f.audience === 'family') {
        // A new occurrence of an emergency someone had already acknowledged (a second help press): page again.
        const sent = await countSends(alert.id);
        await engine.reopen(alert, f, now);
        return { alertId: alert.id, created: false, notified: (await countSends(alert.id)) - sent };
      }
      if (before && severityRank[alert.severity] > severityRank[before.severity] && f.audience === 'family') {
        const sent = await countSends(alert.id);
        await engine.severityRaised(alert, f, now);
        return { alertId: alert.id, created: false, notified: (await countSends(alert.id)) - sent };
      }
      log.info({ alertId: alert.id, home: f.home, rule: f.rule, repeats: alert.repeats }, 'alert repeated; not sent again');
      return { alertId: alert.id, created: false, notified: 0 };
    }
    await store.audit({ at: f.at, actor, action: 'alert.open', subject: alert.id, detail: { home: f.home, rule: f.rule, type: f.type, severity: f.severity, audience: f.audience } });
    log.info({ alertId: alert.id, home: f.home, rule: f.rule, severity: f.severity, audience: f.audience }, 'alert opened');
    if (f.audience === 'operator') {
      const home = await store.getHome(f.home);
      const n = await sendToOperator(alert, operatorText(f, home?.timezone ?? 'Asia/Tokyo', operatorLanguage));
      await store.audit({ at: f.at, actor, action: 'alert.notify-operator', subject: alert.id, detail: { audience: 'operator', recipients: n } });
      if (n === 0) log.warn({ alertId: alert.id, home: f.home }, 'device-health alert opened but no operator phone configured');
      return { alertId: alert.id, created: true, notified: n };
    }
    await engine.startAlert(alert, f, now);
    return { alertId: alert.id, created: true, notified: await countSends(alert.id) };
  }

  async function clear(f: Finding): Promise<HandleResult> {
    const alert = await store.findOpenAlert(f.home, f.rule);
    if (!alert) return { created: false, notified: 0 };
    if (!resolveOnClear.has(f.type)) {
      await store.audit({ at: f.at, actor, action: 'alert.condition-cleared', subject: alert.id, detail: { home: f.home, rule: f.rule, type: f.type } });
      return { alertId: alert.id, created: false, notified: 0 };
    }
    if (flapWindowMs > 0) {
      // Not yet: if it comes back within the window it is the same incident (raise → engine.reraised).
      await engine.holdClear(alert, f, clock.now() + flapWindowMs);
      return { alertId: alert.id, created: false, notified: 0 };
    }
    return settleClear(alert.id, f);
  }

  /** The finding stayed clear (or there is no flap window): resolve, with a calm follow-up to whoever was told. */
  async function settleClear(alertId: string, f: Finding): Promise<HandleResult> {
    const alert = await store.getAlert(alertId);
    if (!alert || alert.status === 'resolved') return { created: false, notified: 0 };
    const opening = alert.finding as Partial<Finding> | undefined;
    if (opening?.audience === 'operator') {
      const resolved = await store.updateAlertStatus(alert.id, 'resolved', f.at);
      alertToHistory(resolved, f.at);
      await store.audit({ at: f.at, actor, action: 'alert.resolve', subject: alert.id, detail: { home: f.home, rule: f.rule, type: f.type, reason: 'condition cleared' } });
      const told = (await store.listNotifications(alert.id)).some((n) => !isFailedStatus(n.status));
      const home = await store.getHome(f.home);
      const n = told ? await sendToOperator(resolved, operatorText(f, home?.timezone ?? 'Asia/Tokyo', operatorLanguage, true)) : 0;
      return { alertId: alert.id, created: false, notified: n };
    }
    // A sign of life: auto-resolve, with a calm follow-up to everyone who was told.
    const { followUps } = await engine.resolve(alert.id, { via: 'system', cleared: f }, f.at);
    log.info({ alertId: alert.id, home: f.home, rule: f.rule, followUps }, 'alert resolved by itself');
    return { alertId: alert.id, created: false, notified: followUps };
  }

  // Receipts held before this start (a restart, another node) are matched now, then every minute.
  const stopSweep = scheduleEvery(clock, heldReceiptSweepMs, sweep);
  sweep();

  return {
    responder,

    async handleFinding(f) {
      if (closed) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', 'notifier is closed');
      // One home's findings, steps and responses run one after another, so nothing races.
      return engine.serial(f.home, () => (f.state === 'raised' ? raise(f) : clear(f)));
    },

    async handleReading(r) {
      if (closed) return;
      if (r.kind === 'door' && r.open) {
        for (const alertId of await engine.onMyWayAlerts(r.home)) await responder.arrived({ alertId, via: 'door', at: r.at });
      } else if (r.kind === 'button' && r.press === 'ok') {
        // The resident's "I'm OK" answers a prompt sent to the resident tier.
        const resident = (await store.listContacts(r.home)).find((c) => c.role === 'resident');
        if (!resident) return;
        for (const a of await store.listAlerts({ homeId: r.home, status: 'open' })) {
          if (!(await store.listSendKeys(a.id)).some((k) => k.contactId === resident.id)) continue;
          await responder.acknowledge({ alertId: a.id, contactId: resident.id, via: 'tablet', at: r.at });
        }
      }
    },

    async handleStatusCallback(req) {
      let verified: DeliveryReceipt | undefined;
      for (const ch of channels.values()) { verified = ch.verifyReceipt?.(req); if (verified) break; }
      if (!verified) {
        log.warn('refused a status callback without a valid signature');
        return { accepted: false };
      }
      return receipt(verified);
    },

    handleReceipt: receipt,

    async setEscalationPolicy(homeId, policy) {
      const p = validateEscalationPolicy(policy);
      await store.setEscalationPolicy(homeId, p, clock.now());
      await store.audit({ at: clock.now(), actor, action: 'policy.set', subject: homeId, detail: { tiers: p.tiers.map((t) => t.name) } });
      return p;
    },
    getEscalationPolicy: policyFor,

    async setContactPreferences(contactId, prefs, by = 'operator') {
      const p = validateContactPreferences(prefs);
      const at = clock.now();
      await store.setContactPreferences(contactId, p, at);
      await store.audit({ at, actor: by, action: 'contact.preferences', subject: contactId, detail: p });
      await digests.plan();
      return p;
    },
    async setContactLanguage(contactId, language, by = 'operator') {
      const contact = await store.getContact(contactId);
      if (!contact) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `contact ${contactId}`);
      if (contact.language === language) return;
      await store.setContactLanguage(contactId, language);
      await store.audit({ at: clock.now(), actor: by, action: 'contact.language', subject: contactId, detail: { from: contact.language, to: language } });
    },
    channelNames: () => [...channels.keys()],
    async reach(contactId) {
      const contact = await store.getContact(contactId);
      if (!contact) return { own: [], followUp: [] };
      const addresses = await addressesOf(store, contact);
      const prefs = contactPreferencesSchema.safeParse((await store.getContactPreferences(contactId)) ?? {});
      const own = prefs.success ? prefs.data.channels : undefined;
      const followUp = channelOrder({ own, channels, addresses, ...(opts.followUpChannels ? { fallback: opts.followUpChannels } : {}) });
      return { own: own ? channelOrder({ own, tier: [], channels, addresses }) : followUp, followUp };
    },
    async sendTest(contactId, channelName, by) {
      const contact = await store.getContact(contactId);
      if (!contact) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `no contact ${contactId}`);
      const result = await sendDirect(channels, store, contact, channelName, testMessageText[contact.language]);
      await store.audit({ at: clock.now(), actor: by, action: 'contact.test-message', subject: contactId, detail: { channel: channelName, status: result.status, error: result.error } });
      return result;
    },

    retryNotification: (alertId, notificationId, by) => retryNotification({
      store, channels, now: () => clock.now(),
      onRecorded: (homeId, channel, status, at) => safeHistory((h) => h.writeNotification({ alertId, homeId, channel, status, at })),
    }, alertId, notificationId, by),

    async idle() {
      for (let i = 0; i < 3; i++) {
        while (inflight.size > 0) await Promise.allSettled([...inflight]);
        await jobs.idle();
        await engine.idle();
        await digests.idle();
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      stopSweep();
      // The scheduler first: no job starts on a closing engine or digest, and the running ones finish.
      await ownJobs?.close();
      digests.close();
      await engine.close();
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      for (const ch of channels.values()) await ch.close?.();
    },
  };
}
