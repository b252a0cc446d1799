/**
 * Sign-in mechanics: password check with a login throttle per (login,
 * client address) — 5 failures from one address put that address on
 * back-off for that login (1 minute, doubling to 15), so an attacker cannot
 * lock a caregiver out from her own address (core/login-throttle.ts) — a
 * per-address rate limit, sessions whose ids are stored only as digests,
 * CSRF tokens, and the TOTP second factor (throttled the same way).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { WallClock } from '../core/clock.js';
import { afterDelay, createLoginThrottle, type LoginThrottlePort } from '../core/login-throttle.js';
import type { Store, WebAccount, WebSession } from '../core/store.js';
import { secondFactorRoles } from './access.js';
import { verifyPassword } from './passwords.js';
import { createTotpVerifier } from './totp.js';

export const sessionCookie = 'mimamori_session';
export const preCsrfCookie = 'mimamori_pre';
/** Back-off per (login, address): after 5 failures 1 min, doubling to 15 min; forgotten 15 min after. */
/** The web sign-in's throttle settings (a cluster builds its shared throttle with them). */
export const signInThrottleSettings = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 60_000, maxLockMs: 15 * 60_000, addressMaxFailures: 20, addressDelayMs: 250, maxAddressDelayMs: 4000 };
const sessionIdleMs = 30 * 24 * 3600_000;

export type SignInResult =
  | { ok: true; token: string; session: WebSession; account: WebAccount; needsSecondFactor: boolean }
  | { ok: false; reason: 'bad_credentials' | 'locked_out' | 'rate_limited' | 'disabled' };

export interface AuthOptions {
  store: Store;
  /** Sign-in, its throttle, TOTP and sessions count in wall-clock time, never in the demo's sped-up time. */
  wallClock: WallClock;
  rateLimit?: { perMinute: number };
  /** AES-256 key TOTP seeds are sealed with (dashboards/totp.ts `seedKeyFrom`; the hub keeps its secret under dataDir). */
  totpSeedKey: Buffer;
  /** A throttle to use instead of this app's own in-memory one: a cluster's shared one (cluster/login-throttle-redis.ts). */
  loginThrottle?: LoginThrottlePort;
}

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Compares two strings in constant time (length leaks only). */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Creates the sign-in service for one web app (its rate-limit memory is per instance). */
export function createAuth(opts: AuthOptions) {
  const { store, wallClock: clock } = opts;
  const perMinute = opts.rateLimit?.perMinute ?? 20;
  const attempts = new Map<string, number[]>();
  const throttle: LoginThrottlePort = opts.loginThrottle ?? createLoginThrottle({ ...signInThrottleSettings, clock: clock });
  const totp = createTotpVerifier({ store, key: opts.totpSeedKey });

  /** Counts a failure for (principal, address); audits the back-off it starts, if any. */
  async function failed(principal: string, ip: string, accountId: string | undefined): Promise<boolean> {
    const { backoffUntil, failures } = await throttle.recordFailure(principal, ip);
    if (backoffUntil === undefined) return false;
    if (accountId) await store.audit({ at: clock.now(), actor: accountId, action: 'signin.backoff', subject: accountId, detail: { failures, waitMs: backoffUntil - clock.now() } });
    return true;
  }

  /** Sliding one-minute window per client address. */
  function rateLimited(ip: string): boolean {
    const now = clock.now();
    const recent = (attempts.get(ip) ?? []).filter((t) => t > now - 60_000);
    recent.push(now);
    attempts.set(ip, recent);
    if (attempts.size > 10_000) attempts.clear();
    return recent.length > perMinute;
  }

  async function startSession(account: WebAccount, userAgent: string | undefined, mfaOk: boolean) {
    const token = newToken();
    const now = clock.now();
    const session: WebSession = { id: digest(token), accountId: account.id, csrf: newToken(), mfaOk, createdAt: now, lastSeenAt: now };
    if (userAgent) session.userAgent = userAgent.slice(0, 200);
    await store.createSession(session);
    return { token, session };
  }

  /** The session behind a cookie value, if it exists and is fresh. */
  async function sessionFor(token: string | undefined): Promise<{ session: WebSession; account: WebAccount } | undefined> {
    if (!token) return undefined;
    const session = await store.getSession(digest(token));
    if (!session) return undefined;
    const now = clock.now();
    if (now - session.lastSeenAt > sessionIdleMs) { await store.deleteSession(session.id); return undefined; }
    const account = await store.getAccount(session.accountId);
    if (!account) return undefined;
    // An operator disabled the account: its sessions end (docs/accounts.md).
    if (account.disabledAt !== undefined) { await store.deleteSession(session.id); return undefined; }
    if (now - session.lastSeenAt > 60_000) await store.updateSession(session.id, { lastSeenAt: now });
    return { session, account };
  }

  return {
    async signIn(login: string, password: string, ip: string, userAgent?: string): Promise<SignInResult> {
      if (rateLimited(ip)) return { ok: false, reason: 'rate_limited' };
      // Throttled per (login, address): failures from another address never refuse this one.
      const principal = `login:${login}`;
      const admission = await throttle.admit(principal, ip);
      if (!admission.allow) return { ok: false, reason: 'locked_out' };
      const now = clock.now();
      const account = await store.findAccountByLogin(login);
      if (!account) {
        // Spend the same time as a real check so a missing login is not revealed by timing.
        await afterDelay(clock, admission.delayMs, () => verifyPassword(password, 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
        return { ok: false, reason: (await failed(principal, ip, undefined)) ? 'locked_out' : 'bad_credentials' };
      }
      if (!(await afterDelay(clock, admission.delayMs, () => verifyPassword(password, account.passwordHash)))) {
        return { ok: false, reason: (await failed(principal, ip, account.id)) ? 'locked_out' : 'bad_credentials' };
      }
      // Disabled by an operator: refused, and said so only to someone who knew the password. Neither a
      // failure nor a success for the throttle (nothing about the person's own sign-ins changes).
      if (account.disabledAt !== undefined) {
        await store.audit({ at: now, actor: account.id, action: 'signin.disabled', subject: account.id });
        return { ok: false, reason: 'disabled' };
      }
      await throttle.recordSuccess(principal, ip);
      const needsSecondFactor = secondFactorRoles.includes(account.role);
      const { token, session } = await startSession(account, userAgent, !needsSecondFactor);
      await store.audit({ at: now, actor: account.id, action: 'session.start', subject: account.id });
      return { ok: true, token, session, account, needsSecondFactor };
    },

    /** The session behind a cookie value, if it exists and is fresh. */
    sessionFor,

    /** Whether a cookie value is a fresh operator session with its second factor done (the hub status page's full view). */
    async isOperatorSession(token: string | undefined): Promise<boolean> {
      const found = await sessionFor(token);
      return found !== undefined && found.account.role === 'operator' && found.session.mfaOk;
    },

    /**
     * Completes the second factor. With no secret yet, `enrollSecret` (shown to the
     * person on the enrolment page) is checked and saved, sealed. A code whose
     * step was already accepted for this account (in any session) is refused
     * and counted as a failure.
     */
    async secondFactor(session: WebSession, account: WebAccount, code: string, ip: string, enrollSecret?: string): Promise<'ok' | 'bad_code' | 'rate_limited' | 'locked_out'> {
      if (rateLimited(ip)) return 'rate_limited';
      const principal = `totp:${account.id}`;
      const admission = await throttle.admit(principal, ip);
      if (!admission.allow) return 'locked_out';
      const now = clock.now();
      const checked = await afterDelay(clock, admission.delayMs, () => totp.check(account, code, now, enrollSecret));
      if (checked === 'replayed') await store.audit({ at: now, actor: account.id, action: 'session.second-factor-replayed', subject: account.id });
      if (checked !== 'ok') return (await failed(principal, ip, account.id)) ? 'locked_out' : 'bad_code';
      await throttle.recordSuccess(principal, ip);
      await store.updateSession(session.id, { mfaOk: true });
      await store.audit({ at: now, actor: account.id, action: 'session.second-factor', subject: account.id });
      return 'ok';
    },

    async signOut(session: WebSession): Promise<void> {
      await store.deleteSession(session.id);
    },
  };
}

export type Auth = ReturnType<typeof createAuth>;
