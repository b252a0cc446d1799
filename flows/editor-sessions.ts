/**
 * Ends the editor's sign-in sessions when the hub stops Node-RED. Node-RED
 * keeps a timer for the next session expiry (hours away) that `RED.stop()`
 * does not clear, so a stopped runtime would keep the process alive. Expiring
 * the sessions through Node-RED's own token store clears that timer; the
 * price is that operators sign in again after a hub restart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

interface Session { expires: number }
interface TokenStore { get(token: string): Promise<Session | null | undefined> }

/** Node-RED's token store: the same module instance the embedded runtime uses. */
function tokenStore(): TokenStore {
  const fromNodeRed = createRequire(createRequire(import.meta.url).resolve('node-red'));
  return fromNodeRed('@node-red/editor-api/lib/auth/tokens') as TokenStore;
}

/** Expires every session saved in `userDir`; returns how many there were. */
export async function expireEditorSessions(userDir: string): Promise<number> {
  const file = join(userDir, '.sessions.json');
  if (!existsSync(file)) return 0;
  let tokens: string[];
  try { tokens = Object.keys(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>); } catch { return 0; }
  if (tokens.length === 0) return 0;
  const store = tokenStore();
  for (const token of tokens) {
    const session = await store.get(token);
    if (session) session.expires = 0;
  }
  // Looking up an expired session makes Node-RED sweep them all and clear its timer.
  await store.get(tokens[0]!);
  return tokens.length;
}
