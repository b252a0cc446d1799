/**
 * The send ledger: what was sent to whom about which alert, idempotent by
 * key. Every message has a key (alert, stage, recipient, channel) claimed
 * BEFORE it is handed to the channel, and a send whose key exists is never
 * repeated — re-running an escalation step after a crash sends only what the
 * crashed run had not started. For channels whose provider can be asked
 * later (`Channel.findSent`: SMS, voice) the key carries the address and text
 * (same transaction), so send-reconcile.ts can settle a send a crash left
 * without an outcome.
 *
 * The ledger also answers what the escalation needs to know of earlier
 * sends: whether a person was reached on a channel (fallbacks), whether this
 * round already paged them (the budget's exception), who was told (follow-ups)
 * and who was tried (the emergency message) — each a query for one alert.
 */
import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../core/logger.js';
import type { Alert, Contact, HomeFence, Language, LifecycleVersion, NotificationRecord, Store } from '../core/store.js';
import type { Channel, SendResult } from './channel.js';
import { addressesOf, recipientOf } from './contact-channels.js';
import { heldStatus, isFailedStatus, pendingStatus } from './delivery-status.js';
import { channelToTry } from './escalation-decide.js';
import { roleTraits } from './escalation-policy.js';
import type { TriedContact } from './emergency-message.js';
import type { RateLimiterPort } from './rate-limit.js';

/** Where alert and notification changes are mirrored for history (InfluxDB); fire-and-forget. */
export interface EngineHistory {
  writeAlert(a: { id: string; homeId: string; rule: string; severity: string; status: string; at: number }): void;
  writeNotification(n: { alertId: string; homeId: string; channel: string; status: string; at: number }): void;
}

/** Receipt statuses that mean the person was NOT reached: failures and, for voice, a machine or no answer. */
export function isNotReached(status: string): boolean {
  return isFailedStatus(status) || ['voicemail', 'machine', 'no-answer', 'busy', 'suppressed'].includes(status);
}

/** A page is a tier's message: its stage is `epoch:tier:repeat` (follow-ups are `ack0`, `remind1`, `resolved`…). */
export const isPageStage = (stage: string): boolean => /^\d+:\d+:\d+$/.test(stage);

export interface SendLedgerOptions {
  store: Store;
  logger: Logger;
  clock: SchedulerLike;
  channels: ReadonlyMap<string, Channel>;
  history?: EngineHistory | undefined;
  rateLimiter: RateLimiterPort;
  /** Waits (real time) for a channel before moving on; slow providers finish in the background. */
  sendWaitMs: number;
  /** Keeps a background send in the engine's `idle()`. */
  track<T>(p: Promise<T>): Promise<T>;
  /** A message the budget held: the one summary for the person is scheduled at `at`. */
  heldForBudget(contactId: string, homeId: string, at: number): Promise<void>;
  /** The reply code a page about the alert carries (answer buttons on LINE, push). */
  replyCodeOf(alertId: string): Promise<string | undefined>;
  /** Cluster mode: the fence a send for the home carries now (the running job's); the store refuses a stale one, and nothing is sent. */
  fenceOf?: (homeId: string) => HomeFence | undefined;
  /**
   * The version of the alert's lifecycle row the escalation step running for the home read, if one is running:
   * its sends are claimed only while the row is still that version (`MIMAMORI_ERR_STALE` otherwise, nothing
   * sent), so a person's answer committed on another node meanwhile stops the step's pages.
   */
  readVersionOf?: (homeId: string) => LifecycleVersion | undefined;
}

export interface SendLedger {
  /**
   * Tries a person's channels in order until one is not known to have failed;
   * each try once per key. `criticalPage`: a page of a critical alert, which the
   * budget may not hold if it is the round's first to this person.
   */
  deliver(alerts: Alert[], contact: Contact, channels: readonly string[], stage: string, textFor: (lang: Language, channel: string) => string, criticalPage: boolean): Promise<void>;
  /** Records a notification (and mirrors it to history). */
  record(alertId: string, homeId: string, contactId: string | undefined, channel: string, status: string, at: number, error?: string): Promise<NotificationRecord>;
  /**
   * Records a channel's answer (or the provider's status now) on a notification, and mirrors it to history.
   * With `attemptAt` (when the attempt that got the answer began), only while the record is still `pending`
   * on that attempt: a send taken over by reconciliation (send-reconcile.ts) keeps the answer of the attempt
   * that took it. Returns whether it was recorded.
   */
  settle(n: { id: string; alertId: string; homeId: string; channel: string }, result: Outcome, at: number, attemptAt?: number): Promise<boolean>;
  /** Whether any of these keys belongs to a send this process has in flight (claimed, its answer not yet recorded). */
  inFlight(keys: readonly string[]): boolean;
  /** Contacts told about the alert: a send not known to have failed (held counts). One query for that alert. */
  toldContacts(alertId: string): Promise<string[]>;
  /** Who was tried about the alert and whether it reached them, for the emergency message. */
  tried(alertId: string, contacts: readonly Contact[]): Promise<TriedContact[]>;
}

const actor = 'notifier';
/** A send's outcome in receipt words (`queued`, `failed`, `delivered`, `undelivered`, …). */
type Outcome = { status: string; providerId?: string | undefined; error?: string | undefined };

/** The key of one message: alert, stage (epoch:tier:repeat, or a follow-up's), recipient, channel. */
export const sendKeyOf = (alertId: string, stage: string, contactId: string, channel: string): string => `${alertId}:${stage}:${contactId}:${channel}`;

/** Creates the ledger over the store's send keys and notifications. */
export function createSendLedger(o: SendLedgerOptions): SendLedger {
  const { store, clock, channels } = o;
  const log = o.logger;
  const toHistory = (n: { alertId: string; homeId: string; channel: string; status: string; at: number }) => {
    if (!o.history) return;
    try { o.history.writeNotification(n); } catch (err) { log.warn({ err }, 'history write failed'); }
  };

  async function record(alertId: string, homeId: string, contactId: string | undefined, channel: string, status: string, at: number, error?: string): Promise<NotificationRecord> {
    const rec: Omit<NotificationRecord, 'id' | 'updatedAt'> = { alertId, channel, status, createdAt: at };
    if (contactId) rec.contactId = contactId;
    if (error) rec.error = error;
    const n = await store.recordNotification(rec);
    toHistory({ alertId, homeId, channel, status, at });
    return n;
  }

  async function settle(n: { id: string; alertId: string; homeId: string; channel: string }, result: Outcome, at: number, attemptAt?: number): Promise<boolean> {
    const patch: { status: string; providerId?: string; error?: string } = { status: result.status };
    if (result.providerId) patch.providerId = result.providerId;
    if (result.error) patch.error = result.error;
    if (!(await store.updateNotification(n.id, patch, at, attemptAt === undefined ? undefined : { status: pendingStatus, updatedAt: attemptAt }))) return false;
    toHistory({ alertId: n.alertId, homeId: n.homeId, channel: n.channel, status: result.status, at });
    return true;
  }

  /** Keys of the sends in flight here, from before their claim until their answer is recorded (reconciliation leaves them alone). */
  const inFlightKeys = new Set<string>();
  const inFlight = (keys: readonly string[]): boolean => keys.some((k) => inFlightKeys.has(k));

  /** Whether this round (epoch) of the alert already paged the person with a message that was not lost or held. */
  async function pagedThisRound(alertId: string, contactId: string, stage: string): Promise<boolean> {
    const epoch = stage.split(':')[0];
    const mine = (await store.listSendOutcomes(alertId)).filter((k) => k.contactId === contactId && k.key.startsWith(`${alertId}:${epoch}:`));
    return mine.some((k) => !k.notificationId || k.notificationStatus === undefined || (!isNotReached(k.notificationStatus) && k.notificationStatus !== heldStatus));
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
    const keys = a.alerts.map((al) => ({ key: sendKeyOf(al.id, a.stage, a.contact.id, a.channel), alertId: al.id, contactId: a.contact.id, channel: a.channel, createdAt: at, ...intent }));
    // Decided before the keys are claimed, so this send's own keys do not count as an earlier page.
    const force = a.criticalPage && !(await pagedThisRound(first.id, a.contact.id, a.stage));
    const mine = keys.map((k) => k.key).filter((k) => !inFlightKeys.has(k));
    for (const k of mine) inFlightKeys.add(k);
    const done = () => { for (const k of mine) inFlightKeys.delete(k); };
    let handed = false;
    try {
      return await claimAndSend(a, first, ch, at, keys, force, (p) => { handed = true; void p.finally(done).catch(() => undefined); });
    } finally { if (!handed) done(); }
  }

  /** `sendOnce` from the claim on; `handOver` is given the background send (its keys stay in flight until it ends). */
  async function claimAndSend(
    a: { alerts: Alert[]; contact: Contact; channel: string; stage: string; text: string },
    first: Alert, ch: Channel, at: number, keys: Parameters<Store['claimSendKeys']>[0], force: boolean, handOver: (p: Promise<unknown>) => void,
  ): Promise<'sent' | 'failed' | 'skipped' | 'limited'> {
    const claimed = await store.claimSendKeys(keys, o.fenceOf?.(first.homeId), o.readVersionOf?.(first.homeId));
    if (claimed.length === 0) return 'skipped';
    if (!(await o.rateLimiter.take(a.contact.id, at, { force }))) {
      // Over the person's budget: held (never dropped) and told in one summary when the window allows.
      const n = await record(first.id, first.homeId, a.contact.id, a.channel, heldStatus, at, 'message budget');
      await store.attachSendKeys(claimed, n.id);
      const summaryAt = await o.rateLimiter.nextFreeAt(a.contact.id, at);
      await store.audit({ at, actor, action: 'send.held', subject: first.id, detail: { contactId: a.contact.id, channel: a.channel, stage: a.stage, summaryAt } });
      log.warn({ alertId: first.id, contactId: a.contact.id }, 'message held by the per-person budget; a summary follows');
      await o.heldForBudget(a.contact.id, first.homeId, summaryAt);
      return 'limited';
    }
    const n = await record(first.id, first.homeId, a.contact.id, a.channel, pendingStatus, at);
    await store.attachSendKeys(claimed, n.id);
    const to = recipientOf(a.contact, await addressesOf(store, a.contact));
    const replyCode = isPageStage(a.stage) ? await o.replyCodeOf(first.id) : undefined;
    const sending = (async (): Promise<SendResult> => {
      let result: SendResult;
      try { result = await ch.send({ to, text: a.text, alertId: first.id, ...(replyCode ? { replyCode } : {}) }); } catch (err) { result = { status: 'failed', error: `channel error: ${(err as Error).message}` }; }
      // On this attempt only: if a stall outlasted the settle window and reconciliation took the send over, its record stays.
      if (!(await settle({ id: n.id, alertId: first.id, homeId: first.homeId, channel: a.channel }, result, clock.now(), at))) {
        log.warn({ notificationId: n.id, alertId: first.id, channel: a.channel, providerId: result.providerId }, 'a send answered after reconciliation had taken it over; its answer is not recorded');
      } else if (result.status === 'failed') log.warn({ notificationId: n.id, alertId: first.id, channel: a.channel, error: result.error }, 'notification failed');
      return result;
    })();
    handOver(sending);
    void o.track(sending);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const budget = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), o.sendWaitMs); timer.unref(); });
    const result = await Promise.race([sending, budget]);
    clearTimeout(timer);
    return result?.status === 'failed' ? 'failed' : 'sent';
  }

  async function deliver(alerts: Alert[], contact: Contact, chans: readonly string[], stage: string, textFor: (lang: Language, channel: string) => string, criticalPage: boolean): Promise<void> {
    const lead = alerts[0];
    if (!lead) return;
    const outcomes = new Map<string, 'none' | 'failed' | 'ok'>();
    const sent = await store.listSendOutcomes(lead.id);
    for (const ch of chans) {
      const k = sent.find((x) => x.key === sendKeyOf(lead.id, stage, contact.id, ch));
      // Claimed but never recorded: the process died between the two. Never repeated here (the key
      // exists); start() has already reconciled it with the provider where the channel can be asked.
      if (k) outcomes.set(ch, k.notificationStatus !== undefined && isNotReached(k.notificationStatus) ? 'failed' : 'ok');
    }
    for (;;) {
      const ch = channelToTry(chans, outcomes);
      if (ch === undefined) return;
      const r = await sendOnce({ alerts, contact, channel: ch, stage, text: textFor(contact.language, ch), criticalPage });
      outcomes.set(ch, r === 'failed' ? 'failed' : 'ok');
    }
  }

  async function toldContacts(alertId: string): Promise<string[]> {
    const ids: string[] = [];
    for (const k of await store.listSendOutcomes(alertId)) {
      if (!k.contactId || ids.includes(k.contactId)) continue;
      if (k.notificationStatus !== undefined && isNotReached(k.notificationStatus)) continue;
      ids.push(k.contactId);
    }
    return ids;
  }

  async function tried(alertId: string, contacts: readonly Contact[]): Promise<TriedContact[]> {
    const keys = await store.listSendKeys(alertId);
    const notes = new Map((await store.listNotifications(alertId)).map((n) => [n.id, n]));
    const out: TriedContact[] = [];
    for (const k of keys) {
      const c = contacts.find((x) => x.id === k.contactId);
      if (!c || !roleTraits[c.role].listedAsTried) continue;
      const n = k.notificationId ? notes.get(k.notificationId) : undefined;
      out.push({ name: c.name, role: c.role, channel: k.channel, outcome: !n ? 'pending' : isNotReached(n.status) ? 'not reached' : n.status === pendingStatus ? 'pending' : 'reached' });
    }
    return out;
  }

  return { deliver, record, settle, inFlight, toldContacts, tried };
}
