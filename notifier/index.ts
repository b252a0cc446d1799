/**
 * The notifier's front door: turns findings into alerts and alerts into
 * messages. A raised finding opens an alert (one open alert per home and
 * rule; a repeat only counts) and a new alert is sent to the home's family
 * contacts by SMS, each in their language — or, for device health, to the
 * operator and never to the family. A cleared finding resolves the alert and
 * sends a calm follow-up to whoever was told. Every step writes an audit
 * record and every message a notification record, which delivery receipts
 * (Twilio status callbacks) later move on to delivered or failed.
 *
 * Later: escalation tiers, voice, e-mail, acknowledgement by SMS reply, quiet
 * hours and durable resumption hang off the same pieces (Channel, templates,
 * notification records).
 */
import type { SchedulerLike } from 'rxjs';
import type { Finding } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import type { Alert, Contact, Language, NotificationRecord, Store } from '../core/store.js';
import { MimamoriError } from '../core/errors.js';
import type { Channel, DeliveryReceipt, ReceiptRequest, Recipient, SendResult } from './channel.js';
import { advancesStatus, isFailedStatus, pendingStatus } from './delivery-status.js';
import { alertText, operatorText, resolvedText, type AlertContext } from './templates.js';

export type { Channel, ChannelMessage, DeliveryReceipt, ReceiptRequest, Recipient, SendResult } from './channel.js';

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
}

export interface HandleResult {
  alertId?: string;
  /** A new alert was opened by this finding. */
  created: boolean;
  /** Messages started (alert SMS for a new alert, follow-ups for a resolved one). */
  notified: number;
}

export interface ReceiptResult {
  /** false: not authentic (forged or unsigned) — answer 403. */
  accepted: boolean;
  notificationId?: string;
  status?: string;
}

export interface Notifier {
  /** Called by the hub for every finding from the rule engine. Channel failures never throw. */
  handleFinding(f: Finding): Promise<HandleResult>;
  /** A delivery receipt (Twilio status callback): verifies the signature, then updates the notification. */
  handleStatusCallback(req: ReceiptRequest): Promise<ReceiptResult>;
  /** Resolves when every send started so far has finished and been recorded. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Rule types (rules/) whose end means the worry is over. */
export const defaultResolveOnClear = ['noSignOfLife', 'helpButton', 'flowWithoutMotion', 'nightDoor', 'deviceSilent', 'batteryLow'] as const;

const e164 = /^\+[1-9]\d{1,14}$/;
const actor = 'notifier';
/** Receipts that arrived before the send call returned the provider id; bounded. */
const maxEarlyReceipts = 1000;

interface Outgoing { recipient: Recipient; contactId?: string; text: string }

/**
 * Creates the notifier.
 *
 * @example
 * const notifier = await createNotifier({ store, logger, clock, sms: createSmsChannel({ client, from, logger }) });
 * engine.findings.subscribe((f) => void notifier.handleFinding(f));
 */
export async function createNotifier(opts: NotifierOptions): Promise<Notifier> {
  if (!opts.store || !opts.logger || !opts.clock || !opts.sms) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'notifier needs store, logger, clock and sms');
  if (opts.operatorPhone !== undefined && !e164.test(opts.operatorPhone)) throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'operatorPhone must be an E.164 number');
  const { store, clock, sms, history } = opts;
  const log = opts.logger;
  const operatorLanguage: Language = opts.operatorLanguage ?? 'ja';
  const resolveOnClear = new Set<string>(opts.resolveOnClear ?? defaultResolveOnClear);
  const sendWaitMs = opts.sendWaitMs ?? 3000;

  const inflight = new Set<Promise<void>>();
  /** Findings for one home+rule are handled one after another (raise, then clear). */
  const queues = new Map<string, Promise<unknown>>();
  const earlyReceipts = new Map<string, DeliveryReceipt>();
  let closed = false;

  const safeHistory = (fn: (h: NotifierHistory) => void): void => {
    if (!history) return;
    try { fn(history); } catch (err) { log.warn({ err }, 'history write failed'); }
  };
  const alertToHistory = (a: Alert, at: number) =>
    safeHistory((h) => h.writeAlert({ id: a.id, homeId: a.homeId, rule: a.rule, severity: a.severity, status: a.status, at }));

  async function context(homeId: string): Promise<AlertContext> {
    const [home, residents] = await Promise.all([store.getHome(homeId), store.listResidents(homeId)]);
    return { residentNames: residents.map((r) => r.name), homeName: home?.name ?? homeId, timezone: home?.timezone ?? 'Asia/Tokyo' };
  }

  async function applyReceipt(n: NotificationRecord, r: DeliveryReceipt): Promise<string> {
    if (!advancesStatus(n.status, r.status)) return n.status;
    const at = clock.now();
    const patch: { status: string; error?: string } = { status: r.status };
    if (r.error) patch.error = r.error;
    await store.updateNotification(n.id, patch, at);
    const alert = await store.getAlert(n.alertId);
    safeHistory((h) => h.writeNotification({ alertId: n.alertId, homeId: alert?.homeId ?? '', channel: n.channel, status: r.status, at }));
    if (isFailedStatus(r.status)) log.warn({ notificationId: n.id, alertId: n.alertId, status: r.status, error: r.error }, 'message not delivered');
    return r.status;
  }

  /** Records the message first (so a crash or a racing clear still sees it), then sends. */
  async function dispatch(alert: Alert, out: Outgoing[]): Promise<Array<Promise<void>>> {
    const sends: Array<Promise<void>> = [];
    for (const o of out) {
      const rec: Omit<NotificationRecord, 'id' | 'updatedAt'> = { alertId: alert.id, channel: sms.name, status: pendingStatus, createdAt: clock.now() };
      if (o.contactId) rec.contactId = o.contactId;
      const n = await store.recordNotification(rec);
      const p = send(alert, n, o);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      sends.push(p);
    }
    return sends;
  }

  async function send(alert: Alert, n: NotificationRecord, o: Outgoing): Promise<void> {
    let result: SendResult;
    try {
      result = await sms.send({ to: o.recipient, text: o.text, alertId: alert.id });
    } catch (err) {
      // The contract says channels don't throw; one that does must not break the alert path.
      result = { status: 'failed', error: `channel error: ${(err as Error).message}` };
    }
    try {
      const at = clock.now();
      const patch: { status: string; providerId?: string; error?: string } = { status: result.status };
      if (result.providerId) patch.providerId = result.providerId;
      if (result.error) patch.error = result.error;
      await store.updateNotification(n.id, patch, at);
      safeHistory((h) => h.writeNotification({ alertId: alert.id, homeId: alert.homeId, channel: n.channel, status: result.status, at }));
      if (result.status === 'failed') log.warn({ notificationId: n.id, alertId: alert.id, error: result.error }, 'notification failed');
      const early = result.providerId ? earlyReceipts.get(result.providerId) : undefined;
      if (early && result.providerId) {
        earlyReceipts.delete(result.providerId);
        await applyReceipt({ ...n, ...patch, updatedAt: at }, early);
      }
    } catch (err) {
      log.error({ err, notificationId: n.id, alertId: alert.id }, 'cannot record notification result');
    }
  }

  /** Waits for the sends, but never longer than `sendWaitMs` of real time. */
  async function waitBounded(sends: Array<Promise<void>>): Promise<void> {
    if (sends.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const budget = new Promise<void>((resolve) => { timer = setTimeout(resolve, sendWaitMs); timer.unref(); });
    await Promise.race([Promise.allSettled(sends), budget]);
    clearTimeout(timer);
  }

  function familyRecipients(contacts: Contact[]): Contact[] {
    // listContacts is ordered by priority; only family with a phone can get SMS today.
    return contacts.filter((c) => c.role === 'family' && c.phone);
  }

  async function raise(f: Finding): Promise<{ result: HandleResult; sends: Array<Promise<void>> }> {
    const { alert, created } = await store.openAlert({ homeId: f.home, rule: f.rule, severity: f.severity, message: f.message.en, finding: f, openedAt: f.at });
    alertToHistory(alert, f.at);
    if (!created) {
      await store.audit({ at: f.at, actor, action: 'alert.repeat', subject: alert.id, detail: { home: f.home, rule: f.rule, severity: alert.severity, repeats: alert.repeats } });
      log.info({ alertId: alert.id, home: f.home, rule: f.rule, repeats: alert.repeats }, 'alert repeated; not sent again');
      return { result: { alertId: alert.id, created: false, notified: 0 }, sends: [] };
    }
    const out: Outgoing[] = [];
    if (f.audience === 'operator') {
      // Device health is the operator's business; the family is never paged for it.
      const ctx = await context(f.home);
      if (opts.operatorPhone) out.push({ recipient: { language: operatorLanguage, phone: opts.operatorPhone }, text: operatorText(f, ctx.timezone, operatorLanguage) });
    } else {
      const [ctx, contacts] = await Promise.all([context(f.home), store.listContacts(f.home)]);
      for (const c of familyRecipients(contacts)) out.push({ recipient: c, contactId: c.id, text: alertText(f, ctx, c.language) });
    }
    await store.audit({ at: f.at, actor, action: 'alert.open', subject: alert.id, detail: { home: f.home, rule: f.rule, type: f.type, severity: f.severity, audience: f.audience, recipients: out.length } });
    log.info({ alertId: alert.id, home: f.home, rule: f.rule, severity: f.severity, audience: f.audience, recipients: out.length }, 'alert opened');
    if (out.length === 0) log.warn({ alertId: alert.id, home: f.home, audience: f.audience }, 'alert opened but nobody to notify');
    const sends = await dispatch(alert, out);
    return { result: { alertId: alert.id, created: true, notified: out.length }, sends };
  }

  async function clear(f: Finding): Promise<{ result: HandleResult; sends: Array<Promise<void>> }> {
    const alert = await store.findOpenAlert(f.home, f.rule);
    if (!alert) return { result: { created: false, notified: 0 }, sends: [] };
    if (!resolveOnClear.has(f.type)) {
      await store.audit({ at: f.at, actor, action: 'alert.condition-cleared', subject: alert.id, detail: { home: f.home, rule: f.rule, type: f.type } });
      return { result: { alertId: alert.id, created: false, notified: 0 }, sends: [] };
    }
    const resolved = await store.updateAlertStatus(alert.id, 'resolved', f.at);
    alertToHistory(resolved, f.at);
    // Follow up with everyone who was (or is being) told, once each.
    const told = (await store.listNotifications(alert.id)).filter((n) => !isFailedStatus(n.status));
    const out: Outgoing[] = [];
    const opening = alert.finding as Partial<Finding> | undefined;
    if (opening?.audience === 'operator') {
      if (opts.operatorPhone && told.some((n) => n.contactId === undefined)) {
        const ctx = await context(f.home);
        out.push({ recipient: { language: operatorLanguage, phone: opts.operatorPhone }, text: operatorText(f, ctx.timezone, operatorLanguage, true) });
      }
    } else {
      const ids = new Set(told.map((n) => n.contactId).filter((id): id is string => id !== undefined));
      if (ids.size > 0) {
        const [ctx, contacts] = await Promise.all([context(f.home), store.listContacts(f.home)]);
        for (const c of contacts) if (ids.has(c.id)) out.push({ recipient: c, contactId: c.id, text: resolvedText(f, ctx, c.language) });
      }
    }
    await store.audit({ at: f.at, actor, action: 'alert.resolve', subject: alert.id, detail: { home: f.home, rule: f.rule, type: f.type, reason: 'condition cleared', followUps: out.length } });
    log.info({ alertId: alert.id, home: f.home, rule: f.rule, followUps: out.length }, 'alert resolved');
    const sends = await dispatch(resolved, out);
    return { result: { alertId: alert.id, created: false, notified: out.length }, sends };
  }

  return {
    async handleFinding(f) {
      if (closed) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', 'notifier is closed');
      const key = `${f.home}\u0000${f.rule}`;
      const before = queues.get(key) ?? Promise.resolve();
      const step = before.catch(() => undefined).then(() => (f.state === 'raised' ? raise(f) : clear(f)));
      queues.set(key, step);
      void step.finally(() => { if (queues.get(key) === step) queues.delete(key); }).catch(() => undefined);
      const { result, sends } = await step;
      await waitBounded(sends);
      return result;
    },

    async handleStatusCallback(req) {
      const receipt = sms.verifyReceipt?.(req);
      if (!receipt) {
        log.warn({ channel: sms.name }, 'refused a status callback without a valid signature');
        return { accepted: false };
      }
      const n = await store.findNotificationByProviderId(receipt.providerId);
      if (!n) {
        // The receipt beat the send call's answer; apply it when the provider id is recorded.
        if (earlyReceipts.size >= maxEarlyReceipts) {
          const oldest = earlyReceipts.keys().next().value;
          if (oldest !== undefined) earlyReceipts.delete(oldest);
        }
        earlyReceipts.set(receipt.providerId, receipt);
        return { accepted: true };
      }
      const status = await applyReceipt(n, receipt);
      return { accepted: true, notificationId: n.id, status };
    },

    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...queues.values()]);
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      await sms.close?.();
    },
  };
}
