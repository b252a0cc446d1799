/** Secrets the hub keeps in its data folder (ack links, TOTP seed key, Node-RED credentials). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { newSecret } from '../core/ids.js';

/** A secret kept in a file (mode 0600) under the data folder, created on first use. */
export function keptSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = newSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
