/**
 * The video check-in schedule: each scheduled check-in arms two timers in
 * wall-clock time (a caregiver calls at 10:30 by the clock on the wall, also
 * in the sped-up demo) — a reminder to the caregiver who will call (lead time
 * before it is due) and a deadline (grace after it is due). A check-in is
 * done when a call for it connects; it is missed when the tablet did not
 * answer, the resident declined twice, or nobody called by the deadline. A
 * missed check-in becomes a `Finding`, which the hub hands to the notifier's
 * escalation like any rule's.
 */
import type { Clock, WallClock } from '../core/clock.js';
import { scheduleAt } from '../core/clock.js';
import type { Finding } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import type { HomeStore, MissedReason, VideoCheckin, VideoStore } from '../core/store.js';
import { localTime, formatClockTime } from '../core/time.js';

/** What the caregiver is reminded of (ids and times only: no names leave through here). */
export interface CheckinReminder { checkinId: string; homeId: string; callerId: string; dueAt: number }

export interface CheckinsOptions {
  store: HomeStore & VideoStore;
  /** Due times, reminders and deadlines: wall-clock time. */
  wallClock: WallClock;
  /** The hub's clock (simulated in the demo): the time a missed check-in's finding carries into the alert path. */
  clock: Clock;
  logger: Logger;
  /** A missed check-in, as a finding (the hub: `notifier.handleFinding`). */
  raiseFinding?: (f: Finding) => unknown;
  /** A reminder to the caregiver who will call (the hub wires it to the notifier). */
  remindCaregiver?: (r: CheckinReminder) => unknown;
  /** Something about a home's check-ins changed (pages refresh). */
  changed?: (homeId: string) => void;
  /** Reminder this long before a check-in is due (default 15 min). */
  reminderLeadMs?: number;
  /** Nobody called this long after it was due: missed (default 30 min). */
  graceMs?: number;
  /** Whether a call for the check-in is ringing or connected right now (then the deadline waits for it). */
  callInProgress?: (checkinId: string) => boolean;
}

/** The rule id missed check-ins are raised under (one open alert per home, repeats counted). */
export const missedCheckinRule = 'video-checkin';

const reasonText: Record<MissedReason, { en: string; ja: string }> = {
  'no-answer': { en: 'the tablet rang but nobody answered', ja: 'タブレットが鳴りましたが応答がありませんでした' },
  declined: { en: 'the call was declined twice', ja: '通話が2回断られました' },
  'not-called': { en: 'no call was made', ja: '通話が行われませんでした' },
};

/** Builds the scheduler; call `start()` once to re-arm check-ins saved before a restart. */
export function createCheckins(opts: CheckinsOptions) {
  const { store, wallClock, clock: hubClock, logger } = opts;
  const clock = wallClock;
  const lead = opts.reminderLeadMs ?? 15 * 60_000;
  const grace = opts.graceMs ?? 30 * 60_000;
  const timers = new Map<string, Array<() => void>>();
  const pending = new Set<Promise<unknown>>();
  let closed = false;

  /** Tracks async work started from timers so `settled()` and `close()` can wait for it. */
  function track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => logger.error({ err }, 'video check-in work failed')).finally(() => pending.delete(q));
    pending.add(q);
  }

  function disarm(id: string): void {
    for (const cancel of timers.get(id) ?? []) cancel();
    timers.delete(id);
  }

  function arm(c: VideoCheckin): void {
    disarm(c.id);
    if (closed || c.status !== 'scheduled') return;
    const list: Array<() => void> = [];
    const now = clock.now();
    if (c.dueAt - lead > now) {
      list.push(scheduleAt(clock, c.dueAt - lead, () => track(remind(c.id))));
    }
    list.push(scheduleAt(clock, c.dueAt + grace, () => track(deadline(c.id))));
    timers.set(c.id, list);
  }

  async function remind(id: string): Promise<void> {
    const c = await store.getCheckin(id);
    if (!c || c.status !== 'scheduled') return;
    logger.info({ checkin: c.id, home: c.homeId, caller: c.callerId }, 'video check-in reminder');
    await opts.remindCaregiver?.({ checkinId: c.id, homeId: c.homeId, callerId: c.callerId, dueAt: c.dueAt });
    opts.changed?.(c.homeId);
  }

  async function deadline(id: string): Promise<void> {
    const c = await store.getCheckin(id);
    if (!c || c.status !== 'scheduled') return;
    if (opts.callInProgress?.(id)) {
      // A call is ringing or connected: its outcome decides, not the deadline.
      timers.set(id, [scheduleAt(clock, clock.now() + 60_000, () => track(deadline(id)))]);
      return;
    }
    await missed(c, 'not-called');
  }

  async function missed(c: VideoCheckin, reason: MissedReason): Promise<void> {
    disarm(c.id);
    await store.updateCheckin(c.id, { status: 'missed', missedReason: reason });
    const home = await store.getHome(c.homeId);
    const l = localTime(c.dueAt, home?.timezone ?? 'Asia/Tokyo');
    const when = `${l.month}/${l.day} ${formatClockTime(l.minuteOfDay)}`;
    const at = hubClock.now();
    logger.warn({ checkin: c.id, home: c.homeId, reason }, 'video check-in missed');
    const finding: Finding = {
      home: c.homeId, rule: missedCheckinRule, type: 'missedCheckIn', state: 'raised', severity: 'warning', audience: 'family', at,
      message: { en: 'Video check-in missed', ja: 'ビデオでの定時確認ができませんでした' },
      expected: { en: `A video check-in at ${when}`, ja: `${when} のビデオ確認` },
      observed: { en: reasonText[reason].en, ja: reasonText[reason].ja },
      data: { checkinId: c.id, reason, dueAt: c.dueAt },
    };
    await opts.raiseFinding?.(finding);
    opts.changed?.(c.homeId);
  }

  return {
    /** Re-arms every still-scheduled check-in (after a restart; overdue ones are decided at once). */
    async start(): Promise<void> {
      for (const c of await store.listScheduledCheckins()) arm(c);
    },

    /** Schedules a check-in; `callerId` is the caregiver who will call. */
    async schedule(input: { homeId: string; dueAt: number; callerId: string; createdBy: string }): Promise<VideoCheckin> {
      const c = await store.addCheckin({ ...input, createdAt: clock.now() });
      arm(c);
      opts.changed?.(c.homeId);
      return c;
    },

    async cancel(id: string): Promise<void> {
      const c = await store.getCheckin(id);
      if (!c || c.status !== 'scheduled') return;
      disarm(id);
      await store.updateCheckin(id, { status: 'cancelled' });
      opts.changed?.(c.homeId);
    },

    /** The next still-scheduled check-in of a home (the tablet shows it). */
    async next(homeId: string): Promise<VideoCheckin | undefined> {
      return (await store.listCheckins(homeId, clock.now() - grace)).find((c) => c.status === 'scheduled');
    },

    /** A call for the check-in connected: done. */
    async callConnected(id: string, callId: string): Promise<void> {
      const c = await store.getCheckin(id);
      if (!c || c.status !== 'scheduled') return;
      disarm(id);
      await store.updateCheckin(id, { status: 'done', callId });
      opts.changed?.(c.homeId);
    },

    /** The resident declined a call for the check-in; the second decline makes it missed. */
    async callDeclined(id: string): Promise<void> {
      const c = await store.getCheckin(id);
      if (!c || c.status !== 'scheduled') return;
      const declines = c.declines + 1;
      await store.updateCheckin(id, { declines });
      if (declines >= 2) await missed({ ...c, declines }, 'declined');
      else opts.changed?.(c.homeId);
    },

    /** A call for the check-in rang out unanswered. */
    async callUnanswered(id: string): Promise<void> {
      const c = await store.getCheckin(id);
      if (!c || c.status !== 'scheduled') return;
      await missed(c, 'no-answer');
    },

    /** Resolves when work started by timers has finished (tests, shutdown). */
    async settled(): Promise<void> {
      while (pending.size) await Promise.all([...pending]);
    },

    async close(): Promise<void> {
      closed = true;
      for (const id of [...timers.keys()]) disarm(id);
      await this.settled();
    },
  };
}

export type Checkins = ReturnType<typeof createCheckins>;
