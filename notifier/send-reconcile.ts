/**
 * Crash reconciliation: a crash between claiming a send key and recording
 * the provider's answer leaves a send whose fate is unknown. For channels
 * whose provider can be asked (`Channel.findSent`: SMS and voice through
 * Twilio) the key carries the address and text, and the engine's `start()`
 * runs this before any step: found at the provider → recorded with its id,
 * not sent again; not found → sent now, once (unless the alert was resolved
 * or the key is too old: then recorded as lost, so the escalation's next
 * channel carries on); provider unreachable → asked again on the clock.
 * Other channels (e-mail, tablet, live) stay at most once. In a cluster a
 * node settles only the sends of the homes it runs (`ReconcileScope`): none at
 * start, each home's when its fence becomes the node's.
 */
import type { SchedulerLike } from 'rxjs';
import { scheduleAt } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { SendKey, Store } from '../core/store.js';
import type { Channel, Recipient, SendResult } from './channel.js';
import { pendingStatus } from './delivery-status.js';
import type { SendLedger } from './send-ledger.js';

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

export interface Reconciler {
  /**
   * Settles the unsettled sends of the homes `scope` names (every home when
   * it is absent); those the provider could not be asked about are tried
   * again later (`attempt` counts), one pending retry per scope.
   */
  reconcile(attempt?: number, scope?: ReconcileScope): Promise<Map<string, ReconcileOutcome>>;
  /** Cancels a pending retry. */
  close(): void;
}

/**
 * Which homes a reconciliation settles: in a cluster a node settles only the
 * sends of homes it runs (their fence is its), so a node starting while
 * another is in the middle of a send never settles that send too.
 */
export interface ReconcileScope {
  /** Names the pending retry of this scope (a later call with the same key replaces it). */
  key: string;
  includes(homeId: string): boolean;
}

const actor = 'notifier';

/** Keys of one send share its notification, or (none recorded yet) their time, person, channel and text. */
const sendIdOf = (k: SendKey) => k.notificationId ?? JSON.stringify([k.createdAt, k.contactId ?? '', k.channel, k.recipient ?? '', k.body ?? '']);

export function createReconciler(o: {
  store: Store; logger: Logger; clock: SchedulerLike; channels: ReadonlyMap<string, Channel>;
  ledger: Pick<SendLedger, 'record' | 'settle'>; options: ReconcileOptions; track<T>(p: Promise<T>): Promise<T>;
}): Reconciler {
  const { store, clock, channels, ledger } = o;
  const rec = o.options;
  const log = o.logger;
  const retries = new Map<string, () => void>();
  let closed = false;

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
      n = await ledger.record(alert.id, alert.homeId, k.contactId, k.channel, pendingStatus, k.createdAt);
      await store.attachSendKeys(keys.map((x) => x.key), n.id);
    }
    const nid = n.id;
    const finish = async (outcome: ReconcileOutcome, result: { status: string; providerId?: string; error?: string }): Promise<ReconcileOutcome> => {
      const done = clock.now();
      await ledger.settle({ id: nid, alertId: alert.id, homeId: alert.homeId, channel: k.channel }, result, done);
      await store.audit({ at: done, actor, action: 'send.reconcile', subject: alert.id, detail: { notificationId: nid, channel: k.channel, contactId: k.contactId, outcome, providerId: result.providerId, status: result.status, keys: keys.length } });
      log.info({ notificationId: nid, alertId: alert.id, channel: k.channel, outcome, providerId: result.providerId, status: result.status }, 'send interrupted by a restart reconciled with the provider');
      return outcome;
    };
    if (match) return finish('found', { status: match.status, providerId: match.providerId, ...(match.error ? { error: match.error } : {}) });
    if (alert.status === 'resolved' || now - k.createdAt > rec.resendWithinMs) {
      return finish('dropped', { status: 'failed', error: alert.status === 'resolved' ? 'lost in a restart; alert already resolved' : 'lost in a restart; too old to send' });
    }
    const contact = k.contactId ? (await store.listContacts(alert.homeId)).find((c) => c.id === k.contactId) : undefined;
    // The address and text exactly as first handed over, so a second lookup (another crash) still matches.
    const to: Recipient = { language: contact?.language ?? 'ja', phone: k.recipient };
    if (contact) { to.id = contact.id; to.name = contact.name; to.homeId = contact.homeId; }
    let result: SendResult;
    try { result = await ch.send({ to, text: k.body, alertId: alert.id }); } catch (err) { result = { status: 'failed', error: `channel error: ${(err as Error).message}` }; }
    return finish('resent', result);
  }

  /** Whether the send's alert belongs to a home in `scope` (no scope: every home). */
  async function inScope(k: SendKey, scope: ReconcileScope | undefined): Promise<boolean> {
    if (!scope) return true;
    const alert = await store.getAlert(k.alertId);
    return alert !== undefined && scope.includes(alert.homeId);
  }

  async function reconcile(attempt = 0, scope?: ReconcileScope): Promise<Map<string, ReconcileOutcome>> {
    const keys = await store.listUnsettledSendKeys(clock.now() - rec.lookBackMs);
    const sends = new Map<string, SendKey[]>();
    for (const k of keys) { const id = sendIdOf(k); sends.set(id, [...(sends.get(id) ?? []), k]); }
    const out = new Map<string, ReconcileOutcome>();
    for (const [id, group] of sends) {
      try {
        if (!(await inScope(group[0]!, scope))) continue;
        out.set(id, await reconcileSend(group));
      } catch (err) { log.error({ err, alertId: group[0]?.alertId }, 'reconciling a send failed'); out.set(id, 'unknown'); }
    }
    const retryKey = scope?.key ?? '*';
    if ([...out.values()].includes('unknown') && attempt < rec.retries && !closed) {
      retries.get(retryKey)?.();
      retries.set(retryKey, scheduleAt(clock, clock.now() + rec.retryMs, () => {
        retries.delete(retryKey);
        void o.track(reconcile(attempt + 1, scope)).catch((err: unknown) => log.error({ err }, 'reconciliation failed'));
      }));
    }
    const count = (v: ReconcileOutcome) => [...out.values()].filter((x) => x === v).length;
    if (sends.size > 0) log.info({ sends: sends.size, attempt, found: count('found'), resent: count('resent'), dropped: count('dropped'), unknown: count('unknown') }, 'sends interrupted by a restart reconciled');
    return out;
  }

  return {
    reconcile,
    close() { closed = true; for (const cancel of retries.values()) cancel(); retries.clear(); },
  };
}
