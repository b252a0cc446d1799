/**
 * The pass from the web app into the Node-RED editor (docs/node-red.md): an
 * operator who has signed in to the web app — password and, where enrolled,
 * the authenticator code — opens the flows editor with one button instead of
 * typing both again into Node-RED's own form, which has no second-factor field.
 *
 * The pass is bound to the web session, not to a copy of it: it names the
 * session's stored id (a digest — it never opens the web app) and an expiry,
 * signed with a key derived from the hub's sealing key, so every hub process
 * of one installation reads it and nothing is kept per pass. It holds only
 * while that session lives and its account is still an unlocked operator:
 * signing out of the web app, a disabled or locked account, or a changed role
 * ends the editor's access at its next request. Wall-clock time throughout.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { WallClock } from '../core/clock.js';
import type { AccountStore, WebSession } from '../core/store.js';

/** How long one pass holds at most: a working day, like Node-RED's own sessions. */
export const editorPassMs = 12 * 3600_000;

const passShape = /^([A-Za-z0-9_-]{16,128})\.(\d{13})\.([A-Za-z0-9_-]{43})$/;

export interface EditorPass {
  /** A pass for this session, valid for `editorPassMs` (or until the session ends). */
  issue(session: WebSession): string;
  /** The operator's login the pass stands for, or null (malformed, forged, expired, session ended, no longer an operator). */
  check(pass: string): Promise<string | null>;
}

export function createEditorPass(opts: {
  store: Pick<AccountStore, 'getSession' | 'getAccount'>;
  wallClock: WallClock;
  /** The hub's sealing key (the TOTP seed key); the pass key is derived from it for this use only. */
  key: Buffer;
}): EditorPass {
  const { store, wallClock } = opts;
  const key = Buffer.from(hkdfSync('sha256', opts.key, Buffer.alloc(0), 'mimamori editor pass v1', 32));
  const sign = (body: string) => createHmac('sha256', key).update(body).digest('base64url');

  return {
    issue(session) {
      const body = `${session.id}.${wallClock.now() + editorPassMs}`;
      return `${body}.${sign(body)}`;
    },
    async check(pass) {
      const m = passShape.exec(pass);
      if (!m) return null;
      const [, sessionId, expires, mac] = m as unknown as [string, string, string, string];
      const expected = Buffer.from(sign(`${sessionId}.${expires}`));
      if (!timingSafeEqual(expected, Buffer.from(mac))) return null;
      const now = wallClock.now();
      if (Number(expires) <= now) return null;
      const session = await store.getSession(sessionId);
      if (!session || !session.mfaOk) return null;
      const account = await store.getAccount(session.accountId);
      if (!account || account.role !== 'operator' || account.disabledAt !== undefined) return null;
      if (account.lockedUntil !== undefined && account.lockedUntil > now) return null;
      return account.login;
    },
  };
}
