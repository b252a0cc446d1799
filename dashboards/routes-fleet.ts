/**
 * The operator's fleet view (/operator/fleet): every home on one page, problems
 * first — open alerts, silent homes, low batteries, late data — with search,
 * filters and paging. Built for a thousand homes: one store call
 * (`listFleet`, a few queries in all) and the engine's in-memory last sign
 * of life; only the page shown is rendered and logged as accessed.
 */
import { z } from 'zod';
import type { Alert, FleetHome } from '../core/store.js';
import type { Finding } from '../core/findings.js';
import { parseInput, tOf, type RouteModule, type WebContext } from './context.js';
import { html } from './html.js';
import { label, type MessageKey } from './i18n.js';
import { localWhen, pagingNav, sendPage } from './views.js';

/** Homes per page. */
export const fleetPageSize = 50;
/** A home with devices and no sign of life for this long counts as silent. */
export const silentAfterMs = 12 * 3600_000;

export const fleetFilters = ['all', 'problems', 'alerts', 'silent', 'battery', 'late'] as const;
export type FleetFilter = (typeof fleetFilters)[number];
/** The fleet's query: search words, a filter, a page (also read by the operator's overview). */
export const fleetQuery = z.object({ q: z.string().trim().max(200).default(''), filter: z.enum(fleetFilters).default('all'), page: z.coerce.number().int().min(1).max(100_000).default(1) });

/** What is wrong with one home, counted. */
export interface FleetRow { fleet: FleetHome; critical: number; alerts: number; silent: boolean; battery: number; late: number; lastSign: number | undefined; score: number }

const audience = (a: Alert) => (a.finding as Partial<Finding> | undefined)?.audience;
const isBattery = (a: Alert) => a.rule === 'battery-low' || (a.finding as { type?: string } | undefined)?.type === 'battery-low';
const isLate = (a: Alert) => ['data-late', 'device-silent'].includes(a.rule) || ['data-late', 'device-silent'].includes(String((a.finding as { type?: string } | undefined)?.type));

/** One home's problems; `score` orders the fleet (critical alerts, then other alerts, silence, late data, batteries). */
export function fleetRow(fleet: FleetHome, lastSign: number | undefined, now: number): FleetRow {
  const people = fleet.alerts.filter((a) => audience(a) !== 'operator' && !isBattery(a) && !isLate(a));
  const critical = people.filter((a) => a.severity === 'critical').length;
  const battery = fleet.alerts.filter(isBattery).length;
  const late = fleet.alerts.filter(isLate).length;
  const silent = fleet.devices > 0 && (lastSign === undefined || now - lastSign > silentAfterMs);
  const score = critical * 1e6 + people.length * 1e4 + (silent ? 1e3 : 0) + late * 10 + battery;
  return { fleet, critical, alerts: people.length, silent, battery, late, lastSign, score };
}

function matches(r: FleetRow, filter: FleetFilter, q: string): boolean {
  if (filter === 'problems' && r.score === 0) return false;
  if (filter === 'alerts' && r.alerts === 0) return false;
  if (filter === 'silent' && !r.silent) return false;
  if (filter === 'battery' && r.battery === 0) return false;
  if (filter === 'late' && r.late === 0) return false;
  if (q === '') return true;
  const needle = q.toLowerCase();
  return [r.fleet.home.id, r.fleet.home.name, ...r.fleet.residents].some((s) => s.toLowerCase().includes(needle));
}

/** Every home with its problems counted, in one store call and the engine's memory. */
export async function fleetRows(ctx: Pick<WebContext, 'store' | 'engine' | 'clock'>): Promise<FleetRow[]> {
  const now = ctx.clock.now();
  return (await ctx.store.listFleet()).map((f) => fleetRow(f, ctx.engine.lastSignOfLife(f.home.id), now));
}

/** The rows a query matches, problems first (then by id), and the page of them it asks for. */
export function fleetPage(rows: FleetRow[], form: { q: string; filter: FleetFilter; page: number }, pageSize: number): { shown: FleetRow[]; pageNo: number; pages: number; slice: FleetRow[] } {
  const shown = rows.filter((r) => matches(r, form.filter, form.q)).sort((a, b) => b.score - a.score || a.fleet.home.id.localeCompare(b.fleet.home.id));
  const pages = Math.max(1, Math.ceil(shown.length / pageSize));
  const pageNo = Math.min(form.page, pages);
  return { shown, pageNo, pages, slice: shown.slice((pageNo - 1) * pageSize, pageNo * pageSize) };
}

export const fleetRoutes: RouteModule = (app, ctx) => {
  app.get('/operator/fleet', { config: { access: { roles: ['operator'], log: 'operator fleet view' } } }, async (req, reply) => {
    const t = tOf(req);
    const form = parseInput(fleetQuery, req.query);
    const rows = await fleetRows(ctx);
    const totals = { alerts: rows.filter((r) => r.alerts > 0).length, silent: rows.filter((r) => r.silent).length, battery: rows.filter((r) => r.battery > 0).length, late: rows.filter((r) => r.late > 0).length };
    const { shown, pageNo, pages, slice } = fleetPage(rows, form, fleetPageSize);
    for (const r of slice) req.accessed.add(r.fleet.home.id);
    const link = (p: number) => `/operator/fleet?${new URLSearchParams({ q: form.q, filter: form.filter, page: String(p) }).toString()}`;
    const problemCell = (r: FleetRow) => {
      const out: string[] = [];
      if (r.critical) out.push(t('fleetCritical', { n: r.critical }));
      if (r.alerts - r.critical) out.push(t('fleetAlerts', { n: r.alerts - r.critical }));
      if (r.silent) out.push(t('fleetSilent'));
      if (r.late) out.push(t('fleetLate', { n: r.late }));
      if (r.battery) out.push(t('fleetBattery', { n: r.battery }));
      return out.length ? out.join('・') : t('fleetFine');
    };
    const rules = (r: FleetRow) => [...new Set(r.fleet.alerts.map((a) => label(t, 'rule', a.rule)))].join('、');
    const filterKey: Record<FleetFilter, MessageKey> = { all: 'fleetFilter_all', problems: 'fleetFilter_problems', alerts: 'fleetFilter_alerts', silent: 'fleetFilter_silent', battery: 'fleetFilter_battery', late: 'fleetFilter_late' };
    const body = html`<p id="fleet-totals">${t('fleetTotals', { homes: rows.length, alerts: totals.alerts, silent: totals.silent, battery: totals.battery, late: totals.late })}</p>
<form id="fleet-search" method="get" action="/operator/fleet" role="search"><label for="fleet-q">${t('fleetSearch')}</label><input id="fleet-q" name="q" type="search" value="${form.q}">
<label for="fleet-filter">${t('fleetFilter')}</label><select id="fleet-filter" name="filter">${fleetFilters.map((f) => html`<option value="${f}"${f === form.filter ? html` selected` : ''}>${t(filterKey[f])}</option>`)}</select>
<button>${t('fleetShow')}</button></form>
<p id="fleet-count" role="status">${t('fleetShown', { count: shown.length, page: pageNo, pages })}</p>
<table id="fleet"><tr><th>${t('home')}</th><th>${t('residents')}</th><th>${t('fleetProblems')}</th><th>${t('alerts')}</th><th>${t('lastSign')}</th><th>${t('devices')}</th></tr>
${slice.map((r) => html`<tr data-home="${r.fleet.home.id}" data-score="${r.score}"><td><a href="/homes/${r.fleet.home.id}">${r.fleet.home.name}</a> <span class="muted">${r.fleet.home.id}</span> · <a href="/operator/homes/${r.fleet.home.id}/escalation">${t('fleetPolicyLink')}</a></td><td>${r.fleet.residents.join('、')}</td>
<td class="${r.critical ? 'alert' : r.score ? 'noticed' : ''}">${problemCell(r)}</td><td>${rules(r)}</td><td>${r.lastSign === undefined ? t('never') : localWhen(r.lastSign, r.fleet.home.timezone)}</td><td>${r.fleet.devices}</td></tr>`)}</table>
${pagingNav(t, 'fleet-paging', pageNo, pageNo < pages, link)}
<p><a href="/operator">${t('homes')}</a> · <a href="/operator/accounts">${t('opAccountsLink')}</a> · <a href="/operator/dead-letters">${t('opDeadLettersLink')}</a></p>`;
    return sendPage(req, reply, t('fleet'), body);
  });
};
