/**
 * Sign-in (password, then TOTP for staff, caregivers and operators), sign-out,
 * the account page with signed-in devices (revocable) and language.
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { toLocalIso } from '../core/time.js';
import type { WebRole } from '../core/store.js';
import { newToken, preCsrfCookie, sameToken, sessionCookie } from './auth.js';
import { formOf, parseInput, tOf, viewerOf, type RouteModule, type WebContext } from './context.js';
import { html, page, raw } from './html.js';
import { guessLanguage, translator } from './i18n.js';
import { newTotpSecret, otpauthUri } from './totp.js';
import type { FastifyReply, FastifyRequest } from 'fastify';

const signInForm = z.object({ login: z.string().min(1).max(200), password: z.string().min(1).max(1000), _csrf: z.string().optional(), next: z.string().optional() });
const totpForm = z.object({ code: z.string().trim().regex(/^\d{6}$/), secret: z.string().regex(/^[A-Z2-7]{16,64}$/).optional() });
const langForm = z.object({ language: z.enum(['ja', 'en']) });

/** Where each role lands after sign-in. */
export function homePath(role: WebRole): string {
  return { resident: '/tablet', family: '/family', staff: '/staff', caregiver: '/caregiver', operator: '/operator' }[role];
}

const safeNext = (next: string | undefined) => (next && /^\/[a-z]/i.test(next) && !next.startsWith('//') ? next : undefined);

export const accountRoutes: RouteModule = (app, ctx) => {
  const cookieBase = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: ctx.secureCookies };

  function signInPage(req: FastifyRequest, reply: FastifyReply, error?: string, status = 200) {
    const lang = guessLanguage(req.query, req.headers['accept-language']);
    const t = translator(lang);
    const pre = newToken();
    reply.setCookie(preCsrfCookie, pre, { ...cookieBase, maxAge: 3600 });
    const next = safeNext((req.query as { next?: string }).next ?? (req.body as { next?: string } | undefined)?.next);
    const body = html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/signin?lang=${lang}"><input type="hidden" name="_csrf" value="${pre}">${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
<label for="login">${t('login')}</label><input id="login" name="login" autocomplete="username" required>
<label for="password">${t('password')}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button id="signin">${t('signIn')}</button></p></form><p><a href="/signin?lang=ja">日本語</a> · <a href="/signin?lang=en">English</a></p>`;
    return reply.code(status).type('text/html; charset=utf-8').send(page({ lang, title: t('signIn'), body }));
  }

  app.get('/', { config: { access: { roles: 'any' } } }, async (req, reply) => reply.redirect(homePath(viewerOf(req).account.role), 303));
  app.get('/signin', { config: { access: { roles: 'public' } } }, async (req, reply) => signInPage(req, reply));

  app.post('/signin', { config: { access: { roles: 'public' } } }, async (req, reply) => {
    const lang = guessLanguage(req.query, req.headers['accept-language']);
    const t = translator(lang);
    // Before there is a session, CSRF is a double-submit of the pre-sign-in cookie.
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!sameToken(typeof body._csrf === 'string' ? body._csrf : undefined, req.cookies[preCsrfCookie])) throw new MimamoriError('MIMAMORI_ERR_CSRF');
    const form = parseInput(signInForm, body);
    const result = await ctx.auth.signIn(form.login, form.password, req.ip, req.headers['user-agent']);
    if (!result.ok) {
      const status = result.reason === 'bad_credentials' ? 401 : result.reason === 'disabled' ? 403 : 429;
      const msg = { bad_credentials: t('badCredentials'), locked_out: t('lockedOut'), rate_limited: t('rateLimited'), disabled: t('accountDisabled') }[result.reason];
      return signInPage(req, reply, msg, status);
    }
    reply.clearCookie(preCsrfCookie, { path: '/' });
    reply.setCookie(sessionCookie, result.token, { ...cookieBase, maxAge: 30 * 24 * 3600 });
    ctx.logger.info({ account: result.account.id, role: result.account.role }, 'signed in');
    return reply.redirect(result.needsSecondFactor ? '/signin/totp' : (safeNext(form.next) ?? homePath(result.account.role)), 303);
  });

  async function totpPage(req: FastifyRequest, reply: FastifyReply, error?: string, status = 200) {
    const { account, session } = viewerOf(req);
    const t = tOf(req);
    const enrolling = !account.totpSecret;
    const secret = enrolling ? ((req.body as { secret?: string } | undefined)?.secret ?? newTotpSecret()) : undefined;
    const body = html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
${secret ? html`<p>${t('totpEnroll')}</p><p class="secret" id="totp-secret">${secret}</p><p class="muted">${otpauthUri(secret, account.login)}</p>` : ''}
<form method="post" action="/signin/totp"><input type="hidden" name="_csrf" value="${session.csrf}">${secret ? html`<input type="hidden" name="secret" value="${secret}">` : ''}
<label for="code">${t('totpCode')}</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
<p><button>${t('confirm')}</button></p></form>`;
    return reply.code(status).type('text/html; charset=utf-8').send(page({ lang: account.language, title: t('totpTitle'), body }));
  }

  app.get('/signin/totp', { config: { access: { roles: 'any', beforeSecondFactor: true } } }, async (req, reply) => {
    const { session, account } = viewerOf(req);
    if (session.mfaOk) return reply.redirect(homePath(account.role), 303);
    return totpPage(req, reply);
  });

  app.post('/signin/totp', { config: { access: { roles: 'any', beforeSecondFactor: true } } }, async (req, reply) => {
    const { session, account } = viewerOf(req);
    const t = tOf(req);
    const parsed = totpForm.safeParse(formOf(req));
    if (!parsed.success) return totpPage(req, reply, t('badCode'), 400);
    const r = await ctx.auth.secondFactor(session, account, parsed.data.code, req.ip, parsed.data.secret);
    if (r === 'ok') return reply.redirect(homePath(account.role), 303);
    if (r === 'locked_out') { await ctx.auth.signOut(session); return reply.code(429).type('text/html; charset=utf-8').send(page({ lang: account.language, title: t('lockedOut'), body: html`<p class="error" role="alert">${t('lockedOut')}</p>` })); }
    return totpPage(req, reply, r === 'rate_limited' ? t('rateLimited') : t('badCode'), r === 'rate_limited' ? 429 : 401);
  });

  app.post('/signout', { config: { access: { roles: 'any', beforeSecondFactor: true } } }, async (req, reply) => {
    await ctx.auth.signOut(viewerOf(req).session);
    reply.clearCookie(sessionCookie, { path: '/' });
    return reply.redirect('/signin', 303);
  });

  app.get('/account', { config: { access: { roles: 'any' } } }, async (req, reply) => {
    const { account, session } = viewerOf(req);
    const t = tOf(req);
    const sessions = await ctx.store.listSessions(account.id);
    const when = (at: number) => toLocalIso(at, 'Asia/Tokyo').replace('T', ' ').slice(0, 16);
    const body = html`<p><a href="/account/notifications" id="notification-settings">${t('notificationSettings')}</a></p><h2>${t('sessions')}</h2><table id="sessions" class="stack"><tr><th>${t('since')}</th><th>${t('lastSeen')}</th><th></th><th></th></tr>
${sessions.map((s) => html`<tr><td>${when(s.createdAt)}</td><td>${when(s.lastSeenAt)}</td><td>${s.userAgent ?? ''}${s.id === session.id ? html` <strong>(${t('thisDevice')})</strong>` : ''}</td>
<td><form method="post" action="/account/sessions/${encodeURIComponent(s.id)}/revoke"><input type="hidden" name="_csrf" value="${session.csrf}"><button class="secondary">${t('revoke')}</button></form></td></tr>`)}</table>
<h2>${t('language')}</h2><form method="post" action="/account/language"><input type="hidden" name="_csrf" value="${session.csrf}">
<label for="language">${t('language')}</label><select id="language" name="language"><option value="ja"${raw(account.language === 'ja' ? ' selected' : '')}>日本語</option><option value="en"${raw(account.language === 'en' ? ' selected' : '')}>English</option></select>
<button>${t('save')}</button></form>`;
    return reply.type('text/html; charset=utf-8').send(page({ lang: account.language, title: t('account'), body, signedIn: { name: account.name, csrf: session.csrf } }));
  });

  app.post('/account/sessions/:session/revoke', { config: { access: { roles: 'any' } } }, async (req, reply) => {
    const { account } = viewerOf(req);
    const id = (req.params as { session: string }).session;
    const target = await ctx.store.getSession(id);
    // Only one's own sessions; someone else's is "not found", never revoked.
    if (!target || target.accountId !== account.id) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    await ctx.store.deleteSession(id);
    await ctx.store.audit({ at: ctx.clock.now(), actor: account.id, action: 'session.revoke', subject: account.id });
    return reply.redirect('/account', 303);
  });

  app.post('/account/language', { config: { access: { roles: 'any' } } }, async (req, reply) => {
    const { account } = viewerOf(req);
    const form = parseInput(langForm, formOf(req));
    await setLanguage(ctx, account.id, form.language);
    return reply.redirect('/account', 303);
  });
};

async function setLanguage(ctx: WebContext, accountId: string, language: 'ja' | 'en') {
  await ctx.store.setAccountLanguage(accountId, language);
}
