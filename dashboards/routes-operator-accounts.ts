/**
 * The operator's account management (/operator/accounts, issue 14): every web
 * account, searched by login or name, filtered by role and status, 50 a page;
 * per account: disable / enable (a disabled account cannot sign in and its
 * sessions end), a password reset (a temporary password shown once, which the
 * person must replace at the next sign-in, routes-password.ts) and an
 * authenticator reset (the next sign-in enrols a new one). Every change is
 * audited with who, what and when; an operator cannot do any of it to
 * themself here (their own /account and /account/password pages are for that).
 * The sign-in throttle is untouched: it counts per (login, address), so
 * nothing here, and nothing a stranger does, locks a person out.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import type { WebAccount, WebRole } from '../core/store.js';
import { secondFactorRoles } from './access.js';
import { parseInput, tOf, viewerOf, type RouteModule, type WebContext } from './context.js';
import { html } from './html.js';
import { roleName } from './i18n.js';
import { hashPassword } from './passwords.js';
import { localWhen, pagingNav, sendPage } from './views.js';

/** Accounts per page. */
export const accountsPageSize = 50;
const roles = ['resident', 'family', 'staff', 'caregiver', 'operator'] as const satisfies readonly WebRole[];
const statuses = ['all', 'enabled', 'disabled'] as const;
const query = z.object({
  q: z.string().trim().max(200).default(''),
  role: z.enum(['all', ...roles]).default('all'),
  status: z.enum(statuses).default('all'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
const actions = ['disable', 'enable', 'password', 'totp'] as const;
type AccountAction = (typeof actions)[number];
const auditAction: Record<AccountAction, string> = { disable: 'account.disable', enable: 'account.enable', password: 'account.password-reset', totp: 'account.totp-reset' };

/** Letters and digits nobody confuses when reading them aloud or off a screen (no 0/O, 1/l/I). */
const readable = 'abcdefghjkmnpqrstuvwxyz23456789';
/** A temporary password: 16 random readable characters in groups of four (about 79 bits), e.g. `k7mp-x3qa-9dtr-hw2e`. */
export function temporaryPassword(): string {
  const chars = Array.from({ length: 16 }, () => readable[randomInt(readable.length)]!);
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

/** Accounts matching a search (login or name, any case), role and status; in the store's order (role, login). */
export function filterAccounts(all: readonly WebAccount[], f: { q: string; role: WebRole | 'all'; status: (typeof statuses)[number] }): WebAccount[] {
  const needle = f.q.toLowerCase();
  return all.filter((a) => (f.role === 'all' || a.role === f.role)
    && (f.status === 'all' || (f.status === 'disabled') === (a.disabledAt !== undefined))
    && (needle === '' || a.login.toLowerCase().includes(needle) || a.name.toLowerCase().includes(needle)));
}

/** Signs every device of the account out. */
async function endSessions(ctx: WebContext, accountId: string): Promise<number> {
  const sessions = await ctx.store.listSessions(accountId);
  for (const s of sessions) await ctx.store.deleteSession(s.id);
  return sessions.length;
}

export const operatorAccountRoutes: RouteModule = (app, ctx) => {
  const opOnly = { roles: ['operator'] as const };

  app.get('/operator/accounts', { config: { access: opOnly } }, async (req, reply) => {
    const t = tOf(req);
    const { account: me } = viewerOf(req);
    const form = parseInput(query, req.query);
    const shown = filterAccounts(await ctx.store.listAccounts(), form);
    const pages = Math.max(1, Math.ceil(shown.length / accountsPageSize));
    const pageNo = Math.min(form.page, pages);
    const slice = shown.slice((pageNo - 1) * accountsPageSize, pageNo * accountsPageSize);
    const link = (p: number) => `/operator/accounts?${new URLSearchParams({ q: form.q, role: form.role, status: form.status, page: String(p) }).toString()}`;
    const csrf = html`<input type="hidden" name="_csrf" value="${viewerOf(req).session.csrf}">`;
    const button = (a: WebAccount, action: AccountAction, key: Parameters<typeof t>[0]) =>
      html`<form class="inline" method="post" action="/operator/accounts/${a.id}/${action}">${csrf}<button class="secondary" data-action="${action}">${t(key)}</button></form> `;
    const rows = slice.map((a) => {
      const self = a.id === me.id;
      const second = secondFactorRoles.includes(a.role) ? (a.totpSecret ? t('acctTotpSet') : t('acctTotpNone')) : '-';
      const state = a.disabledAt !== undefined ? html`<span class="alert">${t('acctDisabled')}</span> (${localWhen(a.disabledAt, 'Asia/Tokyo')})` : t('acctEnabled');
      const controls = self ? html`<span class="muted">${t('acctYou')}</span>` : html`${a.disabledAt === undefined ? button(a, 'disable', 'acctDisable') : button(a, 'enable', 'acctEnable')}${button(a, 'password', 'acctResetPassword')}${a.totpSecret ? button(a, 'totp', 'acctResetTotp') : ''}`;
      return html`<tr data-account="${a.id}"><td>${a.login}</td><td>${a.name}</td><td>${roleName(t, a.role)}</td><td>${state}${a.mustChangePassword ? html`<br><span class="muted">${t('acctMustChange')}</span>` : ''}</td><td>${second}</td><td>${controls}</td></tr>`;
    });
    const body = html`<form id="accounts-search" method="get" action="/operator/accounts" role="search">
<label for="acct-q">${t('acctSearch')}</label><input id="acct-q" name="q" type="search" value="${form.q}">
<label for="acct-role">${t('role')}</label><select id="acct-role" name="role"><option value="all">${t('acctAllRoles')}</option>${roles.map((r) => html`<option value="${r}"${r === form.role ? html` selected` : ''}>${roleName(t, r)}</option>`)}</select>
<label for="acct-status">${t('acctStatus')}</label><select id="acct-status" name="status">${statuses.map((s) => html`<option value="${s}"${s === form.status ? html` selected` : ''}>${t(`acctStatus_${s}`)}</option>`)}</select>
<button>${t('fleetShow')}</button></form>
<p id="accounts-count" role="status">${t('acctShown', { count: shown.length, page: pageNo, pages })}</p>
<table id="accounts" class="stack"><tr><th>${t('login')}</th><th>${t('name')}</th><th>${t('role')}</th><th>${t('acctStatus')}</th><th>${t('totpTitle')}</th><th>${t('acctActions')}</th></tr>${rows}</table>
${pagingNav(t, 'accounts-paging', pageNo, pageNo < pages, link)}
<p class="muted">${t('acctExplain')}</p><p><a href="/operator">${t('homes')}</a></p>`;
    return sendPage(req, reply, t('acctTitle'), body);
  });

  app.post('/operator/accounts/:account/:action', { config: { access: opOnly } }, async (req, reply) => {
    const t = tOf(req);
    const { account: me } = viewerOf(req);
    const params = req.params as { account: string; action: string };
    const action = z.enum(actions).safeParse(params.action);
    if (!action.success) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const target = await ctx.store.getAccount(params.account);
    if (!target) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    // Not through this page: an operator would lock themself out, or skip their own second factor.
    if (target.id === me.id) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'an operator cannot change their own account here', { userMessage: 'acctSelfRefused' });
    const now = ctx.wallClock.now();
    let ended = 0;
    let shownOnce: string | undefined;
    switch (action.data) {
      case 'disable':
        await ctx.store.setAccountDisabled(target.id, target.disabledAt ?? now);
        ended = await endSessions(ctx, target.id);
        break;
      case 'enable':
        await ctx.store.setAccountDisabled(target.id, null);
        break;
      case 'password':
        shownOnce = temporaryPassword();
        await ctx.store.setAccountPassword(target.id, await hashPassword(shownOnce), true);
        ended = await endSessions(ctx, target.id);
        break;
      case 'totp':
        if (!target.totpSecret) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'no authenticator to reset', { userMessage: 'acctNoTotp' });
        await ctx.store.setAccountTotp(target.id, null);
        ended = await endSessions(ctx, target.id);
        break;
    }
    await ctx.store.audit({ at: ctx.clock.now(), actor: me.id, action: auditAction[action.data], subject: target.id, detail: { login: target.login, sessionsEnded: ended } });
    ctx.logger.info({ operator: me.id, account: target.id, action: auditAction[action.data] }, 'account changed by an operator');
    if (shownOnce !== undefined) {
      // Shown once, never stored in clear and never cached (sendPage sends no-store).
      return sendPage(req, reply, t('acctResetPassword'), html`<p class="error" role="alert">${t('acctTempOnce', { login: target.login })}</p>
<p>${t('password')}: <span class="secret" id="temporary-password">${shownOnce}</span></p><p><a href="/operator/accounts?q=${encodeURIComponent(target.login)}">←</a></p>`);
    }
    return reply.redirect(`/operator/accounts?${new URLSearchParams({ q: target.login, notice: t(`acctDone_${action.data}`, { login: target.login }) }).toString()}`, 303);
  });
};
