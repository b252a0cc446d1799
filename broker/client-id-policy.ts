/**
 * Which MQTT client ids a login may use. Without this a device holding valid
 * credentials could take over another client's session by reusing its client
 * id — kicking the hub's ingest offline, or inheriting another device's
 * persistent session together with its restored subscriptions.
 */
import type { Identity } from './device-credentials.js';

/** Client ids with this prefix belong to the hub's own services. */
export const reservedClientIdPrefix = 'mimamori-';

export type ClientIdDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Rules:
 * 1. `mimamori-…` client ids are for services only.
 * 2. A client id `{home}/{device}` or `{home}/{device}/…` is usable only by that device (or a service).
 * 3. A device asking for a persistent session (clean = false) must use such an id of its own.
 */
export function checkClientId(who: Identity, clientId: string, clean: boolean): ClientIdDecision {
  if (who.type === 'service') return { allowed: true };
  if (clientId.startsWith(reservedClientIdPrefix)) return { allowed: false, reason: `client ids starting with "${reservedClientIdPrefix}" are reserved for hub services` };
  const own = `${who.home}/${who.device}`;
  const isOwn = clientId === own || clientId.startsWith(`${own}/`);
  if (!isOwn && clientId.split('/').length >= 2) return { allowed: false, reason: 'a client id of the form home/device must name the device itself' };
  if (!clean && !isOwn) return { allowed: false, reason: `a persistent session (clean = false) needs client id "${own}" or "${own}/…"` };
  return { allowed: true };
}
