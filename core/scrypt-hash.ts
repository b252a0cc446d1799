/**
 * Salted scrypt hashes for everything secret the hub stores: device and
 * service secrets, web passwords. Encoded as `scrypt$N$r$p$salt$hash` (salt
 * and hash base64url) so each caller picks its cost and can raise it later
 * without breaking stored hashes. Text is NFKC-normalised first, so a
 * full-width password typed on a Japanese keyboard matches its half-width twin.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptCost { N: number; r: number; p: number; keyLength: number; saltLength: number }

function scrypt(text: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(text.normalize('NFKC'), salt, keyLength, { ...options, maxmem: 256 * (options.N ?? 1) * (options.r ?? 1) + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes `text` at `cost`. */
export async function hashScrypt(text: string, cost: ScryptCost): Promise<string> {
  const { N, r, p, keyLength, saltLength } = cost;
  const salt = randomBytes(saltLength);
  const hash = await scrypt(text, salt, keyLength, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Checks `text` against an encoded hash in constant time; false for any malformed or absurd hash. */
export async function verifyScrypt(text: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // Refuse absurd parameters rather than let a corrupt row burn CPU and memory.
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0) return false;
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length === 0 || expected.length < 16) return false;
  const actual = await scrypt(text, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}
