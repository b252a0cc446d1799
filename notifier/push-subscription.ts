/**
 * Web push subscriptions as data: what a browser's `PushSubscription.toJSON()`
 * gives (`{ endpoint, keys: { p256dh, auth } }`), validated once where it
 * enters, and kept as a contact address of kind `push` whose address is the
 * subscription in one canonical JSON form (so the same device subscribing
 * twice is one address, and the push channel can read it back exactly).
 */
import { z } from 'zod';
import type { Store } from '../core/store.js';

/** A push subscription as the browser sends it (RFC 8030 endpoint, RFC 8291 keys). */
export interface PushSubscriptionData {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const b64url = (bytes: number) => z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/, 'base64url').refine((s) => Buffer.from(s, 'base64url').length === bytes, `${bytes} bytes`);

/** The schema at the edge: an https endpoint (push services are HTTPS only), a P-256 public key and a 16-byte auth secret. */
export const pushSubscriptionSchema = z.object({
  endpoint: z.string().max(2048).url().refine((u) => new URL(u).protocol === 'https:', 'an https URL'),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: b64url(65), auth: b64url(16) }),
});

/**
 * Reads a subscription sent by a browser; throws a zod error naming the bad
 * fields. Unknown fields (`expirationTime`) are dropped.
 */
export function parsePushSubscription(input: unknown): PushSubscriptionData {
  const s = pushSubscriptionSchema.parse(input);
  return { endpoint: s.endpoint, keys: { p256dh: s.keys.p256dh, auth: s.keys.auth } };
}

/** The contact address for a subscription: canonical JSON (endpoint, then keys p256dh, auth). */
export function pushAddress(s: PushSubscriptionData): string {
  return JSON.stringify({ endpoint: s.endpoint, keys: { p256dh: s.keys.p256dh, auth: s.keys.auth } });
}

/** The subscription kept in a `push` address; undefined when the address is not one. */
export function readPushAddress(address: string): PushSubscriptionData | undefined {
  try { return parsePushSubscription(JSON.parse(address)); } catch { return undefined; }
}

/**
 * Keeps a device's subscription as the contact's `push` address (verified:
 * the signed-in person made it), replacing an earlier one for the same
 * endpoint (a browser renews the keys of an endpoint), audited as
 * `contact.address.link`. Throws a zod error for a bad subscription: nothing saved.
 */
export async function subscribePush(store: Pick<Store, 'listContactAddresses' | 'saveContactAddress' | 'removeContactAddress' | 'audit'>, o: { contactId: string; subscription: unknown; label?: string; actor: string; now: number }): Promise<void> {
  const sub = parsePushSubscription(o.subscription);
  for (const a of await store.listContactAddresses(o.contactId)) {
    if (a.kind === 'push' && readPushAddress(a.address)?.endpoint === sub.endpoint) await store.removeContactAddress({ id: a.id });
  }
  const label = o.label?.trim().slice(0, 60);
  await store.saveContactAddress({ contactId: o.contactId, kind: 'push', address: pushAddress(sub), ...(label ? { label } : {}), verification: 'verified', verifiedAt: o.now, createdAt: o.now });
  await store.audit({ at: o.now, actor: o.actor, action: 'contact.address.link', subject: o.contactId, detail: { kind: 'push', via: 'subscribe' } });
}

/** Removes the contact's subscription for `endpoint` (the person unsubscribed the device); audited when there was one. Returns how many were removed. */
export async function unsubscribePush(store: Pick<Store, 'listContactAddresses' | 'removeContactAddress' | 'audit'>, o: { contactId: string; endpoint: string; actor: string; now: number }): Promise<number> {
  let removed = 0;
  for (const a of await store.listContactAddresses(o.contactId)) {
    if (a.kind === 'push' && readPushAddress(a.address)?.endpoint === o.endpoint) removed += await store.removeContactAddress({ id: a.id });
  }
  if (removed > 0) await store.audit({ at: o.now, actor: o.actor, action: 'contact.address.unlink', subject: o.contactId, detail: { kind: 'push', via: 'unsubscribe' } });
  return removed;
}
