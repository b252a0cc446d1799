/**
 * A scheduled video check-in is coming up: the home's caregivers get an SMS
 * in their language (the caregiver's open web page also shows it live).
 * Each caregiver is reminded at most once per check-in: the send key
 * `checkin:<id>:remind:<contact>` is claimed before the SMS, with the job's
 * fence in a cluster, so a reminder job run again after a failure, or by a
 * node that has lost the home, sends nothing twice.
 */
import type { WallClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { AuditStore, EscalationStore, HomeFence, HomeStore } from '../core/store.js';
import { toLocalIso } from '../core/time.js';
import type { Channel } from '../notifier/index.js';

export async function remindCaregivers(deps: { store: HomeStore & AuditStore & Pick<EscalationStore, 'claimSendKeys'>; sms: Channel; wallClock: WallClock; logger: Logger }, r: { checkinId: string; homeId: string; dueAt: number; fence?: HomeFence }): Promise<number> {
  const { store, sms, wallClock, logger } = deps;
  const home = await store.getHome(r.homeId);
  if (!home) return 0;
  const resident = (await store.listResidents(r.homeId))[0]?.name ?? home.name;
  const at = toLocalIso(r.dueAt, home.timezone).slice(11, 16);
  let sent = 0;
  let before = 0;
  for (const c of await store.listContacts(r.homeId)) {
    if (c.role !== 'caregiver' || !c.phone) continue;
    const key = `checkin:${r.checkinId}:remind:${c.id}`;
    if ((await store.claimSendKeys([{ key, alertId: `checkin:${r.checkinId}`, contactId: c.id, channel: sms.name, createdAt: wallClock.now() }], r.fence)).length === 0) { before++; continue; }
    const text = c.language === 'en'
      ? `[mimamori] Reminder: video check-in with ${resident} at ${at}.`
      : `【見守り】${at} から ${resident}さんとのビデオ見守りの予定です。`;
    const result = await sms.send({ to: c, text });
    if (result.status !== 'failed') sent++;
  }
  await store.audit({ at: wallClock.now(), actor: 'system', action: 'checkin.reminder', subject: r.checkinId, detail: { home: r.homeId, sent, ...(before ? { remindedBefore: before } : {}) } });
  logger.info({ home: r.homeId, checkin: r.checkinId, sent, remindedBefore: before }, 'video check-in reminder sent');
  return sent;
}
