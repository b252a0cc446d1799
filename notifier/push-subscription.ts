/**
 * Web push subscriptions as data: what a browser's `PushSubscription.toJSON()`
 * gives (`{ endpoint, keys: { p256dh, auth } }`), validated once where it
 * enters, and kept as a contact address of kind `push` whose address is the
 * subscription in one canonical JSON form (so the same device subscribing
 * twice is one address, and the push channel can read it back exactly).
 */
import { z } from 'zod';

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
