/**
 * Checks an MQTT login against the store. The device row is read on every
 * login (so a disabled device or a rotated secret takes effect at once), but
 * a successful scrypt verification is cached briefly so that a reconnect
 * storm after a network blip does not cost one scrypt per device.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SchedulerLike } from 'rxjs';
import type { DeviceStore } from '../core/store.js';
import { hashSecret, parseUsername, verifySecret, type Identity } from './device-credentials.js';

export type LoginFailure = 'malformed_username' | 'unknown_user' | 'disabled' | 'bad_secret';
export type LoginResult = { ok: true; identity: Identity } | { ok: false; reason: LoginFailure };

export interface LoginCheckOptions { store: DeviceStore; clock: SchedulerLike; cacheMs?: number; maxEntries?: number }

interface CacheEntry { hash: string; digest: Buffer; until: number }

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Creates the login checker used by the broker's `authenticate` hook. */
export function createLoginCheck(opts: LoginCheckOptions): (username: string | undefined, password: Buffer | undefined) => Promise<LoginResult> {
  const { store, clock } = opts;
  const cacheMs = opts.cacheMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const cache = new Map<string, CacheEntry>();
  // Unknown users still pay one scrypt, so response time does not reveal which devices exist.
  let dummyHash: Promise<string> | undefined;

  async function storedHash(identity: Identity): Promise<{ hash?: string; disabled?: boolean }> {
    if (identity.type === 'service') {
      const hash = await store.getServiceSecretHash(identity.name);
      return hash === undefined ? {} : { hash };
    }
    const device = await store.getDevice(identity.home, identity.device);
    return device ? { hash: device.secretHash, disabled: device.disabled } : {};
  }

  return async function checkLogin(username, password) {
    const identity = username === undefined ? undefined : parseUsername(username);
    if (!identity || username === undefined) return { ok: false, reason: 'malformed_username' };
    const secret = password?.toString('utf8') ?? '';
    const { hash, disabled } = await storedHash(identity);
    if (hash === undefined) {
      dummyHash ??= hashSecret('mimamori-no-such-user');
      await verifySecret(secret, await dummyHash);
      return { ok: false, reason: 'unknown_user' };
    }
    if (disabled) return { ok: false, reason: 'disabled' };

    const now = clock.now();
    const digest = sha256(secret);
    const cached = cache.get(username);
    if (cached && cached.hash === hash && cached.until > now && timingSafeEqual(cached.digest, digest)) {
      return { ok: true, identity };
    }
    if (!(await verifySecret(secret, hash))) return { ok: false, reason: 'bad_secret' };
    cache.delete(username);
    cache.set(username, { hash, digest, until: now + cacheMs });
    if (cache.size > maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    return { ok: true, identity };
  };
}
