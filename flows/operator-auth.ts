/**
 * Who may open the Node-RED editor: operator accounts of the web app, with
 * the same lockout (5 failures in 15 minutes lock the account for 15
 * minutes). Node-RED's sign-in form has no second-factor field, so an
 * operator with an authenticator app types the 6-digit code after the
 * password, separated by a space — or opens the editor from the web app's
 * operator page, signed in there already (a pass bound to that session).
 */
import type { WallClock } from '../core/clock.js';
import type { AccountStore, AuditStore } from '../core/store.js';
import { verifyPassword } from '../dashboards/index.js';
import { createEditorPass, createTotpVerifier } from '../dashboards/index.js';
import type { OperatorAuth } from './settings.js';

const lockout = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

/** Checks editor sign-ins against the store's operator accounts. */
export function createOperatorVerifier(opts: {
  store: AccountStore & AuditStore;
  /** Lockout and TOTP count in wall-clock time. */
  wallClock: WallClock;
  /** The key TOTP seeds are sealed with (the web app's); a step used on the web app is not accepted again here. */
  totpSeedKey: Buffer;
}): Required<OperatorAuth> {
  const { store, wallClock: clock } = opts;
  const totp = createTotpVerifier({ store, key: opts.totpSeedKey });
  const pass = createEditorPass({ store, wallClock: clock, key: opts.totpSeedKey });
  return {
    editorPass: (token) => pass.check(token),
    async verifyOperator(username, password) {
      const account = await store.findAccountByLogin(username);
      const now = clock.now();
      if (!account || account.role !== 'operator' || account.disabledAt !== undefined) return false;
      if (account.lockedUntil !== undefined && account.lockedUntil > now) return false;
      let secret = password;
      let code: string | undefined;
      const m = /^(.*) (\d{6})$/s.exec(password);
      if (account.totpSecret && m) { secret = m[1]!; code = m[2]; }
      const ok = (await verifyPassword(secret, account.passwordHash)) && (!account.totpSecret || (code !== undefined && (await totp.check(account, code, now)) === 'ok'));
      if (ok) {
        await store.clearLoginFailures(account.id);
        await store.audit({ at: now, actor: account.id, action: 'flows.sign-in', subject: account.id });
        return true;
      }
      await store.recordLoginFailure(account.id, now);
      if ((await store.countLoginFailures(account.id, now - lockout.windowMs)) >= lockout.maxFailures) {
        await store.setAccountLockedUntil(account.id, now + lockout.lockMs);
        await store.clearLoginFailures(account.id);
        await store.audit({ at: now, actor: account.id, action: 'account.locked', subject: account.id });
      }
      return false;
    },
    async isOperator(username) {
      const account = await store.findAccountByLogin(username);
      return account?.role === 'operator' && account.disabledAt === undefined && !(account.lockedUntil !== undefined && account.lockedUntil > clock.now());
    },
  };
}
