/**
 * Password hashing for web accounts: scrypt (node:crypto) with a per-password
 * salt, encoded with its parameters so the cost can be raised later.
 */
import { hashScrypt, verifyScrypt } from '../core/scrypt-hash.js';

/** Passwords shorter than this are refused (issue 4). */
export const minPasswordLength = 12;

/**
 * N = 2^15, r = 8: about 32 MiB and tens of milliseconds per attempt — slow
 * enough for a stolen database, fast enough for a Pi serving a family.
 */
const cost = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, saltLength: 16 };

/** A password's hash (see core/scrypt-hash.ts for the encoding). */
export function hashPassword(password: string): Promise<string> {
  return hashScrypt(password, cost);
}

/** Constant-time check; false for a malformed or absurd hash. */
export function verifyPassword(password: string, encoded: string): Promise<boolean> {
  return verifyScrypt(password, encoded);
}
