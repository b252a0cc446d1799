/**
 * Monthly reports in the web app (issue 14): per home, a form to make the
 * report of a month in Japanese or English and the list of kept reports
 * (filtered by month); each report opens as a PDF to print or download. The
 * family (with detailed consent), the resident, her caregiver (care manager)
 * and the operator may; every report read is access-logged. Operators also
 * search kept reports of every home by home and month.
 */
import { z } from 'zod';
import { MimamoriError } from '../core/errors.js';
import type { MonthlyReportRecord } from '../core/store.js';
import { addDays, localTime } from '../core/time.js';
import { formOf, langOf, parseInput, scopeOf, tOf, viewerOf, type RouteModule } from './context.js';
import { html, type Html } from './html.js';
import type { translator } from './i18n.js';
import { monthTitle } from './monthly-report-pdf.js';
import { localWhen, sendPage } from './views.js';

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM');
const makeForm = z.object({ month, language: z.enum(['ja', 'en']) });
const listQuery = z.object({ month: month.optional().or(z.literal('').transform(() => undefined)) });
const searchQuery = z.object({ home: z.string().max(64).optional(), month: month.optional().or(z.literal('').transform(() => undefined)) });
const pdfQuery = z.object({ download: z.enum(['1']).optional() });
const roles = ['family', 'resident', 'caregiver', 'operator'] as const;

/** The rows of kept reports, newest month first, each opening as a PDF. */
function reportTable(t: ReturnType<typeof translator>, lang: 'ja' | 'en', rows: Array<{ r: MonthlyReportRecord; homeName: string; timezone: string }>, withHome: boolean): Html {
  if (rows.length === 0) return html`<p class="muted" id="no-reports">${t('noReports')}</p>`;
  return html`<table id="reports"><tr>${withHome ? html`<th>${t('reportHome')}</th>` : ''}<th>${t('reportMonth')}</th><th>${t('reportLanguage')}</th><th>${t('reportMadeAt')}</th><th>${t('reportPages')}</th><th></th></tr>
${rows.map(({ r, homeName, timezone }) => html`<tr data-report="${r.id}">${withHome ? html`<td>${homeName}</td>` : ''}<td>${monthTitle(r.month, lang)}${r.complete ? '' : html` <span class="muted">(${t('reportPartial')})</span>`}</td><td>${r.language === 'ja' ? t('langJa') : t('langEn')}</td><td>${localWhen(r.createdAt, timezone)}</td><td>${r.pages}</td>
<td><a href="/reports/${r.id}">${t('openReport')}</a> · <a href="/reports/${r.id}?download=1">${t('downloadReport')}</a></td></tr>`)}</table>`;
}

export const reportRoutes: RouteModule = (app, ctx) => {
  app.get('/homes/:home/reports', { config: { access: { roles, need: 'detailed' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const t = tOf(req);
    const lang = langOf(req);
    const home = await ctx.store.getHome(rel.homeId);
    if (!home) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const q = parseInput(listQuery, req.query);
    const kept = await ctx.store.listReports({ homeIds: [home.id], ...(q.month ? { month: q.month } : {}) });
    // The month just ended is what people usually want.
    const lastMonth = addDays(`${localTime(ctx.clock.now(), home.timezone).date.slice(0, 7)}-01`, -1).slice(0, 7);
    const { session } = viewerOf(req);
    const body = html`<p>${t('reportIntro')}</p>
<form id="report-form" method="post" action="/homes/${home.id}/reports"><input type="hidden" name="_csrf" value="${session.csrf}">
<label for="report-month">${t('reportMonth')}</label><input id="report-month" name="month" type="month" required value="${lastMonth}" pattern="\\d{4}-\\d{2}">
<label for="report-language">${t('reportLanguage')}</label><select id="report-language" name="language"><option value="ja"${lang === 'ja' ? html` selected` : ''}>${t('langJa')}</option><option value="en"${lang === 'en' ? html` selected` : ''}>${t('langEn')}</option></select>
<p><button>${t('makeReport')}</button></p></form>
<form id="report-filter" method="get" action="/homes/${home.id}/reports"><label for="filter-month">${t('reportMonth')}</label><input id="filter-month" name="month" type="month" value="${q.month ?? ''}"><button>${t('searchReports')}</button></form>
${reportTable(t, lang, kept.map((r) => ({ r, homeName: home.name, timezone: home.timezone })), false)}`;
    return sendPage(req, reply, `${t('monthlyReports')} — ${home.name}`, body);
  });

  app.post('/homes/:home/reports', { config: { access: { roles, need: 'detailed', log: 'monthly report (made or opened)' } } }, async (req, reply) => {
    const rel = scopeOf(req);
    const form = parseInput(makeForm, formOf(req));
    const { record, made } = await ctx.reports.obtain({ homeId: rel.homeId, month: form.month, language: form.language, by: `account:${viewerOf(req).account.id}` });
    if (made) ctx.logger.info({ report: record.id, home: record.homeId, month: record.month, language: record.language, pages: record.pages }, 'monthly report made');
    if (/json/.test(req.headers.accept ?? '')) return { id: record.id, made, url: `/reports/${record.id}`, month: record.month, language: record.language, pages: record.pages, sha256: record.sha256 };
    return reply.redirect(`/reports/${record.id}`, 303);
  });

  app.get('/reports/:report', { config: { access: { roles, need: 'detailed', log: 'monthly report (PDF)' } } }, async (req, reply) => {
    scopeOf(req);
    const id = (req.params as { report: string }).report;
    const record = await ctx.store.getReport(id);
    if (!record) throw new MimamoriError('MIMAMORI_ERR_NOT_FOUND');
    const q = parseInput(pdfQuery, req.query);
    const bytes = await ctx.reports.read(record);
    const name = `report-${record.homeId}-${record.month}-${record.language}.pdf`;
    return reply.type('application/pdf').header('cache-control', 'private, no-store')
      .header('content-disposition', `${q.download ? 'attachment' : 'inline'}; filename="${name}"`).send(bytes);
  });

  app.get('/operator/reports', { config: { access: { roles: ['operator'] } } }, async (req, reply) => {
    const t = tOf(req);
    const q = parseInput(searchQuery, req.query);
    const homes = new Map((await ctx.store.listHomes()).map((h) => [h.id, h]));
    const want = q.home ? [...homes.values()].filter((h) => h.id.includes(q.home!) || h.name.includes(q.home!)).map((h) => h.id) : undefined;
    const kept = await ctx.store.listReports({ ...(want ? { homeIds: want } : {}), ...(q.month ? { month: q.month } : {}) });
    const body = html`<form id="report-search" method="get" action="/operator/reports"><label for="search-home">${t('reportHome')}</label><input id="search-home" name="home" value="${q.home ?? ''}">
<label for="search-month">${t('reportMonth')}</label><input id="search-month" name="month" type="month" value="${q.month ?? ''}"><button>${t('searchReports')}</button></form>
${reportTable(t, langOf(req), kept.map((r) => ({ r, homeName: homes.get(r.homeId)?.name ?? r.homeId, timezone: homes.get(r.homeId)?.timezone ?? 'Asia/Tokyo' })), true)}`;
    return sendPage(req, reply, t('monthlyReports'), body);
  });
};
