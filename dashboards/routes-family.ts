/**
 * The family's pages (also what a resident or guardian sees on a computer):
 * today at a glance, the daily rhythm and week charts, alerts with who is
 * handling each, news with photos, questions to the staff, the access log
 * ("who looked at my data") and the sharing settings.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import { idSchema } from '../core/events.js';
import { formatClockTime, localTime, monthDayClock } from '../core/time.js';
import { formOf, langOf, parseInput, publishLocal, scopeOf, tOf, viewerOf, backTo, type RouteModule, type WebContext } from './context.js';
import { html, type Html } from './html.js';
import { label, roleName } from './i18n.js';
import { alertCard, alertState, isFamilyAlert, localWhen, sendPage, type AlertAction } from './views.js';
import { collectDay, dayStatus, daySentence, dayTimeline, dayTimelineHtml, statusKeys, type DayAlert, type HomeStatus } from './family-day.js';
import type { FastifyRequest } from 'fastify';

const questionForm = z.object({ body: z.string().trim().min(1).max(2000) });
const consentForm = z.object({ viewer: z.string().min(1).max(64), level: z.enum(['coarse', 'detailed']), photos: z.enum(['on', 'off']).optional() });
const actionParams = z.object({ alert: z.string().min(1).max(64), action: z.enum(['acknowledge', 'on-my-way', 'arrived', 'resolve']) });
const rhythmQuery = z.object({ range: z.enum(['day', 'week']).default('day') });

/**
 * The home's status in the cards' vocabulary: fine, something noticed, or an
 * urgent alert that nobody is handling yet / that someone is handling.
 */
export async function homeStatus(ctx: WebContext, homeId: string): Promise<HomeStatus> {
  const unresolved: DayAlert[] = [];
  for (const a of (await ctx.store.listAlerts({ homeId, unresolved: true })).filter(isFamilyAlert)) {
    unresolved.push({ alert: a, state: alertState(a, await ctx.store.listAlertResponses(a.id)), at: a.openedAt });
  }
  return dayStatus(unresolved).status;
}

/** News of a home with photos when the viewer may see them. */
export async function newsList(req: FastifyRequest, ctx: WebContext, homeId: string, timezone: string, photos: boolean, since = 0): Promise<Html> {
  const t = tOf(req);
  const items = await ctx.store.listNews(homeId, since);
  if (items.length === 0) return html`<p class="muted">${t('noNews')}</p>`;
  const out: Html[] = [];
  for (const n of items.slice(0, 20)) {
    const pics = photos ? await ctx.store.listNewsPhotos(n.id) : [];
    out.push(html`<article class="card news"><p class="muted">${localWhen(n.createdAt, timezone)}</p><p>${n.body}</p>
${pics.length ? html`<div class="photos">${pics.map((p) => html`<img src="/photos/${p.id}" width="${p.width}" height="${p.height}" alt="${t('photos')}">`)}</div>` : ''}</article>`);
  }
  return html`${out}`;
}

export const familyRoutes: RouteModule = (app, ctx) => {
  app.get('/family', { config: { access: { roles: ['family', 'resident'] } } }, async (req, reply) => {
    const homes = await ctx.access.visibleHomes(viewerOf(req).account);
    if (homes.length === 1) return reply.redirect(`/homes/${homes[0]!.homeId}`, 303);
    const t = tOf(req);
    const list: Html[] = [];
    for (const h of homes) list.push(html`<li><a href="/homes/${h.homeId}">${(await ctx.store.getHome(h.homeId))?.name ?? h.homeId}</a></li>`);
    return sendPage(req, reply, t('homes'), html`<ul>${list}</ul>`);
  });

  app.get('/homes/:home', { config: { access: { roles: ['family', 'resident', 'caregiver', 'staff', 'operator'], log: 'today, alerts and news' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const t = tOf(req);
    const home = await ctx.store.getHome(rel.homeId);
    if (!home) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const tz = home.timezone;
    const now = ctx.clock.now();
    const detailed = rel.level === 'detailed';
    // Today's facts once: the status box, the sentence and the timeline say the same thing.
    const day = await collectDay({ store: ctx.store, history: ctx.history, homeId: home.id, timezone: tz, now });
    const { status } = dayStatus(day.unresolved);
    const statusText = t(statusKeys[status]);
    const residents = await ctx.store.listResidents(home.id);
    const attText = day.dayCare ? (day.dayCare.status === 'present' ? t('present') : t('absent')) : t('notMarked');
    const last = ctx.engine.lastSignOfLife(home.id);
    // An absence she or the staff entered (the tablet's 「出かけます」, day-care): why nothing is said.
    const awayUntil = ctx.engine.awayUntil(home.id);
    const awayText = awayUntil === undefined ? undefined : t('awayNow', { time: aboutWhen(awayUntil, now, tz) });
    const alerts = (await ctx.store.listAlerts({ homeId: home.id, unresolved: true })).filter(isFamilyAlert);
    const actions: AlertAction[] = rel.kind === 'caregiver' ? ['acknowledge', 'on-my-way', 'arrived', 'resolve'] : ['acknowledge', 'on-my-way', 'resolve'];
    const cards: Html[] = [];
    for (const a of alerts) cards.push(await alertCard(req, ctx.store, a, tz, actions));
    const questions = (await ctx.store.listQuestions(home.id)).filter((q) => rel.kind !== 'family' && rel.kind !== 'guardian' ? true : q.askerId === viewerOf(req).account.id);
    const canAsk = rel.kind === 'family' || rel.kind === 'guardian';
    const { session } = viewerOf(req);
    const body = html`<p>${residents.map((r) => r.name).join('、')}</p>
<section aria-labelledby="today-h"><h2 id="today-h">${t('today')}</h2><div id="today-live" data-live-region><p id="home-status" class="status ${status === 'fine' || status === 'noticed' ? status : 'alert'}" data-status="${status}" role="status">${statusText}</p>
<p id="day-sentence" class="day-sentence">${daySentence(day, t, langOf(req), detailed)}</p>
${detailed ? html`<h3 id="day-timeline-h">${t('dayTimeline')}</h3>${dayTimelineHtml(dayTimeline(day, t, langOf(req)), tz, t)}` : ''}
${detailed ? html`<p>${t('lastSign')}: <strong id="last-sign">${last === undefined ? t('never') : localWhen(last, tz)}</strong></p>` : ''}
${awayText === undefined ? '' : html`<p id="away-now">${awayText}</p>`}
<p>${t('attendance')}: <strong id="attendance">${attText}</strong></p></div></section>
<section aria-labelledby="alerts-h"><h2 id="alerts-h">${t('alerts')}</h2><div id="alerts" data-live-region>${cards.length ? cards : html`<p class="muted">${t('noAlerts')}</p>`}</div></section>
${detailed ? html`<section aria-labelledby="rhythm-h"><h2 id="rhythm-h">${t('rhythm')}</h2><canvas id="rhythm-day" role="img" aria-label="${t('rhythm')}" aria-describedby="rhythm-day-text" data-describe="rhythm-day-text" data-src="/homes/${home.id}/rhythm.json?range=day" height="120"></canvas><p id="rhythm-day-text" class="muted"></p>
<h3>${t('week')}</h3><canvas id="rhythm-week" role="img" aria-label="${t('week')}" aria-describedby="rhythm-week-text" data-describe="rhythm-week-text" data-src="/homes/${home.id}/rhythm.json?range=week" height="120"></canvas><p id="rhythm-week-text" class="muted"></p></section>` : html`<p class="muted">${t('detailedOnly')}</p>`}
<section aria-labelledby="news-h"><h2 id="news-h">${t('news')}</h2><div id="news" data-live-region>${await newsList(req, ctx, home.id, tz, rel.photos)}</div></section>
<section aria-labelledby="q-h"><h2 id="q-h">${t('questions')}</h2>
<div id="questions-list" data-live-region>${questions.map((q) => html`<div class="card"><p>${q.body}</p><p>${t('answer')}: ${q.answer ?? t('unanswered')}</p></div>`)}</div>
${canAsk ? html`<form id="question-form" method="post" action="/homes/${home.id}/questions"><input type="hidden" name="_csrf" value="${session.csrf}"><label for="question">${t('ask')}</label><textarea id="question" name="body" rows="3" cols="40" required maxlength="2000"></textarea><p><button>${t('send')}</button></p></form>` : ''}</section>
${detailed && rel.kind !== 'staff' ? html`<p><a id="monthly-reports" href="/homes/${home.id}/reports">${t('monthlyReports')}</a></p>` : ''}
${rel.kind !== 'staff' && rel.kind !== 'caregiver' ? html`<p><a href="/homes/${home.id}/access-log">${t('accessLog')}</a>${rel.kind === 'guardian' || rel.kind === 'resident' ? html` · <a href="/homes/${home.id}/consent">${t('consent')}</a>` : ''}</p>` : ''}`;
    return sendPage(req, reply, home.name, body, { live: true, charts: detailed });
  });

  app.get('/homes/:home/rhythm.json', { config: { access: { roles: ['family', 'resident', 'caregiver', 'staff', 'operator'], need: 'detailed', log: 'daily rhythm chart' } } }, async (req) => {
    const rel = scopeOf(req);
    const t = tOf(req);
    const { range } = parseInput(rhythmQuery, req.query);
    const home = await ctx.store.getHome(rel.homeId);
    const tz = home?.timezone ?? 'Asia/Tokyo';
    const now = ctx.clock.now();
    const from = now - (range === 'day' ? 24 : 7 * 24) * 3600_000;
    const counts = ctx.history ? await ctx.history.activityCounts(rel.homeId, from, now) : [];
    let labels: string[];
    let values: number[];
    if (range === 'day') {
      values = new Array<number>(24).fill(0);
      for (const c of counts) { const h = localTime(c.at, tz).hour; values[h] = (values[h] ?? 0) + c.count; }
      labels = values.map((_, h) => `${h}`);
    } else {
      const days: string[] = [];
      for (let i = 6; i >= 0; i--) days.push(localTime(now - i * 24 * 3600_000, tz).date);
      const perDay = new Map(days.map((d) => [d, 0]));
      for (const c of counts) { const d = localTime(c.at, tz).date; if (perDay.has(d)) perDay.set(d, (perDay.get(d) ?? 0) + c.count); }
      labels = days.map((d) => d.slice(5));
      values = days.map((d) => perDay.get(d) ?? 0);
    }
    // The chart's text alternative: the same figures in a sentence.
    const total = values.reduce((a, b) => a + b, 0);
    const peak = values.indexOf(Math.max(...values));
    const summary = total === 0 ? t('rhythmNone') : t(range === 'day' ? 'rhythmDaySummary' : 'rhythmWeekSummary', { total, peak: labels[peak] ?? '', count: values[peak] ?? 0 });
    return { labels, values, summary };
  });

  app.get('/homes/:home/alerts.json', { config: { access: { roles: ['family', 'resident', 'caregiver', 'staff', 'operator'], log: 'alerts' } } }, async (req) => {
    const rel = scopeOf(req);
    const lang = langOf(req);
    const alerts = (await ctx.store.listAlerts({ homeId: rel.homeId })).filter((a) => rel.kind === 'operator' || isFamilyAlert(a));
    const out = [];
    for (const a of alerts.slice(0, 50)) {
      const responses = await ctx.store.listAlertResponses(a.id);
      out.push({ id: a.id, severity: a.severity, status: a.status, openedAt: a.openedAt, message: a.finding && typeof a.finding === 'object' ? ((a.finding as { message?: Record<string, string> }).message?.[lang] ?? a.message) : a.message, responses: responses.map((r) => ({ account: r.accountId, action: r.action, at: r.at })) });
    }
    return { alerts: out };
  });

  app.post('/alerts/:alert/:action', { config: { access: { roles: ['family', 'caregiver', 'staff', 'operator'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const { alert, action } = parseInput(actionParams, req.params);
    const { account } = viewerOf(req);
    const input = { alertId: alert, account: { id: account.id, name: account.name }, via: 'dashboard' as const, at: ctx.clock.now() };
    const result = action === 'acknowledge' ? await ctx.responder.acknowledge(input)
      : action === 'on-my-way' ? await ctx.responder.onMyWay(input)
        : action === 'arrived' ? await ctx.responder.arrived(input)
          : await ctx.responder.resolve(input);
    if (!result.ok) throw new MimamoriError(result.reason === 'not_found' ? 'MIMAMORI_ERR_NOT_FOUND' : result.reason === 'not_a_recipient' ? 'MIMAMORI_ERR_FORBIDDEN' : 'MIMAMORI_ERR_CONFLICT', result.message);
    await ctx.store.recordAlertResponse({ alertId: alert, homeId: rel.homeId, accountId: account.id, action, at: input.at });
    publishLocal(ctx, { type: `alert.${action}`, homeId: rel.homeId, alertId: alert });
    if (/json/.test(req.headers.accept ?? '')) return { ok: true, status: result.alert.status };
    return backTo(req, reply, `/homes/${rel.homeId}`);
  });

  app.get('/photos/:photo', { config: { access: { roles: ['family', 'resident', 'caregiver', 'staff', 'operator'], need: 'photos', log: 'news photo' } } }, async (req, reply) => {
    const id = idSchema.safeParse((req.params as { photo: string }).photo);
    if (!id.success) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const bytes = await readFile(join(ctx.photosDir, `${id.data}.jpg`)).catch(() => undefined);
    if (!bytes) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    return reply.type('image/jpeg').header('cache-control', 'private, max-age=3600').send(bytes);
  });

  app.post('/homes/:home/questions', { config: { access: { roles: ['family'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const form = parseInput(questionForm, formOf(req));
    await ctx.store.addQuestion({ homeId: rel.homeId, askerId: viewerOf(req).account.id, body: form.body, askedAt: ctx.clock.now() });
    publishLocal(ctx, { type: 'question.asked', homeId: rel.homeId });
    return reply.redirect(`/homes/${rel.homeId}?notice=${encodeURIComponent(tOf(req)('saved'))}`, 303);
  });

  app.get('/homes/:home/access-log', { config: { access: { roles: ['family', 'resident', 'operator'] } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const t = tOf(req);
    const home = await ctx.store.getHome(rel.homeId);
    const tz = home?.timezone ?? 'Asia/Tokyo';
    const rows = await ctx.store.listAccess(rel.homeId);
    const who = new Map<string, string>();
    for (const r of rows) if (!who.has(r.viewerId)) { const a = await ctx.store.getAccount(r.viewerId); who.set(r.viewerId, a ? `${a.name} (${roleName(t, a.role)})` : r.viewerId); }
    const body = html`<table id="access-log"><tr><th>${t('who')}</th><th>${t('when')}</th><th>${t('what')}</th></tr>
${rows.map((r) => html`<tr><td>${who.get(r.viewerId)}</td><td>${localWhen(r.at, tz)}</td><td>${r.what === undefined ? '' : label(t, 'what', r.what)}</td></tr>`)}</table>`;
    return sendPage(req, reply, t('accessLog'), body);
  });

  app.get('/homes/:home/consent', { config: { access: { roles: ['family', 'resident'], need: 'consent-admin' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const t = tOf(req);
    const { session } = viewerOf(req);
    const viewers = await viewersOf(ctx, rel.homeId);
    const rows: Html[] = [];
    for (const v of viewers) {
      const c = await ctx.store.getConsent(rel.homeId, v.id);
      rows.push(html`<tr><td>${v.name} (${roleName(t, v.role)})</td><td><form method="post" action="/homes/${rel.homeId}/consent"><input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="viewer" value="${v.id}">
<label for="level-${v.id}">${t('consent')}</label><select id="level-${v.id}" name="level"><option value="coarse">${t('coarse')}</option><option value="detailed"${c?.level === 'detailed' ? html` selected` : ''}>${t('detailed')}</option></select>
<label><input type="checkbox" name="photos" value="on"${c?.photos ? html` checked` : ''}> ${t('sharePhotos')}</label><button>${t('save')}</button></form></td></tr>`);
    }
    return sendPage(req, reply, t('consent'), html`<table><tr><th>${t('viewer')}</th><th></th></tr>${rows}</table>`);
  });

  app.post('/homes/:home/consent', { config: { access: { roles: ['family', 'resident'], need: 'consent-admin' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const form = parseInput(consentForm, formOf(req));
    if (!(await viewersOf(ctx, rel.homeId)).some((v) => v.id === form.viewer)) throw new MimamoriError('MIMAMORI_ERR_INVALID_INPUT', 'not a viewer of this home');
    await ctx.store.setConsent({ homeId: rel.homeId, viewerId: form.viewer, level: form.level, photos: form.photos === 'on', updatedAt: ctx.clock.now(), updatedBy: viewerOf(req).account.id });
    await ctx.store.audit({ at: ctx.clock.now(), actor: viewerOf(req).account.id, action: 'consent.set', subject: rel.homeId, detail: { viewer: form.viewer, level: form.level, photos: form.photos === 'on' } });
    return reply.redirect(`/homes/${rel.homeId}/consent`, 303);
  });
};

/** Everyone whose view of a home the resident can set: family, caregivers and staff of her day-care. */
async function viewersOf(ctx: WebContext, homeId: string) {
  const ids = new Set<string>();
  for (const l of [...await ctx.store.listLinked('home', homeId), ...await ctx.store.listLinked('guardian', homeId)]) ids.add(l.accountId);
  for (const a of await ctx.store.listAccounts()) {
    if (a.role !== 'staff') continue;
    for (const l of await ctx.store.listLinks(a.id)) if (l.kind === 'facility' && (await ctx.store.listEnrolledHomes(l.targetId)).includes(homeId)) ids.add(a.id);
  }
  const out = [];
  for (const id of ids) { const a = await ctx.store.getAccount(id); if (a && a.role !== 'resident') out.push(a); }
  return out;
}

/** A time to come: its clock time today, with the date (M/D) on another day. */
function aboutWhen(at: number, now: number, tz: string): string {
  const l = localTime(at, tz);
  return l.date === localTime(now, tz).date ? formatClockTime(l.minuteOfDay) : monthDayClock(at, tz);
}
