/**
 * Device and service credentials: secrets are random, shown once, and stored
 * only as salted hashes in the relational store.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { verifyScrypt } from '../core/scrypt-hash.js';
import { idSchema } from '../core/events.js';
import { MimamoriError } from '../core/errors.js';
import { newSecret } from '../core/ids.js';
import type { DeviceStore } from '../core/store.js';

/**
 * How a device or service secret is stored: `sha256$salt$hash` — SHA-256 of
 * a 16-byte random salt and the secret (base64url). Every such secret is
 * made here, 256 random bits (`newSecret`), never chosen by a person, so a
 * slow password hash adds nothing: guessing 2^256 is out of reach at any
 * speed, and the hash only has to keep a stolen database from being
 * replayed (NIST SP 800-63B §5.1.1.2 asks for a slow hash for memorised
 * secrets, not for random keys like these). It makes a device's first login
 * cost microseconds instead of a 4 MiB scrypt (issue 12: logins ≥ 0.5×
 * mosquitto). Hashes written before session 7 are scrypt
 * (`scrypt$N$r$p$salt$hash`, core/scrypt-hash.ts) and are still accepted;
 * a rotation stores the new form. Web passwords, chosen by people, stay on
 * scrypt (dashboards/passwords.ts).
 */
const saltLength = 16;

const digest = (salt: Buffer, secret: string) => createHash('sha256').update(salt).update(secret, 'utf8').digest();

/** Hashes a machine-made secret (the encoding above). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(saltLength);
  return `sha256$${salt.toString('base64url')}$${digest(salt, secret).toString('base64url')}`;
}

/** Checks a secret against an encoded hash (either form) in constant time; false for any malformed hash. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  if (encoded.startsWith('scrypt$')) return verifyScrypt(secret, encoded);
  const parts = encoded.split('$');
  if (parts.length !== 3 || parts[0] !== 'sha256') return false;
  const salt = Buffer.from(parts[1]!, 'base64url');
  const expected = Buffer.from(parts[2]!, 'base64url');
  if (salt.length < saltLength || expected.length !== 32) return false;
  return timingSafeEqual(digest(salt, secret), expected);
}

/** MQTT username of a device: `{home}/{device}`. */
export function deviceUsername(homeId: string, deviceId: string): string {
  return `${homeId}/${deviceId}`;
}

/** MQTT username of an internal service: `service:{name}`. */
export function serviceUsername(name: string): string {
  return `service:${name}`;
}

/** Who a username claims to be; undefined when it follows neither convention. */
export type Identity = { type: 'device'; home: string; device: string } | { type: 'service'; name: string };

/** Parses `{home}/{device}` or `service:{name}`. */
export function parseUsername(username: string): Identity | undefined {
  if (username.startsWith('service:')) {
    const name = username.slice('service:'.length);
    return idSchema.safeParse(name).success ? { type: 'service', name } : undefined;
  }
  const parts = username.split('/');
  if (parts.length !== 2) return undefined;
  const [home, device] = parts as [string, string];
  return idSchema.safeParse(home).success && idSchema.safeParse(device).success ? { type: 'device', home, device } : undefined;
}

export interface ProvisionDeviceInput { homeId: string; deviceId: string; kind: string; label?: string }
export interface IssuedCredentials { username: string; secret: string }

function checkId(what: string, value: string): void {
  if (!idSchema.safeParse(value).success) {
    throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', `${what} ${JSON.stringify(value)} must be lower-case letters, digits, "-" or "_" (1–63 characters)`);
  }
}

/**
 * Registers a device with a fresh random secret and returns the secret — the
 * only time it is ever available; the store keeps just its hash.
 *
 * @example
 * const { username, secret } = await provisionDevice(store, { homeId: 'h1', deviceId: 'kettle', kind: 'kettle' });
 * // the device connects with username "h1/kettle" and password = secret
 */
export async function provisionDevice(store: DeviceStore, input: ProvisionDeviceInput): Promise<IssuedCredentials> {
  checkId('home id', input.homeId);
  checkId('device id', input.deviceId);
  const secret = newSecret();
  const device = { homeId: input.homeId, deviceId: input.deviceId, kind: input.kind, secretHash: await hashSecret(secret) };
  await store.addDevice(input.label === undefined ? device : { ...device, label: input.label });
  return { username: deviceUsername(input.homeId, input.deviceId), secret };
}

/** Replaces a device's secret; the old one stops working at the device's next login. */
export async function rotateDeviceSecret(store: DeviceStore, homeId: string, deviceId: string): Promise<IssuedCredentials> {
  const secret = newSecret();
  await store.setDeviceSecretHash(homeId, deviceId, await hashSecret(secret));
  return { username: deviceUsername(homeId, deviceId), secret };
}

/**
 * Issues credentials for an internal service (the hub's ingest, flows, …).
 * Calling it again for the same name rotates the secret.
 */
export async function provisionService(store: DeviceStore, name: string): Promise<IssuedCredentials> {
  checkId('service name', name);
  const secret = newSecret();
  await store.setService(name, await hashSecret(secret));
  return { username: serviceUsername(name), secret };
}
