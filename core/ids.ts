import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A sortable unique id: 10 characters of time then 16 random ones
 * (Crockford base32, lower case), e.g. for alerts and notifications.
 */
export function newId(now: number = Date.now()): string {
  let time = '';
  let t = Math.floor(now);
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (const b of bytes) rand += alphabet[b % 32];
  return time + rand;
}

/** A random secret suitable as a device or service password (base64url, 32 bytes). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
