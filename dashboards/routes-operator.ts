/**
 * The operator: homes, residents, contacts in calling order, devices (new
 * credentials shown once), device health, accounts and relationships, the
 * escalation policy form (routes-operator-escalation.ts), each home's day-care
 * facilities (changed on routes-operator-facilities.ts), the audit log, and the
 * backup history with the audit and access logs' chain heads (docs/backup.md),
 * and links to the emergency contact list (routes-contacts.ts).
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { idSchema } from '../core/events.js';
import { invalidPhoneMessage, phoneForDisplay, toE164 } from '../core/phone.js';
import { provisionDevice } from '../broker/index.js';
import { formOf, parseInput, scopeOf, tOf, viewerOf, type RouteModule } from './context.js';
import { knownFacility } from './facilities.js';
import { fleetPage, fleetQuery, fleetRows } from './routes-fleet.js';
import { html, type Html } from './html.js';
import { label, roleName, type Translator } from './i18n.js';
import { hashPassword, minPasswordLength } from './passwords.js';
import { localWhen, pagingNav, sendPage } from './views.js';

const languages = ['ja', 'en'] as const;
const contactRoles = ['family', 'caregiver', 'emergency'] as const;
const accountRoles = ['family', 'resident', 'staff', 'caregiver', 'operator'] as const;
const deviceKinds = ['kettle', 'water', 'gas', 'power', 'door', 'motion', 'button', 'climate', 'tablet'] as const;
const linkKinds = ['home', 'guardian', 'facility'] as const;
const lang = z.enum(languages);

/** A select's options: the id as the value, its words (catalogue `<prefix>_<id>`) as the text. */
function options(t: Translator, prefix: 'lang' | 'role' | 'kind' | 'link', ids: readonly string[]): Html[] {
  return ids.map((id) => html`<option value="${id}">${label(t, prefix, id)}</option>`);
}
const homeForm = z.object({ id: idSchema, name: z.string().trim().min(1).max(200), timezone: z.string().refine((tz) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; } }, 'unknown time zone') });
const residentForm = z.object({ name: z.string().trim().min(1).max(200), language: lang });
const contactForm = z.object({ name: z.string().trim().min(1).max(200), role: z.enum(contactRoles), phone: z.string().max(40), language: lang, priority: z.coerce.number().int().min(1).max(99) });
const deviceForm = z.object({ deviceId: idSchema, kind: z.enum(deviceKinds), label: z.string().max(100).optional() });
const accountForm = z.object({ login: z.string().trim().min(3).max(100).regex(/^[\w.@+-]+$/), name: z.string().trim().min(1).max(200), role: z.enum(accountRoles), language: lang, password: z.string().min(minPasswordLength, `at least ${minPasswordLength} characters`).max(1000) });
/** Homes shown in full on one page of the overview (the fleet view lists 50 a page in a line each). */
export const operatorPageSize = 20;
/** The overview searched for one home: where the operator lands after changing it, whichever page it is on. */
const homeOnOverview = (home: string) => `/operator?${new URLSearchParams({ q: home }).toString()}`;
const linkForm = z.object({ login: z.string().min(1), kind: z.enum(linkKinds), target: idSchema });

export const operatorRoutes: RouteModule = (app, ctx) => {
  const opOnly = { roles: ['operator'] as const };

  app.get('/operator', { config: { access: { ...opOnly, log: 'operator overview' } } }, async (req, reply) => {
    const t = tOf(req);
    const { session, account } = viewerOf(req);
    const viewerLang = account.language;
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
    const form = parseInput(fleetQuery, req.query);
    const sections: Html[] = [];
    const facilityNames = new Map((await ctx.store.listFacilities()).map((f) => [f.id, f.name]));
    const enrolledIn = new Map<string, string[]>();
    for (const e of await ctx.store.listEnrollments()) enrolledIn.set(e.homeId, [...(enrolledIn.get(e.homeId) ?? []), facilityNames.get(e.facilityId) ?? e.facilityId]);
    // Thousands of homes: one page of them, problems first, and only those read in full and logged as seen.
    const { shown, pageNo, pages, slice } = fleetPage(await fleetRows(ctx), form, operatorPageSize);
    for (const { fleet } of slice) {
      const { home } = fleet;
      req.accessed.add(home.id);
      const contacts = await ctx.store.listContacts(home.id);
      const devices = await ctx.store.listDevices(home.id);
      const health = fleet.alerts.filter((a) => (a.finding as { audience?: string }).audience === 'operator');
      const problems = new Map<string, string[]>();
      for (const a of health) { const d = (a.finding as { device?: string }).device ?? ''; problems.set(d, [...(problems.get(d) ?? []), label(t, 'rule', a.rule)]); }
      sections.push(html`<section class="card" aria-labelledby="op-${home.id}"><h2 id="op-${home.id}">${home.id} — ${home.name} (${home.timezone})</h2>
<p>${t('residents')}: ${fleet.residents.join('、')}</p>
<p data-facilities="${home.id}">${t('facOfHome')}: ${enrolledIn.get(home.id)?.join('、') ?? t('facNone')} (<a href="/operator/facilities">${t('facChange')}</a>)</p>
<div id="op-tables-${home.id}" data-live-region><h3>${t('contacts')}</h3><table><tr><th>${t('order')}</th><th>${t('name')}</th><th>${t('role')}</th><th>${t('phone')}</th></tr>${contacts.map((c) => html`<tr><td>${c.priority}</td><td>${c.name}</td><td>${roleName(t, c.role)}</td><td>${c.phone === undefined ? '-' : phoneForDisplay(c.phone, viewerLang)}</td></tr>`)}</table>
<h3>${t('deviceHealth')}</h3><table><tr><th>${t('devices')}</th><th>${t('kind')}</th><th>${t('deviceHealth')}</th></tr>${devices.map((d) => html`<tr><td>${d.deviceId}</td><td>${label(t, 'kind', d.kind)}</td><td>${problems.get(d.deviceId)?.join(', ') ?? t('healthy')}</td></tr>`)}</table></div>
<details><summary>${t('addResident')}</summary><form method="post" action="/operator/homes/${home.id}/residents">${csrf}<label for="rn-${home.id}">${t('name')}</label><input id="rn-${home.id}" name="name" required><label for="rl-${home.id}">${t('language')}</label><select id="rl-${home.id}" name="language">${options(t, 'lang', languages)}</select><button>${t('save')}</button></form></details>
<details><summary>${t('addContact')}</summary><form method="post" action="/operator/homes/${home.id}/contacts">${csrf}<label for="cn-${home.id}">${t('name')}</label><input id="cn-${home.id}" name="name" required><label for="cr-${home.id}">${t('role')}</label><select id="cr-${home.id}" name="role">${options(t, 'role', contactRoles)}</select><label for="cp-${home.id}">${t('phone')}</label><input id="cp-${home.id}" name="phone" type="tel" autocomplete="tel" placeholder="090-1234-5678" required><label for="cl-${home.id}">${t('language')}</label><select id="cl-${home.id}" name="language">${options(t, 'lang', languages)}</select><label for="co-${home.id}">${t('order')}</label><input id="co-${home.id}" name="priority" type="number" min="1" max="99" value="${contacts.length + 1}"><button>${t('save')}</button></form></details>
<details><summary>${t('addDevice')}</summary><form method="post" action="/operator/homes/${home.id}/devices">${csrf}<label for="di-${home.id}">${t('id')}</label><input id="di-${home.id}" name="deviceId" required><label for="dk-${home.id}">${t('kind')}</label><select id="dk-${home.id}" name="kind">${options(t, 'kind', deviceKinds)}</select><button>${t('save')}</button></form></details>
<p><a href="/operator/homes/${home.id}/escalation">${t('escalation')}</a> · <a href="/homes/${home.id}/access-log">${t('accessLog')}</a> · <a href="/operator/homes/${home.id}/contacts">${t('emergencyContacts')}</a> (<a href="/operator/homes/${home.id}/contacts.pdf">PDF</a>) · <a href="/homes/${home.id}/reports">${t('monthlyReports')}</a></p></section>`);
    }
    const link = (p: number) => `/operator?${new URLSearchParams({ ...(form.q === '' ? {} : { q: form.q }), ...(form.filter === 'all' ? {} : { filter: form.filter }), page: String(p) }).toString()}`;
    const paging = pages === 1 ? '' : pagingNav(t, 'operator-paging', pageNo, pageNo < pages, link);
    const audit = (await ctx.store.listAudit(undefined, { last: 50 })).reverse();
    const heads = await ctx.store.trailHeads();
    const backups = await ctx.store.listBackups(5);
    const body = html`<nav aria-label="${t('homes')}" id="operator-nav"><p><a href="/operator/fleet">${t('fleetLink')}</a></p><p><a href="/operator/accounts" id="accounts-link">${t('opAccountsLink')}</a> · <a href="/operator/dead-letters" id="dead-letters-link">${t('opDeadLettersLink')}</a> · <a href="/operator/facilities" id="facilities-link">${t('facLink')}</a></p></nav><p><a href="/operator/contacts">${t('emergencyContacts')}</a> · <a href="/operator/contacts.pdf">${t('contactListPdf')}</a> · <a href="/operator/reports">${t('monthlyReports')}</a></p>
<details><summary>${t('addHome')}</summary><form method="post" action="/operator/homes">${csrf}<label for="h-id">${t('id')}</label><input id="h-id" name="id" required><label for="h-name">${t('name')}</label><input id="h-name" name="name" required><label for="h-tz">${t('timezone')}</label><input id="h-tz" name="timezone" value="Asia/Tokyo"><button>${t('save')}</button></form></details>
<details><summary>${t('addAccount')}</summary><form method="post" action="/operator/accounts">${csrf}<label for="a-login">${t('login')}</label><input id="a-login" name="login" required><label for="a-name">${t('name')}</label><input id="a-name" name="name" required><label for="a-role">${t('role')}</label><select id="a-role" name="role">${options(t, 'role', accountRoles)}</select><label for="a-lang">${t('language')}</label><select id="a-lang" name="language">${options(t, 'lang', languages)}</select><label for="a-pw">${t('password')}</label><input id="a-pw" name="password" type="password" minlength="${minPasswordLength}" required><button>${t('save')}</button></form></details>
<details><summary>${t('linkAccount')}</summary><form method="post" action="/operator/links">${csrf}<label for="l-login">${t('login')}</label><input id="l-login" name="login" required><label for="l-kind">${t('kind')}</label><select id="l-kind" name="kind">${options(t, 'link', linkKinds)}</select><label for="l-target">${t('target')}</label><input id="l-target" name="target" required><button>${t('save')}</button></form></details>
<p><a href="/operator/onboarding">${t('onboarding')}</a></p>
${ctx.flowsEditor ? html`<form method="post" action="/operator/flows-editor" id="flows-editor">${csrf}<button>${t('openFlows')}</button></form>` : ''}
<form id="operator-search" method="get" action="/operator" role="search"><label for="operator-q">${t('fleetSearch')}</label><input id="operator-q" name="q" type="search" value="${form.q}"><button>${t('fleetShow')}</button></form>
<p id="operator-count" role="status">${t('fleetShown', { count: shown.length, page: pageNo, pages })}</p>
${sections}
${paging}
<h2>${t('audit')}</h2><div id="audit-live" data-live-region><table id="audit"><tr><th>${t('when')}</th><th>${t('who')}</th><th>${t('what')}</th><th>${t('target')}</th></tr>${audit.map((a) => html`<tr><td>${localWhen(a.at, 'Asia/Tokyo')}</td><td>${label(t, 'actor', a.actor)}</td><td>${label(t, 'audit', a.action)}</td><td>${a.subject}</td></tr>`)}</table></div>
<h2>${t('backups')}</h2><div id="backups-live" data-live-region><p>${t('trailHeads')}</p><ul id="trail-heads"><li>${t('audit')}: #${heads.audit.seq} <code>${heads.audit.hash}</code></li><li>${t('accessRecords')}: #${heads.access.seq} <code>${heads.access.hash}</code></li></ul>
${backups.length === 0 ? html`<p>${t('noBackups')}</p>` : html`<table id="backups"><tr><th>${t('when')}</th><th>${t('backupStatus')}</th><th>${t('backupVerified')}</th><th>${t('backupFile')}</th></tr>${backups.map((b) => html`<tr><td>${localWhen(b.startedAt, 'Asia/Tokyo')}</td><td>${label(t, 'backup', b.status)}</td><td>${b.verified ? t('verifiedYes') : t('verifiedNo')}</td><td>${b.file ?? '-'}</td></tr>`)}</table>`}</div>`;
    return sendPage(req, reply, t('homes'), body, { live: true });
  });

  const audit = (actor: string, action: string, subject: string, detail?: unknown) => ctx.store.audit({ at: ctx.clock.now(), actor, action, subject, ...(detail === undefined ? {} : { detail }) });

  app.post('/operator/homes', { config: { access: opOnly } }, async (req, reply) => {
    const form = parseInput(homeForm, formOf(req));
    await ctx.store.createHome({ id: form.id, name: form.name, timezone: form.timezone, createdAt: ctx.clock.now() });
    await audit(viewerOf(req).account.id, 'home.create', form.id);
    return reply.redirect(homeOnOverview(form.id), 303);
  });

  app.post('/operator/homes/:home/residents', { config: { access: opOnly } }, async (req, reply) => {
    const rel = scopeOf(req);
    const form = parseInput(residentForm, formOf(req));
    if (!(await ctx.store.getHome(rel.homeId))) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    await ctx.store.addResident({ homeId: rel.homeId, name: form.name, language: form.language });
    await audit(viewerOf(req).account.id, 'resident.add', rel.homeId);
    return reply.redirect(homeOnOverview(rel.homeId), 303);
  });

  app.post('/operator/homes/:home/contacts', { config: { access: opOnly } }, async (req, reply) => {
    const rel = scopeOf(req);
    const form = parseInput(contactForm, formOf(req));
    // Domestic (090-1234-5678), full-width or international: stored as E.164, or a clear message in the operator's language.
    const phone = toE164(form.phone);
    if (phone === undefined) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', invalidPhoneMessage.en, { userMessage: 'badPhone' });
    if (!(await ctx.store.getHome(rel.homeId))) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    await ctx.store.addContact({ homeId: rel.homeId, ...form, phone });
    await audit(viewerOf(req).account.id, 'contact.add', rel.homeId, { role: form.role, priority: form.priority });
    return reply.redirect(homeOnOverview(rel.homeId), 303);
  });

  app.post('/operator/homes/:home/devices', { config: { access: opOnly } }, async (req, reply) => {
    const rel = scopeOf(req);
    const t = tOf(req);
    const form = parseInput(deviceForm, formOf(req));
    if (!(await ctx.store.getHome(rel.homeId))) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const creds = await provisionDevice(ctx.store, { homeId: rel.homeId, deviceId: form.deviceId, kind: form.kind, ...(form.label ? { label: form.label } : {}) });
    await audit(viewerOf(req).account.id, 'device.provision', `${rel.homeId}/${form.deviceId}`);
    // Shown once, never stored in clear and never cached.
    return sendPage(req, reply, t('addDevice'), html`<p class="error" role="alert">${t('credentialsOnce')}</p><p>${t('login')}: <span class="secret" id="device-username">${creds.username}</span></p><p>${t('password')}: <span class="secret" id="device-secret">${creds.secret}</span></p><p><a href="/operator">←</a></p>`);
  });

  // The Node-RED editor, opened with a pass bound to this session (editor-pass.ts): a POST with
  // the form's CSRF token, so no other site can send an operator into the editor.
  if (ctx.flowsEditor) {
    const editor = ctx.flowsEditor;
    app.post('/operator/flows-editor', { config: { access: opOnly } }, async (req, reply) => {
      const { session, account } = viewerOf(req);
      await audit(account.id, 'flows.open', account.id);
      reply.header('Cache-Control', 'no-store');
      return reply.redirect(`${editor.path}/?access_token=${encodeURIComponent(editor.pass.issue(session))}`, 303);
    });
  }

  app.post('/operator/accounts', { config: { access: opOnly } }, async (req, reply) => {
    const form = parseInput(accountForm, formOf(req));
    const acc = await ctx.store.createAccount({ login: form.login, name: form.name, role: form.role, language: form.language, passwordHash: await hashPassword(form.password), createdAt: ctx.clock.now() });
    await audit(viewerOf(req).account.id, 'account.create', acc.id, { role: acc.role });
    return reply.redirect('/operator', 303);
  });

  app.post('/operator/links', { config: { access: opOnly } }, async (req, reply) => {
    const form = parseInput(linkForm, formOf(req));
    const acc = await ctx.store.findAccountByLogin(form.login);
    if (!acc) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'no such login');
    if (form.kind === 'facility') await knownFacility(ctx.store, form.target);
    else if (!(await ctx.store.getHome(form.target))) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'no such home');
    await ctx.store.linkAccount({ accountId: acc.id, kind: form.kind, targetId: form.target });
    await audit(viewerOf(req).account.id, 'account.link', acc.id, { kind: form.kind, target: form.target });
    return reply.redirect('/operator', 303);
  });

};
