/**
 * Device and service credentials: secrets are random, shown once, and stored
 * only as salted scrypt hashes in the relational store.
 */
import { hashScrypt, verifyScrypt } from '../core/scrypt-hash.js';
import { idSchema } from '../core/events.js';
import { MimamoriError } from '../core/errors.js';
import { newSecret } from '../core/ids.js';
import type { DeviceStore } from '../core/store.js';

/**
 * scrypt cost. N = 2^12 keeps one login at a few milliseconds on a Raspberry
 * Pi class CPU: the secrets are 256 random bits, so the hash only has to stop
 * a stolen database from being replayed, not slow down guessing of a weak
 * password.
 */
const defaults = { N: 4096, r: 8, p: 1, keyLength: 32, saltLength: 16 };

/**
 * Hashes a secret (see core/scrypt-hash.ts for the encoding).
 */
export function hashSecret(secret: string): Promise<string> {
  return hashScrypt(secret, defaults);
}

/** Checks a secret against an encoded hash in constant time; false for any malformed hash. */
export function verifySecret(secret: string, encoded: string): Promise<boolean> {
  return verifyScrypt(secret, encoded);
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
