/**
 * The operator's facilities (/operator/facilities, issue 14): every day-care
 * facility with its staff and the homes enrolled in it; forms to register a
 * facility, enrol a home and end an enrolment (dashboards/facilities.ts checks
 * and audits them). A refused form comes back on the same page with the
 * reason in the operator's language and what they typed still in it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isMimamoriError } from '../core/errors.js';
import { formOf, parseInput, tOf, viewerOf, type RouteModule, type WebContext } from './context.js';
import { createFacility, enrollInFacility, leaveFacility } from './facilities.js';
import { html, type Html } from './html.js';
import { messages, type MessageKey } from './i18n.js';
import { sendPage } from './views.js';

const text = z.string().max(200).default('');
const createForm = z.object({ id: text, name: text });
const enrollmentForm = z.object({ facility: text, home: text });

/** What a refused form keeps: the reason shown, and the values typed, put back where they were. */
interface Refused { error: string; create?: z.infer<typeof createForm>; enroll?: z.infer<typeof enrollmentForm> }

/** The facilities page; `refused` re-shows a form that was not accepted (HTTP 400). */
async function facilitiesPage(req: FastifyRequest, reply: FastifyReply, ctx: WebContext, refused?: Refused) {
  const t = tOf(req);
  const csrf = html`<input type="hidden" name="_csrf" value="${viewerOf(req).session.csrf}">`;
  const facilities = await ctx.store.listFacilities();
  const homes = await ctx.store.listHomes();
  const homeName = new Map(homes.map((h) => [h.id, h.name]));
  const byFacility = new Map<string, string[]>();
  for (const e of await ctx.store.listEnrollments()) byFacility.set(e.facilityId, [...(byFacility.get(e.facilityId) ?? []), e.homeId]);
  const sections: Html[] = [];
  for (const f of facilities) {
    const enrolled = byFacility.get(f.id) ?? [];
    for (const h of enrolled) req.accessed.add(h);
    const staff = (await ctx.store.listLinked('facility', f.id)).length;
    const typed = refused?.enroll?.facility === f.id ? refused.enroll.home : '';
    const rows = enrolled.map((h) => html`<tr data-enrollment="${f.id}/${h}"><td>${h}</td><td>${homeName.get(h) ?? '-'}</td><td><form class="inline" method="post" action="/operator/enrollments/end">${csrf}<input type="hidden" name="facility" value="${f.id}"><input type="hidden" name="home" value="${h}"><button class="secondary" data-action="leave">${t('facLeave')}</button></form></td></tr>`);
    sections.push(html`<section class="card" id="facility-${f.id}" aria-labelledby="fac-${f.id}"><h2 id="fac-${f.id}">${f.name} (${f.id})</h2>
<p>${t('facStaff', { count: staff })}</p>
${enrolled.length === 0 ? html`<p>${t('facNoHomes')}</p>` : html`<table id="enrolled-${f.id}" class="stack"><tr><th>${t('id')}</th><th>${t('home')}</th><th>${t('acctActions')}</th></tr>${rows}</table>`}
<form method="post" action="/operator/enrollments">${csrf}<input type="hidden" name="facility" value="${f.id}"><label for="enroll-${f.id}">${t('facEnrollHome')}</label><input id="enroll-${f.id}" name="home" list="home-ids" required value="${typed}" autocomplete="off"><button>${t('facEnroll')}</button></form></section>`);
  }
  const body = html`${refused ? html`<p class="error" role="alert" id="facility-error">${refused.error}</p><p>${t('nothingChanged')}</p>` : ''}<p>${t('facIntro')}</p>
<details${refused?.create ? html` open` : ''}><summary>${t('facCreate')}</summary><form method="post" action="/operator/facilities">${csrf}<label for="f-id">${t('id')}</label><input id="f-id" name="id" required value="${refused?.create?.id ?? ''}"><label for="f-name">${t('name')}</label><input id="f-name" name="name" required value="${refused?.create?.name ?? ''}"><button>${t('save')}</button></form></details>
<datalist id="home-ids">${homes.map((h) => html`<option value="${h.id}">${h.name}</option>`)}</datalist>
<p id="facilities-count" role="status">${t('facCount', { count: facilities.length })}</p>
${sections}
<p><a href="/operator">${t('homes')}</a></p>`;
  if (refused) reply.code(400);
  return sendPage(req, reply, t('facTitle'), body);
}

/** The reason for a refusal in the operator's words: the catalogue key the check named, else the generic one. */
function reasonOf(t: ReturnType<typeof tOf>, err: unknown): string | undefined {
  if (!isMimamoriError(err, 'MIMAMORI_ERR_INVALID_INPUT') && !isMimamoriError(err, 'MIMAMORI_ERR_CONFLICT')) return undefined;
  const said = (err.details as { userMessage?: unknown } | undefined)?.userMessage;
  return typeof said === 'string' && said in messages ? t(said as MessageKey) : t('facBadInput');
}

export const facilityRoutes: RouteModule = (app, ctx) => {
  const opOnly = { roles: ['operator'] as const };
  const by = (req: FastifyRequest) => ({ actor: viewerOf(req).account.id, at: ctx.clock.now() });
  /**
   * Makes a form's change and goes back to the facility with a notice; a
   * refusal re-shows the page with the reason and `keep` (what was typed).
   */
  const change = async (req: FastifyRequest, reply: FastifyReply, keep: Omit<Refused, 'error'>, work: () => Promise<{ facility: string; notice: string }>) => {
    try {
      const { facility, notice } = await work();
      return reply.redirect(`/operator/facilities?notice=${encodeURIComponent(notice)}#facility-${facility}`, 303);
    } catch (err) {
      const error = reasonOf(tOf(req), err);
      if (error === undefined) throw err;
      return facilitiesPage(req, reply, ctx, { error, ...keep });
    }
  };

  app.get('/operator/facilities', { config: { access: { ...opOnly, log: 'operator facilities' } } }, async (req, reply) => facilitiesPage(req, reply, ctx));

  app.post('/operator/facilities', { config: { access: opOnly } }, async (req, reply) => {
    const form = parseInput(createForm, formOf(req));
    return change(req, reply, { create: form }, async () => {
      const f = await createFacility(ctx.store, form, by(req));
      return { facility: f.id, notice: tOf(req)('facCreated', { name: f.name }) };
    });
  });

  app.post('/operator/enrollments', { config: { access: opOnly } }, async (req, reply) => {
    const form = parseInput(enrollmentForm, formOf(req));
    return change(req, reply, { enroll: form }, async () => {
      const { changed } = await enrollInFacility(ctx.store, form, by(req));
      return { facility: form.facility, notice: tOf(req)(changed ? 'facEnrolled' : 'facAlreadyEnrolled', { home: form.home }) };
    });
  });

  app.post('/operator/enrollments/end', { config: { access: opOnly } }, async (req, reply) => {
    const form = parseInput(enrollmentForm, formOf(req));
    return change(req, reply, {}, async () => {
      await leaveFacility(ctx.store, form, by(req));
      return { facility: form.facility, notice: tOf(req)('facLeft', { home: form.home }) };
    });
  });
};
