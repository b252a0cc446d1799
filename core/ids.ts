import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/** Ids made by this process so far: the first characters after the time, so ids of one millisecond sort in the order they were made. */
let made = 0;
const counterChars = 6; // 32^6 ≈ 1.07e9 ids before it wraps

function base32(value: number, width: number): string {
  let out = '';
  let v = Math.floor(value);
  for (let i = 0; i < width; i++) {
    out = alphabet[v % 32] + out;
    v = Math.floor(v / 32);
  }
  return out;
}

/**
 * A sortable unique id: 10 characters of time, 6 of this process's id
 * counter, then 10 random ones (Crockford base32, lower case), e.g. for
 * alerts and notifications. Ids a process makes for the same millisecond
 * sort in the order it made them, so the store breaks ties of equal times
 * by id on SQLite and PostgreSQL alike (no rowid).
 */
export function newId(now: number = Date.now()): string {
  const count = made;
  made = (made + 1) % 32 ** counterChars;
  const bytes = randomBytes(10);
  let rand = '';
  for (const b of bytes) rand += alphabet[b % 32];
  return base32(now, 10) + base32(count, counterChars) + rand;
}

/** A random secret suitable as a device or service password (base64url, 32 bytes). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
