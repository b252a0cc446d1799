/**
 * A person changes their own password at /account/password. After an operator
 * reset it (routes-operator-accounts.ts: a temporary password shown once),
 * every other page sends the person here until they have chosen their own
 * (the access hook in index.ts); the temporary one then stops working.
 */
import { z } from 'zod';
import { homePath } from './routes-account.js';
import { formOf, tOf, viewerOf, type RouteModule } from './context.js';
import { html } from './html.js';
import { hashPassword, minPasswordLength, verifyPassword } from './passwords.js';
import { sendPage } from './views.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MessageKey } from './i18n.js';

/** The password page; also where a temporary password leads. */
export const passwordPath = '/account/password';

const passwordForm = z.object({ current: z.string().max(1000), password: z.string().max(1000), confirm: z.string().max(1000) });

export const passwordRoutes: RouteModule = (app, ctx) => {
  const access = { roles: 'any' as const, duringPasswordChange: true };

  function passwordPage(req: FastifyRequest, reply: FastifyReply, error?: MessageKey) {
    const t = tOf(req);
    const { account, session } = viewerOf(req);
    const body = html`${account.mustChangePassword ? html`<p class="notice" role="status" id="must-change">${t('pwMustChange')}</p>` : ''}
${error ? html`<div class="error" role="alert"><p id="password-error">${t(error, { min: minPasswordLength })}</p><p>${t('nothingChanged')}</p></div>` : ''}
<form method="post" action="${passwordPath}"><input type="hidden" name="_csrf" value="${session.csrf}">
<input type="text" name="username" autocomplete="username" value="${account.login}" hidden>
<label for="pw-current">${t('pwCurrent')}</label><input id="pw-current" name="current" type="password" autocomplete="current-password" required>
<label for="pw-new">${t('pwNew', { min: minPasswordLength })}</label><input id="pw-new" name="password" type="password" autocomplete="new-password" minlength="${minPasswordLength}" required>
<label for="pw-confirm">${t('pwConfirm')}</label><input id="pw-confirm" name="confirm" type="password" autocomplete="new-password" minlength="${minPasswordLength}" required>
<p><button>${t('save')}</button></p></form>`;
    return sendPage(req, reply.code(error ? 400 : 200), t('pwTitle'), body);
  }

  app.get(passwordPath, { config: { access } }, async (req, reply) => passwordPage(req, reply));

  app.post(passwordPath, { config: { access } }, async (req, reply) => {
    const { account, session } = viewerOf(req);
    const parsed = passwordForm.safeParse(formOf(req));
    if (!parsed.success) return passwordPage(req, reply, 'invalidInput');
    const form = parsed.data;
    if (!(await verifyPassword(form.current, account.passwordHash))) return passwordPage(req, reply, 'pwWrongCurrent');
    if (form.password.length < minPasswordLength) return passwordPage(req, reply, 'pwTooShort');
    if (form.password !== form.confirm) return passwordPage(req, reply, 'pwMismatch');
    if (form.password === form.current) return passwordPage(req, reply, 'pwSame');
    await ctx.store.setAccountPassword(account.id, await hashPassword(form.password), false);
    // Other devices signed in with the old password are signed out; this one stays.
    for (const s of await ctx.store.listSessions(account.id)) if (s.id !== session.id) await ctx.store.deleteSession(s.id);
    await ctx.store.audit({ at: ctx.clock.now(), actor: account.id, action: 'account.password-change', subject: account.id });
    return reply.redirect(`${homePath(account.role)}?notice=${encodeURIComponent(tOf(req)('pwChanged'))}`, 303);
  });
};
