/**
 * A scheduled video check-in is coming up: the home's caregivers get an SMS
 * in their language (the caregiver's open web page also shows it live).
 * Each caregiver is reminded at most once per check-in: the send key
 * `checkin:<id>:remind:<contact>` is claimed before the SMS, with the job's
 * fence in a cluster, so a reminder job run again after a failure, or by a
 * node that has lost the home, sends nothing twice.
 *
 * A check-in cancelled after its reminders went out is told to the
 * caregivers who were reminded (`tellCaregiversCancelled`), once each (send
 * key `checkin:<id>:cancel:<contact>`). The two meet at the send keys: a
 * reminder claims its key, then reads the check-in again and sends only
 * while it is still scheduled; a cancel marks it cancelled, then reads the
 * keys. So a reminder that raced a cancel either sees the cancel and sends
 * nothing, or its key is there for the cancel to find — nobody is left with
 * a reminder for a call that will not come.
 */
import type { WallClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { AuditStore, EscalationStore, HomeFence, HomeStore, VideoStore } from '../core/store.js';
import { toLocalIso } from '../core/time.js';
import type { Channel } from '../notifier/index.js';

type ReminderStore = HomeStore & AuditStore & Pick<EscalationStore, 'claimSendKeys' | 'listSendKeys'> & Pick<VideoStore, 'getCheckin'>;
interface ReminderDeps { store: ReminderStore; sms: Channel; wallClock: WallClock; logger: Logger }

/** The send key of one caregiver's SMS of one kind about one check-in: claimed before the SMS, so it goes once. */
const noticeKey = (checkinId: string, kind: 'remind' | 'cancel', contactId: string) => `checkin:${checkinId}:${kind}:${contactId}`;

/** Claims `noticeKey` (with the job's fence in a cluster); false when it was claimed before. */
async function claimNotice(deps: ReminderDeps, checkinId: string, kind: 'remind' | 'cancel', contactId: string, fence?: HomeFence): Promise<boolean> {
  const key = { key: noticeKey(checkinId, kind, contactId), alertId: `checkin:${checkinId}`, contactId, channel: deps.sms.name, createdAt: deps.wallClock.now() };
  return (await deps.store.claimSendKeys([key], fence)).length > 0;
}

/** The resident's name (the home's when none is entered) and the check-in's local time, for the texts. */
async function checkinWords(store: ReminderStore, homeId: string, dueAt: number): Promise<{ resident: string; at: string } | undefined> {
  const home = await store.getHome(homeId);
  if (!home) return undefined;
  const resident = (await store.listResidents(homeId))[0]?.name ?? home.name;
  return { resident, at: toLocalIso(dueAt, home.timezone).slice(11, 16) };
}

/** Reminds the home's caregivers of check-in `r.checkinId` while it is still scheduled; returns how many SMS went out. */
export async function remindCaregivers(deps: ReminderDeps, r: { checkinId: string; homeId: string; dueAt: number; fence?: HomeFence }): Promise<number> {
  const { store, sms, wallClock, logger } = deps;
  const words = await checkinWords(store, r.homeId, r.dueAt);
  if (!words) return 0;
  let sent = 0;
  let before = 0;
  let settled: string | undefined;
  for (const c of await store.listContacts(r.homeId)) {
    if (c.role !== 'caregiver' || !c.phone) continue;
    if (!(await claimNotice(deps, r.checkinId, 'remind', c.id, r.fence))) { before++; continue; }
    // Read after the claim: a cancel that came first is seen here; one that comes later finds the key.
    const status = (await store.getCheckin(r.checkinId))?.status ?? 'gone';
    if (status !== 'scheduled') { settled = status; break; }
    const text = c.language === 'en'
      ? `[mimamori] Reminder: video check-in with ${words.resident} at ${words.at}.`
      : `【見守り】${words.at} から ${words.resident}さんとのビデオ見守りの予定です。`;
    const result = await sms.send({ to: c, text });
    if (result.status !== 'failed') sent++;
  }
  const detail = { home: r.homeId, sent, ...(before ? { remindedBefore: before } : {}), ...(settled ? { stoppedBecause: settled } : {}) };
  await store.audit({ at: wallClock.now(), actor: 'system', action: 'checkin.reminder', subject: r.checkinId, detail });
  if (settled) logger.info({ home: r.homeId, checkin: r.checkinId, sent, status: settled }, 'video check-in no longer scheduled: its reminder stopped');
  else logger.info({ home: r.homeId, checkin: r.checkinId, sent, remindedBefore: before }, 'video check-in reminder sent');
  return sent;
}

/**
 * Check-in `r.checkinId` was cancelled: each caregiver whose reminder key was
 * claimed is told by SMS, in their language, once. Returns how many SMS went out.
 */
export async function tellCaregiversCancelled(deps: ReminderDeps, r: { checkinId: string; homeId: string; dueAt: number }): Promise<number> {
  const { store, sms, wallClock, logger } = deps;
  const reminded = new Set<string>();
  for (const k of await store.listSendKeys(`checkin:${r.checkinId}`)) if (k.contactId !== undefined && k.key === noticeKey(r.checkinId, 'remind', k.contactId)) reminded.add(k.contactId);
  if (reminded.size === 0) return 0;
  const words = await checkinWords(store, r.homeId, r.dueAt);
  if (!words) return 0;
  let sent = 0;
  for (const c of await store.listContacts(r.homeId)) {
    if (!reminded.has(c.id) || !c.phone) continue;
    if (!(await claimNotice(deps, r.checkinId, 'cancel', c.id))) continue;
    const text = c.language === 'en'
      ? `[mimamori] Cancelled: the video check-in with ${words.resident} at ${words.at} will not take place.`
      : `【見守り】${words.at} からの ${words.resident}さんとのビデオ見守りは取り消されました。`;
    const result = await sms.send({ to: c, text });
    if (result.status !== 'failed') sent++;
  }
  await store.audit({ at: wallClock.now(), actor: 'system', action: 'checkin.cancel-notice', subject: r.checkinId, detail: { home: r.homeId, sent } });
  logger.info({ home: r.homeId, checkin: r.checkinId, sent }, 'video check-in cancelled: reminded caregivers told');
  return sent;
}
