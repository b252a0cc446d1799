/**
 * Daily digests: one to three calm summaries a day, at the times each
 * family member picks (contact preferences), on the channel they pick (e-mail,
 * SMS, LINE, push; their own order when it cannot reach them) — like a
 * kettle-usage e-mail: first kettle use, outings, day-care attendance, and
 * "all normal" or what was noticed. The day's facts come from a
 * `summarizeDay(homeId, date)` dependency (history / store), so the digest
 * itself is plain text and scheduling, testable in virtual time. Each
 * digest time is a job on the one durable scheduler (jobs/, kind `digest`,
 * key `digest:<contact>:<HH:MM>`); after sending, it schedules its next day.
 * Each day's digest is sent at most once: its send key
 * (`digest:<contact>:<HH:MM>:<date>`, the escalation's send ledger) is
 * claimed before the send, with the job's fence in a cluster. A run repeated
 * after a failure past the send, or by a node that has lost the home, finds
 * the key taken and sends nothing.
 *
 * Plans made at once (two people saving their times on one hub, or on two
 * nodes) do not undo each other: a plan reads the digest jobs *before* the
 * preferences, marks each time it wants as still wanted (`jobs.ensure`: its
 * due time kept, its version grown) and cancels a job it does not want only
 * in the version it read first. A plan that read the preferences before
 * another person's save therefore cannot cancel the job that save planned —
 * the later plan's `ensure` gave it a version the stale plan never saw. A
 * run that finds its time dropped ends the job the same way (its finish
 * deletes only the version it ran), so a time put back meanwhile stays.
 */
import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../core/logger.js';
import type { Contact, Job, Language, Store } from '../core/store.js';
import type { JobRun, JobScheduler } from '../jobs/index.js';
import { formatClockTime, localTime, parseClockTime } from '../core/time.js';
import type { Channel } from './channel.js';
import { contactPreferencesSchema } from './contact-preferences.js';
import { addressesOf, channelOrder, recipientOf } from './contact-channels.js';

/** What happened in a home on one local date. Times are epoch ms. */
export interface DaySummary {
  firstKettleAt?: number;
  outings: Array<{ from: number; to?: number }>;
  /** Day-care attendance marked by staff. */
  dayCare?: 'present' | 'absent';
  /** Alerts or findings of the day, in both languages; empty means all normal. */
  noticed: Array<{ ja: string; en: string }>;
}

export type SummarizeDay = (homeId: string, date: string) => Promise<DaySummary>;

/** The digest text, e.g. 「【見守り・今日の様子】山田花子さん: ポット 7:12／外出 9:30–15:10／デイケア 出席／いつも通りでした。」. */
export function digestText(s: DaySummary, residentName: string, timezone: string, lang: Language): string {
  const t = (at: number) => { const m = localTime(at, timezone).minuteOfDay; return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`; };
  const outs = s.outings.map((o) => `${t(o.from)}–${o.to === undefined ? '' : t(o.to)}`);
  if (lang === 'ja') {
    const parts = [
      `ポット ${s.firstKettleAt === undefined ? 'まだ使われていません' : t(s.firstKettleAt)}`,
      `外出 ${outs.length ? outs.join('、') : 'なし'}`,
    ];
    if (s.dayCare) parts.push(`デイケア ${s.dayCare === 'present' ? '出席' : '欠席'}`);
    parts.push(s.noticed.length ? `気になったこと: ${s.noticed.map((n) => n.ja).join('、')}` : 'いつも通りでした。');
    return `【見守り・今日の様子】${residentName}さん: ${parts.join('／')}`;
  }
  const parts = [
    `kettle ${s.firstKettleAt === undefined ? 'not used yet' : `first used ${t(s.firstKettleAt)}`}`,
    `out ${outs.length ? outs.join(', ') : 'none'}`,
  ];
  if (s.dayCare) parts.push(`day-care ${s.dayCare}`);
  parts.push(s.noticed.length ? `noticed: ${s.noticed.map((n) => n.en).join(', ')}` : 'all normal.');
  return `[Mimamori daily] ${residentName}: ${parts.join('; ')}`;
}

/** The next time after `now` that the local clock in `timezone` shows `hhmm`. */
export function nextLocalTime(hhmm: string, now: number, timezone: string): number {
  const want = parseClockTime(hhmm);
  let t = Math.floor(now / 60_000) * 60_000 + 60_000;
  for (let i = 0; i < 2 * 24 * 60; i++, t += 60_000) if (localTime(t, timezone).minuteOfDay === want) return t;
  return now + 24 * 3600_000;
}

export interface DigestScheduler {
  /** (Re)plans every contact's digest times from the stored preferences. */
  plan(): Promise<void>;
  idle(): Promise<void>;
  close(): void;
}

/** Creates the digest scheduler; its jobs run on `jobs` (on `clock`). */
export function createDigestScheduler(o: { store: Store; jobs: JobScheduler; clock: SchedulerLike; logger: Logger; channels: ReadonlyMap<string, Channel>; summarizeDay?: SummarizeDay; followUpChannels?: readonly string[] }): DigestScheduler {
  let closed = false;

  async function send(job: Job, run: JobRun, summarizeDay: SummarizeDay): Promise<void> {
    if (closed) throw new Error('digests are closed'); // failed, not lost: it runs again after a restart
    const { contactId, time } = job.payload as { contactId: string; time: string };
    const contact = (await o.store.listContacts(job.homeId)).find((c) => c.id === contactId);
    const prefs = contactPreferencesSchema.safeParse((await o.store.getContactPreferences(contactId)) ?? {});
    // A person or digest time that is gone: the job ends here.
    if (!contact || !prefs.success || !prefs.data.digest?.times.includes(time)) return;
    const home = await o.store.getHome(contact.homeId);
    const tz = home?.timezone ?? 'Asia/Tokyo';
    const residents = await o.store.listResidents(contact.homeId);
    const date = localTime(job.dueAt, tz).date;
    const text = digestText(await summarizeDay(contact.homeId, date), residents.map((r) => r.name).join('・') || (home?.name ?? contact.homeId), tz, contact.language);
    // The digest's channel, else the person's own order, else the follow-up order — where they can be reached.
    const addresses = await addressesOf(o.store, contact);
    const order = channelOrder({ own: [prefs.data.digest.channel, ...(prefs.data.channels ?? [])], channels: o.channels, addresses, ...(o.followUpChannels ? { fallback: o.followUpChannels } : {}) });
    const ch = order[0] === undefined ? undefined : o.channels.get(order[0]);
    const next = { key: job.key, kind: job.kind, homeId: job.homeId, dueAt: nextLocalTime(time, o.clock.now(), tz), payload: job.payload };
    // Claimed before the send (refused with a stale fence: a node that lost the home sends nothing).
    const sendKey = `${job.key}:${date}`;
    const claimed = await o.store.claimSendKeys([{ key: sendKey, alertId: job.key, contactId, channel: ch?.name ?? 'none', createdAt: o.clock.now() }], run.fence);
    if (claimed.length === 0) {
      o.logger.info({ contactId, time, date }, 'digest already sent for this date; not sent again');
      await o.jobs.schedule(next);
      return;
    }
    const result = ch ? await ch.send({ to: recipientOf(contact, addresses), text }) : { status: 'failed' as const, error: 'no channel reaches this person' };
    await o.store.audit({ at: o.clock.now(), actor: 'notifier', action: 'digest.send', subject: contact.homeId, detail: { contactId, time, date, channel: ch?.name, status: result.status } });
    await o.jobs.schedule(next);
  }

  // Without the day's facts nothing is sent: the digest jobs wait in the store for a hub that has them.
  const summarizeDay = o.summarizeDay;
  if (summarizeDay) o.jobs.register('digest', (job, run) => send(job, run, summarizeDay));

  return {
    async plan() {
      // What was planned, read first: a cancel below deletes only the version read here, so a job
      // some plan ensured after this read (from preferences newer than the ones read below) stays.
      const planned = await o.jobs.list(['digest']);
      const prefs = await o.store.listContactPreferences();
      const homes = await o.store.listHomes();
      const contacts: Contact[] = [];
      for (const h of homes) contacts.push(...(await o.store.listContacts(h.id)));
      const wanted = new Set<string>();
      for (const c of contacts) {
        const p = contactPreferencesSchema.safeParse(prefs.get(c.id) ?? {});
        if (!p.success || !p.data.digest) continue;
        const tz = homes.find((h) => h.id === c.homeId)?.timezone ?? 'Asia/Tokyo';
        for (const time of p.data.digest.times) {
          const id = `digest:${c.id}:${time}`;
          wanted.add(id);
          // Kept when planned already (a digest time that passed while the hub was down is sent once on start:
          // it is still that day's picture); its new version tells a stale plan or run not to delete it.
          await o.jobs.ensure({ key: id, kind: 'digest', homeId: c.homeId, dueAt: nextLocalTime(time, o.clock.now(), tz), payload: { contactId: c.id, time } });
        }
      }
      for (const j of planned) if (!wanted.has(j.key)) await o.jobs.cancel(j.key, j.version);
      o.logger.info({ digests: wanted.size }, 'digests planned');
    },
    idle: () => o.jobs.idle(),
    close() { closed = true; },
  };
}

/** For the daily summary of `noticed`: the hour and minute, for people. */
export const clockText = (at: number, timezone: string): string => formatClockTime(localTime(at, timezone).minuteOfDay);
