/**
 * The hub's VAPID key pair (RFC 8292), made with `web-push` on first start and
 * kept in the data folder beside the hub's other secrets (`vapid-keys.json`,
 * mode 0600, carried in backups with the rest of the folder). It must stay
 * the same: browsers bind a subscription to the public key they subscribed
 * with, and a new key would silence every device.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import webPush from 'web-push';
import { MimamoriError } from '../core/errors.js';

export interface VapidKeys { publicKey: string; privateKey: string }

/**
 * Reads the key pair from `file`, or makes and writes one.
 *
 * @example
 * const vapid = keptVapidKeys(join(dataDir, 'vapid-keys.json'));
 */
export function keptVapidKeys(file: string): VapidKeys {
  if (existsSync(file)) {
    let k: Partial<VapidKeys>;
    try { k = JSON.parse(readFileSync(file, 'utf8')) as Partial<VapidKeys>; } catch (err) {
      throw new MimamoriError('MIMAMORI_ERR_CONFIG', `${file} is not valid JSON (${(err as Error).message}); restore it from a backup — a new key would silence every subscribed device`);
    }
    if (typeof k.publicKey !== 'string' || Buffer.from(k.publicKey, 'base64url').length !== 65 || typeof k.privateKey !== 'string' || Buffer.from(k.privateKey, 'base64url').length !== 32) {
      throw new MimamoriError('MIMAMORI_ERR_CONFIG', `${file} does not hold a VAPID key pair (publicKey: 65 bytes, privateKey: 32 bytes, base64url)`);
    }
    return { publicKey: k.publicKey, privateKey: k.privateKey };
  }
  const keys = webPush.generateVAPIDKeys();
  writeFileSync(file, `${JSON.stringify({ publicKey: keys.publicKey, privateKey: keys.privateKey })}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { publicKey: keys.publicKey, privateKey: keys.privateKey };
}
