/**
 * Dead letters (/operator/dead-letters, issue 14): what could not be delivered
 * or processed, newest first, each list paged on its own.
 *
 *  - Notifications that reached nobody: a failed (or unanswered) notification
 *    of an alert whose person got none of that alert's messages on any
 *    channel or retry. Each has "retry now": the notifier sends it once more
 *    on its channel (notifier/direct-send.ts), audited as `send.retry`.
 *  - Device messages the ingest refused (broker/ingest.ts keeps each in the
 *    `rejected_messages` table with its reason and time): shown with the
 *    payload shortened and anything that looks like a secret masked.
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { parseInput, tOf, viewerOf, type RouteModule } from './context.js';
import { html } from './html.js';
import { label } from './i18n.js';
import { localWhen, pagingNav, sendPage } from './views.js';

/** Rows per page in each list. */
export const deadLettersPageSize = 50;
/** Refused device messages looked at, at most (the newest). */
const maxRejectedShown = 5000;
/** Characters of a refused payload shown. */
const payloadShown = 300;
const query = z.object({ npage: z.coerce.number().int().min(1).max(100_000).default(1), dpage: z.coerce.number().int().min(1).max(100_000).default(1) });

/**
 * Statuses that mean the person was not reached (the notifier's
 * `isNotReached`, as a list the store can search by): a (alert, person) pair
 * whose every notification has one of them is a dead letter.
 */
export const notReachedStatuses = ['failed', 'undelivered', 'canceled', 'voicemail', 'machine', 'no-answer', 'busy', 'suppressed'] as const;

const secretKey = /pass|secret|token|key|auth|sig|cred/i;
/** Masks values whose key looks like a secret, anywhere in a JSON payload (or `key=value` / `"key": value` text). */
export function redactPayload(text: string): string {
  const mask = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(mask);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, secretKey.test(k) ? '***' : mask(x)]));
    return v;
  };
  let out: string;
  try { out = JSON.stringify(mask(JSON.parse(text))); } catch {
    out = text.replace(/("?[\w-]*(?:pass|secret|token|key|auth|sig|cred)[\w-]*"?\s*[:=]\s*)("[^"]*"|[^\s,;&}]+)/gi, '$1***');
  }
  return out.length > payloadShown ? `${out.slice(0, payloadShown)}…` : out;
}

export const deadLetterRoutes: RouteModule = (app, ctx) => {
  const opOnly = { roles: ['operator'] as const };

  app.get('/operator/dead-letters', { config: { access: { ...opOnly, log: 'operator dead letters' } } }, async (req, reply) => {
    const t = tOf(req);
    const { session } = viewerOf(req);
    const form = parseInput(query, req.query);
    const link = (npage: number, dpage: number, anchor: string) => `/operator/dead-letters?npage=${npage}&dpage=${dpage}#${anchor}`;

    // Notifications that reached nobody: the page asked for, found through the status index (migration 17).
    const pageOf = (p: number) => ctx.store.listUnreachedNotifications(notReachedStatuses, { offset: (p - 1) * deadLettersPageSize, limit: deadLettersPageSize });
    let dead = await pageOf(form.npage);
    const nPages = Math.max(1, Math.ceil(dead.total / deadLettersPageSize));
    const nPage = Math.min(form.npage, nPages);
    if (nPage !== form.npage) dead = await pageOf(nPage); // past the last page: the last one
    const nSlice = dead.notifications;
    const alerts = new Map<string, Awaited<ReturnType<typeof ctx.store.getAlert>>>();
    const homes = new Map<string, string>();
    const contacts = new Map<string, string>();
    for (const n of nSlice) {
      if (!alerts.has(n.alertId)) alerts.set(n.alertId, await ctx.store.getAlert(n.alertId));
      const a = alerts.get(n.alertId);
      if (a && !homes.has(a.homeId)) homes.set(a.homeId, (await ctx.store.getHome(a.homeId))?.timezone ?? 'Asia/Tokyo');
      if (a) req.accessed.add(a.homeId);
      if (n.contactId && !contacts.has(n.contactId)) contacts.set(n.contactId, (await ctx.store.getContact(n.contactId))?.name ?? '?');
    }
    const canRetry = ctx.notifications?.retryNotification !== undefined;
    const nRows = nSlice.map((n) => {
      const a = alerts.get(n.alertId);
      const tz = a ? homes.get(a.homeId) ?? 'Asia/Tokyo' : 'Asia/Tokyo';
      const retry = canRetry && n.contactId
        ? html`<form class="inline" method="post" action="/operator/dead-letters/alerts/${n.alertId}/notifications/${n.id}/retry"><input type="hidden" name="_csrf" value="${session.csrf}"><button class="secondary" data-action="retry">${t('dlRetry')}</button></form>`
        : html`<span class="muted">-</span>`;
      return html`<tr data-notification="${n.id}"><td>${localWhen(n.updatedAt, tz)}</td><td>${a ? html`<a href="/homes/${a.homeId}">${a.homeId}</a>` : '-'}</td><td>${a ? label(t, 'rule', a.rule) : n.alertId}</td>
<td>${n.contactId ? contacts.get(n.contactId) : t('dlOperator')}</td><td>${label(t, 'channel', n.channel)}</td><td>${label(t, 'sendStatus', n.status)}${n.error ? html` <code>${n.error}</code>` : ''}</td><td>${retry}</td></tr>`;
    });

    // Device messages the ingest refused (one more than the page asks for: is there a next page?).
    const wanted = Math.min(form.dpage * deadLettersPageSize + 1, maxRejectedShown);
    const rejected = await ctx.store.listRejected(wanted);
    const dPage = Math.max(1, Math.min(form.dpage, Math.ceil(rejected.length / deadLettersPageSize)));
    const dSlice = rejected.slice((dPage - 1) * deadLettersPageSize, dPage * deadLettersPageSize);
    const dRows = dSlice.map((r) => html`<tr data-rejected="${r.id}"><td>${localWhen(r.at, 'Asia/Tokyo')}</td><td>${r.homeId ?? '-'}</td><td>${r.deviceId ?? '-'}</td><td>${label(t, 'reject', r.reason)}</td><td><code>${r.topic}</code>${r.detail ? html`<br><code>${redactPayload(r.detail)}</code>` : ''}</td><td>${r.payload === undefined ? '-' : html`<code class="payload">${redactPayload(r.payload)}</code>`}</td></tr>`);

    const body = html`<p>${t('dlIntro')}</p>
<h2 id="dl-notifications">${t('dlNotifications')}</h2><p id="dl-notifications-count" role="status">${t('dlNotificationsShown', { count: dead.total, page: nPage, pages: nPages })}</p>
${dead.total === 0 ? html`<p>${t('dlNone')}</p>` : html`<table id="dead-notifications" class="stack"><tr><th>${t('when')}</th><th>${t('home')}</th><th>${t('alerts')}</th><th>${t('who')}</th><th>${t('dlChannel')}</th><th>${t('backupStatus')}</th><th>${t('acctActions')}</th></tr>${nRows}</table>`}
${pagingNav(t, 'dl-notifications-paging', nPage, nPage < nPages, (p) => link(p, dPage, 'dl-notifications'))}
<h2 id="dl-devices">${t('dlDevices')}</h2><p id="dl-devices-count" role="status">${t('dlDevicesShown', { from: dSlice.length ? (dPage - 1) * deadLettersPageSize + 1 : 0, to: (dPage - 1) * deadLettersPageSize + dSlice.length })}</p>
${dSlice.length === 0 ? html`<p>${t('dlNone')}</p>` : html`<table id="dead-devices" class="stack"><tr><th>${t('when')}</th><th>${t('home')}</th><th>${t('devices')}</th><th>${t('dlReason')}</th><th>${t('dlTopic')}</th><th>${t('dlPayload')}</th></tr>${dRows}</table>`}
${pagingNav(t, 'dl-devices-paging', dPage, rejected.length > dPage * deadLettersPageSize, (p) => link(nPage, p, 'dl-devices'))}
<p><a href="/operator">${t('homes')}</a></p>`;
    return sendPage(req, reply, t('dlTitle'), body);
  });

  app.post('/operator/dead-letters/alerts/:alert/notifications/:notification/retry', { config: { access: opOnly } }, async (req, reply) => {
    const t = tOf(req);
    const { account } = viewerOf(req);
    const { alert, notification } = req.params as { alert: string; notification: string };
    if (!(await ctx.store.listNotifications(alert)).some((n) => n.id === notification)) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const notifications = ctx.notifications;
    if (!notifications?.retryNotification) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', 'this web app has no notifier to send with');
    const r = await notifications.retryNotification(alert, notification, account.id);
    const notice = t('dlRetried', { status: label(t, 'sendStatus', r.status) });
    return reply.redirect(`/operator/dead-letters?notice=${encodeURIComponent(notice)}`, 303);
  });
};
