/**
 * The video check-in schedule: each scheduled check-in is two jobs on a
 * durable scheduler (jobs/) that runs in wall-clock time (a caregiver calls
 * at 10:30 by the clock on the wall, also in the sped-up demo) — a reminder
 * to the caregiver who will call (`checkin-reminder:<id>`, lead time before
 * it is due) and a deadline (`checkin-deadline:<id>`, grace after it is
 * due); both survive a restart in the jobs table. A check-in is
 * done when a call for it connects; it is missed when the tablet did not
 * answer, the resident declined twice, or nobody called by the deadline. A
 * missed check-in becomes a `Finding`, which the hub hands to the notifier's
 * escalation like any rule's.
 *
 * A check-in leaves "scheduled" once: every change of its status is a
 * compare-and-set on the status read (`updateCheckin(…, { status:
 * 'scheduled' })`). Of two changes that both read it scheduled — the family's
 * cancel and the deadline, a connected call and the deadline, on one node or
 * two — the first to write decides; the other changes nothing and tells
 * nobody (no finding, no audit line: `cancel` answers false). Its timers
 * are taken down after the write that won (and, for a missed one, after its
 * finding); a timer that runs after that finds it settled and does nothing.
 */
import type { Clock, WallClock } from '../core/clock.js';
import type { Finding } from '../core/findings.js';
import type { Logger } from '../core/logger.js';
import type { HomeFence, HomeStore, Job, JobStore, MissedReason, VideoCheckin, VideoStore } from '../core/store.js';
import { createJobScheduler, type HomeOwnership, type JobRun, type JobScheduler } from '../jobs/index.js';
import { monthDayClock } from '../core/time.js';

/** What the caregiver is reminded of (ids and times only: no names leave through here). */
export interface CheckinReminder {
  checkinId: string; homeId: string; callerId: string; dueAt: number;
  /** In a cluster: the reminder job's fence, for the sends it makes (a node that lost the home sends nothing). */
  fence?: HomeFence;
}

export interface CheckinsOptions {
  store: HomeStore & VideoStore & JobStore;
  /** Due times, reminders and deadlines: wall-clock time. */
  wallClock: WallClock;
  /** The durable scheduler on `wallClock` the reminders and deadlines run on; its owner closes it first. Default: an own one, owned by `nodeId`. */
  jobs?: JobScheduler;
  /** The owner on the own scheduler's leases (default `hub:wall`). */
  nodeId?: string;
  /** Cluster mode: reminders and deadlines run on the node that runs the check-in's home, once per cluster. */
  ownership?: HomeOwnership;
  /** The hub's clock (simulated in the demo): the time a missed check-in's finding carries into the alert path. */
  clock: Clock;
  logger: Logger;
  /** A missed check-in, as a finding (the hub: `notifier.handleFinding`). */
  raiseFinding?: (f: Finding) => unknown;
  /** A reminder to the caregiver who will call (the hub wires it to the notifier). */
  remindCaregiver?: (r: CheckinReminder) => unknown;
  /** A check-in was cancelled: the caregivers already reminded of it are told (the hub wires it to SMS, hub/checkin-reminders.ts). */
  tellCancelled?: (r: CheckinReminder) => unknown;
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

const reminderKind = 'checkin-reminder';
const deadlineKind = 'checkin-deadline';
const reminderKey = (id: string) => `${reminderKind}:${id}`;
const deadlineKey = (id: string) => `${deadlineKind}:${id}`;
/** The check-in a job is for (its payload; an unreadable one ends the job). */
const checkinOf = (job: Job): string | undefined => {
  const id = (job.payload as { checkinId?: unknown } | undefined)?.checkinId;
  return typeof id === 'string' ? id : undefined;
};

const reasonText: Record<MissedReason, { en: string; ja: string }> = {
  'no-answer': { en: 'the tablet rang but nobody answered', ja: 'タブレットが鳴りましたが応答がありませんでした' },
  declined: { en: 'the call was declined twice', ja: '通話が2回断られました' },
  'not-called': { en: 'no call was made', ja: '通話が行われませんでした' },
};

/** Builds the schedule; call `start()` once to take on the check-ins' jobs (also those saved before a restart). */
export function createCheckins(opts: CheckinsOptions) {
  const { store, wallClock, clock: hubClock, logger } = opts;
  const clock = wallClock;
  const lead = opts.reminderLeadMs ?? 15 * 60_000;
  const grace = opts.graceMs ?? 30 * 60_000;
  // Made here but given handlers only in start(): a read-only reference hub never starts it, so never writes.
  const ownJobs = opts.jobs ? undefined : createJobScheduler({ store, clock, logger, owner: opts.nodeId ?? 'hub:wall', ...(opts.ownership ? { ownership: opts.ownership } : {}) });
  const jobs = opts.jobs ?? ownJobs!;
  let closed = false;

  async function disarm(id: string): Promise<void> {
    await jobs.cancel(reminderKey(id));
    await jobs.cancel(deadlineKey(id));
  }

  async function arm(c: VideoCheckin): Promise<void> {
    if (closed || c.status !== 'scheduled') return;
    const payload = { checkinId: c.id };
    if (c.dueAt - lead > clock.now()) await jobs.schedule({ key: reminderKey(c.id), kind: reminderKind, homeId: c.homeId, dueAt: c.dueAt - lead, payload });
    await jobs.schedule({ key: deadlineKey(c.id), kind: deadlineKind, homeId: c.homeId, dueAt: c.dueAt + grace, payload });
  }

  async function remind(id: string, fence: HomeFence | undefined): Promise<void> {
    const c = await store.getCheckin(id);
    if (!c || c.status !== 'scheduled') return;
    logger.info({ checkin: c.id, home: c.homeId, caller: c.callerId }, 'video check-in reminder');
    await opts.remindCaregiver?.({ checkinId: c.id, homeId: c.homeId, callerId: c.callerId, dueAt: c.dueAt, ...(fence ? { fence } : {}) });
    opts.changed?.(c.homeId);
  }

  async function deadline(id: string): Promise<void> {
    const c = await store.getCheckin(id);
    // Missed, and its deadline still here: the change that marked it missed was cut off before the family was
    // told (the timers are taken down only after the finding is raised). Told now.
    if (c?.status === 'missed') { await tellMissed(c, c.missedReason ?? 'not-called'); return; }
    if (!c || c.status !== 'scheduled') return;
    if (opts.callInProgress?.(id)) {
      // A call is ringing or connected: its outcome decides, not the deadline (looked at again in a minute).
      await jobs.schedule({ key: deadlineKey(id), kind: deadlineKind, homeId: c.homeId, dueAt: clock.now() + 60_000, payload: { checkinId: id } });
      return;
    }
    await missed(c, 'not-called');
  }

  /** Moves a scheduled check-in to `patch.status`; false (the caller does nothing) when another change got there first. */
  async function settle(c: VideoCheckin, patch: Parameters<typeof store.updateCheckin>[1]): Promise<boolean> {
    if (await store.updateCheckin(c.id, patch, { status: 'scheduled' })) return true;
    logger.info({ checkin: c.id, home: c.homeId, wanted: patch.status }, 'video check-in already settled by another change; left as it is');
    return false;
  }

  async function missed(c: VideoCheckin, reason: MissedReason): Promise<void> {
    if (!(await settle(c, { status: 'missed', missedReason: reason }))) return;
    await tellMissed(c, reason);
  }

  /**
   * Tells the family a check-in was missed, then takes its timers down. A crash or a failed raise in
   * between leaves the deadline job in place; it runs again (after a restart, or the job's retry) and,
   * finding the check-in missed, tells it then (`deadline`). The alert for a missed check-in is one
   * per home and rule, so a raise repeated after a crash that came just after it is no second page.
   */
  async function tellMissed(c: VideoCheckin, reason: MissedReason): Promise<void> {
    const home = await store.getHome(c.homeId);
    const when = monthDayClock(c.dueAt, home?.timezone ?? 'Asia/Tokyo');
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
    await disarm(c.id); // after the finding: a crash before it finds the deadline there, which tells it (`deadline`)
    opts.changed?.(c.homeId);
  }

  return {
    /** Runs the check-ins' jobs from now on (overdue ones, e.g. after a restart, at once). */
    async start(): Promise<void> {
      const run = (work: (id: string, fence: HomeFence | undefined) => Promise<void>) => async (job: Job, r: JobRun) => {
        if (closed) throw new Error('video check-ins are closed'); // failed, not lost: it runs again after a restart
        const id = checkinOf(job);
        if (id) await work(id, r.fence);
      };
      jobs.register(reminderKind, run(remind));
      jobs.register(deadlineKind, run(deadline));
      // A check-in scheduled before its deadline was a job (migration 18) gets its jobs now.
      for (const c of await store.listScheduledCheckins()) if (!(await jobs.get(deadlineKey(c.id)))) await arm(c);
      await jobs.idle(); // the timer is armed before anyone moves the clock
    },

    /** Schedules a check-in; `callerId` is the caregiver who will call. */
    async schedule(input: { homeId: string; dueAt: number; callerId: string; createdBy: string }): Promise<VideoCheckin> {
      const c = await store.addCheckin({ ...input, createdAt: clock.now() });
      await arm(c);
      opts.changed?.(c.homeId);
      return c;
    },

    /** Cancels a scheduled check-in; false when it was not scheduled (any more): done, missed or cancelled before. */
    async cancel(id: string): Promise<boolean> {
      const c = await store.getCheckin(id);
      if (!c || c.status !== 'scheduled') return false;
      if (!(await settle(c, { status: 'cancelled' }))) return false;
      await disarm(id);
      opts.changed?.(c.homeId);
      // After the status: a reminder that claimed its send key before this reads "cancelled", or its key is found here.
      await opts.tellCancelled?.({ checkinId: c.id, homeId: c.homeId, callerId: c.callerId, dueAt: c.dueAt });
      return true;
    },

    /** The next still-scheduled check-in of a home (the tablet shows it). */
    async next(homeId: string): Promise<VideoCheckin | undefined> {
      return (await store.listCheckins(homeId, clock.now() - grace)).find((c) => c.status === 'scheduled');
    },

    /** A call for the check-in connected: done. */
    async callConnected(id: string, callId: string): Promise<void> {
      const c = await store.getCheckin(id);
      if (!c || c.status !== 'scheduled') return;
      if (!(await settle(c, { status: 'done', callId }))) return;
      await disarm(id);
      opts.changed?.(c.homeId);
    },

    /** The resident declined a call for the check-in; the second decline makes it missed. */
    async callDeclined(id: string): Promise<void> {
      for (;;) {
        const c = await store.getCheckin(id);
        if (!c || c.status !== 'scheduled') return;
        const declines = c.declines + 1;
        // Counted on the count read: a decline counted meanwhile makes this one read again (and settled meanwhile, stop).
        if (!(await store.updateCheckin(id, { declines }, { status: 'scheduled', declines: c.declines }))) continue;
        if (declines >= 2) await missed({ ...c, declines }, 'declined');
        else opts.changed?.(c.homeId);
        return;
      }
    },

    /** A call for the check-in rang out unanswered. */
    async callUnanswered(id: string): Promise<void> {
      const c = await store.getCheckin(id);
      if (!c || c.status !== 'scheduled') return;
      await missed(c, 'no-answer');
    },

    /** Resolves when the jobs started have finished (tests, shutdown). */
    async settled(): Promise<void> {
      await jobs.idle();
    },

    async close(): Promise<void> {
      await ownJobs?.close();
      closed = true;
      await jobs.idle();
    },
  };
}

export type Checkins = ReturnType<typeof createCheckins>;
