/**
 * One message on one named channel to one contact, outside an escalation
 * step: a person's test message (settings page) and an operator's "retry
 * now" of a dead letter (a notification that reached nobody). Both go through
 * the channel's own `send`, the contact's kept addresses and the same
 * failure handling as escalation; a retry is recorded as a new notification
 * of the alert (so receipts update it, and the dead-letter view sees it) and
 * audited as `send.retry`.
 */
import type { Finding } from '../core/findings.js';
import { MimamoriError } from '../core/errors.js';
import type { Contact, Store } from '../core/store.js';
import type { Channel, SendResult } from './channel.js';
import { addressesOf, canReach, recipientOf } from './contact-channels.js';
import { pendingStatus } from './delivery-status.js';
import { isNotReached } from './escalation-engine.js';
import { alertText } from './templates.js';

/** Sends `text` to a contact on the named channel; never throws for the channel (a failure is a `failed` result). */
export async function sendDirect(channels: ReadonlyMap<string, Channel>, store: Pick<Store, 'listContactAddresses'>, contact: Contact, channelName: string, text: string, alertId?: string): Promise<SendResult> {
  const ch = channels.get(channelName);
  const addresses = await addressesOf(store, contact);
  if (!ch || !canReach(channels, channelName, addresses)) return { status: 'failed', error: `no ${channelName} address for this person` };
  try {
    return await ch.send({ to: recipientOf(contact, addresses), text, ...(alertId === undefined ? {} : { alertId }) });
  } catch (err) {
    return { status: 'failed', error: `channel error: ${(err as Error).message}` };
  }
}

/** What a retry did: the new notification and the channel's answer. */
export interface RetryResult extends SendResult { notificationId: string }

/**
 * Sends a notification that reached nobody once more, now, on its channel:
 * the text first handed over when the send ledger kept it (SMS, voice), else
 * the alert's message in the contact's language. Refuses a notification that
 * is not a failed one (409) or has no contact (404).
 */
export async function retryNotification(
  d: { store: Store; channels: ReadonlyMap<string, Channel>; now: () => number; onRecorded?: (homeId: string, channel: string, status: string, at: number) => void },
  alertId: string, notificationId: string, by: string,
): Promise<RetryResult> {
  const { store } = d;
  const old = (await store.listNotifications(alertId)).find((n) => n.id === notificationId);
  if (!old) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `no notification ${notificationId} of alert ${alertId}`);
  if (!isNotReached(old.status)) throw new MimamoriError('MIMAMORI_ERR_CONFLICT', `notification ${notificationId} is ${old.status}: only one that reached nobody is retried`);
  const alert = await store.getAlert(alertId);
  const contact = old.contactId === undefined ? undefined : await store.getContact(old.contactId);
  if (!alert || !contact) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND', `notification ${notificationId} has no contact to send to`);
  const kept = (await store.findSendKeysByNotification(old.id)).find((k) => k.body !== undefined)?.body;
  const text = kept ?? await alertMessage(store, alert.homeId, alert.finding, alert.message, contact.language);
  const at = d.now();
  const n = await store.recordNotification({ alertId, contactId: contact.id, channel: old.channel, status: pendingStatus, createdAt: at });
  const result = await sendDirect(d.channels, store, contact, old.channel, text, alertId);
  const patch: { status: string; providerId?: string; error?: string } = { status: result.status };
  if (result.providerId) patch.providerId = result.providerId;
  if (result.error) patch.error = result.error;
  const done = d.now();
  await store.updateNotification(n.id, patch, done);
  d.onRecorded?.(alert.homeId, old.channel, result.status, done);
  await store.audit({ at: done, actor: by, action: 'send.retry', subject: alertId, detail: { notificationId: old.id, retryId: n.id, channel: old.channel, contactId: contact.id, status: result.status, ...(result.error ? { error: result.error } : {}) } });
  return { ...result, notificationId: n.id };
}

/** The alert's first message as a tier would word it (no reply code: a retry is not a page of a round). */
async function alertMessage(store: Store, homeId: string, finding: unknown, fallback: string, lang: 'ja' | 'en'): Promise<string> {
  const f = finding as Partial<Finding> | undefined;
  if (!f?.message || typeof f.message[lang] !== 'string' || typeof f.at !== 'number') return fallback;
  const [home, residents] = await Promise.all([store.getHome(homeId), store.listResidents(homeId)]);
  return alertText(f as Finding, { residentNames: residents.map((r) => r.name), homeName: home?.name ?? homeId, timezone: home?.timezone ?? 'Asia/Tokyo' }, lang);
}
