/**
 * Settings each person owns (issue 17), at /account/notifications: for each
 * contact the signed-in account is (one per home), their channels in order,
 * quiet hours (critical alerts always pass), digest time and channel, a test
 * message per channel, a LINE link code, and a preview of what they will
 * receive for each severity. Saved through the notifier (validated, audited
 * with the account as actor) and read at the next decision: no restart.
 * Operators set the same preferences for people who never sign in (CLI
 * `contact --quiet/--digest`, or the notifier's `setContactPreferences`).
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import type { Contact } from '../core/store.js';
import { toLocalIso } from '../core/time.js';
import { formOf, parseInput, tOf, viewerOf, type RouteModule, type WebContext } from './context.js';
import { html, page } from './html.js';
import { label } from './i18n.js';
import type { FastifyReply, FastifyRequest } from 'fastify';

const hhmmOrEmpty = z.string().trim().regex(/^(([01]\d|2[0-3]):[0-5]\d)?$/, 'HH:MM');
const settingsForm = z.object({
  channels: z.string().trim().max(200),
  quietFrom: hhmmOrEmpty, quietTo: hhmmOrEmpty,
  digestTime: hhmmOrEmpty, digestChannel: z.string().trim().max(40),
  /** Absent from older forms: the language stays. */
  language: z.enum(['ja', 'en']).optional(),
});
const testForm = z.object({ channel: z.string().trim().regex(/^[a-z][a-z0-9-]*$/) });
const pushSubscribeBody = z.object({ subscription: z.unknown(), label: z.string().max(60).optional() });
const pushRemoveBody = z.object({ endpoint: z.string().min(1).max(2048) });
const pushActionBody = z.object({ token: z.string().min(1).max(4096), action: z.enum(['ack', 'omw']) });

/** The preferences a settings form describes (empty fields: not set). */
export function preferencesFromForm(f: z.infer<typeof settingsForm>): Record<string, unknown> {
  const prefs: Record<string, unknown> = {};
  const channels = f.channels.split(/[\s,、]+/).filter((c) => c !== '');
  if (channels.length) prefs.channels = channels;
  if (f.quietFrom || f.quietTo) prefs.quietHours = { from: f.quietFrom, to: f.quietTo };
  if (f.digestTime) prefs.digest = { times: [f.digestTime], channel: f.digestChannel || 'email' };
  return prefs;
}

export const notificationSettingsRoutes: RouteModule = (app, ctx) => {
  const access = { config: { access: { roles: 'any' as const } } };

  /** The signed-in account's own contact `id`; anyone else's is "not found". */
  async function ownContact(ctx2: WebContext, accountId: string, id: string): Promise<Contact> {
    const c = (await ctx2.store.listContactsOfAccount(accountId)).find((x) => x.id === id);
    if (!c || !ctx2.notifications) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    return c;
  }

  app.get('/account/notifications', access, async (req, reply) => render(req, reply, req.query as Notes));

  /**
   * Web push for one contact: the devices subscribed so far, and buttons the
   * page's module (client/push.ts) drives — register the service worker,
   * subscribe with the hub's VAPID key, post the subscription here. Its words
   * travel as data attributes: the module has no text of its own.
   */
  async function pushSection(c: Contact, publicKey: string, t: ReturnType<typeof tOf>) {
    const devices = (await ctx.store.listContactAddresses(c.id)).filter((a) => a.kind === 'push');
    return html`<h3>${t('pushTitle')}</h3><p>${t('pushExplain')}</p>
<ul class="push-devices">${devices.length ? devices.map((d) => html`<li>${d.label ?? t('pushDevice')}</li>`) : html`<li>${t('pushNoDevice')}</li>`}</ul>
<div class="push" data-contact="${c.id}" data-key="${publicKey}" data-said-on="${t('pushOn')}" data-said-off="${t('pushOff')}" data-said-unsupported="${t('pushUnsupported')}" data-said-denied="${t('pushDenied')}" data-said-failed="${t('pushFailed')}">
<button type="button" class="secondary" data-push="subscribe">${t('pushSubscribe')}</button> <button type="button" class="secondary" data-push="unsubscribe">${t('pushUnsubscribe')}</button>
<p role="status" data-push-status></p></div>`;
  }

  /** What the page says above the settings (after a save, a test, or a new link code). */
  interface Notes { saved?: string; test?: string; status?: string; code?: string; errors?: string }

  async function render(req: FastifyRequest, reply: FastifyReply, q: Notes) {
    const { account, session } = viewerOf(req);
    const t = tOf(req);
    const contacts = ctx.notifications ? await ctx.store.listContactsOfAccount(account.id) : [];
    const n = ctx.notifications;
    const sections = [];
    for (const c of contacts) {
      if (!n) break;
      const prefs = ((await ctx.store.getContactPreferences(c.id)) ?? {}) as { channels?: string[]; quietHours?: { from: string; to: string }; digest?: { times: string[]; channel: string } };
      const reach = await n.reach(c.id);
      const home = (await ctx.store.getHome(c.homeId))?.name ?? c.homeId;
      const quiet = prefs.quietHours ? `${prefs.quietHours.from}–${prefs.quietHours.to}` : t('none');
      const list = (xs: string[]) => (xs.length ? xs.join(' → ') : t('none'));
      const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
      sections.push(html`<section id="contact-${c.id}"><h2>${t('notificationsFor', { home })}</h2>
<form method="post" action="/account/notifications/${c.id}">${csrf}
<label for="ch-${c.id}">${t('channelOrder')}</label><input id="ch-${c.id}" name="channels" value="${(prefs.channels ?? []).join(', ')}" placeholder="${n.channelNames().join(', ')}">
<label for="qf-${c.id}">${t('quietFrom')}</label><input id="qf-${c.id}" name="quietFrom" type="time" value="${prefs.quietHours?.from ?? ''}">
<label for="qt-${c.id}">${t('quietTo')}</label><input id="qt-${c.id}" name="quietTo" type="time" value="${prefs.quietHours?.to ?? ''}">
<label for="dt-${c.id}">${t('digestTime')}</label><input id="dt-${c.id}" name="digestTime" type="time" value="${prefs.digest?.times[0] ?? ''}">
<label for="dc-${c.id}">${t('digestChannel')}</label><input id="dc-${c.id}" name="digestChannel" value="${prefs.digest?.channel ?? ''}">
<label for="lg-${c.id}">${t('messageLanguage')}</label><select id="lg-${c.id}" name="language">${(['ja', 'en'] as const).map((l) => (l === c.language ? html`<option value="${l}" selected>${label(t, 'lang', l)}</option>` : html`<option value="${l}">${label(t, 'lang', l)}</option>`))}</select>
<p><button>${t('save')}</button></p></form>
<h3>${t('previewTitle')}</h3><ul class="preview">
<li>${t('previewCritical', { channels: list(reach.own) })}</li>
<li>${t('previewWarning', { channels: list(reach.own), quiet })}</li>
<li>${t('previewInfo', { channels: list(reach.followUp), quiet })}</li></ul>
<h3>${t('sendTest')}</h3>${[...new Set([...reach.own, ...reach.followUp])].map((ch) => html`<form method="post" action="/account/notifications/${c.id}/test" class="inline">${csrf}<input type="hidden" name="channel" value="${ch}"><button class="secondary">${t('sendTest')}: ${ch}</button></form>`)}
<h3>${t('lineLink')}</h3><form method="post" action="/account/notifications/${c.id}/line-code">${csrf}<button class="secondary">${t('showLineCode')}</button></form>
${n.push ? await pushSection(c, n.push.publicKey, t) : ''}</section>`);
    }
    const notes = html`${q.saved ? html`<p role="status">${t('settingsSaved')}</p>` : ''}${q.errors ? html`<p class="error" role="alert">${q.errors}</p>` : ''}${q.test ? html`<p role="status">${t('testResult', { channel: q.test, status: q.status ?? '' })}</p>` : ''}${q.code ? html`<p role="status" id="line-code">${t('lineLinkCode', { code: q.code })}</p>` : ''}`;
    const body = html`${notes}${sections.length ? sections : html`<p>${t('noContactForAccount')}</p>`}`;
    return reply.type('text/html; charset=utf-8').send(page({ lang: account.language, title: t('notificationSettings'), body, signedIn: { name: account.name, csrf: session.csrf }, ...(n?.push ? { modules: ['/static/push.js'] } : {}) }));
  }

  app.post('/account/notifications/:contact', access, async (req, reply) => {
    const { account } = viewerOf(req);
    const c = await ownContact(ctx, account.id, (req.params as { contact: string }).contact);
    const form = parseInput(settingsForm, formOf(req));
    const r = await ctx.notifications!.setPreferences(c.id, preferencesFromForm(form), `account:${account.id}`);
    // A bad setting is shown and nothing is saved: the earlier settings stay in force.
    if (r.errors.length) return reply.redirect(`/account/notifications?errors=${encodeURIComponent(r.errors.join('; '))}`, 303);
    if (form.language !== undefined) await ctx.notifications!.setLanguage(c.id, form.language, `account:${account.id}`);
    return reply.redirect('/account/notifications?saved=1', 303);
  });

  app.post('/account/notifications/:contact/test', access, async (req, reply) => {
    const { account } = viewerOf(req);
    const c = await ownContact(ctx, account.id, (req.params as { contact: string }).contact);
    const form = parseInput(testForm, formOf(req));
    const r = await ctx.notifications!.sendTest(c.id, form.channel, `account:${account.id}`);
    return reply.redirect(`/account/notifications?test=${encodeURIComponent(form.channel)}&status=${encodeURIComponent(r.error ? `${r.status} (${r.error})` : r.status)}`, 303);
  });

  app.post('/account/notifications/:contact/line-code', access, async (req, reply) => {
    const { account } = viewerOf(req);
    const c = await ownContact(ctx, account.id, (req.params as { contact: string }).contact);
    const { code, expiresAt } = await ctx.notifications!.lineLinkCode(c.id);
    await ctx.store.audit({ at: ctx.clock.now(), actor: account.id, action: 'contact.line-code', subject: c.id, detail: { expiresAt: toLocalIso(expiresAt, 'Asia/Tokyo') } });
    // Shown in this answer only, never in a URL (history, logs): the code binds a LINE account to this person.
    return render(req, reply, { code });
  });

  // ── web push (docs/channels.md) ──
  app.post('/account/notifications/:contact/push', access, async (req, reply) => {
    const { account } = viewerOf(req);
    const c = await ownContact(ctx, account.id, (req.params as { contact: string }).contact);
    const push = ctx.notifications!.push;
    if (!push) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const body = parseInput(pushSubscribeBody, req.body);
    const r = await push.subscribe(c.id, body.subscription, body.label, `account:${account.id}`);
    return reply.code(r.errors.length ? 400 : 200).send(r.errors.length ? { ok: false, code: 'MIMAMORI_ERR_INVALID_INPUT', errors: r.errors } : { ok: true });
  });

  app.post('/account/notifications/:contact/push/remove', access, async (req, reply) => {
    const { account } = viewerOf(req);
    const c = await ownContact(ctx, account.id, (req.params as { contact: string }).contact);
    const push = ctx.notifications!.push;
    if (!push) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const body = parseInput(pushRemoveBody, req.body);
    return reply.send({ ok: true, removed: await push.unsubscribe(c.id, body.endpoint, `account:${account.id}`) });
  });

  // A notification's button, posted by the service worker: no session, the signed token is the authority (notifier/push-action.ts).
  app.post('/push/action', { config: { access: { roles: 'public' as const } } }, async (req, reply) => {
    const push = ctx.notifications?.push;
    if (!push) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const parsed = pushActionBody.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ ok: false, code: 'MIMAMORI_ERR_INVALID_INPUT', message: 'expected { token, action: "ack" | "omw" }' });
    const r = await push.action(parsed.data.token, parsed.data.action);
    return reply.code(r.status).header('cache-control', 'no-store').send(r);
  });
};
