/**
 * Which channels reach a person, in which order: channels are data. A
 * person's own order (contact preferences `channels`, set on /account) comes
 * first; then the policy tier's channels, or — for follow-ups, reminders,
 * summaries and digests, which have no tier — the notifier's default order.
 * A channel is only picked for a person when the hub has it and the person
 * has an address of the kind it needs (docs/channels.md).
 */
import type { Contact, ContactAddress, Store } from '../core/store.js';
import type { Channel, Recipient } from './channel.js';

/**
 * The default order for messages outside a tier (follow-ups, reminders,
 * digests): LINE and push before SMS, because a family member reads them
 * first; e-mail last. Only channels the person can be reached by are used.
 */
export const defaultFollowUpChannels: readonly string[] = ['line', 'push', 'sms', 'email'];

/**
 * A contact's addresses: the stored ones, plus the phone and e-mail columns
 * when no stored address repeats them (a contact written by older code).
 */
export async function addressesOf(store: Pick<Store, 'listContactAddresses'>, contact: Contact): Promise<ContactAddress[]> {
  const stored = await store.listContactAddresses(contact.id);
  const out = [...stored];
  const has = (kind: string, address: string) => stored.some((a) => a.kind === kind && a.address === address);
  if (contact.phone && !has('phone', contact.phone)) out.push({ id: `phone-${contact.id}`, contactId: contact.id, kind: 'phone', address: contact.phone, verification: 'operator', createdAt: 0 });
  if (contact.email && !has('email', contact.email)) out.push({ id: `email-${contact.id}`, contactId: contact.id, kind: 'email', address: contact.email, verification: 'operator', createdAt: 0 });
  return out;
}

/** The contact as a channel sees it: with its usable addresses (a pending one is not proved yet). */
export function recipientOf(contact: Contact, addresses: readonly ContactAddress[]): Recipient {
  return { ...contact, addresses: addresses.filter((a) => a.verification !== 'pending') };
}

/** Whether the hub's channel `name` can reach someone with these addresses. */
export function canReach(channels: ReadonlyMap<string, Channel>, name: string, addresses: readonly ContactAddress[]): boolean {
  const ch = channels.get(name);
  if (!ch) return false;
  return ch.addressKind === undefined || addresses.some((a) => a.kind === ch.addressKind && a.verification !== 'pending');
}

/**
 * The channels to try for one person, in order, without repeats.
 *
 * - `own`: the person's chosen order; kept only where they can be reached.
 * - `tier`: the policy tier's channels, appended as the operator wrote them
 *   (a channel that cannot reach the person fails fast and is recorded, as before).
 * - without a tier: `fallback` (default `defaultFollowUpChannels`), kept only where they can be reached.
 *
 * @example
 * channelOrder({ own: ['line'], tier: ['voice', 'sms'], channels, addresses }) // → ['line', 'voice', 'sms'] for a linked LINE user
 */
export function channelOrder(o: { own?: readonly string[] | undefined; tier?: readonly string[]; fallback?: readonly string[]; channels: ReadonlyMap<string, Channel>; addresses: readonly ContactAddress[] }): string[] {
  const out: string[] = [];
  const add = (name: string) => { if (!out.includes(name)) out.push(name); };
  for (const name of o.own ?? []) if (canReach(o.channels, name, o.addresses)) add(name);
  if (o.tier) for (const name of o.tier) add(name);
  else for (const name of o.fallback ?? defaultFollowUpChannels) if (canReach(o.channels, name, o.addresses)) add(name);
  return out;
}
