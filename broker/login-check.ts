/**
 * Checks an MQTT login against the store. The device row is read on every
 * login, so a disabled, removed or rotated credential takes effect at once.
 *
 * A successful full verification is remembered so that reconnecting
 * devices (a network blip, a Wi-Fi roam, keep-alive timeouts) do not cost one
 * check each — it matters for the scrypt hashes stored before session 7
 * (device-credentials.ts; new secrets use a salted SHA-256): the cache maps a username to the stored hash it was verified
 * against and an HMAC-SHA256 of the presented password under a key drawn at
 * random when the checker is created (never stored, never the same in two
 * processes). An entry is written only after a full verification
 * succeeded, is used only while the stored hash is still the same string, and
 * is dropped as soon as a login finds the credential rotated, disabled or
 * gone. A different password never matches the HMAC, so it always goes the
 * slow path (and the broker's throttle counts it as before). Entries expire
 * after `cacheMs` and the map holds at most `maxEntries` (least recently used
 * first out).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { SchedulerLike } from 'rxjs';
import type { DeviceStore } from '../core/store.js';
import { hashSecret, parseUsername, verifySecret, type Identity } from './device-credentials.js';

export type LoginFailure = 'malformed_username' | 'unknown_user' | 'disabled' | 'bad_secret';
export type LoginResult = { ok: true; identity: Identity } | { ok: false; reason: LoginFailure };

export interface LoginCheckOptions {
  store: DeviceStore;
  clock: SchedulerLike;
  /** How long a verified login is remembered (default 1 h). */
  cacheMs?: number;
  /** Most logins remembered (default 100 000: 10k homes × 8 devices and the services). */
  maxEntries?: number;
  /** The full check; default `verifySecret` (salted SHA-256, or scrypt for older hashes). Tests pass a counting wrapper. */
  verify?: (secret: string, encoded: string) => Promise<boolean>;
  /**
   * Most full checks running at once (default one per CPU, at most 4: libuv's
   * thread pool). The rest wait their turn in arrival order, so a login storm
   * against older scrypt hashes holds at most this many 4 MiB buffers and
   * leaves pool threads free for LevelDB and file work.
   */
  maxParallelChecks?: number;
}

export interface LoginCheck {
  (username: string | undefined, password: Buffer | undefined): Promise<LoginResult>;
  /** Logins remembered now (for tests and stats). */
  cached(): number;
}

interface CacheEntry { hash: string; mac: Buffer; until: number }

/** Creates the login checker used by the broker's `authenticate` hook. */
export function createLoginCheck(opts: LoginCheckOptions): LoginCheck {
  const { store, clock } = opts;
  const cacheMs = opts.cacheMs ?? 3_600_000;
  const maxEntries = Math.max(1, opts.maxEntries ?? 100_000);
  const verifyNow = opts.verify ?? verifySecret;
  const maxParallel = Math.max(1, opts.maxParallelChecks ?? Math.min(4, availableParallelism()));
  let running = 0;
  const waiting: Array<() => void> = [];
  /** verifyNow with at most `maxParallel` in flight; a finished check hands its turn straight to the next in line. */
  async function verify(secret: string, encoded: string): Promise<boolean> {
    if (running < maxParallel) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await verifyNow(secret, encoded);
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  }
  const key = randomBytes(32);
  const cache = new Map<string, CacheEntry>();
  // Unknown users still pay one full check (of the current form), so response time does not reveal which devices exist.
  let dummyHash: Promise<string> | undefined;

  const macOf = (username: string, password: Buffer | undefined) =>
    createHmac('sha256', key).update(username).update('\u0000').update(password ?? Buffer.alloc(0)).digest();

  async function stored(identity: Identity): Promise<{ hash?: string; disabled?: boolean }> {
    if (identity.type === 'service') {
      const hash = await store.getServiceSecretHash(identity.name);
      return hash === undefined ? {} : { hash };
    }
    const device = await store.getDevice(identity.home, identity.device);
    return device ? { hash: device.secretHash, disabled: device.disabled } : {};
  }

  const check = async function checkLogin(username: string | undefined, password: Buffer | undefined): Promise<LoginResult> {
    const identity = username === undefined ? undefined : parseUsername(username);
    if (!identity || username === undefined) return { ok: false, reason: 'malformed_username' };
    const { hash, disabled } = await stored(identity);
    const secret = password?.toString('utf8') ?? '';
    if (hash === undefined) {
      cache.delete(username);
      dummyHash ??= hashSecret('mimamori-no-such-user');
      await verify(secret, await dummyHash);
      return { ok: false, reason: 'unknown_user' };
    }
    if (disabled) { cache.delete(username); return { ok: false, reason: 'disabled' }; }

    const now = clock.now();
    const mac = macOf(username, password);
    const entry = cache.get(username);
    if (entry && entry.hash !== hash) cache.delete(username); // rotated: never good again
    else if (entry && entry.until > now && timingSafeEqual(entry.mac, mac)) {
      cache.delete(username);
      cache.set(username, entry); // most recently used last
      return { ok: true, identity };
    }
    if (!(await verify(secret, hash))) return { ok: false, reason: 'bad_secret' };
    cache.delete(username);
    cache.set(username, { hash, mac, until: now + cacheMs });
    if (cache.size > maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    return { ok: true, identity };
  };
  return Object.assign(check, { cached: () => cache.size });
}
