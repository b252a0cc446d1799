/**
 * Crash reconciliation: a crash between claiming a send key and recording
 * the provider's answer leaves a send whose fate is unknown. For channels
 * whose provider can be asked (`Channel.findSent`: SMS and voice through
 * Twilio) the key carries the address and text, and the engine's `start()`
 * runs this before any step: found at the provider → recorded with its id,
 * not sent again; not found → sent now, once (unless the alert was resolved
 * or the key is too old: then recorded as lost, so the escalation's next
 * channel carries on); provider unreachable → asked again on the clock.
 * Other channels (e-mail, tablet, live) stay at most once.
 *
 * A send still in flight looks just like one a crash left behind (a key, a
 * `pending` record without a provider id), so reconciliation never touches
 * one that may be: it leaves alone sends this process has in flight (the
 * ledger knows them), and sends whose current attempt is younger than
 * `settleAfterMs` (another node's, or a previous owner's of the home, may
 * still reach the provider); it looks at those again once they are that old.
 * Each home's sends are settled in the home's queue (the alert path's
 * serialisation), under the home's fence in a cluster, and a send is taken
 * over with a compare-and-set on the attempt it read (`takeUnsettledSend`)
 * before the provider is asked: of two reconcilers, one acts. In a cluster a
 * node settles only the sends of the homes it runs (`owns`): none at start,
 * each home's when it gains it.
 */
import type { SchedulerLike } from 'rxjs';
import { scheduleAt } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { HomeFence, Store, UnsettledSendKey } from '../core/store.js';
import type { Channel, Recipient, SendResult } from './channel.js';
import { pendingStatus } from './delivery-status.js';
import type { SendLedger } from './send-ledger.js';

export interface ReconcileOptions {
  /** Unsettled keys younger than this are looked up at the provider. */
  lookBackMs: number;
  /**
   * A send whose current attempt is younger than this may still be in flight (on another node, or a
   * previous owner of the home): it is left alone and looked at again once it is this old. Keep it well
   * above the longest a send can take (the Twilio client's request timeout, 10 s by default). At least 1.
   */
  settleAfterMs: number;
  /** A send not found at the provider is sent now only if its key is younger than this and its alert is not resolved. */
  resendWithinMs: number;
  /** Allowed clock difference between the hub and the provider when matching times. */
  skewMs: number;
  /** When the provider cannot be asked, ask again after this long (clock ms)... */
  retryMs: number;
  /** ...at most this many times; then the send stays at most once. */
  retries: number;
}

export const defaultReconcile: ReconcileOptions = { lookBackMs: 24 * 3600_000, settleAfterMs: 60_000, resendWithinMs: 30 * 60_000, skewMs: 5_000, retryMs: 60_000, retries: 30 };

/**
 * What reconciliation did with one unsettled send; `in-flight`: left alone, because it may still be on its
 * way (this process's, or younger than the settle window) or another reconciler took it first.
 */
export type ReconcileOutcome = 'found' | 'resent' | 'dropped' | 'unknown' | 'in-flight';

export interface Reconciler {
  /**
   * Settles the unsettled sends of every home this node runs, each home's in its queue; sends the provider
   * could not be asked about, and those that may still be in flight, are looked at again later.
   */
  reconcile(): Promise<Map<string, ReconcileOutcome>>;
  /** The same for one home (a home this node has just gained); queued in the home's queue at once. */
  settleHome(homeId: string): Promise<Map<string, ReconcileOutcome>>;
  /** Cancels the pending looks. */
  close(): void;
}

const actor = 'notifier';

/** Keys of one send share its notification, or (none recorded yet) their time, person, channel and text. */
const sendIdOf = (k: UnsettledSendKey) => k.notificationId ?? JSON.stringify([k.createdAt, k.contactId ?? '', k.channel, k.recipient ?? '', k.body ?? '']);

export function createReconciler(o: {
  store: Store; logger: Logger; clock: SchedulerLike; channels: ReadonlyMap<string, Channel>;
  ledger: Pick<SendLedger, 'settle' | 'inFlight'>; options: ReconcileOptions; track<T>(p: Promise<T>): Promise<T>;
  /**
   * Runs `fn` in the home's queue (the alert path's: one change at a time per home), given the fence the
   * home has on this node then (cluster mode; none on a single hub). Called synchronously, so work queued
   * when a home is gained runs before the home's jobs.
   */
  inHome<T>(homeId: string, fn: (fence: HomeFence | undefined) => Promise<T>): Promise<T>;
  /** Cluster mode: whether this node runs the home now (asked again in the home's queue). Default: every home. */
  owns?: (homeId: string) => boolean;
}): Reconciler {
  const { store, clock, channels, ledger } = o;
  const rec: ReconcileOptions = { ...o.options, settleAfterMs: Math.max(1, o.options.settleAfterMs) };
  const log = o.logger;
  const owns = o.owns ?? (() => true);
  /** The next look at each home's sends: when, and its cancel. */
  const looks = new Map<string, { at: number; cancel: () => void }>();
  let closed = false;

  /** Settles one send a crash left without an outcome: found at the provider, sent now (once), or dropped. */
  async function reconcileSend(keys: UnsettledSendKey[], fence: HomeFence | undefined): Promise<ReconcileOutcome> {
    const k = keys[0];
    const ch = k ? channels.get(k.channel) : undefined;
    if (!k?.recipient || k.body === undefined || !ch?.findSent) return 'unknown';
    const alert = await store.getAlert(k.alertId);
    if (!alert) return 'unknown';
    const now = clock.now();
    // Taken over first (compare-and-set on the attempt read): a second reconciler, or the send's own sender
    // answering meanwhile, makes this one step back. The record is written now if the send died before it.
    const nid = await store.takeUnsettledSend({
      keys: keys.map((x) => x.key), attemptAt: k.attemptAt, ...(k.notificationId ? { notificationId: k.notificationId } : {}),
      record: { alertId: alert.id, channel: k.channel, status: pendingStatus, createdAt: k.createdAt, ...(k.contactId ? { contactId: k.contactId } : {}) },
    }, now, fence);
    if (nid === undefined) return 'in-flight';
    let match: Awaited<ReturnType<NonNullable<Channel['findSent']>>>;
    try {
      match = await ch.findSent({
        to: k.recipient, text: k.body, after: k.createdAt - rec.skewMs,
        taken: async (providerId) => (await store.findNotificationByProviderId(providerId)) !== undefined,
      });
    } catch (err) {
      log.warn({ alertId: alert.id, channel: k.channel, error: (err as Error).message }, 'cannot ask the provider about a send interrupted by a restart; will ask again');
      await store.audit({ at: now, actor, action: 'send.reconcile', subject: alert.id, detail: { notificationId: nid, channel: k.channel, contactId: k.contactId, outcome: 'unknown', keys: keys.length } });
      return 'unknown';
    }
    const finish = async (outcome: ReconcileOutcome, result: { status: string; providerId?: string; error?: string }): Promise<ReconcileOutcome> => {
      const done = clock.now();
      // Only on the attempt taken: a late answer of the send's first attempt (a stalled node) is not overwritten.
      if (!(await ledger.settle({ id: nid, alertId: alert.id, homeId: alert.homeId, channel: k.channel }, result, done, now))) {
        log.warn({ notificationId: nid, alertId: alert.id, channel: k.channel, outcome }, 'a reconciled send was settled by another writer meanwhile');
      }
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

  /**
   * The unsettled sends within the look-back (of `homeId` alone, when given), grouped by send, each
   * with its home — one query: a start that settles many homes reads each home's sends once.
   */
  async function unsettled(homeId?: string): Promise<Array<{ id: string; homeId: string | undefined; keys: UnsettledSendKey[] }>> {
    const sends = new Map<string, UnsettledSendKey[]>();
    for (const k of await store.listUnsettledSendKeys(clock.now() - rec.lookBackMs, homeId)) {
      const id = sendIdOf(k);
      const keys = sends.get(id);
      if (keys) keys.push(k); else sends.set(id, [k]);
    }
    return [...sends].map(([id, keys]) => ({ id, homeId: keys[0]!.homeId, keys }));
  }

  /** Looks at the home's sends again at `at` (the earlier of two requests wins); `attempt` counts unreachable-provider retries. */
  function lookAgain(homeId: string, at: number, attempt: number): void {
    if (closed) return;
    const pending = looks.get(homeId);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    looks.set(homeId, { at, cancel: scheduleAt(clock, at, () => {
      looks.delete(homeId);
      void o.track(o.inHome(homeId, (fence) => settleNow(homeId, attempt, fence))).catch((err: unknown) => log.error({ err, homeId }, 'reconciliation failed'));
    }) });
  }

  /** In the home's queue: settles the home's unsettled sends that cannot be in flight; plans the next look. */
  async function settleNow(homeId: string, attempt: number, fence: HomeFence | undefined): Promise<Map<string, ReconcileOutcome>> {
    const out = new Map<string, ReconcileOutcome>();
    if (closed || !owns(homeId)) return out;
    const now = clock.now();
    let youngest: number | undefined;
    for (const send of await unsettled(homeId)) {
      const k = send.keys[0]!;
      // This process's own send in flight, or an attempt that may still reach the provider: not yet.
      if (ledger.inFlight(send.keys.map((x) => x.key)) || now - k.attemptAt < rec.settleAfterMs) {
        out.set(send.id, 'in-flight');
        const due = Math.max(k.attemptAt + rec.settleAfterMs, now + 1);
        youngest = youngest === undefined ? due : Math.min(youngest, due);
        continue;
      }
      try { out.set(send.id, await reconcileSend(send.keys, fence)); } catch (err) { log.error({ err, alertId: k.alertId }, 'reconciling a send failed'); out.set(send.id, 'unknown'); }
    }
    const outcomes = [...out.values()];
    if (outcomes.includes('unknown') && attempt < rec.retries) lookAgain(homeId, clock.now() + rec.retryMs, attempt + 1);
    // A look for the young ones does not count as a retry (a taken send that stays unknown counts on the next).
    if (youngest !== undefined) lookAgain(homeId, youngest, attempt);
    const count = (v: ReconcileOutcome) => outcomes.filter((x) => x === v).length;
    if (out.size > 0) log.info({ sends: out.size, attempt, found: count('found'), resent: count('resent'), dropped: count('dropped'), unknown: count('unknown'), inFlight: count('in-flight') }, 'sends interrupted by a restart reconciled');
    return out;
  }

  const settleHome = (homeId: string) => o.inHome(homeId, (fence) => settleNow(homeId, 0, fence));

  async function reconcile(): Promise<Map<string, ReconcileOutcome>> {
    const homes = new Set<string>();
    for (const s of await unsettled()) if (s.homeId !== undefined && owns(s.homeId)) homes.add(s.homeId);
    const out = new Map<string, ReconcileOutcome>();
    for (const part of await Promise.all([...homes].map(settleHome))) for (const [id, v] of part) out.set(id, v);
    return out;
  }

  return {
    reconcile,
    settleHome,
    close() { closed = true; for (const l of looks.values()) l.cancel(); looks.clear(); },
  };
}
