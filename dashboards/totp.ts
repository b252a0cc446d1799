/**
 * TOTP second factor (RFC 6238, HMAC-SHA1, 6 digits, 30-second steps — what
 * every authenticator app speaks), computed by the maintained `otpauth`
 * library. What stays ours is policy:
 *
 *  - a step is accepted at most once per account (the last accepted step is
 *    stored; a code replayed within its window is refused, RFC 6238 §5.2
 *    "the verifier MUST NOT accept the second attempt of the same OTP");
 *  - seeds are encrypted at rest with AES-256-GCM under a key from the hub's
 *    secret material, bound to the account id (a sealed seed copied onto
 *    another account does not open).
 *
 * Seeds stay RFC 4648 base32 (as before), so stored seeds and the apps that
 * scanned them keep working; plaintext seeds from before migration 10 are
 * still read and are sealed by `sealPlaintextSeeds` when the hub starts.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { Store, WebAccount } from '../core/store.js';

const period = 30;
const digits = 6;
const sealedPrefix = 'enc1:';

/** A new 160-bit secret, base32 (RFC 4226 recommends 160 bits). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpFor(secretBase32: string): TOTP {
  return new TOTP({ secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits, period });
}

/** The code an authenticator shows at `at` (epoch ms). */
export function totpCode(secretBase32: string, at: number): string {
  return totpFor(secretBase32).generate({ timestamp: at });
}

/**
 * The 30-second step a code belongs to, if it is the current code or one
 * step either side (clock drift, RFC 6238 §5.2); undefined if it is wrong.
 */
export function totpStep(secretBase32: string, code: string, at: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  let delta: number | null;
  try { delta = totpFor(secretBase32).validate({ token: code, timestamp: at, window: 1 }); } catch { return undefined; }
  return delta === null ? undefined : Math.floor(at / 1000 / period) + delta;
}

/** The `otpauth://` URI an authenticator app imports (Key Uri Format). */
export function otpauthUri(secretBase32: string, account: string, issuer = 'mimamori'): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits, period }).toString();
}

/** The 32-byte seed key derived from the hub's secret (HKDF-SHA256, its own label). */
export function seedKeyFrom(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'mimamori', 'totp seeds v1', 32));
}

/** Whether a stored seed is already sealed. */
export const isSealedSeed = (stored: string): boolean => stored.startsWith(sealedPrefix);

/** Encrypts a base32 seed for one account: `enc1:` + base64url(iv ‖ tag ‖ ciphertext). */
export function sealSeed(key: Buffer, accountId: string, seedBase32: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`totp-seed:${accountId}`));
  const ct = Buffer.concat([cipher.update(seedBase32, 'utf8'), cipher.final()]);
  return sealedPrefix + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
}

/** The base32 seed from a stored value (sealed, or plaintext from before migration 10); throws if it does not open. */
export function openSeed(key: Buffer, accountId: string, stored: string): string {
  if (!isSealedSeed(stored)) return stored;
  const raw = Buffer.from(stored.slice(sealedPrefix.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(`totp-seed:${accountId}`));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** Seals every plaintext seed in the store (idempotent); returns how many it sealed. */
export async function sealPlaintextSeeds(store: Pick<Store, 'listAccounts' | 'setAccountTotp'>, key: Buffer): Promise<number> {
  let sealed = 0;
  for (const a of await store.listAccounts()) {
    if (a.totpSecret === undefined || isSealedSeed(a.totpSecret)) continue;
    await store.setAccountTotp(a.id, sealSeed(key, a.id, a.totpSecret));
    sealed++;
  }
  return sealed;
}

export type TotpCheck = 'ok' | 'bad_code' | 'replayed';

/**
 * One account's second factor against the store: checks a code, refuses a
 * step already used (atomically, so two sessions racing with one code get
 * one `ok`), and enrols new seeds sealed.
 */
export function createTotpVerifier(opts: { store: Pick<Store, 'acceptTotpStep' | 'setAccountTotp'>; key: Buffer }) {
  const { store, key } = opts;
  return {
    /** Checks `code` against the account's seed, or against `enrollSecret` when it has none yet (and then saves it sealed). */
    async check(account: Pick<WebAccount, 'id' | 'totpSecret'>, code: string, at: number, enrollSecret?: string): Promise<TotpCheck> {
      let seed: string | undefined;
      try { seed = account.totpSecret !== undefined ? openSeed(key, account.id, account.totpSecret) : enrollSecret; } catch { return 'bad_code'; }
      if (seed === undefined) return 'bad_code';
      const step = totpStep(seed, code, at);
      if (step === undefined) return 'bad_code';
      if (account.totpSecret === undefined) await store.setAccountTotp(account.id, sealSeed(key, account.id, seed));
      return (await store.acceptTotpStep(account.id, step)) ? 'ok' : 'replayed';
    },
  };
}

export type TotpVerifier = ReturnType<typeof createTotpVerifier>;
